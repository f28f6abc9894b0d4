//! The emitter binaries against a real gateway: what each emitter says it sent
//! (`--report`, the run summary) must match what the gateway counted and stored,
//! PII must arrive masked, `--seed` must reproduce bodies byte for byte, and
//! failures must be reported with the documented exit codes.
//!
//! Every run here is bounded by a record count (`-n`), never by time.

use std::process::{Command, Output};

use logops_e2e::{bin_path, Gateway};
use serde_json::Value;

/// Runs an emitter binary with these arguments (no `LOGOPS_URL` from the environment).
fn emit(name: &str, args: &[&str]) -> Output {
    Command::new(bin_path(name))
        .args(args)
        .env_remove("LOGOPS_URL")
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON after `prefix` on the line of `out` that starts with it.
fn line_json(out: &str, prefix: &str) -> Value {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{out}"));
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("`{prefix}` line is not JSON ({e}): {line}"))
}

/// The four counts the gateway reports, from a response body or an emitter report.
fn counts(v: &Value, records_key: &str) -> [u64; 4] {
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"))
    };
    [
        n(records_key),
        n("missing_ts"),
        n("missing_level"),
        n("invalid_ts"),
    ]
}

/// Every string in a stored record except the normalized ts/level/emitter/scenario_id.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "ts" | "level" | "emitter" | "scenario_id"))
            .for_each(|(_, x)| strings(x, out)),
        _ => {}
    }
}

/// An email whose local part is not `X***`, if any.
fn unmasked_email(s: &str) -> Option<String> {
    for (i, _) in s.match_indices('@') {
        let domain: String = s[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        if !domain.contains('.') {
            continue;
        }
        let local: String = s[..i]
            .chars()
            .rev()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '(' | '<' | ','))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let masked = local.chars().count() == 4 && local.ends_with("***");
        if !masked {
            return Some(format!("{local}@{domain}"));
        }
    }
    None
}

/// A dotted quad with valid octets (an unmasked IPv4), if any.
fn unmasked_ipv4(s: &str) -> Option<String> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .flat_map(|tok| {
            // Look at every run of four dot-separated parts inside the token.
            let parts: Vec<&str> = tok.split('.').collect();
            (0..parts.len().saturating_sub(3)).map(move |i| parts[i..i + 4].to_vec())
        })
        .find(|p| {
            p.iter()
                .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u16>().is_ok_and(|n| n < 256))
        })
        .map(|p| p.join("."))
}

fn assert_masked(records: &[Value]) {
    for r in records {
        let mut all = Vec::new();
        strings(r, &mut all);
        for s in all {
            assert!(
                unmasked_email(s).is_none(),
                "unmasked email {:?} in {r}",
                unmasked_email(s)
            );
            assert!(
                unmasked_ipv4(s).is_none(),
                "unmasked IPv4 {:?} in {r}",
                unmasked_ipv4(s)
            );
        }
    }
}

#[test]
fn pii_scanners_catch_what_they_should() {
    assert_eq!(
        unmasked_email("user alice@example.com in"),
        Some("alice@example.com".into())
    );
    assert_eq!(unmasked_email("user a***@example.com in"), None);
    assert_eq!(unmasked_email("id exampleSDID@32473"), None);
    assert_eq!(unmasked_ipv4("from 10.1.2.3:8080"), Some("10.1.2.3".into()));
    assert_eq!(
        unmasked_ipv4("from 10.1.x.x, v1.4.2, 2026-01-01T00:00:00.123Z"),
        None
    );
    assert_eq!(unmasked_ipv4("999.1.2.3"), None);
}

/// Each emitter, one batch: the gateway's counts equal the emitter's report,
/// the records are stored, and PII is masked.
#[test]
fn single_batch_counts_match_the_report_for_every_emitter() {
    let gw = Gateway::builder().env("LOGOPS_FSYNC", "never").start();
    let url = gw.url("/v1/logs");
    let runs: [(&str, &[&str]); 7] = [
        ("emit_json", &["--partial-ratio", "0.3"]),
        ("emit_json", &["--partial-ratio", "0.5", "--ndjson"]),
        ("emit_minimal", &[]),
        ("emit_syslog", &["--partial-ratio", "0.4"]),
        ("emit_csv", &["--partial-ratio", "0.3"]),
        ("emit_noise", &["--chaos", "0.7"]),
        ("emit_noise", &["--chaos", "1"]),
    ];
    let mut total = 0;
    for (i, (name, extra)) in runs.iter().enumerate() {
        let seed = (100 + i).to_string();
        let mut args = vec!["--url", &url, "-n", "400", "--seed", &seed, "--report"];
        args.extend_from_slice(extra);
        let out = emit(name, &args);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name} {extra:?}:\n{stdout}\n{stderr}"
        );
        assert!(stdout.starts_with("status: 200\nbody: "), "{stdout}");
        let body = line_json(&stdout, "body: ");
        let report = line_json(&stderr, "report: ");
        assert_eq!(
            counts(&body, "accepted"),
            counts(&report, "records"),
            "{name} {extra:?}: {body}"
        );
        assert_eq!(body["accepted"], 400);
        total += 400;
        if *name == "emit_minimal" {
            assert_eq!(counts(&body, "accepted"), [400, 400, 400, 0]);
        }
        if *name == "emit_noise" {
            assert!(
                report["invalid_ts"].as_u64().unwrap() > 0,
                "noise made no bad timestamps"
            );
        }
        if extra.contains(&"--partial-ratio") {
            assert!(
                report["missing_ts"].as_u64().unwrap() > 0,
                "{name}: no partial records"
            );
        }
    }
    let stored = gw.stored_records();
    assert_eq!(stored.len(), total);
    for name in ["emit_json", "emit_minimal", "emit_syslog", "emit_csv"] {
        let n = stored.iter().filter(|r| r["emitter"] == name).count();
        let runs_of = runs.iter().filter(|(e, _)| *e == name).count();
        assert_eq!(n, 400 * runs_of, "{name}");
    }
    // emit_json and emit_csv send user_email / client_ip fields: stored masked.
    let with_email: Vec<&Value> = stored
        .iter()
        .filter(|r| r["user_email"].is_string())
        .collect();
    assert!(!with_email.is_empty());
    assert!(with_email
        .iter()
        .all(|r| r["user_email"].as_str().unwrap().contains("***@")));
    assert_masked(&stored);
}

#[test]
fn same_seed_gives_byte_identical_bodies() {
    let runs: [(&str, &[&str]); 5] = [
        ("emit_json", &["--partial-ratio", "0.2"]),
        ("emit_minimal", &[]),
        ("emit_syslog", &["--partial-ratio", "0.2"]),
        ("emit_csv", &["--partial-ratio", "0.2"]),
        ("emit_noise", &["--chaos", "0.8"]),
    ];
    for (name, extra) in runs {
        let body = |seed: &str| {
            let mut args = vec!["--dry-run", "-n", "200", "--seed", seed];
            args.extend_from_slice(extra);
            let out = emit(name, &args);
            assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
            out.stdout
        };
        let a = body("77");
        assert!(a.len() > 200 * 10, "{name}: body too small");
        assert_eq!(a, body("77"), "{name}: same seed, different bytes");
        assert_ne!(a, body("78"), "{name}: different seeds, same bytes");
    }
}

#[test]
fn flood_and_paced_summaries_match_the_gateway() {
    let gw = Gateway::builder().env("LOGOPS_FSYNC", "never").start();
    let url = gw.url("/v1/logs");
    let out = emit(
        "emit_json",
        &[
            "--url",
            &url,
            "--concurrency",
            "4",
            "-n",
            "1050",
            "--batch-size",
            "100",
            "--seed",
            "5",
            "--partial-ratio",
            "0.3",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "one summary line: {stdout}");
    let flood: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(flood["mode"], "flood");
    assert_eq!(flood["requests"], 11);
    assert_eq!(flood["sent"], 1050);
    assert_eq!(flood["accepted"], 1050);
    assert_eq!(flood["failed"], 0);
    assert_eq!(flood["rejected"], serde_json::json!({}));
    assert_eq!(flood["expected"], flood["reported"]);
    assert!(flood["expected"]["missing_ts"].as_u64().unwrap() > 0);
    for q in ["p50", "p95", "p99"] {
        assert!(
            flood["latency_ms"][q].as_f64().unwrap() > 0.0,
            "{q}: {flood}"
        );
    }

    let out = emit(
        "emit_syslog",
        &[
            "--url",
            &url,
            "--eps",
            "2000",
            "--batch-size",
            "20",
            "-n",
            "200",
            "--partial-ratio",
            "0.5",
            "--scenario-id",
            "pace-1",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let paced: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(paced["mode"], "paced");
    assert_eq!(paced["requests"], 10);
    assert_eq!(paced["accepted"], 200);
    assert_eq!(paced["expected"], paced["reported"]);

    let stored = gw.stored_records();
    assert_eq!(
        stored
            .iter()
            .filter(|r| r["emitter"] == "emit_json")
            .count(),
        1050
    );
    let syslog: Vec<&Value> = stored
        .iter()
        .filter(|r| r["emitter"] == "emit_syslog")
        .collect();
    assert_eq!(syslog.len(), 200);
    assert!(syslog.iter().all(|r| r["scenario_id"] == "pace-1"));
    assert_masked(&stored);
}

#[test]
fn emitter_and_scenario_headers_reach_the_records() {
    let gw = Gateway::builder().env("LOGOPS_FSYNC", "never").start();
    let url = gw.url("/v1/logs");
    let out = emit(
        "emit_csv",
        &[
            "--url",
            &url,
            "-n",
            "5",
            "--emitter",
            "smoke",
            "--scenario-id",
            "deploy-42",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let body = line_json(&text(&out.stdout), "body: ");
    assert_eq!(
        (body["emitter"].as_str(), body["scenario"].as_str()),
        (Some("smoke"), Some("deploy-42"))
    );
    let stored = gw.stored_records();
    assert_eq!(stored.len(), 5);
    assert!(stored
        .iter()
        .all(|r| r["emitter"] == "smoke" && r["scenario_id"] == "deploy-42"));
}

#[test]
fn rejected_single_batch_prints_the_body_and_exits_1() {
    let gw = Gateway::builder().env("LOGOPS_MAX_RECORDS", "5").start();
    let out = emit("emit_json", &["--url", &gw.url("/v1/logs"), "-n", "6"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("status: 413\n"), "{stdout}");
    assert_eq!(line_json(&stdout, "body: ")["error"], "too_many_records");
    assert!(gw.stored_records().is_empty());
}

#[test]
fn unreachable_gateway_is_one_line_and_exit_2() {
    // A loopback port with no listener: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1/logs");
    let expected = format!("error: cannot reach {url}: connection refused\n");
    for args in [
        vec!["--url", url.as_str(), "-n", "5"],
        vec!["--url", url.as_str(), "--concurrency", "2", "-n", "100"],
        vec!["--url", url.as_str(), "--eps", "10", "-n", "10"],
    ] {
        let out = emit("emit_noise", &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), expected, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    // LOGOPS_URL is the default --url.
    let out = Command::new(bin_path("emit_minimal"))
        .args(["-n", "1"])
        .env("LOGOPS_URL", &url)
        .output()
        .unwrap();
    assert_eq!((out.status.code(), text(&out.stderr)), (Some(2), expected));
}

#[test]
fn bad_flags_are_explained() {
    let out = emit("emit_json", &["--concurrency", "4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--duration or -n"),
        "{}",
        text(&out.stderr)
    );
    let out = emit("emit_json", &["--partial-ratio", "1.5", "-n", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("between 0 and 1"),
        "{}",
        text(&out.stderr)
    );
    let out = emit("emit_csv", &["--duration", "fast", "--eps", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid duration"),
        "{}",
        text(&out.stderr)
    );
}
