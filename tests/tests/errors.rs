//! Every client error of SPEC §1, each checked for status, `error` code, the extra
//! fields (`line`, `limit`, `invalid_indices`, `count`) and — on disk — that
//! nothing of the refused batch was written. Also the `/ingest` alias and the
//! empty batch.

use logops_e2e::{post_request, raw_request, to_ndjson, Gateway, Resp};
use serde_json::{json, Value};

/// Starts a gateway and stores one marker record, so "nothing written" is
/// checked against a sink that demonstrably works.
fn primed(builder: logops_e2e::GatewayBuilder) -> Gateway {
    let gw = builder.start();
    let r = gw.ingest("application/json", r#"{"msg":"marker"}"#);
    assert_eq!(r.status, 200, "{}", r.text);
    gw
}

/// Asserts status and error code, a non-empty `detail`, and that the sink still
/// holds only the marker. Returns the error body.
fn refused(gw: &Gateway, r: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(
        r.status, status,
        "expected {status} {code}, got {}: {}",
        r.status, r.text
    );
    let j = r.json();
    assert_eq!(j["error"], code, "{j}");
    assert!(
        j["detail"].as_str().is_some_and(|d| !d.trim().is_empty()),
        "detail: {j}"
    );
    let lines = gw.stored_lines();
    assert_eq!(
        lines.len(),
        1,
        "nothing of a refused batch may be written: {lines:?}"
    );
    assert!(lines[0].contains("marker"));
    j
}

#[test]
fn invalid_json_body() {
    let gw = primed(Gateway::builder());
    for body in [
        r#"{"msg":"#,
        r#"[{"msg":"a"}, {"msg": }]"#,
        "{\"msg\":\"a\"} trailing",
        "",
    ] {
        let r = gw.ingest("application/json", body);
        refused(&gw, &r, 400, "invalid_json");
    }
}

#[test]
fn invalid_ndjson_line_is_numbered_and_nothing_is_written() {
    let gw = primed(Gateway::builder());
    let body = "{\"msg\":\"a\"}\n{\"msg\":\"b\"}\n{\"msg\": nope}\n{\"msg\":\"d\"}\n";
    let j = refused(
        &gw,
        &gw.ingest("application/x-ndjson", body),
        400,
        "invalid_json",
    );
    assert_eq!(j["line"], 3, "{j}");
}

#[test]
fn invalid_utf8_json_and_ndjson() {
    let gw = primed(Gateway::builder());
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "application/json")],
        b"{\"msg\":\"caf\xe9\"}",
    );
    refused(&gw, &r, 400, "invalid_utf8");
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "application/x-ndjson")],
        b"{\"msg\":\"ok\"}\n{\"msg\":\"\xff\xfe\"}\n",
    );
    refused(&gw, &r, 400, "invalid_utf8");
}

#[test]
fn scalar_json_root_is_not_object_or_array() {
    let gw = primed(Gateway::builder());
    for body in ["42", "\"a string\"", "true", "null"] {
        refused(
            &gw,
            &gw.ingest("application/json", body),
            400,
            "not_object_or_array",
        );
    }
}

#[test]
fn invalid_records_lists_indices_and_count() {
    let gw = primed(Gateway::builder());
    let body = json!([{"a": 1}, 2, "x", {"b": 2}, null, [1]]);
    let j = refused(
        &gw,
        &gw.ingest("application/json", &body.to_string()),
        422,
        "invalid_records",
    );
    assert_eq!(j["invalid_indices"], json!([1, 2, 4, 5]));
    assert_eq!(j["count"], 4);
    // Only the first 50 indices are listed; the count is complete.
    let mut many: Vec<Value> = (0..120).map(Value::from).collect();
    many.insert(0, json!({"ok": true}));
    let j = refused(
        &gw,
        &gw.ingest("application/json", &Value::from(many).to_string()),
        422,
        "invalid_records",
    );
    assert_eq!(
        j["invalid_indices"],
        Value::from((1..=50).collect::<Vec<u64>>())
    );
    assert_eq!(j["count"], 120);
}

#[test]
fn invalid_csv_without_a_header_row() {
    let gw = primed(Gateway::builder());
    for body in ["", "\n\n", "  \r\n"] {
        refused(&gw, &gw.ingest("text/csv", body), 400, "invalid_csv");
    }
}

#[test]
fn body_over_the_limit_is_413() {
    let gw = primed(Gateway::builder().env("LOGOPS_MAX_BODY_BYTES", "1024"));
    let records: Vec<Value> = (0..40)
        .map(|i| json!({"msg": format!("record number {i} padding")}))
        .collect();
    let body = Value::from(records).to_string();
    assert!(body.len() > 1024);
    let req = post_request(
        "/v1/logs",
        &["Content-Type: application/json"],
        body.as_bytes(),
    );
    let j = refused(&gw, &raw_request(&gw.addr, &req), 413, "body_too_large");
    assert_eq!(j["limit"], 1024, "{j}");
    // Exactly at the limit is fine.
    let msg = "x".repeat(1024 - r#"{"msg":""}"#.len());
    let at_limit = format!(r#"{{"msg":"{msg}"}}"#);
    assert_eq!(at_limit.len(), 1024);
    assert_eq!(gw.ingest("application/json", &at_limit).status, 200);
}

#[test]
fn declared_content_length_over_the_limit_is_refused_before_the_body() {
    let gw = primed(Gateway::builder().env("LOGOPS_MAX_BODY_BYTES", "1024"));
    // Only the head is sent: the answer must come without the promised body.
    let head = "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
        Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n";
    let j = refused(
        &gw,
        &raw_request(&gw.addr, head.as_bytes()),
        413,
        "body_too_large",
    );
    assert_eq!(j["limit"], 1024);
}

#[test]
fn chunked_body_over_the_limit_is_413() {
    let gw = primed(Gateway::builder().env("LOGOPS_MAX_BODY_BYTES", "1024"));
    let line = "{\"msg\":\"0123456789012345678901234567890123456789\"}\n";
    let mut req = "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
        Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_string();
    for _ in 0..40 {
        req.push_str(&format!("{:x}\r\n{line}\r\n", line.len()));
    }
    req.push_str("0\r\n\r\n");
    refused(
        &gw,
        &raw_request(&gw.addr, req.as_bytes()),
        413,
        "body_too_large",
    );
}

#[test]
fn too_many_records_per_format() {
    let gw = primed(Gateway::builder().env("LOGOPS_MAX_RECORDS", "3"));
    let four: Vec<Value> = (0..4).map(|i| json!({"msg": format!("m{i}")})).collect();
    let cases = [
        ("application/json", Value::from(four.clone()).to_string()),
        ("application/x-ndjson", to_ndjson(&four)),
        ("text/plain", "a\nb\nc\nd\n".to_string()),
        ("text/csv", "msg\na\nb\nc\nd\n".to_string()),
    ];
    for (ct, body) in &cases {
        let j = refused(&gw, &gw.ingest(ct, body), 413, "too_many_records");
        assert_eq!(j["limit"], 3, "{ct}: {j}");
    }
    let three = Value::from(four[..3].to_vec()).to_string();
    let r = gw.ingest("application/json", &three);
    assert_eq!(
        (r.status, r.json()["accepted"].as_u64()),
        (200, Some(3)),
        "{}",
        r.text
    );
}

#[test]
fn unsupported_media_type_and_charset() {
    let gw = primed(Gateway::builder());
    for ct in [
        "application/xml",
        "text/html",
        "multipart/form-data; boundary=x",
    ] {
        let j = refused(
            &gw,
            &gw.ingest(ct, r#"{"msg":"x"}"#),
            415,
            "unsupported_media_type",
        );
        let detail = j["detail"].as_str().unwrap();
        for supported in [
            "application/json",
            "application/x-ndjson",
            "text/plain",
            "text/csv",
            "application/x-www-form-urlencoded",
        ] {
            assert!(
                detail.contains(supported),
                "415 detail lists {supported}: {detail}"
            );
        }
    }
    for ct in [
        "application/json; charset=iso-8859-1",
        "text/csv; charset=latin1",
        "text/plain; charset=utf-16",
    ] {
        refused(
            &gw,
            &gw.ingest(ct, r#"{"msg":"x"}"#),
            415,
            "unsupported_media_type",
        );
    }
}

#[test]
fn unsupported_content_encoding() {
    let gw = primed(Gateway::builder());
    for enc in ["br", "deflate", "compress", "x-custom"] {
        let r = gw.post(
            "/v1/logs",
            &[
                ("content-type", "application/json"),
                ("content-encoding", enc),
            ],
            b"{\"msg\":\"x\"}",
        );
        let j = refused(&gw, &r, 415, "unsupported_encoding");
        let detail = j["detail"].as_str().unwrap();
        assert!(
            detail.contains("gzip") && detail.contains("zstd"),
            "{enc}: detail lists supported: {detail}"
        );
    }
    let r = gw.post(
        "/v1/logs",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "identity"),
        ],
        b"{\"msg\":\"x\"}",
    );
    assert_eq!(r.status, 200, "identity is accepted: {}", r.text);
}

#[test]
fn ingest_alias_behaves_like_v1_logs() {
    let gw = Gateway::start();
    let r = gw.post(
        "/ingest",
        &[("content-type", "application/json"), ("x-emitter", "alias")],
        br#"[{"msg":"a"},{"msg":"b"}]"#,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["accepted"], 2);
    assert_eq!(r.json()["emitter"], "alias");
    let r = gw.post("/ingest", &[("content-type", "application/json")], b"17");
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("not_object_or_array"))
    );
    let recs = gw.stored_records();
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r["emitter"] == "alias"));
}

#[test]
fn empty_array_is_an_accepted_empty_batch() {
    let gw = primed(Gateway::builder());
    let r = gw.ingest("application/json", "[]");
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["accepted"], 0);
    assert_eq!(
        (
            j["missing_ts"].as_u64(),
            j["missing_level"].as_u64(),
            j["invalid_ts"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(gw.stored_lines().len(), 1, "an empty batch writes nothing");
}
