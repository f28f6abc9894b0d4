//! Inclusion proofs from `/v1/proof` checked by `logops-verify --proof`, the
//! refusal to start without a valid key, and a key made by `openssl`.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use logops_e2e::{bin_path, stdout_of, Gateway};

use super::{chained, keygen, post_batches, today, verify};

#[test]
fn proofs_of_random_lines_verify_and_a_wrong_line_fails() {
    let work = tempfile::tempdir().unwrap();
    let (key, public) = keygen(work.path());
    let gw = chained(work.path(), &key).start();
    // The status API names the key an auditor verifies with.
    let config = gw.get("/api/v1/status").json()["config"].clone();
    assert_eq!(
        (&config["chain"], config["chain_public_key"].as_str()),
        (&serde_json::json!(true), Some(public.as_str()))
    );
    post_batches(&gw, 9);
    let total = gw.stored_lines().len() as u64;
    assert_eq!(total, 36);
    let stem = logops_gateway::dayfile::stem(today());
    // Sealing follows the acknowledgement by a moment (its own thread).
    let last = format!("/v1/proof?day={stem}&line={total}");
    for _ in 0..100 {
        if gw.get(&last).status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut seed = 0x9e37_79b9_u64;
    for _ in 0..8 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let line = seed % total + 1;
        let r = gw.get(&format!("/v1/proof?day={stem}&line={line}"));
        assert_eq!(r.status, 200, "{}", r.text);
        let p = work.path().join("proof.json");
        fs::write(&p, &r.text).unwrap();
        let check = |path: &Path| {
            Command::new(bin_path("logops-verify"))
                .args(["--pubkey", &public, "--proof"])
                .arg(path)
                .output()
                .unwrap()
        };
        let ok = check(&p);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stdout)
        );
        let mut v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(
            v["text"].as_str().unwrap(),
            gw.stored_lines()[line as usize - 1]
        );
        v["text"] =
            serde_json::Value::String(v["text"].as_str().unwrap().replace("record", "rekord"));
        fs::write(&p, v.to_string()).unwrap();
        let bad = check(&p);
        assert_eq!(
            bad.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&bad.stdout)
        );
    }
    assert_eq!(
        gw.get(&format!("/v1/proof?day={stem}&line={}", total + 1))
            .status,
        404
    );
    assert_eq!(gw.get("/v1/proof?day=yesterday&line=1").status, 400);
    assert_eq!(gw.get(&format!("/v1/proof?day={stem}")).status, 400);
}

#[test]
fn the_chain_refuses_to_start_without_a_valid_key() {
    let work = tempfile::tempdir().unwrap();
    let err = Gateway::builder()
        .env("LOGOPS_CHAIN", "true")
        .process()
        .try_start()
        .err()
        .expect("started without a key");
    assert!(err.contains("LOGOPS_CHAIN_SIGNING_KEY"), "{err}");
    let bad = work.path().join("bad.pem");
    fs::write(
        &bad,
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let err = chained(work.path(), &bad)
        .process()
        .try_start()
        .err()
        .expect("started with a bad key");
    assert!(
        err.contains("not a PKCS#8 PEM Ed25519 private key"),
        "{err}"
    );
    assert!(!err.contains("c2VjcmV0"), "the key's content leaked: {err}");
}

#[test]
fn a_key_made_by_openssl_signs_and_its_pem_public_key_verifies() {
    if !logops_e2e::need_program("openssl", "version") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (key, public) = (work.path().join("k.pem"), work.path().join("k.pub"));
    let run = |args: &[&str]| {
        stdout_of(Command::new("openssl").args(args));
    };
    run(&[
        "genpkey",
        "-algorithm",
        "ed25519",
        "-out",
        key.to_str().unwrap(),
    ]);
    run(&[
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    let mut gw = chained(work.path(), &key).start();
    post_batches(&gw, 2);
    gw.stop();
    let (code, out) = verify(public.to_str().unwrap(), &[&work.path().join("ingest")]);
    assert_eq!(code, 0, "{out}");
    // And the other way round: OpenSSL reads the key logops-keygen writes.
    let other = tempfile::tempdir().unwrap();
    let (ours, printed) = keygen(other.path());
    let pem =
        stdout_of(Command::new("openssl").args(["pkey", "-in", ours.to_str().unwrap(), "-pubout"]));
    let from_pem = logops_gateway::chain::checkpoint::parse_public_key(&pem).unwrap();
    let from_text = logops_gateway::chain::checkpoint::parse_public_key(&printed).unwrap();
    assert_eq!(from_pem, from_text);
}
