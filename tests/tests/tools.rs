//! Operator tools against a real gateway (SPEC §3–§4): what the gateway stores
//! with encryption on comes back whole through `logops-decrypt`, `--rotate`
//! moves the tokens to a new key, and `LOGOPS_HOUSEKEEP_AUTORUN` archives
//! expired day files at start-up (and counts them in `/metrics`), and
//! `logops-query` answers the same over the sink directory as over the
//! gateway's read API.
//!
//! Needs the tools' binaries: `cargo build -p logops-tools` (or a workspace build).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use logops_e2e::{bin_path, Gateway};
use logops_gateway::housekeeping::{archive_entries, read_entry};
use logops_gateway::pii::Crypt;
use serde_json::{json, Value};

/// Records with PII in the message and in the encrypted fields.
fn originals() -> Vec<Value> {
    vec![
        json!({"timestamp": "2025-03-01T10:00:00Z", "level": "info",
               "message": "user alice@example.com logged in from 192.168.10.20",
               "user_email": "alice@example.com", "client_ip": "192.168.10.20", "service": "auth"}),
        json!({"timestamp": "2025-03-01T10:00:01Z", "level": "error",
               "message": "payment failed for bob.smith@corp.example.org via 2001:db8::7",
               "user_email": "bob.smith@corp.example.org", "client_ip": "2001:db8::7"}),
        json!({"timestamp": "2025-03-01T10:00:02Z", "level": "warn", "message": "no personal data here"}),
    ]
}

/// Starts an encrypting gateway, stores [`originals`], stops it; returns the
/// working directory (kept) and the day file written.
fn store_encrypted(key: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let mut gw = Gateway::builder()
        .workdir(work.path())
        .env("LOGOPS_ENCRYPT_PII", "true")
        .env("LOGOPS_SECRET_KEY", key)
        .start();
    let body = Value::from(originals()).to_string();
    let r = gw.ingest("application/json", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(gw.stop(), Some(0), "{}", gw.stderr());
    let files: Vec<PathBuf> = fs::read_dir(&gw.sink_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let stored = fs::read_to_string(&files[0]).unwrap();
    for secret in [
        "alice@example.com",
        "bob.smith@corp.example.org",
        "192.168.10.20",
    ] {
        assert!(
            !stored.contains(secret),
            "{secret} stored in clear: {stored}"
        );
    }
    (work, files[0].clone())
}

/// Runs a tools binary in `cwd` with only the given `LOGOPS_*` variables.
fn tool(name: &str, cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(bin_path(name));
    c.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LOGOPS_") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run tool")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// The decrypted records must carry the original message and fields.
fn assert_recovered(stdout: &str) {
    let recs: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 3, "{stdout}");
    for (rec, orig) in recs.iter().zip(originals()) {
        assert_eq!(rec["msg"], orig["message"], "{rec}");
        for field in ["user_email", "client_ip"] {
            assert_eq!(rec.get(field), orig.get(field), "{field} of {rec}");
        }
        let obj = rec.as_object().unwrap();
        assert!(
            !obj.keys().any(|k| k.ends_with("_enc")),
            "token left in {rec}"
        );
        assert_eq!(
            rec["service"],
            orig.get("service").cloned().unwrap_or(Value::Null)
        );
    }
}

#[test]
fn decrypt_recovers_what_the_gateway_encrypted() {
    let key = Crypt::generate_key();
    let (work, file) = store_encrypted(&key);
    let f = file.to_str().unwrap();
    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &key)],
        &[f],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_recovered(&text(&out.stdout));
    assert!(!text(&out.stdout).contains(&key) && !text(&out.stderr).contains(&key));

    // The wrong key: every token reported by file and line, exit 1.
    let other = Crypt::generate_key();
    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &other)],
        &[f],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stderr);
    assert!(
        report.contains(&format!("{f}:1: field msg_enc: cannot decrypt")),
        "{report}"
    );
    assert!(
        report.contains(&format!("{f}:2: field user_email_enc: cannot decrypt")),
        "{report}"
    );
}

#[test]
fn rotation_to_a_second_key_retires_the_first() {
    let (old, new) = (Crypt::generate_key(), Crypt::generate_key());
    let (work, file) = store_encrypted(&old);
    let f = file.to_str().unwrap();
    let both = format!("{new},{old}");
    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &both)],
        &["--rotate", "--include-today", f],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &new)],
        &[f],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_recovered(&text(&out.stdout));
    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &old)],
        &[f],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "old key still opens rotated tokens"
    );

    // A gateway running with the rotated list keeps working on the same directory.
    let gw = Gateway::builder()
        .workdir(work.path())
        .env("LOGOPS_ENCRYPT_PII", "true")
        .env("LOGOPS_SECRET_KEY", &both)
        .start();
    let r = gw.ingest("application/json", r#"{"msg":"late carol@example.net"}"#);
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = gw.stored_records().pop().unwrap();
    let token = rec["msg_enc"].as_str().unwrap();
    let plain = Crypt::from_key_list(&new).unwrap().decrypt(token).unwrap();
    assert_eq!(plain, b"late carol@example.net");
}

/// `YYYYMMDD` of the UTC day `offset` days from today (civil-from-days).
fn stem(offset: i64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let z = secs.div_euclid(86_400) + offset + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}")
}

/// The value of `logops_housekeeping_files_total{action="<action>"}`, 0 if absent.
fn housekeeping_count(gw: &Gateway, action: &str) -> f64 {
    let metrics = gw.get("/metrics").text;
    let prefix = format!("logops_housekeeping_files_total{{action=\"{action}\"}}");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

#[test]
fn autorun_archives_expired_files_at_start_and_never_touches_today() {
    let work = tempfile::tempdir().unwrap();
    let sink = work.path().join("ingest");
    let archive = work.path().join("archive");
    fs::create_dir(&sink).unwrap();
    let days = [stem(-40), stem(-2), stem(-1), stem(0)];
    for d in &days {
        fs::write(
            sink.join(format!("{d}.ndjson")),
            format!("{{\"msg\":\"day {d}\"}}\n"),
        )
        .unwrap();
    }
    fs::write(sink.join("notes.ndjson"), "not a day file\n").unwrap();

    let gw = Gateway::builder()
        .workdir(work.path())
        .env("LOGOPS_HOUSEKEEP_AUTORUN", "true")
        .env("LOGOPS_RETENTION_DAYS", "1")
        .env("LOGOPS_ARCHIVE_MODE", "zip")
        .env("LOGOPS_ARCHIVE_DIR", archive.to_str().unwrap())
        .start();
    // The run happens in the background after start-up: wait for its count (bounded).
    let deadline = Instant::now() + Duration::from_secs(20);
    while housekeeping_count(&gw, "archived") < 2.0 {
        assert!(Instant::now() < deadline, "no archive run: {}", gw.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(housekeeping_count(&gw, "archived"), 2.0);
    assert_eq!(housekeeping_count(&gw, "failed"), 0.0);

    for d in &days[..2] {
        assert!(
            !sink.join(format!("{d}.ndjson")).exists(),
            "{d} not archived"
        );
        let zip = archive.join(format!("{d}.zip"));
        let entries = archive_entries(&zip).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, format!("{d}.ndjson"));
        let content = read_entry(&zip, &entries[0].name).unwrap();
        assert_eq!(text(&content), format!("{{\"msg\":\"day {d}\"}}\n"));
    }
    for d in &days[2..] {
        let kept = fs::read_to_string(sink.join(format!("{d}.ndjson"))).unwrap();
        assert_eq!(kept, format!("{{\"msg\":\"day {d}\"}}\n"));
    }
    assert!(sink.join("notes.ndjson").exists());

    // Ingest is unaffected: today's file gets appended to as usual.
    let r = gw.ingest("application/json", r#"{"msg":"after housekeeping"}"#);
    assert_eq!(r.status, 200, "{}", r.text);
    let today = fs::read_to_string(sink.join(format!("{}.ndjson", days[3]))).unwrap();
    assert!(
        today.starts_with(&format!("{{\"msg\":\"day {}\"}}\n", days[3])),
        "{today}"
    );
    assert!(today.contains("after housekeeping"), "{today}");
}

/// SPEC §4 (issue #18.1): `--rotate` replaces the file, so today's file, which
/// a running gateway appends to, is refused unless `--include-today`; and
/// `--include-today` refuses while a gateway holds the sink directory.
#[test]
fn rotate_refuses_todays_file_and_a_running_gateway() {
    let key = Crypt::generate_key();
    let (work, file) = store_encrypted(&key);
    let f = file.to_str().unwrap();
    let before = fs::read(&file).unwrap();
    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &key)],
        &["--rotate", f],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--include-today"),
        "{}",
        text(&out.stderr)
    );
    let gw = Gateway::builder().workdir(work.path()).start();
    let out = tool(
        "logops-decrypt",
        work.path(),
        &[("LOGOPS_SECRET_KEY", &key)],
        &["--rotate", "--include-today", f],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("running"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read(&file).unwrap(), before, "the file was touched");
    drop(gw);
}

/// 60 records over one minute from 2026-03-01T10:00:00Z: every 3rd ERROR,
/// the 7th with "timeout" in its message.
fn query_records() -> String {
    (0..60)
        .map(|i| {
            let r = json!({
                "ts": format!("2026-03-01T10:00:{i:02}Z"),
                "level": if i % 3 == 0 { "ERROR" } else { "INFO" },
                "msg": format!("request {i} took {i} ms{}", if i == 7 { " timeout" } else { "" }),
                "service": if i < 30 { "api" } else { "web" },
                "latency_ms": i,
            });
            format!("{r}\n")
        })
        .collect()
}

const DAY: [&str; 4] = [
    "--from",
    "2026-03-01T00:00:00Z",
    "--to",
    "2026-03-02T00:00:00Z",
];

/// Runs `logops-query` over the directories of `gw` and over its URL; both
/// must succeed with the same lines. Returns them and the `_stats` of the run over --dir.
fn query_both(gw: &Gateway, work: &Path, pre: &[&str], args: &[&str]) -> (Vec<String>, Value) {
    let sink = gw.sink_dir.to_str().unwrap().to_string();
    let archive = work.join("data/archive");
    let url = gw.url("");
    let mut dir_args: Vec<&str> = args.to_vec();
    dir_args.extend(["--dir", &sink, "--archive-dir", archive.to_str().unwrap()]);
    let mut url_args: Vec<&str> = args.to_vec();
    url_args.extend(["--url", &url]);
    url_args.extend(pre);
    let over_dir = tool("logops-query", work, &[], &dir_args);
    let over_url = tool("logops-query", work, &[], &url_args);
    for (how, out) in [("--dir", &over_dir), ("--url", &over_url)] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{how} {args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        text(&over_dir.stdout),
        text(&over_url.stdout),
        "{args:?}: --dir and --url differ"
    );
    let stats_line = text(&over_dir.stderr);
    let stats: Value = serde_json::from_str(stats_line.trim()).expect("a _stats line on stderr");
    let url_stats: Value = serde_json::from_str(text(&over_url.stderr).trim()).unwrap();
    assert_eq!(stats["_stats"]["matched"], url_stats["_stats"]["matched"]);
    let lines = text(&over_dir.stdout).lines().map(str::to_string).collect();
    (lines, stats["_stats"].clone())
}

fn msg_of(line: &str) -> String {
    serde_json::from_str::<Value>(line).unwrap()["msg"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn query_over_the_directory_and_the_url_agree() {
    let work = tempfile::tempdir().unwrap();
    let gw = Gateway::builder().process().workdir(work.path()).start();
    assert_eq!(
        gw.ingest("application/x-ndjson", &query_records()).status,
        200
    );
    let stored = gw.stored_lines();
    assert_eq!(stored.len(), 60);

    // Everything, oldest first: exactly the stored lines.
    let mut all = vec!["{}", "--forward", "--limit", "1000"];
    all.extend(DAY);
    let (lines, stats) = query_both(&gw, work.path(), &[], &all);
    assert_eq!(lines, stored);
    assert_eq!(stats["matched"], 60);
    assert_eq!(stats["truncated"], false);

    // Filters.
    for (q, n) in [
        (r#"{level="ERROR"}"#, 20),
        (r#"{level="ERROR"} | service="web""#, 10),
        (r#"{} |= "timeout""#, 1),
        (r#"{} | json | latency_ms >= 50"#, 10),
    ] {
        let mut a = vec![q, "--forward", "--limit", "1000"];
        a.extend(DAY);
        let (lines, _) = query_both(&gw, work.path(), &[], &a);
        assert_eq!(lines.len(), n, "{q}");
        let want: Vec<&String> = stored
            .iter()
            .filter(|l| match q {
                r#"{level="ERROR"}"# => l.contains(r#""level":"ERROR""#),
                _ => true,
            })
            .collect();
        if q == r#"{level="ERROR"}"# {
            assert_eq!(lines.iter().collect::<Vec<_>>(), want);
        }
    }

    // Newest first by default, the limit said in _stats; a time range on ts.
    let mut a = vec!["{}", "--limit", "3"];
    a.extend(DAY);
    let (lines, stats) = query_both(&gw, work.path(), &[], &a);
    let msgs: Vec<String> = lines.iter().map(|l| msg_of(l)).collect();
    assert_eq!(
        msgs,
        [
            "request 59 took 59 ms",
            "request 58 took 58 ms",
            "request 57 took 57 ms"
        ]
    );
    assert_eq!(stats["truncated"], true);
    let (lines, _) = query_both(
        &gw,
        work.path(),
        &[],
        &[
            "{}",
            "--from",
            "2026-03-01T10:00:10Z",
            "--to",
            "2026-03-01T10:00:20Z",
        ],
    );
    assert_eq!(lines.len(), 11);
    // Nothing in the last hour (the default window).
    let (lines, _) = query_both(&gw, work.path(), &[], &["{}", "--since", "1h"]);
    assert!(lines.is_empty());
}

#[test]
fn query_reports_bad_queries_with_2_and_failures_with_1() {
    let work = tempfile::tempdir().unwrap();
    let gw = Gateway::builder().process().workdir(work.path()).start();
    let sink = gw.sink_dir.to_str().unwrap().to_string();
    let url = gw.url("");
    for target in [["--dir", sink.as_str()], ["--url", url.as_str()]] {
        let mut a = vec![r#"{level="ERROR""#];
        a.extend(target);
        let out = tool("logops-query", work.path(), &[], &a);
        assert_eq!(out.status.code(), Some(2), "{target:?}");
        assert!(
            text(&out.stderr).contains("parse error at line 1, col 15: expected `}`"),
            "{target:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    // Nothing listens there / no such directory.
    for a in [
        ["{}", "--url", "http://127.0.0.1:1"],
        ["{}", "--dir", "/nonexistent/logops"],
    ] {
        let out = tool("logops-query", work.path(), &[], &a);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).starts_with("logops-query: "));
    }
}

#[test]
fn query_with_a_key_reads_its_tenant() {
    let work = tempfile::tempdir().unwrap();
    let keys = r#"
[[key]]
id = "acme-w"
secret = "acme-w-secret"
tenant = "acme"
[[key]]
id = "acme-r"
secret = "acme-r-secret"
tenant = "acme"
roles = ["read"]
"#;
    let gw = Gateway::builder()
        .process()
        .workdir(work.path())
        .keys(keys)
        .start();
    let r = gw.post(
        "/v1/logs",
        &[
            ("content-type", "application/x-ndjson"),
            ("authorization", "Bearer acme-w:acme-w-secret"),
        ],
        query_records().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let mut a = vec![r#"{level="ERROR"}"#, "--tenant", "acme", "--limit", "1000"];
    a.extend(DAY);
    let (lines, _) = query_both(
        &gw,
        work.path(),
        &["--api-key", "acme-r", "--secret", "acme-r-secret"],
        &a,
    );
    assert_eq!(lines.len(), 20);
    // Without the key: refused (401), an HTTP failure.
    let url = gw.url("");
    let out = tool("logops-query", work.path(), &[], &["{}", "--url", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
}

/// Starts `logops-query --tail` with `args`, ingests an ERROR and an INFO
/// line until the tail prints one (it may take a moment to start), and
/// returns the first line it printed.
fn tail_sees_new_line(gw: &Gateway, cwd: &Path, args: &[&str]) -> String {
    use std::io::BufRead;
    let mut child = Command::new(bin_path("logops-query"))
        .current_dir(cwd)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn logops-query");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut round = 0;
    let got = loop {
        std::thread::sleep(Duration::from_millis(300));
        let body = format!(
            "{}\n{}\n",
            json!({"level": "INFO", "msg": format!("quiet {round}")}),
            json!({"level": "ERROR", "msg": format!("late error {round}")})
        );
        assert_eq!(gw.ingest("application/x-ndjson", &body).status, 200);
        round += 1;
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(1500)) {
            break line;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("logops-query --tail exited: {status}");
        }
        assert!(Instant::now() < deadline, "the tail printed nothing");
    };
    let _ = child.kill();
    let _ = child.wait();
    got
}

#[test]
fn tail_picks_up_lines_stored_after_it_started() {
    let work = tempfile::tempdir().unwrap();
    let gw = Gateway::builder().process().workdir(work.path()).start();
    let url = gw.url("");
    let line = tail_sees_new_line(
        &gw,
        work.path(),
        &["--tail", r#"{level="ERROR"}"#, "--url", &url],
    );
    assert!(msg_of(&line).starts_with("late error "), "{line}");
    let sink = gw.sink_dir.to_str().unwrap().to_string();
    let line = tail_sees_new_line(
        &gw,
        work.path(),
        &["--tail", r#"{level="ERROR"}"#, "--dir", &sink],
    );
    assert!(msg_of(&line).starts_with("late error "), "{line}");
}
