//! Traffic for the live checks, and what the gateway writes from it: the
//! emitter binaries once they are built (else the same kind of batches posted
//! directly), the NDJSON compared with what the log agents extract, and the
//! compose healthcheck run against the real gateway.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use logops_e2e::Gateway;
use regex::Regex;
use serde_json::Value;

use super::{repo, stack};

/// A workspace binary if it is built (`target/<profile>/<name>`), else `None`.
fn built_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join(name);
    path.exists().then_some(path)
}

fn run_emitter(path: &PathBuf, args: &[&str]) {
    let out = Command::new(path).args(args).output().expect("run emitter");
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{}\n{}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends realistic traffic: JSON server records (some without ts or level),
/// syslog lines, and one malformed batch (a 400 `invalid_json`), spread over a
/// few seconds so rates have several scrapes to work with.
pub fn drive_traffic(gw: &Gateway) {
    let url = gw.url("/v1/logs");
    let emitters: Option<Vec<PathBuf>> = ["emit_json", "emit_syslog", "emit_minimal", "emit_noise"]
        .iter()
        .map(|n| built_binary(n))
        .collect();
    // EMITTERS: when the emitter binaries are built, the traffic comes from
    // them; until then the same shape of batches is posted directly below.
    if let Some([json, syslog, minimal, noise]) = emitters.as_deref() {
        run_emitter(
            json,
            &[
                "--url",
                &url,
                "--eps",
                "100",
                "--duration",
                "3s",
                "--batch-size",
                "20",
                "--seed",
                "7",
            ],
        );
        for e in [syslog, minimal, noise] {
            run_emitter(e, &["--url", &url, "-n", "40", "--seed", "7"]);
        }
    } else {
        eprintln!("emitter binaries not built yet: posting the traffic directly");
        let levels = ["info", "warn", "error", "debug"];
        for batch in 0..12 {
            let records: Vec<Value> = (0..20)
                .map(|i| {
                    let mut r = serde_json::json!({
                        "timestamp": format!("2026-11-22T10:{:02}:{:02}.{:03}Z", batch, i, i * 7),
                        "level": levels[i % levels.len()],
                        "message": format!("GET /api/items/{i} 200"),
                        "service": if i % 2 == 0 { "checkout" } else { "search" },
                        "env": "test", "host": "web-1", "request_id": format!("req-{batch}-{i}"),
                    });
                    if i % 5 == 0 {
                        r.as_object_mut().unwrap().remove("timestamp");
                    }
                    if i % 7 == 0 {
                        r.as_object_mut().unwrap().remove("level");
                    }
                    if i == 3 {
                        r["timestamp"] = Value::from("yesterday-ish");
                    }
                    r
                })
                .collect();
            let body = serde_json::to_vec(&records).unwrap();
            let r = gw.post(
                "/v1/logs",
                &[
                    ("content-type", "application/json"),
                    ("x-emitter", "emit_json"),
                ],
                &body,
            );
            assert_eq!(r.status, 200, "json batch: {}", r.text);
            std::thread::sleep(Duration::from_millis(250));
        }
        let lines = "<134>1 2026-11-22T10:00:00.123Z web-1 nginx 4242 - - GET /index.html 200\n\
                     <11>Nov 22 10:00:01 db-1 postgres[42]: connection to replica lost\n\
                     2026-11-22 10:00:02 WARN cache-1 redis[7]: memory at 91%\n";
        let r = gw.post(
            "/v1/logs",
            &[("content-type", "text/plain"), ("x-emitter", "emit_syslog")],
            lines.as_bytes(),
        );
        assert_eq!(r.status, 200, "syslog batch: {}", r.text);
        let r = gw.post(
            "/v1/logs",
            &[
                ("content-type", "application/x-ndjson"),
                ("x-emitter", "emit_minimal"),
            ],
            b"{\"msg\":\"no ts, no level\"}\n{\"message\":\"bare\"}\n",
        );
        assert_eq!(r.status, 200, "minimal batch: {}", r.text);
    }
    let r = gw.post(
        "/v1/logs",
        &[
            ("content-type", "application/json"),
            ("x-emitter", "emit_noise"),
        ],
        b"{not json",
    );
    assert_eq!(
        r.status, 400,
        "a malformed batch must be rejected: {}",
        r.text
    );
}

/// The NDJSON the gateway writes has every field the agents read, in the
/// form their stages expect (RFC 3339 `ts`, a normalized `level`, ...).
pub fn ndjson_matches_agents() {
    let pipeline = stack::agent_pipelines();
    let gw = Gateway::start();
    drive_traffic(&gw);
    check_compose_healthcheck(&gw);
    let records = gw.stored_records();
    assert!(!records.is_empty(), "the gateway stored nothing");
    // What Go's time.Parse(RFC3339Nano) accepts, as the gateway writes it (UTC, `Z`).
    let rfc3339 = Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$").expect("regex");
    for r in &records {
        let ts = r["ts"]
            .as_str()
            .unwrap_or_else(|| panic!("no string ts: {r}"));
        assert!(
            rfc3339.is_match(ts),
            "ts {ts:?} is not RFC 3339 as the agents parse it"
        );
        let level = r["level"].as_str().unwrap_or("");
        assert!(
            ["DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
            "level label {level:?}: {r}"
        );
        assert!(
            r["emitter"].as_str().is_some_and(|e| !e.is_empty()),
            "no emitter: {r}"
        );
        assert!(r["scenario_id"].is_string(), "no scenario_id: {r}");
        for key in ["app", "service"] {
            assert!(
                r.get(key).is_none_or(Value::is_string),
                "{key} must be a string label source: {r}"
            );
        }
    }
    for key in &pipeline.json_sources {
        assert!(
            records
                .iter()
                .any(|r| r.get(key.as_str()).is_some_and(Value::is_string)),
            "no stored record has the field {key} the agents extract"
        );
    }
}

/// Runs the compose file's gateway healthcheck (bash, /dev/tcp) against the
/// test gateway: it must pass.
fn check_compose_healthcheck(gw: &Gateway) {
    let compose = repo::yaml("docker-compose.yml");
    let test = compose
        .pointer("/services/gateway/healthcheck/test")
        .and_then(Value::as_array)
        .expect("healthcheck");
    let script = test
        .last()
        .and_then(Value::as_str)
        .expect("healthcheck script");
    let port = gw.addr.rsplit(':').next().expect("port");
    let script = script.replace("127.0.0.1/8080", &format!("127.0.0.1/{port}"));
    let status = Command::new("timeout")
        .args(["10", "bash", "-c", &script])
        .status()
        .expect("bash");
    assert!(
        status.success(),
        "the compose healthcheck fails against a healthy gateway: {script}"
    );
}
