//! Agents ship to LogOps unchanged (SPEC §11.1–4, issue #13): the real client
//! libraries (OpenTelemetry Python SDK with the proto-http exporter,
//! `python-logging-loki`, the `elasticsearch` client's bulk helper, the HEC
//! request shape) and the captured requests of Fluent Bit and the SDK, against
//! the real binary; answers in each protocol's own shape.

use std::path::PathBuf;
use std::process::Command;

use logops_e2e::{need_component, stored_lines, Gateway, Resp};
use serde_json::Value;

fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    need_component(
        &format!("python3 module {module} (scripts/test installs it)"),
        ok,
    )
}

fn python(script: &str, args: &[&str]) -> String {
    logops_e2e::stdout_of(Command::new("python3").arg("-c").arg(script).args(args))
        .trim()
        .to_string()
}

fn records(gw: &Gateway) -> Vec<Value> {
    stored_lines(&gw.sink_dir)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Replays `tests/fixtures/agents/<name>.jsonl`; returns the answers.
fn replay(gw: &Gateway, name: &str) -> Vec<Resp> {
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/agents/{name}.jsonl"));
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let headers: Vec<(String, String)> = v["headers"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| {
                    !["host", "content-length", "connection"]
                        .contains(&k.to_ascii_lowercase().as_str())
                })
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
                .collect();
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            use base64::Engine as _;
            let body = base64::engine::general_purpose::STANDARD
                .decode(v["body_b64"].as_str().unwrap())
                .unwrap();
            gw.post(v["path"].as_str().unwrap(), &h, &body)
        })
        .collect()
}

#[test]
fn opentelemetry_python_sdk_proto_http_exporter() {
    if !python_has("opentelemetry.exporter.otlp.proto.http") {
        return;
    }
    let gw = Gateway::builder().process().start();
    let script = r#"
import logging, sys
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk.resources import Resource
provider = LoggerProvider(resource=Resource.create({"service.name": "checkout"}))
provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=sys.argv[1])))
log = logging.getLogger("app"); log.setLevel(logging.INFO); log.addHandler(LoggingHandler(logger_provider=provider))
for i in range(100):
    log.warning("order %d placed by alice@example.com", i, extra={"order_id": i})
provider.force_flush(); provider.shutdown()
"#;
    python(script, &[&gw.url("/v1/logs")]);
    let recs = records(&gw);
    assert_eq!(recs.len(), 100, "{}", gw.stderr());
    let r = &recs[7];
    assert_eq!(r["level"], "WARN", "{r}");
    assert_eq!(r["msg"], "order 7 placed by a***@example.com", "{r}");
    assert_eq!(r["service"], "checkout", "{r}");
    assert_eq!(r["order_id"], 7, "{r}");
    assert_eq!(r["emitter"], "otlp", "{r}");
    assert!(r["ts"]
        .as_str()
        .unwrap()
        .starts_with(&time::OffsetDateTime::now_utc().year().to_string()));
}

#[test]
fn otlp_protobuf_fixtures_and_protobuf_answers() {
    let gw = Gateway::start();
    for name in ["python-otel-sdk-proto", "fluentbit-opentelemetry"] {
        for r in replay(&gw, name) {
            assert_eq!(r.status, 200, "{name}: {}", r.text);
            assert_eq!(
                r.header("content-type"),
                Some("application/x-protobuf"),
                "{name}"
            );
        }
    }
    let recs = records(&gw);
    // The SDK sends severity 13 (WARN) and service.name; Fluent Bit's
    // `opentelemetry` output with its defaults sends only time and message.
    assert!(
        recs.iter()
            .filter(|r| r["service"] == "auth")
            .all(|r| r["level"] == "WARN"),
        "{recs:?}"
    );
    assert!(
        recs.iter().all(|r| r["msg"]
            .as_str()
            .is_some_and(|m| m.contains("login for a***@example.com"))),
        "{recs:?}"
    );
    let bad = gw.post(
        "/v1/logs",
        &[("content-type", "application/x-protobuf")],
        b"\x0a\xff\xff\xff\xff\x0f",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.header("content-type"),
        Some("application/x-protobuf"),
        "a google.rpc.Status"
    );
}

#[test]
fn python_logging_loki_and_fluent_bit_loki_push() {
    let gw = Gateway::start();
    for r in replay(&gw, "fluentbit-loki")
        .iter()
        .chain(replay(&gw, "python-logging-loki").iter())
    {
        assert_eq!(r.status, 204, "{}", r.text);
    }
    let fixtures = records(&gw).len();
    assert!(fixtures > 0);
    if python_has("logging_loki") {
        let script = r#"
import logging, sys, logging_loki
h = logging_loki.LokiHandler(url=sys.argv[1], tags={"app": "billing"}, version="1")
log = logging.getLogger("loki"); log.setLevel(logging.INFO); log.addHandler(h)
for i in range(100):
    log.error("payment %d failed", i, extra={"tags": {"region": "eu"}})
"#;
        python(script, &[&gw.url("/loki/api/v1/push")]);
        let recs = records(&gw);
        assert_eq!(recs.len(), fixtures + 100);
        let r = recs.last().unwrap();
        assert_eq!(r["msg"], "payment 99 failed", "{r}");
        assert_eq!(r["app"], "billing", "stream labels become fields: {r}");
        assert_eq!(r["region"], "eu", "{r}");
        assert_eq!(r["level"], "ERROR", "{r}");
        assert_eq!(r["emitter"], "loki", "{r}");
    }
    let bad = gw.post(
        "/loki/api/v1/push",
        &[("content-type", "application/json")],
        b"{\"streams\":",
    );
    assert_eq!(bad.status, 400, "{}", bad.text);
}

#[test]
fn elasticsearch_python_client_bulk_helper_and_per_item_errors() {
    let gw = Gateway::start();
    for r in replay(&gw, "fluentbit-es") {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["errors"], false, "{}", r.text);
    }
    let fixtures = records(&gw).len();
    assert!(fixtures > 0);
    let probe = gw.get("/");
    assert_eq!(probe.status, 200);
    assert_eq!(probe.header("x-elastic-product"), Some("Elasticsearch"));
    assert!(probe.json()["version"]["number"].is_string());
    if python_has("elasticsearch") {
        let script = r#"
import sys
from elasticsearch import Elasticsearch, helpers
es = Elasticsearch(sys.argv[1])
print(es.info()["version"]["number"])
docs = ({"_index": "app-logs", "_source": {"@timestamp": "2026-12-01T07:00:00.%03dZ" % i,
         "message": "checkout %d for bob@example.org" % i, "log": {"level": "error"}, "n": i}} for i in range(100))
ok, errors = helpers.bulk(es, docs)
print(ok, len(errors))
"#;
        let out = python(script, &[&gw.url("")]);
        assert!(out.ends_with("100 0"), "{out}");
        let recs = records(&gw);
        assert_eq!(recs.len(), fixtures + 100);
        let r = recs.last().unwrap();
        assert_eq!(r["ts"], "2026-12-01T07:00:00.099Z", "{r}");
        assert_eq!(r["msg"], "checkout 99 for b***@example.org", "{r}");
        assert_eq!(r["level"], "ERROR", "{r}");
        assert_eq!(r["index"], "app-logs", "{r}");
        assert_eq!(r["emitter"], "elasticsearch", "{r}");
    }
    // A bad item is a per-item error; the rest is stored.
    let body = "{\"create\":{}}\n{\"message\":\"good\"}\n{\"index\":{}}\n[1,2]\n{\"create\":{\"_index\":\"x\"}}\n{\"message\":\"also good\"}\n";
    let before = records(&gw).len();
    let r = gw.post(
        "/urlindex/_bulk",
        &[("content-type", "application/x-ndjson")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["errors"], true, "{j}");
    let statuses: Vec<u64> = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.as_object().unwrap().values().next().unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, [201, 400, 201], "{j}");
    let recs = records(&gw);
    assert_eq!(recs.len(), before + 2);
    assert_eq!(
        recs[before]["index"], "urlindex",
        "the URL's index for actions without one"
    );
    assert_eq!(recs[before + 1]["index"], "x");
    let garbage = gw.post(
        "/_bulk",
        &[("content-type", "application/x-ndjson")],
        b"not json\n",
    );
    assert_eq!(garbage.status, 400);
    assert!(
        garbage.json()["error"]["type"].is_string(),
        "{}",
        garbage.text
    );
    assert_eq!(gw.get("/_license").status, 200);
    assert_eq!(gw.post("/_index_template/logs", &[], b"{}").status, 200);
}

#[test]
fn splunk_hec_event_raw_health_and_error_codes() {
    let gw = Gateway::start();
    for r in replay(&gw, "fluentbit-splunk") {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json(), serde_json::json!({"text": "Success", "code": 0}));
    }
    let fixtures = records(&gw);
    assert!(!fixtures.is_empty());
    assert_eq!(
        fixtures[0]["msg"], "req 7 login for a***@example.com from 203.0.x.x",
        "{}",
        fixtures[0]
    );
    let events: String = (0..100)
        .map(|i| format!(r#"{{"time":1796108400.{i:03},"host":"web-1","sourcetype":"app","event":{{"message":"hec {i}","severity":"warning"}},"fields":{{"env":"prod"}}}}"#))
        .collect();
    let auth = [("authorization", "Splunk any-token")];
    let r = gw.post("/services/collector/event", &auth, events.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text);
    let recs = records(&gw);
    let r = &recs[fixtures.len() + 99];
    assert_eq!(
        (
            r["msg"].as_str(),
            r["level"].as_str(),
            r["env"].as_str(),
            r["host"].as_str()
        ),
        (Some("hec 99"), Some("WARN"), Some("prod"), Some("web-1")),
        "{r}"
    );
    assert_eq!(r["ts"], "2026-12-01T07:00:00.099Z", "{r}");
    let raw = gw.post(
        "/services/collector/raw",
        &auth,
        b"first raw line\nsecond raw line\n",
    );
    assert_eq!(raw.status, 200, "{}", raw.text);
    assert_eq!(records(&gw).len(), fixtures.len() + 102);
    assert_eq!(gw.get("/services/collector/health").json()["code"], 17);
    let bad = gw.post("/services/collector/event", &auth, br#"{"time":1,"event":"#);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], 6, "{}", bad.text);
    let no_event = gw.post("/services/collector/event", &auth, br#"{"time":1}"#);
    assert_eq!(no_event.status, 400, "{}", no_event.text);
}
