//! The structured input formats of SPEC §1, §2.4 and §2.5 through the real
//! gateway: JSON object/array (and no Content-Type), NDJSON under its three media
//! types, CSV, and OTLP/HTTP JSON. `text/plain` lines are in `text_lines.rs`.
//! Each test checks what the response says and what landed on disk.

use logops_e2e::{assert_head, assert_levels, text_of, Gateway, Resp};
use serde_json::{json, Value};

/// Asserts a 200 with `accepted == n` and returns the response JSON.
fn accepted(r: &Resp, n: u64) -> Value {
    assert_eq!(r.status, 200, "expected 200, got {}: {}", r.status, r.text);
    let j = r.json();
    assert_eq!(j["accepted"], json!(n), "accepted in {j}");
    j
}

#[test]
fn json_object_is_one_compact_record_in_contract_order() {
    let gw = Gateway::start();
    let body =
        r#"{"ts":"2024-05-01T12:00:00Z","level":"info","msg":"hello","service":"api","n":3}"#;
    let j = accepted(&gw.ingest("application/json", body), 1);
    assert_eq!(j["missing_ts"], 0);
    assert_eq!(j["missing_level"], 0);
    assert_eq!(j["invalid_ts"], 0);
    assert_levels(&j, &[("INFO", 1)]);
    let expected = json!({"ts":"2024-05-01T12:00:00Z","level":"INFO","msg":"hello",
        "emitter":"unknown","scenario_id":"na","service":"api","n":3});
    // Compact, UTF-8, keys in order: compare the exact line.
    assert_eq!(gw.stored_lines(), vec![expected.to_string()]);
}

#[test]
fn json_array_gives_one_record_per_element_in_order() {
    let gw = Gateway::start();
    let body = json!([
        {"msg": "one", "level": "error"},
        {"msg": "two", "level": "warn"},
        {"msg": "three"}
    ]);
    let j = accepted(&gw.ingest("application/json", &body.to_string()), 3);
    assert_eq!(j["missing_level"], 1);
    assert_eq!(j["missing_ts"], 3);
    assert_levels(&j, &[("ERROR", 1), ("WARN", 1), ("INFO", 1)]);
    let recs = gw.stored_records();
    let msgs: Vec<&str> = recs.iter().map(|r| r["msg"].as_str().unwrap()).collect();
    assert_eq!(msgs, ["one", "two", "three"]);
    let levels: Vec<&str> = recs.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["ERROR", "WARN", "INFO"]);
}

#[test]
fn no_content_type_and_media_type_case_and_utf8_charset_mean_json() {
    let gw = Gateway::start();
    accepted(
        &gw.post("/v1/logs", &[], br#"{"msg":"no content type"}"#),
        1,
    );
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "Application/JSON; Charset=UTF-8")],
        br#"[{"msg":"mixed case"}]"#,
    );
    accepted(&r, 1);
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "application/json;charset=utf-8")],
        br#"{"msg":"lower"}"#,
    );
    accepted(&r, 1);
    let msgs: Vec<String> = gw
        .stored_records()
        .iter()
        .map(|r| text_of(&r["msg"]))
        .collect();
    assert_eq!(msgs, ["no content type", "mixed case", "lower"]);
}

#[test]
fn ndjson_under_each_media_type_skips_blank_lines() {
    let gw = Gateway::start();
    for ct in [
        "application/x-ndjson",
        "application/jsonl",
        "application/ndjson",
    ] {
        let body = format!(
            "{{\"msg\":\"{ct} a\",\"level\":\"debug\"}}\n\n   \n{{\"msg\":\"{ct} b\"}}\r\n{{\"msg\":\"{ct} c\"}}"
        );
        let j = accepted(&gw.ingest(ct, &body), 3);
        assert_levels(&j, &[("DEBUG", 1), ("INFO", 2)]);
    }
    let msgs: Vec<String> = gw
        .stored_records()
        .iter()
        .map(|r| text_of(&r["msg"]))
        .collect();
    assert_eq!(
        msgs,
        [
            "application/x-ndjson a",
            "application/x-ndjson b",
            "application/x-ndjson c",
            "application/jsonl a",
            "application/jsonl b",
            "application/jsonl c",
            "application/ndjson a",
            "application/ndjson b",
            "application/ndjson c",
        ]
    );
}

#[test]
fn csv_header_by_name_rfc4180_quoting_and_extra_columns() {
    let gw = Gateway::start();
    let body = " Timestamp ,SEVERITY,Message,service,note,_private\r\n\
        2024-05-01T12:00:00Z,warn,\"disk, almost \"\"full\"\"\",api,\"line1\nline2\",x\r\n\
        1700000000,,plain row,,,\r\n";
    let j = accepted(&gw.ingest("text/csv", body), 2);
    assert_eq!(j["missing_level"], 1);
    assert_eq!(j["missing_ts"], 0);
    let first = json!({"ts":"2024-05-01T12:00:00Z","level":"WARN","msg":"disk, almost \"full\"",
        "emitter":"unknown","scenario_id":"na","service":"api","note":"line1\nline2"});
    let second = json!({"ts":"2023-11-14T22:13:20Z","level":"INFO","msg":"plain row",
        "emitter":"unknown","scenario_id":"na"});
    assert_eq!(
        gw.stored_lines(),
        vec![first.to_string(), second.to_string()]
    );
}

#[test]
fn csv_cells_beyond_the_header_are_kept() {
    let gw = Gateway::start();
    let body = "msg,service\nragged row,api,surplus-cell\nshort row\n";
    accepted(&gw.ingest("text/csv", body), 2);
    let recs = gw.stored_records();
    assert_eq!(recs[0]["service"], "api");
    let values: Vec<String> = recs[0].as_object().unwrap().values().map(text_of).collect();
    assert!(
        values.iter().any(|v| v == "surplus-cell"),
        "extra cell lost: {}",
        recs[0]
    );
    assert_eq!(recs[1]["msg"], "short row");
    assert!(
        recs[1].get("service").is_none(),
        "missing cell is absent: {}",
        recs[1]
    );
}

#[test]
fn csv_other_alias_columns_and_header_only_body() {
    let gw = Gateway::start();
    let body = "time,LVL,log,region\n2024-05-01 12:00:00,Error,from log column,eu\n";
    accepted(&gw.ingest("text/csv", body), 1);
    let recs = gw.stored_records();
    assert_eq!(recs[0]["ts"], "2024-05-01T12:00:00Z");
    assert_eq!(recs[0]["level"], "ERROR");
    assert_eq!(recs[0]["msg"], "from log column");
    assert_eq!(recs[0]["region"], "eu");
    accepted(&gw.ingest("text/csv", "ts,level,msg\n"), 0);
    assert_eq!(gw.stored_lines().len(), 1);
}

fn otlp_body() -> Value {
    json!({"resourceLogs": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
         "scopeLogs": [
            {"scope": {"name": "lib"}, "logRecords": [
                {"timeUnixNano": "1700000000123456789", "severityNumber": 17, "severityText": "ERROR",
                 "body": {"stringValue": "payment failed"},
                 "attributes": [{"key": "order.state", "value": {"stringValue": "open"}},
                                {"key": "attempt", "value": {"intValue": "3"}}],
                 "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"},
                {"observedTimeUnixNano": "1700000001000000000", "severityText": "warn",
                 "body": {"kvlistValue": {"values": [{"key": "reason", "value": {"stringValue": "slowpoke"}}]}}}
            ]},
            {"scope": {"name": "other"}, "logRecords": [
                {"severityNumber": 5, "body": {"stringValue": "debug detail"}}
            ]}
        ]},
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "billing"}}]},
         "scopeLogs": [{"logRecords": [
            {"timeUnixNano": 1700000002000000000u64, "severityNumber": 9, "body": {"stringValue": "numeric time"}}
         ]}]}
    ]})
}

#[test]
fn otlp_http_json_log_records() {
    let gw = Gateway::start();
    let j = accepted(&gw.ingest("application/json", &otlp_body().to_string()), 4);
    assert_eq!(j["missing_ts"], 1);
    assert_eq!(j["missing_level"], 0);
    assert_levels(&j, &[("ERROR", 1), ("WARN", 1), ("DEBUG", 1), ("INFO", 1)]);
    let recs = gw.stored_records();
    let r = &recs[0];
    assert_head(r);
    assert_eq!(r["ts"], "2023-11-14T22:13:20.123456789Z");
    assert_eq!(r["level"], "ERROR");
    assert_eq!(r["msg"], "payment failed");
    assert_eq!(r["service.name"], "checkout");
    assert_eq!(r["order.state"], "open");
    assert_eq!(text_of(&r["attempt"]), "3");
    assert_eq!(r["trace_id"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(r["span_id"], "eee19b7ec3c1b174");
    let r = &recs[1];
    assert_eq!(
        r["ts"], "2023-11-14T22:13:21.000000000Z",
        "observedTimeUnixNano, ns digits kept"
    );
    assert_eq!(
        r["level"], "WARN",
        "severityText when there is no severityNumber"
    );
    let msg = text_of(&r["msg"]);
    assert!(
        msg.contains("reason") && msg.contains("slowpoke"),
        "non-string body as JSON: {msg}"
    );
    assert!(r.get("trace_id").is_none(), "no trace id given: {r}");
    let r = &recs[2];
    assert_eq!(
        (r["level"].as_str(), r["msg"].as_str()),
        (Some("DEBUG"), Some("debug detail"))
    );
    assert_eq!(r["service.name"], "checkout");
    let r = &recs[3];
    assert_eq!(r["ts"], "2023-11-14T22:13:22.000000000Z");
    assert_eq!(r["level"], "INFO");
    assert_eq!(r["service.name"], "billing");
}

#[test]
fn otlp_severity_number_ranges() {
    let gw = Gateway::start();
    let cases = [
        (1, "DEBUG"),
        (8, "DEBUG"),
        (9, "INFO"),
        (12, "INFO"),
        (13, "WARN"),
        (16, "WARN"),
        (17, "ERROR"),
        (24, "ERROR"),
    ];
    let records: Vec<Value> = cases
        .iter()
        .map(|(n, _)| json!({"severityNumber": n, "body": {"stringValue": format!("sev {n}")}}))
        .collect();
    let body = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]});
    accepted(
        &gw.ingest("application/json", &body.to_string()),
        cases.len() as u64,
    );
    let recs = gw.stored_records();
    for (r, (n, level)) in recs.iter().zip(cases) {
        assert_eq!(r["msg"], format!("sev {n}"));
        assert_eq!(r["level"], level, "severityNumber {n}");
    }
}
