//! Access control through the real binary (SPEC §8, issue #19): key and
//! HMAC modes and every failure reason, the Python gateway's signing, tenant
//! isolation, roles, reload, rate limits, start-up refusals.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use logops_e2e::{need_program, parse_metrics, stored_lines, sum_samples, Gateway, Resp};
use logops_gateway::auth::hmac;
use serde_json::Value;

const KEYS: &str = r#"
[[key]]
id = "acme-ingest"
secret = "acme-secret"
tenant = "acme"

[[key]]
id = "globex-ingest"
secret = "globex-secret"
tenant = "globex"
emitter = "globex-app"

[[key]]
id = "acme-reader"
secret = "reader-secret"
tenant = "acme"
roles = ["read"]

[[key]]
id = "limited"
secret = "limited-secret"
tenant = "acme"
rate = { records_per_sec = 10, burst = 20 }
"#;

fn keys_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("keys.toml");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

fn gateway(mode: &str, keys: &Path) -> Gateway {
    Gateway::builder()
        .process()
        .env("LOGOPS_AUTH", mode)
        .env("LOGOPS_KEYS_FILE", keys.to_str().unwrap())
        .start()
}

const BODY: &str = r#"[{"msg":"hello alice@example.com","level":"warn"},{"msg":"two"}]"#;

fn post(gw: &Gateway, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(headers);
    gw.post("/v1/logs", &h, body.as_bytes())
}

fn refused(r: &Resp, status: u16, code: &str, reason: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text);
    let j = r.json();
    assert_eq!(j["error"], code, "{j}");
    if let Some(reason) = reason {
        assert_eq!(j["reason"], reason, "{j}");
    }
}

fn metric(gw: &Gateway, name: &str, filter: &[(&str, &str)]) -> f64 {
    sum_samples(&parse_metrics(&gw.get("/metrics").text), name, filter)
}

/// Headers of a request signed as the Python gateway's emitters sign it.
fn signed(id: &str, secret: &str, path: &str, body: &str, nonce: &str) -> Vec<(String, String)> {
    let ts = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let sha = hmac::sha256_hex(body.as_bytes());
    let sig = hmac::sign(
        secret.as_bytes(),
        &hmac::canonical("POST", path, &sha, &ts, nonce),
    );
    vec![
        ("x-api-key".into(), id.into()),
        ("x-timestamp".into(), ts),
        ("x-nonce".into(), nonce.into()),
        ("x-content-sha256".into(), sha),
        ("x-signature".into(), sig),
    ]
}

fn as_refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn key_mode_forms_failures_tenants_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway("key", &keys_file(dir.path(), KEYS));
    let basic = format!("Basic {}", base64_encode("acme-ingest:acme-secret"));
    for h in [
        vec![
            ("x-api-key", "acme-ingest"),
            ("authorization", "Bearer acme-secret"),
        ],
        vec![("authorization", "Bearer acme-ingest:acme-secret")],
        vec![("authorization", "Splunk acme-ingest:acme-secret")],
        vec![("authorization", basic.as_str())],
    ] {
        let r = post(&gw, &h, BODY);
        assert_eq!(r.status, 200, "{h:?}: {}", r.text);
    }
    refused(
        &post(&gw, &[], BODY),
        401,
        "unauthorized",
        Some("missing_key"),
    );
    refused(
        &post(&gw, &[("authorization", "Bearer acme-ingest:wrong")], BODY),
        401,
        "unauthorized",
        Some("invalid_key"),
    );
    refused(
        &post(
            &gw,
            &[("authorization", "Bearer globex-ingest:acme-secret")],
            BODY,
        ),
        401,
        "unauthorized",
        Some("invalid_key"),
    );
    refused(
        &post(
            &gw,
            &[("authorization", "Bearer acme-reader:reader-secret")],
            BODY,
        ),
        403,
        "forbidden",
        None,
    );
    let r = post(
        &gw,
        &[
            ("authorization", "Bearer globex-ingest:globex-secret"),
            ("x-emitter", "spoofed"),
        ],
        BODY,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["emitter"],
        "globex-app",
        "the key's emitter wins over the header"
    );

    // Tenant isolation: each tenant's own directory, its name in every record.
    let acme = stored_lines(&gw.sink_dir.join("acme"));
    let globex = stored_lines(&gw.sink_dir.join("globex"));
    assert_eq!((acme.len(), globex.len()), (8, 2));
    assert!(
        stored_lines(&gw.sink_dir).is_empty(),
        "nothing in the default tenant's place"
    );
    for line in &acme {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["tenant"], "acme");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            &keys[..6],
            ["ts", "level", "msg", "emitter", "scenario_id", "tenant"]
        );
    }
    assert!(globex
        .iter()
        .all(|l| l.contains(r#""tenant":"globex""#) && !l.contains("acme")));
    assert_eq!(
        metric(&gw, "logops_accepted_total", &[("tenant", "acme")]),
        8.0
    );
    assert_eq!(
        metric(&gw, "logops_accepted_total", &[("tenant", "globex")]),
        2.0
    );
    assert_eq!(
        metric(
            &gw,
            "logops_auth_failures_total",
            &[("reason", "invalid_key")]
        ),
        2.0
    );
    assert_eq!(
        metric(&gw, "logops_rejected_total", &[("reason", "unauthorized")]),
        3.0
    );
    assert_eq!(
        metric(&gw, "logops_rejected_total", &[("reason", "forbidden")]),
        1.0
    );
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn hmac_mode_every_failure_reason_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway("hmac", &keys_file(dir.path(), KEYS));
    let sign =
        |secret: &str, path: &str, nonce: &str| signed("acme-ingest", secret, path, BODY, nonce);
    let ok = sign("acme-secret", "/v1/logs", "nonce-1");
    assert_eq!(post(&gw, &as_refs(&ok), BODY).status, 200);
    let with = |mut h: Vec<(String, String)>, i: usize, v: &str| {
        h[i].1 = v.into();
        h
    };
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let other = r#"[{"msg":"other"}]"#;
    // (headers, body, status, error, reason)
    type Case<'a> = (
        Vec<(String, String)>,
        &'a str,
        u16,
        &'a str,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (ok.clone(), BODY, 401, "unauthorized", Some("nonce_replay")),
        (
            sign("acme-secret", "/ingest", "nonce-2"),
            BODY,
            401,
            "unauthorized",
            Some("bad_signature"),
        ),
        (
            sign("globex-secret", "/v1/logs", "nonce-3"),
            BODY,
            401,
            "unauthorized",
            Some("bad_signature"),
        ),
        (
            with(sign("acme-secret", "/v1/logs", "nonce-4"), 1, "not a time"),
            BODY,
            401,
            "unauthorized",
            Some("bad_timestamp"),
        ),
        (
            with(
                sign("acme-secret", "/v1/logs", "nonce-5"),
                1,
                "2020-01-01T00:00:00Z",
            ),
            BODY,
            401,
            "unauthorized",
            Some("timestamp_skew"),
        ),
        (
            owned(&[("x-api-key", "acme-ingest")]),
            BODY,
            401,
            "unauthorized",
            Some("missing_signature"),
        ),
        (Vec::new(), BODY, 401, "unauthorized", Some("missing_key")),
        (
            sign("acme-secret", "/v1/logs", "nonce-6"),
            other,
            400,
            "bad_content_sha256",
            None,
        ),
        // Key-mode headers are not enough on the ingest path in HMAC mode.
        (
            owned(&[("authorization", "Bearer acme-ingest:acme-secret")]),
            BODY,
            401,
            "unauthorized",
            Some("missing_key"),
        ),
    ];
    for (headers, body, status, code, reason) in &cases {
        refused(&post(&gw, &as_refs(headers), body), *status, code, *reason);
    }
    // Header values with control characters are refused, never a panic.
    let raw = logops_e2e::raw_request(
        &gw.addr,
        b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nX-Api-Key: acme\x01ingest\r\nContent-Length: 2\r\n\r\n[]",
    );
    assert!((400..500).contains(&raw.status), "{raw:?}");
    assert_eq!(
        stored_lines(&gw.sink_dir.join("acme")).len(),
        2,
        "only the one good batch"
    );
    assert_eq!(
        metric(
            &gw,
            "logops_auth_failures_total",
            &[("reason", "bad_signature")]
        ),
        2.0
    );
}

/// The Python gateway's own signing (SPEC §8's canonical string, in Python's
/// hmac/hashlib/base64, sent with urllib) gets 200 from LogOps.
#[test]
fn python_authgw_signing_is_accepted() {
    if !need_program("python3", "-V") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway("hmac", &keys_file(dir.path(), KEYS));
    let script = r#"
import base64, datetime, hashlib, hmac, json, os, sys, urllib.request, uuid
url, key, secret = sys.argv[1], os.environ["LOGOPS_API_KEY"], os.environ["LOGOPS_SECRET"]
body = json.dumps([{"msg": "from python", "level": "info"}]).encode()
ts = datetime.datetime.utcnow().isoformat()          # naive = UTC, as the Python AuthGW
nonce = uuid.uuid4().hex
sha = hashlib.sha256(body).hexdigest()
path = urllib.parse.urlparse(url).path
msg = "\n".join(["POST", path, sha, ts, nonce]).encode()
sig = base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()
req = urllib.request.Request(url, data=body, method="POST", headers={
    "Content-Type": "application/json", "X-Api-Key": key, "X-Timestamp": ts,
    "X-Nonce": nonce, "X-Content-SHA256": sha, "X-Signature": sig})
print(urllib.request.urlopen(req).status)
"#;
    let out = logops_e2e::stdout_of(
        Command::new("python3")
            .args(["-c", script, &gw.url("/v1/logs?ignored=1")])
            .env("LOGOPS_API_KEY", "acme-ingest")
            .env("LOGOPS_SECRET", "acme-secret"),
    );
    assert_eq!(out.trim(), "200");
    let lines = stored_lines(&gw.sink_dir.join("acme"));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("from python"));
}

#[test]
fn rate_limits_answer_429_then_succeed_after_retry_after_and_413_past_the_burst() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway("key", &keys_file(dir.path(), KEYS));
    let auth = [("authorization", "Bearer limited:limited-secret")];
    let batch = |n: usize| format!("[{}]", vec![r#"{"msg":"x"}"#; n].join(","));
    refused(
        &post(&gw, &auth, &batch(21)),
        413,
        "batch_exceeds_burst",
        None,
    );
    let r = post(&gw, &auth, &batch(15));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.header("ratelimit")
            .is_some_and(|v| v.starts_with("\"records\";r=")),
        "{:?}",
        r.headers
    );
    let r = post(&gw, &auth, &batch(15));
    refused(&r, 429, "rate_limited", None);
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert!(
        r.header("ratelimit-policy")
            .is_some_and(|v| v.contains("q=20")),
        "{:?}",
        r.headers
    );
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(
        post(&gw, &auth, &batch(15)).status,
        200,
        "fits after Retry-After"
    );
    // Now empty: refused before the body is read.
    refused(&post(&gw, &auth, &batch(1)), 429, "rate_limited", None);
    assert_eq!(stored_lines(&gw.sink_dir.join("acme")).len(), 30);
    // An unlimited key of the same tenant is not slowed by it.
    assert_eq!(
        post(
            &gw,
            &[("authorization", "Bearer acme-ingest:acme-secret")],
            &batch(50)
        )
        .status,
        200
    );
}

#[test]
fn keys_reload_on_sighup_and_change_keeps_the_old_keys_when_the_new_file_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let path = keys_file(dir.path(), KEYS);
    let gw = gateway("key", &path);
    let newcomer = [("authorization", "Bearer new-key:new-secret")];
    refused(
        &post(&gw, &newcomer, BODY),
        401,
        "unauthorized",
        Some("invalid_key"),
    );
    std::fs::write(
        &path,
        format!("{KEYS}\n[[key]]\nid = \"new-key\"\nsecret = \"new-secret\"\n"),
    )
    .unwrap();
    gw.signal("HUP");
    assert!(
        gw.wait_stderr("keys file reloaded", Duration::from_secs(10)),
        "{}",
        gw.stderr()
    );
    assert_eq!(post(&gw, &newcomer, BODY).status, 200);
    std::fs::write(&path, "[[key]]\nid = \"broken\"\n").unwrap();
    gw.signal("HUP");
    assert!(
        gw.wait_stderr("keys file refused", Duration::from_secs(10)),
        "{}",
        gw.stderr()
    );
    assert_eq!(
        post(&gw, &newcomer, BODY).status,
        200,
        "the old keys stay in force"
    );
    assert_eq!(metric(&gw, "logops_keys_reload_errors_total", &[]), 1.0);
    // A change is noticed without a signal too.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&path, "[[key]]\nid = \"only\"\nsecret = \"one\"\n").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while post(&gw, &newcomer, BODY).status == 200 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    refused(
        &post(&gw, &newcomer, BODY),
        401,
        "unauthorized",
        Some("invalid_key"),
    );
    assert_eq!(
        post(&gw, &[("authorization", "Bearer only:one")], BODY).status,
        200
    );
}

#[test]
fn bad_keys_files_refuse_start_up_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "[[key]]\nid = \"a\"\nsecret = \"b\"\n[[key]]\nid = \"a\"\nsecret = \"c\"\n",
            "line 4: duplicate key id",
        ),
        (
            "[[key]]\nid = \"a\"\nsecret = \"b\"\ntenant = \"Bad/Name\"\n",
            "line 1: key a: invalid tenant name",
        ),
        ("[[key]]\nid = \"a\"\nsecret = \n", "line 3"),
        (
            "[[key]]\nid = \"a\"\nsecret = \"b\"\nroles = [\"root\"]\n",
            "unknown role",
        ),
    ] {
        let path = keys_file(dir.path(), text);
        let e = Gateway::builder()
            .process()
            .env("LOGOPS_AUTH", "key")
            .env("LOGOPS_KEYS_FILE", path.to_str().unwrap())
            .run_expecting_exit();
        assert_eq!((e.code, e.listened), (Some(2), false), "{}", e.stderr);
        assert!(
            e.stderr.contains(want) && e.stderr.contains("LOGOPS_KEYS_FILE"),
            "want {want:?}: {}",
            e.stderr
        );
    }
    let big = keys_file(dir.path(), &"# padding\n".repeat(120_000));
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_AUTH", "hmac")
        .env("LOGOPS_KEYS_FILE", big.to_str().unwrap())
        .run_expecting_exit();
    assert!(e.stderr.contains("the limit is"), "{}", e.stderr);
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_AUTH", "key")
        .run_expecting_exit();
    assert!(
        e.stderr.contains("LOGOPS_KEYS_FILE") && e.code == Some(2),
        "{}",
        e.stderr
    );
}

#[test]
fn a_keys_file_readable_by_others_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let path = keys_file(dir.path(), KEYS);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let gw = gateway("key", &path);
    assert!(
        gw.wait_stderr("readable by group or others", Duration::from_secs(5)),
        "{}",
        gw.stderr()
    );
    assert!(!gw.stderr().contains("acme-secret"), "a secret in the logs");
}

#[test]
fn metrics_auth_needs_a_read_key() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::builder()
        .process()
        .env("LOGOPS_AUTH", "hmac")
        .env(
            "LOGOPS_KEYS_FILE",
            keys_file(dir.path(), KEYS).to_str().unwrap(),
        )
        .env("LOGOPS_METRICS_AUTH", "true")
        .start();
    assert_eq!(gw.get("/metrics").status, 401);
    assert_eq!(gw.get("/healthz").status, 200, "/healthz stays open");
    let r = gw.post("/metrics", &[], b"");
    assert_eq!(r.status, 405);
    let reader = gw.get_with(
        "/metrics",
        &[("authorization", "Bearer acme-reader:reader-secret")],
    );
    assert_eq!(reader.status, 200, "{}", reader.text);
    assert!(reader.text.contains("logops_auth_failures_total"));
    let writer = gw.get_with(
        "/metrics",
        &[("authorization", "Bearer acme-ingest:acme-secret")],
    );
    assert_eq!(writer.status, 403, "an ingest-only key may not read");
}

fn emit(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(logops_e2e::bin_path("emit_json"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LOGOPS_") {
            c.env_remove(k);
        }
    }
    c.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("emit_json")
}

/// Our emitters sign in both modes (flags or `LOGOPS_*` env), and back off on
/// 429 by `Retry-After` instead of failing.
#[test]
fn emitters_authenticate_in_both_modes_and_back_off_on_429() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_file(dir.path(), KEYS);
    for mode in ["key", "hmac"] {
        let gw = gateway(mode, &keys);
        let url = gw.url("/v1/logs");
        let out = emit(
            &[
                "--url",
                &url,
                "-n",
                "25",
                "--seed",
                "1",
                "--api-key",
                "acme-ingest",
                "--secret",
                "acme-secret",
                "--auth",
                mode,
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let out = emit(
            &["--url", &url, "-n", "25", "--seed", "2"],
            &[
                ("LOGOPS_API_KEY", "acme-ingest"),
                ("LOGOPS_SECRET", "acme-secret"),
                ("LOGOPS_AUTH", mode),
            ],
        );
        assert!(
            out.status.success(),
            "{mode} via env: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let out = emit(&["--url", &url, "-n", "5"], &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{mode}: unauthenticated must fail"
        );
        assert_eq!(stored_lines(&gw.sink_dir.join("acme")).len(), 50, "{mode}");
    }
    let gw = gateway("hmac", &keys);
    let url = gw.url("/v1/logs");
    let limited = [
        "--url",
        url.as_str(),
        "-n",
        "15",
        "--api-key",
        "limited",
        "--secret",
        "limited-secret",
    ];
    assert!(emit(&limited, &[]).status.success());
    let started = std::time::Instant::now();
    let out = emit(&limited, &[]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited for Retry-After"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("429"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stored_lines(&gw.sink_dir.join("acme")).len(), 30);
}
