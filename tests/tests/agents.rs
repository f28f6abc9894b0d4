//! Real senders, as they put requests on the wire (issue #18 items 5, 6, 9):
//! captured requests of Fluent Bit and Python logging replayed from
//! `tests/fixtures/agents/`, and the real clients that run here (`curl`,
//! Python's `logging.handlers.HTTPHandler` and `urllib`) against the real
//! `logops-gateway` binary.

use std::path::PathBuf;
use std::process::Command;

use logops_e2e::{need_program, Gateway};
use serde_json::Value;

/// One captured request of `tests/fixtures/agents/<name>.jsonl`.
struct Captured {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn fixtures(name: &str) -> Vec<Captured> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/agents")
        .join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("fixture line");
            let headers = v["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .filter(|(k, _)| {
                    !["host", "content-length", "connection"]
                        .contains(&k.to_ascii_lowercase().as_str())
                })
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
                .collect();
            Captured {
                path: v["path"].as_str().expect("path").to_string(),
                headers,
                body: b64(v["body_b64"].as_str().expect("body_b64")),
            }
        })
        .collect()
}

fn b64(s: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import base64,sys;sys.stdout.buffer.write(base64.b64decode(sys.argv[1]))",
            s,
        ])
        .output()
        .expect("python3");
    assert!(out.status.success());
    out.stdout
}

fn replay(gw: &Gateway, name: &str) -> usize {
    let reqs = fixtures(name);
    for r in &reqs {
        let headers: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let resp = gw.post(&r.path, &headers, &r.body);
        assert_eq!(resp.status, 200, "{name} {}: {}", r.path, resp.text);
        assert!(
            resp.text.ends_with('\n'),
            "answers end in a newline: {:?}",
            resp.text
        );
    }
    reqs.len()
}

#[test]
fn fluent_bit_http_output_defaults_post_to_root_and_keep_the_records_time() {
    let gw = Gateway::builder().process().start();
    assert!(replay(&gw, "fluentbit-http-defaults") > 0);
    let recs = gw.stored_records();
    assert_eq!(recs.len(), 20, "one stored record per dummy record");
    for r in &recs {
        // `time` (the record's) wins over Fluent Bit's `date` (its own epoch float).
        assert_eq!(r["ts"], "2026-12-01T07:00:00.123Z", "{r}");
        assert_eq!(r["level"], "WARN", "{r}");
        assert_eq!(
            r["msg"], "req 7 login for a***@example.com from 203.0.x.x",
            "{r}"
        );
        assert!(r["date"].is_f64(), "Fluent Bit's date stays a field: {r}");
    }
}

#[test]
fn fluent_bit_date_alone_is_the_timestamp() {
    let gw = Gateway::start();
    let r = gw.post(
        "/",
        &[("content-type", "application/json")],
        br#"[{"date":1796114204.262939,"log":"x"}]"#,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["missing_ts"], 0);
    assert_eq!(gw.stored_records()[0]["ts"], "2026-12-01T08:36:44.262939Z");
}

#[test]
fn syslog_ng_format_json_rfc5424_and_fluent_bit_syslog_pri() {
    let gw = Gateway::start();
    // syslog-ng `format-json --scope rfc5424`: upper-case names, yearless DATE.
    let body = r#"{"PRIORITY":"warning","MESSAGE":"disk 91% full","ISODATE":"2026-12-01T07:00:00+01:00","DATE":"Dec  1 07:00:00","HOST":"web-1","PROGRAM":"df"}
{"pri":"11","message":"boom","host":"web-2","time":"2026-12-01T07:00:01Z"}"#;
    let r = gw.ingest("application/x-ndjson", body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (
            r.json()["missing_ts"].as_u64(),
            r.json()["missing_level"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let recs = gw.stored_records();
    assert_eq!(recs[0]["ts"], "2026-12-01T06:00:00Z");
    assert_eq!(recs[0]["level"], "WARN");
    assert_eq!(recs[0]["msg"], "disk 91% full");
    assert_eq!(
        recs[0]["DATE"], "Dec  1 07:00:00",
        "the losing alias stays a field"
    );
    assert_eq!(recs[1]["level"], "ERROR", "PRI 11 = facility 1, severity 3");
}

#[test]
fn python_logging_httphandler_fixture_is_one_record_each_with_the_template_filled() {
    let gw = Gateway::start();
    let n = replay(&gw, "python-logging-httphandler");
    let recs = gw.stored_records();
    assert_eq!(recs.len(), n);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(
            r["msg"],
            format!("req {i} failed for a***@example.com"),
            "{r}"
        );
        assert_eq!(r["level"], "ERROR", "{r}");
        assert!(
            r["ts"].as_str().unwrap().starts_with("2026-12-01T"),
            "created is the ts: {r}"
        );
        assert_eq!(r["args"], format!("({i},)"));
    }
}

/// The real `logging.handlers.HTTPHandler`, which ignores errors: before the
/// fix every record was lost silently (415).
#[test]
fn python_logging_httphandler_live() {
    if !need_program("python3", "-V") {
        return;
    }
    let gw = Gateway::builder().process().start();
    let script = format!(
        "import logging, logging.handlers\n\
         h = logging.handlers.HTTPHandler('{addr}', '/v1/logs', method='POST')\n\
         log = logging.getLogger('app'); log.addHandler(h); log.setLevel(logging.INFO)\n\
         log.warning('user %s retried %d times', 'root@localhost', 3)\n\
         log.info('plain message')\n",
        addr = gw.addr
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = gw.stored_records();
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[0]["msg"], "user r***@localhost retried 3 times");
    assert_eq!(recs[0]["level"], "WARN");
    assert_eq!(recs[0]["name"], "app");
    assert_eq!(recs[1]["msg"], "plain message");
    assert_eq!(recs[1]["level"], "INFO");
}

/// `curl -d` sends JSON as a form; the Python gateway took it as JSON.
#[test]
fn curl_dash_d_is_json() {
    if !need_program("curl", "--version") {
        return;
    }
    let gw = Gateway::builder().process().start();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-d",
            r#"{"msg":"x","level":"error"}"#,
            &gw.url("/v1/logs"),
        ])
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        body.contains(r#""accepted":1"#) && body.ends_with('\n'),
        "{body}"
    );
    assert_eq!(gw.stored_records()[0]["level"], "ERROR");
}

/// Python's urllib writes the whole body before it reads the answer: an early
/// 413 must reach it, not a connection reset (issue #18.9). 20 tries at 1.1 MB
/// and at 3 MB against a 1 MB limit.
#[test]
fn early_413_reaches_a_client_that_writes_the_whole_body_first() {
    if !need_program("python3", "-V") {
        return;
    }
    let gw = Gateway::builder()
        .process()
        .env("LOGOPS_MAX_BODY_BYTES", "1000000")
        .start();
    let script = format!(
        "import urllib.request, urllib.error\n\
         codes = []\n\
         for size in [1_100_000] * 20 + [3_000_000] * 20:\n\
         \x20   req = urllib.request.Request('{url}', data=b'x' * size, headers={{'Content-Type': 'application/json'}})\n\
         \x20   try:\n\
         \x20       urllib.request.urlopen(req, timeout=30); codes.append('200')\n\
         \x20   except urllib.error.HTTPError as e:\n\
         \x20       codes.append(str(e.code))\n\
         \x20   except Exception as e:\n\
         \x20       codes.append(type(e).__name__)\n\
         print(' '.join(codes))\n",
        url = gw.url("/v1/logs")
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes = String::from_utf8_lossy(&out.stdout);
    let codes: Vec<&str> = codes.split_whitespace().collect();
    assert_eq!(codes.len(), 40);
    assert!(
        codes.iter().all(|c| *c == "413"),
        "every try must see the 413: {codes:?}"
    );
    assert!(gw.stored_lines().is_empty());
}
