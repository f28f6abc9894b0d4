//! PII (SPEC §3): masking of emails and IP addresses in `msg` and nested fields,
//! the fields that are never masked, Fernet encryption (tokens decrypted with the
//! gateway's own `Crypt` and, when available, Python's `cryptography`), key
//! rotation, and refusal to start without a usable key.

use std::io::Write;
use std::process::{Command, Stdio};

use logops_e2e::{keys_of, Gateway};
use logops_gateway::pii::Crypt;
use serde_json::{json, Value};

/// Posts `records` as a JSON array with extra headers; returns the stored records.
fn ingest(gw: &Gateway, headers: &[(&str, &str)], records: &[Value]) -> Vec<Value> {
    gw.ingest_records(headers, records).1
}

fn decrypt(key_list: &str, token: &Value) -> String {
    let token = token
        .as_str()
        .unwrap_or_else(|| panic!("token is not a string: {token}"));
    let plain = Crypt::from_key_list(key_list)
        .expect("key")
        .decrypt(token)
        .expect("decrypt token");
    String::from_utf8(plain).expect("utf-8 plaintext")
}

/// A real gateway process, so the tests can also check its log output for key material.
fn encrypting_gateway(key: &str, extra: &[(&str, &str)]) -> Gateway {
    let mut b = Gateway::builder()
        .process()
        .env("LOGOPS_ENCRYPT_PII", "true")
        .env("LOGOPS_SECRET_KEY", key);
    for (k, v) in extra {
        b = b.env(k, v);
    }
    b.start()
}

#[test]
fn masks_emails_and_ipv4_ipv6_in_msg() {
    let gw = Gateway::start();
    let cases = [
        ("mail alice@example.com now", "mail a***@example.com now"),
        ("first.last+tag@sub.example.co.uk", "f***@sub.example.co.uk"),
        ("two: a@b.io, zed@x.org", "two: a***@b.io, z***@x.org"),
        ("ip=192.168.1.23,", "ip=192.168.x.x,"),
        ("peer (10.0.0.1) port 443", "peer (10.0.x.x) port 443"),
        (
            "bad 999.1.1.1 256.1.2.3 1.2.3.300",
            "bad 999.1.1.1 256.1.2.3 1.2.3.300",
        ),
        ("v6 2001:db8::1 end", "v6 2001:db8:x:x:x:x:x:x end"),
        (
            "v6 2001:0DB8:0000:0000:0000:0000:0000:0001",
            "v6 2001:db8:x:x:x:x:x:x",
        ),
        (
            "v6 2001:db8:85a3::8a2e:370:7334 x",
            "v6 2001:db8:x:x:x:x:x:x x",
        ),
        ("link fe80::1 up", "link fe80:0:x:x:x:x:x:x up"),
        ("at 12:30:45 done", "at 12:30:45 done"),
        ("no pii here", "no pii here"),
    ];
    let records: Vec<Value> = cases.iter().map(|(m, _)| json!({"msg": m})).collect();
    let recs = ingest(&gw, &[], &records);
    for (r, (input, want)) in recs.iter().zip(cases) {
        assert_eq!(r["msg"], want, "masking {input:?}");
    }
}

#[test]
fn masks_strings_inside_nested_fields_only() {
    let gw = Gateway::start();
    let rec = json!({"msg": "x", "user": {"email": "bob@corp.io", "ips": ["10.1.2.3", "ok", {"deep": "carol@x.io"}]},
        "count": 5, "peer": "2001:db8::2", "note": "version 999.0.0.1"});
    let recs = ingest(&gw, &[], &[rec]);
    let r = &recs[0];
    assert_eq!(
        r["user"],
        json!({"email": "b***@corp.io", "ips": ["10.1.x.x", "ok", {"deep": "c***@x.io"}]})
    );
    assert_eq!(r["count"], 5);
    assert_eq!(r["peer"], "2001:db8:x:x:x:x:x:x");
    assert_eq!(r["note"], "version 999.0.0.1");
}

#[test]
fn ts_level_emitter_and_scenario_are_never_masked() {
    let gw = Gateway::start();
    let headers = [
        ("x-emitter", "ops@example.com"),
        ("x-scenario-id", "10.1.2.3"),
    ];
    let recs = ingest(
        &gw,
        &headers,
        &[
            json!({"msg": "m", "ts": "2024-05-01T12:00:00Z", "level": "warn"}),
            json!({"msg": "m", "emitter": "carol@example.com", "scenario_id": "2001:db8::7"}),
        ],
    );
    assert_eq!(recs[0]["emitter"], "ops@example.com");
    assert_eq!(recs[0]["scenario_id"], "10.1.2.3");
    assert_eq!(recs[0]["ts"], "2024-05-01T12:00:00Z");
    assert_eq!(recs[0]["level"], "WARN");
    assert_eq!(recs[1]["emitter"], "carol@example.com");
    assert_eq!(recs[1]["scenario_id"], "2001:db8::7");
}

#[test]
fn mask_pii_false_leaves_values_alone() {
    let gw = Gateway::builder().env("LOGOPS_MASK_PII", "false").start();
    let rec = json!({"msg": "alice@example.com at 192.168.1.23", "client_ip": "10.0.0.1"});
    let recs = ingest(&gw, &[], &[rec]);
    assert_eq!(recs[0]["msg"], "alice@example.com at 192.168.1.23");
    assert_eq!(recs[0]["client_ip"], "10.0.0.1");
}

#[test]
fn encryption_round_trip_with_the_gateway_crypt() {
    let key = Crypt::generate_key();
    let gw = encrypting_gateway(&key, &[]);
    let msg = "login by alice@example.com from 192.168.1.23";
    let recs = ingest(
        &gw,
        &[],
        &[
            json!({"msg": msg, "user_email": "alice@example.com", "client_ip": "192.168.1.23", "other": "x"}),
            json!({"msg": "", "client_ip": "2001:db8::1"}),
            json!({"msg": "plain"}),
        ],
    );
    let r = &recs[0];
    assert_eq!(r["msg"], "login by a***@example.com from 192.168.x.x");
    assert_eq!(r["user_email"], "a***@example.com");
    assert_eq!(r["client_ip"], "192.168.x.x");
    assert_eq!(decrypt(&key, &r["msg_enc"]), msg);
    assert_eq!(decrypt(&key, &r["user_email_enc"]), "alice@example.com");
    assert_eq!(decrypt(&key, &r["client_ip_enc"]), "192.168.1.23");
    let keys = keys_of(r);
    let first_enc = keys
        .iter()
        .position(|k| k.ends_with("_enc"))
        .expect("has *_enc");
    assert!(
        keys[first_enc..].iter().all(|k| k.ends_with("_enc")),
        "*_enc keys last: {keys:?}"
    );
    assert_eq!(
        keys[..first_enc],
        [
            "ts",
            "level",
            "msg",
            "emitter",
            "scenario_id",
            "user_email",
            "client_ip",
            "other"
        ]
    );
    let r = &recs[1];
    assert!(
        r.get("msg_enc").is_none(),
        "no msg_enc for an empty message: {r}"
    );
    assert_eq!(r["client_ip"], "2001:db8:x:x:x:x:x:x");
    assert_eq!(decrypt(&key, &r["client_ip_enc"]), "2001:db8::1");
    assert!(recs[2].get("user_email_enc").is_none() && recs[2].get("client_ip_enc").is_none());
    assert_eq!(decrypt(&key, &recs[2]["msg_enc"]), "plain");
    // The originals are nowhere in clear on disk, and the key is never logged or served.
    let disk = gw.stored_lines().join("\n");
    assert!(
        !disk.contains("alice@example.com") && !disk.contains("192.168.1.23"),
        "{disk}"
    );
    let health = gw.get("/healthz");
    assert_eq!(health.json()["pii_encryption"], true);
    assert!(!health.text.contains(&key));
    assert!(!gw.stderr().contains(&key), "stderr reveals the key");
}

#[test]
fn encrypt_fields_list_covers_non_string_values() {
    let key = Crypt::generate_key();
    let gw = encrypting_gateway(&key, &[("LOGOPS_ENCRYPT_FIELDS", "account,user_email,pin")]);
    let rec = json!({"msg": "m", "account": {"id": 7, "mail": "d@x.io"}, "pin": 1234,
        "user_email": "e@y.io", "client_ip": "10.0.0.1"});
    let recs = ingest(&gw, &[], &[rec]);
    let r = &recs[0];
    assert_eq!(
        decrypt(&key, &r["account_enc"]),
        r#"{"id":7,"mail":"d@x.io"}"#
    );
    assert_eq!(r["account"], json!({"id": 7, "mail": "d***@x.io"}));
    assert_eq!(decrypt(&key, &r["pin_enc"]), "1234");
    assert_eq!(decrypt(&key, &r["user_email_enc"]), "e@y.io");
    assert_eq!(r["user_email"], "e***@y.io");
    assert!(
        r.get("client_ip_enc").is_none(),
        "client_ip not in the list: {r}"
    );
    assert_eq!(r["client_ip"], "10.0.x.x", "still masked");
}

#[test]
fn key_rotation_first_key_encrypts_all_decrypt() {
    let (new, old) = (Crypt::generate_key(), Crypt::generate_key());
    let gw = encrypting_gateway(&format!("{new},{old}"), &[]);
    let recs = ingest(
        &gw,
        &[],
        &[json!({"msg": "rotate me", "user_email": "r@x.io"})],
    );
    let token = recs[0]["user_email_enc"].as_str().expect("token");
    assert_eq!(decrypt(&new, &recs[0]["user_email_enc"]), "r@x.io");
    assert!(
        Crypt::from_key_list(&old).unwrap().decrypt(token).is_err(),
        "encrypted with the first key"
    );
}

#[test]
fn python_cryptography_decrypts_the_tokens() {
    let has_lib = Command::new("python3")
        .args(["-c", "import cryptography"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !logops_e2e::need_component(
        "python3 with `cryptography` (pip install cryptography)",
        has_lib,
    ) {
        return;
    }
    let key = Crypt::generate_key();
    let gw = encrypting_gateway(&key, &[]);
    let recs = ingest(
        &gw,
        &[],
        &[json!({"msg": "hi carol@example.com", "client_ip": "172.16.5.4"})],
    );
    let script = "import sys, json\nfrom cryptography.fernet import Fernet\nd = json.load(sys.stdin)\n\
        f = Fernet(d['key'].encode())\nprint(json.dumps([f.decrypt(t.encode()).decode() for t in d['tokens']]))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let input = json!({"key": key, "tokens": [recs[0]["msg_enc"], recs[0]["client_ip_enc"]]});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("python3 output");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain: Value = serde_json::from_slice(&out.stdout).expect("python output");
    assert_eq!(plain, json!(["hi carol@example.com", "172.16.5.4"]));
}

#[test]
fn refuses_to_start_with_encryption_but_no_key() {
    for env in [
        vec![("LOGOPS_ENCRYPT_PII", "true")],
        vec![("LOGOPS_ENCRYPT_PII", "true"), ("LOGOPS_SECRET_KEY", "")],
    ] {
        let mut b = Gateway::builder();
        for (k, v) in &env {
            b = b.env(k, v);
        }
        let out = b.run_expecting_exit();
        assert!(
            !out.listened,
            "started without a key ({env:?}):\n{}",
            out.stderr
        );
        assert!(
            matches!(out.code, Some(c) if c != 0),
            "exit code {:?}",
            out.code
        );
        assert!(
            out.stderr.contains("LOGOPS_SECRET_KEY"),
            "stderr must name the variable:\n{}",
            out.stderr
        );
    }
}

#[test]
fn refuses_to_start_with_an_invalid_key_without_echoing_it() {
    let good = Crypt::generate_key();
    for bad in [
        "this-is-not-a-fernet-key-zq8x".to_string(),
        format!("{good},also-not-a-key-zq9y"),
    ] {
        let out = Gateway::builder()
            .env("LOGOPS_ENCRYPT_PII", "true")
            .env("LOGOPS_SECRET_KEY", &bad)
            .run_expecting_exit();
        assert!(
            !out.listened,
            "started with an invalid key:\n{}",
            out.stderr
        );
        assert!(
            matches!(out.code, Some(c) if c != 0),
            "exit code {:?}",
            out.code
        );
        assert!(
            out.stderr.contains("LOGOPS_SECRET_KEY"),
            "stderr must name the variable:\n{}",
            out.stderr
        );
        for part in bad.split(',') {
            assert!(
                !out.stderr.contains(part),
                "stderr reveals key material {part:?}:\n{}",
                out.stderr
            );
        }
    }
}
