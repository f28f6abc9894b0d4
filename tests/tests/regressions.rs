//! Issue #18: each defect found when LogOps was tried as its users would,
//! with a test that failed before its fix. (Items 1, 5, 6 and 9, through real
//! clients, are in `replaced.rs`, `agents.rs` and `tools.rs`.)

use std::process::Command;

use logops_e2e::{bin_path, Gateway};
use serde_json::{json, Value};

fn post_json(gw: &Gateway, body: &str) -> Value {
    let r = gw.ingest("application/json", body);
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// Item 2: only tokens LogOps made are exempt from masking.
#[test]
fn a_client_field_named_enc_is_masked() {
    let gw = Gateway::start();
    post_json(
        &gw,
        r#"{"msg":"m","contact_enc":"alice@x.io","ip_enc":["10.1.2.3"]}"#,
    );
    let r = &gw.stored_records()[0];
    assert_eq!(r["contact_enc"], "a***@x.io");
    assert_eq!(r["ip_enc"], json!(["10.1.x.x"]));
}

/// Item 3: dotless hosts and short domains are emails too.
#[test]
fn dotless_and_short_email_hosts_are_masked() {
    let gw = Gateway::start();
    post_json(&gw, r#"{"msg":"root@localhost <x@y> a@b.c.d"}"#);
    assert_eq!(
        gw.stored_records()[0]["msg"],
        "r***@localhost <x***@y> a***@b.c.d"
    );
}

/// Item 4: a UTF-8 byte-order mark before JSON or NDJSON is ignored.
#[test]
fn a_bom_before_json_and_ndjson_is_ignored() {
    let gw = Gateway::start();
    for (ct, body) in [
        ("application/json", "\u{feff}{\"msg\":\"a\"}"),
        (
            "application/x-ndjson",
            "\u{feff}{\"msg\":\"b\"}\n{\"msg\":\"c\"}\n",
        ),
        ("text/plain", "\u{feff}hello"),
    ] {
        let r = gw.ingest(ct, body);
        assert_eq!(r.status, 200, "{ct}: {}", r.text);
    }
    let msgs: Vec<Value> = gw
        .stored_records()
        .iter()
        .map(|r| r["msg"].clone())
        .collect();
    assert_eq!(msgs, [json!("a"), json!("b"), json!("c"), json!("hello")]);
}

/// Item 7: a free-text line starting with a level word keeps the word in `msg`.
#[test]
fn a_leading_level_word_stays_in_the_message() {
    let gw = Gateway::start();
    let r = gw.ingest("text/plain", "WARN\nERROR: disk full\n");
    assert_eq!(r.status, 200, "{}", r.text);
    let recs = gw.stored_records();
    assert_eq!(
        (recs[0]["level"].as_str(), recs[0]["msg"].as_str()),
        (Some("WARN"), Some("WARN"))
    );
    assert_eq!(recs[1]["msg"], "ERROR: disk full");
    assert_eq!(recs[1]["level"], "ERROR");
}

/// Item 8: one zone grammar: `+01` in a JSON ts and at the start of a text line.
#[test]
fn hour_only_zones_parse_in_json_and_in_text_lines() {
    let gw = Gateway::start();
    post_json(&gw, r#"{"ts":"2026-11-22T10:00:00+01","msg":"j"}"#);
    let r = gw.ingest("text/plain", "2026-11-22T10:00:00+01 INFO t\n");
    assert_eq!(r.json()["missing_ts"], 0, "{}", r.text);
    for rec in gw.stored_records() {
        assert_eq!(rec["ts"], "2026-11-22T09:00:00Z", "{rec}");
        assert!(rec.get("ts_raw").is_none(), "{rec}");
    }
}

fn gateway_cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(bin_path("logops-gateway"));
    c.current_dir(dir.path()).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LOGOPS_") {
            c.env_remove(k);
        }
    }
    c.env("LOGOPS_SINK_DIR", dir.path().join("ingest"));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run logops-gateway");
    assert!(
        !dir.path().join("ingest").exists(),
        "the CLI flag must not touch the sink"
    );
    out
}

/// Item 10: `--help`, `--version` and `--check-config` answer without serving.
#[test]
fn gateway_help_version_and_check_config() {
    let out = gateway_cli(&["--help"], &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--check-config"));
    let out = gateway_cli(&["--version"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("logops-gateway {}", logops_gateway::VERSION)
    );
    let out = gateway_cli(&["--check-config"], &[("LOGOPS_LISTEN", "127.0.0.1:1")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
    let out = gateway_cli(&["--check-config"], &[("LOGOPS_FSYNC", "sometimes")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOGOPS_FSYNC"));
}

/// Item 11: an invalid log level stops start-up like every other key.
#[test]
fn an_invalid_log_level_stops_start_up() {
    let out = gateway_cli(&["--check-config"], &[("LOGOPS_LOG_LEVEL", "verbose")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LOGOPS_LOG_LEVEL"));
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_LOG_LEVEL", "verbose")
        .run_expecting_exit();
    assert_eq!((e.code, e.listened), (Some(2), false), "{}", e.stderr);
}

/// Item 12: a typo'd required key is named; `LOGOPS_PORT` hints at
/// `LOGOPS_LISTEN`; host names are accepted in `LOGOPS_LISTEN`.
#[test]
fn typos_are_named_and_host_names_listen() {
    let out = gateway_cli(
        &["--check-config"],
        &[("LOGOPS_ENCRYPT_PII", "true"), ("LOGOPS_SECRETKEY", "x")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("LOGOPS_SECRET_KEY") && err.contains("LOGOPS_SECRETKEY"),
        "{err}"
    );
    let out = gateway_cli(&["--check-config"], &[("LOGOPS_PORT", "9000")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean LOGOPS_LISTEN"));
    let out = gateway_cli(&["--check-config"], &[("LOGOPS_LISTEN", "localhost:8080")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gw = Gateway::builder()
        .process()
        .env("LOGOPS_LISTEN", "localhost:0")
        .start();
    assert_eq!(gw.get("/healthz").status, 200);
}

/// Item 13: answers end in a newline; a start-up failure is printed once and
/// names the key to change.
#[test]
fn responses_end_in_a_newline_and_start_up_errors_name_the_key_once() {
    let gw = Gateway::start();
    assert!(gw.get("/healthz").text.ends_with('\n'));
    assert!(gw.ingest("application/json", "nope").text.ends_with('\n'));
    let taken = gw.addr.clone();
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_LISTEN", &taken)
        .run_expecting_exit();
    assert_eq!(e.code, Some(1), "{}", e.stderr);
    assert_eq!(e.stderr.matches("cannot listen").count(), 1, "{}", e.stderr);
    assert!(e.stderr.contains("LOGOPS_LISTEN"), "{}", e.stderr);
    let file = tempfile::NamedTempFile::new().unwrap();
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_SINK_DIR", file.path().to_str().unwrap())
        .run_expecting_exit();
    assert_eq!(
        e.stderr.matches("LOGOPS_SINK_DIR").count(),
        1,
        "{}",
        e.stderr
    );
}

/// Item 12 (tools) and 15: the tools warn about unknown keys; housekeeping
/// exits 2 on a missing sink directory and explains a negative retention.
#[test]
fn housekeeping_usage_errors_exit_2_and_tools_warn_about_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(bin_path("housekeeping"))
            .current_dir(dir.path())
            .env("LOGOPS_RETENTON_DAYS", "3")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--sink-dir", "/nonexistent/logops"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/nonexistent/logops") && err.contains("not a directory"),
        "{err}"
    );
    assert!(
        err.contains("LOGOPS_RETENTON_DAYS") && err.contains("LOGOPS_RETENTION_DAYS"),
        "{err}"
    );
    let out = run(&["--retention-days", "-1", "--sink-dir", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("out of range") && !err.contains("unexpected argument"),
        "{err}"
    );
    let out = Command::new(bin_path("logops-decrypt"))
        .current_dir(dir.path())
        .env("LOGOPS_SECRETKEY", "x")
        .arg("/nonexistent")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean LOGOPS_SECRET_KEY"));
}
