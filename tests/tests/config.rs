//! Configuration (SPEC §6) seen from outside: `.env` in the working directory
//! (with a UTF-8 BOM) and `LOGOPS_ENV_FILE` are read, the environment wins,
//! unknown `LOGOPS_*` keys are warned about with the closest known key, and an
//! invalid value stops start-up naming the key and what it accepts.

use std::path::Path;
use std::time::Duration;

use logops_e2e::Gateway;
use serde_json::{json, Value};

fn records(n: usize) -> String {
    Value::from(
        (0..n)
            .map(|i| json!({"msg": format!("m{i} bob@example.com")}))
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// Asserts a batch of `n` records is refused as too many with that `limit`.
fn assert_too_many(gw: &Gateway, n: usize, limit: u64) {
    let r = gw.ingest("application/json", &records(n));
    assert_eq!(r.status, 413, "{n} records: {}", r.text);
    assert_eq!(r.json()["error"], "too_many_records");
    assert_eq!(r.json()["limit"], limit, "{}", r.text);
}

fn assert_accepts(gw: &Gateway, n: usize) {
    let r = gw.ingest("application/json", &records(n));
    assert_eq!(r.status, 200, "{n} records: {}", r.text);
    assert_eq!(r.json()["accepted"], n);
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

#[test]
fn dotenv_in_workdir_is_read_and_its_bom_ignored() {
    let work = tempfile::tempdir().unwrap();
    write(
        &work.path().join(".env"),
        "\u{feff}LOGOPS_MAX_RECORDS=2\n# a comment\nLOGOPS_MASK_PII=\"false\"\n",
    );
    let gw = Gateway::builder().process().workdir(work.path()).start();
    assert_too_many(&gw, 3, 2);
    assert_accepts(&gw, 2);
    let recs = gw.stored_records();
    assert_eq!(
        recs[0]["msg"], "m0 bob@example.com",
        "LOGOPS_MASK_PII=false from .env"
    );
}

#[test]
fn environment_wins_over_dotenv() {
    let work = tempfile::tempdir().unwrap();
    write(
        &work.path().join(".env"),
        "LOGOPS_MAX_RECORDS=2\nLOGOPS_MASK_PII=false\n",
    );
    let gw = Gateway::builder()
        .process()
        .workdir(work.path())
        .env("LOGOPS_MAX_RECORDS", "5")
        .start();
    assert_accepts(&gw, 3);
    assert_too_many(&gw, 6, 5);
    // Keys the environment does not set still come from .env.
    assert_eq!(gw.stored_records()[0]["msg"], "m0 bob@example.com");
}

#[test]
fn logops_env_file_names_the_file_to_read() {
    let work = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write(&work.path().join(".env"), "LOGOPS_MAX_RECORDS=50\n");
    let custom = elsewhere.path().join("gateway.env");
    write(&custom, "LOGOPS_MAX_RECORDS=1\n");
    let gw = Gateway::builder()
        .process()
        .workdir(work.path())
        .env("LOGOPS_ENV_FILE", custom.to_str().unwrap())
        .start();
    assert_too_many(&gw, 2, 1);
    assert_accepts(&gw, 1);
}

#[test]
fn unknown_keys_are_warned_about_with_the_closest_known_key() {
    let work = tempfile::tempdir().unwrap();
    write(&work.path().join(".env"), "LOGOPS_MAKS_PII=false\n");
    let gw = Gateway::builder()
        .process()
        .workdir(work.path())
        .env("LOGOPS_FSYNK", "never")
        .start();
    for (unknown, closest) in [
        ("LOGOPS_FSYNK", "LOGOPS_FSYNC"),
        ("LOGOPS_MAKS_PII", "LOGOPS_MASK_PII"),
    ] {
        assert!(
            gw.wait_stderr(unknown, Duration::from_secs(10)),
            "no warning about {unknown}:\n{}",
            gw.stderr()
        );
        let stderr = gw.stderr();
        let line = stderr.lines().find(|l| l.contains(unknown)).unwrap();
        assert!(
            line.contains(closest),
            "warning about {unknown} should suggest {closest}: {line}"
        );
    }
    // The misspelt key had no effect: masking is still on.
    assert_accepts(&gw, 1);
    assert_eq!(gw.stored_records()[0]["msg"], "m0 b***@example.com");
}

#[test]
fn invalid_values_stop_start_up_naming_the_key() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("LOGOPS_MAX_BODY_BYTES", "lots", &[]),
        ("LOGOPS_MAX_RECORDS", "-5", &[]),
        (
            "LOGOPS_FSYNC",
            "sometimes",
            &["always", "interval", "never"],
        ),
        ("LOGOPS_LOG_FORMAT", "xml", &["text", "json"]),
        ("LOGOPS_MASK_PII", "maybe", &[]),
        ("LOGOPS_DEBUG_SAMPLE", "yes please", &[]),
        ("LOGOPS_LISTEN", "not-an-address", &[]),
        ("LOGOPS_MAX_LABEL_VALUES", "abc", &[]),
        ("LOGOPS_FSYNC_INTERVAL_MS", "soon", &[]),
    ];
    for (key, value, accepts) in cases {
        let out = Gateway::builder().env(key, value).run_expecting_exit();
        assert!(!out.listened, "{key}={value} was accepted:\n{}", out.stderr);
        assert!(
            matches!(out.code, Some(c) if c != 0),
            "{key}={value}: exit code {:?}",
            out.code
        );
        assert!(
            out.stderr.contains(key),
            "{key}={value}: stderr must name the key:\n{}",
            out.stderr
        );
        for word in *accepts {
            assert!(
                out.stderr.contains(word),
                "{key}: stderr should say it accepts {word}:\n{}",
                out.stderr
            );
        }
    }
}

#[test]
fn invalid_value_in_dotenv_also_stops_start_up() {
    let work = tempfile::tempdir().unwrap();
    write(
        &work.path().join(".env"),
        "\u{feff}LOGOPS_FSYNC=sometimes\n",
    );
    let out = Gateway::builder().workdir(work.path()).run_expecting_exit();
    assert!(
        !out.listened,
        "started with LOGOPS_FSYNC=sometimes in .env:\n{}",
        out.stderr
    );
    assert!(
        matches!(out.code, Some(c) if c != 0),
        "exit code {:?}",
        out.code
    );
    assert!(out.stderr.contains("LOGOPS_FSYNC"), "{}", out.stderr);
}

/// SPEC §6: secrets never appear in logs. A start-up with encryption on, at
/// the most verbose level, a batch and a shutdown: no line holds the key or a
/// recognisable piece of it (a Fernet key is 44 characters; any 12 in a row).
#[test]
fn no_log_line_of_an_encrypting_gateway_holds_key_material() {
    let key = logops_gateway::pii::Crypt::generate_key();
    let mut gw = Gateway::builder()
        .process()
        .env("LOGOPS_ENCRYPT_PII", "true")
        .env("LOGOPS_SECRET_KEY", &key)
        .env("LOGOPS_LOG_LEVEL", "trace")
        .start();
    let r = gw.ingest(
        "application/json",
        r#"{"msg":"secret alice@example.com","user_email":"a@b.io"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(gw.stop(), Some(0));
    let stderr = gw.stderr();
    assert!(stderr.contains("listening on"), "{stderr}");
    for line in stderr.lines() {
        for window in key.as_bytes().windows(12) {
            let piece = std::str::from_utf8(window).unwrap();
            assert!(!line.contains(piece), "log line holds key material: {line}");
        }
    }
}
