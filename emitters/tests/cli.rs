//! CLI checks of the emitter binaries through `CARGO_BIN_EXE_*` (which also makes
//! `cargo test` build them for the black-box tests in `tests/`): reproducible
//! bodies, usage errors, credentials, HMAC signing and 429 retries against the
//! scripted server of `common`.

mod common;

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use common::{command, serve, Seen};

const EMITTERS: [&str; 5] = [
    env!("CARGO_BIN_EXE_emit_json"),
    env!("CARGO_BIN_EXE_emit_minimal"),
    env!("CARGO_BIN_EXE_emit_syslog"),
    env!("CARGO_BIN_EXE_emit_csv"),
    env!("CARGO_BIN_EXE_emit_noise"),
];

fn dry_run(bin: &str, seed: &str) -> Vec<u8> {
    let out = Command::new(bin)
        .args(["--dry-run", "-n", "20", "--seed", seed])
        .output()
        .expect("run emitter");
    assert!(
        out.status.success(),
        "{bin}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "{bin} printed no body");
    out.stdout
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for bin in EMITTERS {
        assert_eq!(dry_run(bin, "7"), dry_run(bin, "7"), "{bin}");
        assert_ne!(dry_run(bin, "7"), dry_run(bin, "8"), "{bin}");
    }
}

#[test]
fn bad_flags_exit_2() {
    for bin in EMITTERS {
        let out = Command::new(bin)
            .args(["--eps", "nope"])
            .output()
            .expect("run emitter");
        assert_eq!(out.status.code(), Some(2), "{bin}");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn header(seen: &Seen, name: &str) -> String {
    seen.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

/// Checks one request's HMAC headers the way the gateway does, from scratch.
fn assert_signed(seen: &Seen, id: &str, secret: &str, path: &str) {
    assert_eq!(header(seen, "x-api-key"), id);
    let sha = hex(&Sha256::digest(&seen.body));
    assert_eq!(header(seen, "x-content-sha256"), sha);
    let (ts, nonce) = (header(seen, "x-timestamp"), header(seen, "x-nonce"));
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(
        ts.ends_with('Z') && &ts[10..11] == "T" && &ts[19..20] == ".",
        "{ts}"
    );
    assert_eq!(nonce.len(), 32);
    assert!(nonce
        .bytes()
        .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("POST\n{path}\n{sha}\n{ts}\n{nonce}").as_bytes());
    let expect = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(header(seen, "x-signature"), expect);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_429_waits_retry_after_and_re_signs() {
    let server = serve(vec![(429, Some("1"))], None).await;
    let url = format!("http://127.0.0.1:{}/v1/logs?tag=x", server.port);
    let out = command(EMITTERS[0])
        .args([
            "--url",
            &url,
            "-n",
            "3",
            "--seed",
            "1",
            "--api-key",
            "demo-pub-1",
        ])
        .env("LOGOPS_SECRET", "demo-priv-1")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.starts_with("status: 200\n"), "{stdout}");
    assert!(
        stderr.contains("429") && stderr.contains("retry 1 of 5"),
        "{stderr}"
    );
    assert!(!stdout.contains("demo-priv-1") && !stderr.contains("demo-priv-1"));
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].at - seen[0].at >= Duration::from_secs(1));
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(seen[0].path_and_query, "/v1/logs?tag=x");
    for s in &seen {
        assert_signed(s, "demo-pub-1", "demo-priv-1", "/v1/logs");
        assert!(s.headers.get("authorization").is_none());
    }
    assert_ne!(header(&seen[0], "x-nonce"), header(&seen[1], "x-nonce"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_mode_sends_bearer_and_exhausted_retries_are_a_429() {
    let server = serve(vec![(429, Some("0")); 10], None).await;
    let url = format!("http://127.0.0.1:{}/v1/logs", server.port);
    let out = command(EMITTERS[1])
        .args(["--url", &url, "-n", "2", "--max-retries", "2", "-q"])
        .env("LOGOPS_API_KEY", "demo-pub-1")
        .env("LOGOPS_SECRET", "demo-priv-1")
        .env("LOGOPS_AUTH", "key")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("status: 429\n"), "{stdout}");
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "one try and two retries");
    for s in &seen {
        assert_eq!(header(s, "x-api-key"), "demo-pub-1");
        assert_eq!(header(s, "authorization"), "Bearer demo-priv-1");
        assert!(s.headers.get("x-signature").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_and_flood_retry_429_and_count_it() {
    for mode in [
        &["--concurrency", "1"][..],
        &["--eps", "1000", "--concurrency", "2"][..],
    ] {
        // No Retry-After: the emitter waits 1 s.
        let server = serve(vec![(429, None)], None).await;
        let url = format!("http://127.0.0.1:{}/v1/logs", server.port);
        let out = command(EMITTERS[2])
            .args(["--url", &url, "-n", "20", "--batch-size", "10", "-q"])
            .args(["--api-key", "k1", "--secret", "s1"])
            .args(mode)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{mode:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(summary["retries_429"], 1, "{summary}");
        assert_eq!(summary["requests"], 3, "{summary}");
        assert_eq!(summary["accepted"], 20, "{summary}");
        assert_eq!(summary["rejected"], serde_json::json!({}), "{summary}");
        assert!(summary["elapsed_s"].as_f64().unwrap() >= 1.0, "{summary}");
        let seen = server.seen();
        assert_eq!(seen.len(), 3);
        for s in &seen {
            assert_signed(s, "k1", "s1", "/v1/logs");
        }
    }
}

#[test]
fn secret_stays_out_of_help_and_errors() {
    let out = Command::new(EMITTERS[0])
        .arg("--help")
        .env("LOGOPS_SECRET", "hunter2-very-secret")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--secret") && help.contains("LOGOPS_SECRET"),
        "{help}"
    );
    assert!(!help.contains("hunter2"), "{help}");
    for args in [
        &["--auth", "key"][..],
        &["--auth", "hmac", "--secret", "x"][..],
    ] {
        let out = Command::new(EMITTERS[0])
            .args(["--url", "http://127.0.0.1:9/v1/logs", "-n", "1"])
            .args(args)
            .env_remove("LOGOPS_API_KEY")
            .env_remove("LOGOPS_SECRET")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("needs --api-key and --secret"), "{err}");
    }
    let out = Command::new(EMITTERS[0])
        .args(["--url", "http://127.0.0.1:9/v1/logs", "--auth", "key"])
        .args(["--api-key", "k"])
        .env("LOGOPS_SECRET", "hunter2\nsecret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--secret") && !err.contains("hunter2"),
        "{err}"
    );
}
