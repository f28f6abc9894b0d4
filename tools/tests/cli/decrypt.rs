//! `logops-decrypt`: recovery, key lists, failures, rotation.

use std::fs;

use logops_gateway::pii::Crypt;
use serde_json::{json, Value};

use crate::util::{cmd, run};

const EXE: &str = env!("CARGO_BIN_EXE_logops-decrypt");

/// Records as the gateway stores them with encryption on, encrypted with `key`.
fn stored(key: &str) -> String {
    let c = Crypt::from_key_list(key).unwrap();
    let recs = [
        json!({"ts": "2025-01-01T00:00:00Z", "level": "INFO", "msg": "login a***@example.com from 10.0.x.x",
               "emitter": "e", "scenario_id": "na", "user_email": "a***@example.com", "client_ip": "10.0.x.x",
               "msg_enc": c.encrypt(b"login alice@example.com from 10.0.0.7"),
               "user_email_enc": c.encrypt(b"alice@example.com"), "client_ip_enc": c.encrypt(b"10.0.0.7")}),
        json!({"ts": "2025-01-01T00:00:01Z", "level": "WARN", "msg": "no pii", "emitter": "e", "scenario_id": "na"}),
        json!({"ts": "2025-01-01T00:00:02Z", "level": "ERROR", "msg": "", "emitter": "e", "scenario_id": "na",
               "client_ip": 42, "client_ip_enc": c.encrypt(b"42")}),
    ];
    recs.iter().map(|r| format!("{r}\n")).collect()
}

fn originals() -> Vec<Value> {
    vec![
        json!({"ts": "2025-01-01T00:00:00Z", "level": "INFO", "msg": "login alice@example.com from 10.0.0.7",
               "emitter": "e", "scenario_id": "na", "user_email": "alice@example.com", "client_ip": "10.0.0.7"}),
        json!({"ts": "2025-01-01T00:00:01Z", "level": "WARN", "msg": "no pii", "emitter": "e", "scenario_id": "na"}),
        json!({"ts": "2025-01-01T00:00:02Z", "level": "ERROR", "msg": "", "emitter": "e", "scenario_id": "na",
               "client_ip": 42}),
    ]
}

fn parse(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn decrypts_files_and_stdin_back_to_the_originals_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Crypt::generate_key();
    fs::write(tmp.path().join("20250101.ndjson"), stored(&key)).unwrap();
    let out = run(
        cmd(EXE, tmp.path())
            .env("LOGOPS_SECRET_KEY", &key)
            .arg("20250101.ndjson"),
        b"",
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let got = parse(&out.stdout);
    assert_eq!(got, originals());
    assert_eq!(keys(&got[0]), keys(&originals()[0]));

    let out = run(
        cmd(EXE, tmp.path()).env("LOGOPS_SECRET_KEY", &key),
        stored(&key).as_bytes(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(parse(&out.stdout), originals());
    assert!(!out.stdout.contains(&key) && !out.stderr.contains(&key));
}

#[test]
fn keys_from_env_file_or_another_variable_and_every_listed_key_decrypts() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (Crypt::generate_key(), Crypt::generate_key());
    fs::write(
        tmp.path().join(".env"),
        format!("LOGOPS_SECRET_KEY={new},{old}\n"),
    )
    .unwrap();
    let out = run(&mut cmd(EXE, tmp.path()), stored(&old).as_bytes());
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(parse(&out.stdout), originals());

    let out = run(
        cmd(EXE, tmp.path())
            .env("OPS_KEYS", &old)
            .args(["--key-env", "OPS_KEYS", "-"]),
        stored(&old).as_bytes(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(parse(&out.stdout), originals());
}

#[test]
fn undecryptable_tokens_are_reported_with_file_and_line_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let (right, wrong) = (Crypt::generate_key(), Crypt::generate_key());
    fs::write(tmp.path().join("a.ndjson"), stored(&right)).unwrap();
    let out = run(
        cmd(EXE, tmp.path())
            .env("LOGOPS_SECRET_KEY", &wrong)
            .args(["a.ndjson", "missing.ndjson"]),
        b"",
    );
    assert_eq!(out.code, 1, "{out:?}");
    let report: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        report[..4],
        [
            "a.ndjson:1: field msg_enc: cannot decrypt",
            "a.ndjson:1: field user_email_enc: cannot decrypt",
            "a.ndjson:1: field client_ip_enc: cannot decrypt",
            "a.ndjson:3: field client_ip_enc: cannot decrypt",
        ]
    );
    assert!(
        report[4].starts_with("missing.ndjson: cannot open"),
        "{report:?}"
    );
    // Nothing is lost: records are written with their tokens kept.
    assert_eq!(
        out.stdout,
        fs::read_to_string(tmp.path().join("a.ndjson")).unwrap()
    );
    assert!(!out.stderr.contains(&wrong) && !out.stdout.contains(&wrong));
}

#[test]
fn missing_or_invalid_keys_are_usage_errors_that_never_echo_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&mut cmd(EXE, tmp.path()), b"{}\n");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("LOGOPS_SECRET_KEY is not set"),
        "{out:?}"
    );
    let out = run(
        cmd(EXE, tmp.path()).env("LOGOPS_SECRET_KEY", "hunter2-not-a-key"),
        b"{}\n",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("LOGOPS_SECRET_KEY: key #1 is not a valid Fernet key"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("hunter2"));
}

#[test]
fn rotate_rewrites_files_to_the_first_key_and_keeps_everything_else() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (Crypt::generate_key(), Crypt::generate_key());
    let file = tmp.path().join("20250101.ndjson");
    let plain = tmp.path().join("20250102.ndjson");
    fs::write(&file, stored(&old)).unwrap();
    fs::write(&plain, "{\"msg\":\"no tokens\"}\n").unwrap();
    let list = format!("{new},{old}");
    let out = run(
        cmd(EXE, tmp.path()).env("LOGOPS_SECRET_KEY", &list).args([
            "--rotate",
            "20250101.ndjson",
            "20250102.ndjson",
        ]),
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("20250101.ndjson: 4 tokens rotated in 3 records (rewritten)"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("20250102.ndjson: 0 tokens rotated in 1 records (unchanged, no token)"),
        "{out:?}"
    );
    assert_eq!(
        fs::read_to_string(&plain).unwrap(),
        "{\"msg\":\"no tokens\"}\n"
    );
    let mut left = crate::util::names(tmp.path());
    left.retain(|n| n.ends_with(".tmp"));
    assert!(left.is_empty(), "temporary files left: {left:?}");

    // Only the new key is needed now; the old one alone no longer works.
    let rotated = fs::read_to_string(&file).unwrap();
    let before = stored(&old);
    assert_eq!(
        rotated.lines().nth(1),
        before.lines().nth(1),
        "a line without tokens changed"
    );
    let out = run(
        cmd(EXE, tmp.path())
            .env("LOGOPS_SECRET_KEY", &new)
            .arg("20250101.ndjson"),
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(parse(&out.stdout), originals());
    let out = run(
        cmd(EXE, tmp.path())
            .env("LOGOPS_SECRET_KEY", &old)
            .arg("20250101.ndjson"),
        b"",
    );
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn rotate_keeps_undecryptable_tokens_and_reports_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, stranger) = (
        Crypt::generate_key(),
        Crypt::generate_key(),
        Crypt::generate_key(),
    );
    let file = tmp.path().join("x.ndjson");
    let foreign = Crypt::from_key_list(&stranger).unwrap().encrypt(b"lost");
    let mine = Crypt::from_key_list(&a).unwrap().encrypt(b"kept");
    fs::write(&file, format!("{{\"msg\":\"m\",\"msg_enc\":\"{mine}\"}}\n{{\"msg\":\"n\",\"msg_enc\":\"{foreign}\"}}\n")).unwrap();
    let out = run(
        cmd(EXE, tmp.path())
            .env("LOGOPS_SECRET_KEY", format!("{b},{a}"))
            .args(["--rotate", "x.ndjson"]),
        b"",
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("x.ndjson:2: field msg_enc: cannot decrypt"),
        "{out:?}"
    );
    let text = fs::read_to_string(&file).unwrap();
    let recs = parse(&text);
    assert_eq!(recs[1]["msg_enc"], foreign.as_str());
    let b_only = Crypt::from_key_list(&b).unwrap();
    assert_eq!(
        b_only
            .decrypt(recs[0]["msg_enc"].as_str().unwrap())
            .unwrap(),
        b"kept"
    );
}
