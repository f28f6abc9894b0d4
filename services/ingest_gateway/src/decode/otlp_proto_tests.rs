//! Tests of the OTLP protobuf decoder: captured agent requests, equality with
//! the OTLP/JSON decoder, hostile bodies, limits and the response encoding.

use base64::Engine as _;
use prost::Message as _;
use serde_json::{json, Value};

use super::super::otlp_pb::{
    any_value::Value as V, AnyValue, ArrayValue, ExportLogsServiceRequest, KeyValue, KeyValueList,
    LogRecord, Resource, ResourceLogs, ScopeLogs,
};
use super::*;

fn fixture_bodies(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let req: Value = serde_json::from_str(l).unwrap();
            assert_eq!(req["path"], "/v1/logs");
            let b64 = req["body_b64"].as_str().unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        })
        .collect()
}

const EVENT_MSG: &str = "req 7 login for alice@example.com from 203.0.113.7";

#[test]
fn python_otel_sdk_fixture() {
    let bodies = fixture_bodies(include_str!(
        "../../../../tests/fixtures/agents/python-otel-sdk-proto.jsonl"
    ));
    let recs: Vec<Record> = bodies
        .iter()
        .flat_map(|b| decode(b, 100).unwrap())
        .collect();
    assert_eq!(recs.len(), 10);
    for (i, r) in recs.iter().enumerate() {
        // The logging bridge: severity_number 13 + text "WARN", the formatted
        // message as a string body, `extra` as attributes, the resource on each.
        assert_eq!(r["level"], "WARN");
        assert_eq!(
            r["msg"],
            format!("req {i} login for alice@example.com from 203.0.113.{i}")
        );
        assert_eq!(r["order_id"], json!(i));
        assert_eq!(r["service"], "auth");
        assert_eq!(r["service.name"], "auth");
        assert_eq!(r["telemetry.sdk.language"], "python");
        assert_eq!(r["code.function.name"], "<module>");
        let ts = r["ts"].as_str().unwrap();
        assert_eq!(ts.len(), 19, "{ts}");
        assert!(ts.starts_with("1796"), "{ts}"); // 2026-12-01
        assert!(r.get("trace_id").is_none());
    }
    // time_unix_nano (Python's record.created), not observed_time_unix_nano.
    assert_eq!(recs[0]["ts"], "1796114262341502720"); // 2026-12-01T08:37:42.341502720Z
}

#[test]
fn fluent_bit_opentelemetry_fixture() {
    let bodies = fixture_bodies(include_str!(
        "../../../../tests/fixtures/agents/fluentbit-opentelemetry.jsonl"
    ));
    let recs: Vec<Record> = bodies
        .iter()
        .flat_map(|b| decode(b, 100).unwrap())
        .collect();
    assert_eq!(recs.len(), 20);
    for r in &recs {
        // Fluent Bit's defaults send only the `message` key as the body and its
        // read time: level and service stay behind unless its config maps them.
        assert_eq!(r["msg"], EVENT_MSG);
        assert!(r["ts"].as_str().unwrap().starts_with("1796"));
        assert_eq!(r.len(), 2, "{:?}", r.to_value());
    }
}

fn kv(key: &str, value: V) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

#[test]
fn same_records_as_otlp_json() {
    let lr1 = LogRecord {
        time_unix_nano: 1_700_000_000_000_000_000,
        severity_number: 17,
        severity_text: "oops".into(),
        body: Some(AnyValue {
            value: Some(V::String("boom".into())),
        }),
        attributes: vec![
            kv("n", V::Int(-42)),
            kv("f", V::Double(1.5)),
            kv("nan", V::Double(f64::NAN)),
            kv("ok", V::Bool(true)),
            kv("raw", V::Bytes(vec![0, 1, 254])),
            kv("host", V::String("override".into())),
            KeyValue {
                key: "novalue".into(),
                value: None,
            },
            kv(
                "list",
                V::Array(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(V::Int(1)),
                        },
                        AnyValue {
                            value: Some(V::String("two".into())),
                        },
                    ],
                }),
            ),
        ],
        trace_id: vec![0xab, 0x01],
        span_id: vec![],
        ..Default::default()
    };
    let lr2 = LogRecord {
        observed_time_unix_nano: 1_700_000_000_000_000_001,
        severity_number: 99,
        severity_text: "warn".into(),
        body: Some(AnyValue {
            value: Some(V::Kvlist(KeyValueList {
                values: vec![
                    kv("a", V::Bool(false)),
                    kv("stringValue", V::String("s".into())),
                ],
            })),
        }),
        span_id: vec![0xff; 8],
        ..Default::default()
    };
    let lr3 = LogRecord {
        body: Some(AnyValue {
            value: Some(V::Bytes(b"hi".to_vec())),
        }),
        ..Default::default()
    };
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", V::String("api".into())),
                    kv("host", V::String("h1".into())),
                ],
            }),
            scope_logs: vec![
                ScopeLogs {
                    log_records: vec![lr1, lr2],
                },
                ScopeLogs {
                    log_records: vec![lr3],
                },
            ],
        }],
    };
    let otlp_json = json!({"resourceLogs":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"api"}},
        {"key":"host","value":{"stringValue":"h1"}}]},
      "scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"oops",
         "body":{"stringValue":"boom"},
         "attributes":[{"key":"n","value":{"intValue":"-42"}},{"key":"f","value":{"doubleValue":1.5}},
           {"key":"nan","value":{"doubleValue":"NaN"}},{"key":"ok","value":{"boolValue":true}},
           {"key":"raw","value":{"bytesValue":"AAH+"}},{"key":"host","value":{"stringValue":"override"}},
           {"key":"novalue"},
           {"key":"list","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"two"}]}}}],
         "traceId":"ab01","spanId":""},
        {"observedTimeUnixNano":"1700000000000000001","severityNumber":99,"severityText":"warn",
         "body":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":false}},
           {"key":"stringValue","value":{"stringValue":"s"}}]}},
         "spanId":"ffffffffffffffff"}]},
       {"logRecords":[{"body":{"bytesValue":"aGk="}}]}]}]});
    let Value::Object(root) = otlp_json else {
        unreachable!()
    };
    let from_json = super::super::otlp::decode(root, 10).unwrap();
    let from_proto = decode(&req.encode_to_vec(), 10).unwrap();
    let as_values = |v: &[Record]| v.iter().map(Record::to_value).collect::<Vec<_>>();
    assert_eq!(as_values(&from_proto), as_values(&from_json));
    assert_eq!(
        from_proto[0].to_value(),
        json!({"ts":"1700000000000000000","level":"ERROR","msg":"boom","service.name":"api",
            "host":"override","service":"api","n":-42,"f":1.5,"nan":"NaN","ok":true,"raw":"AAH+",
            "list":[1,"two"],"trace_id":"ab01"})
    );
    assert_eq!(from_proto[1]["level"], "warn");
    assert_eq!(from_proto[1]["msg"], r#"{"a":false,"stringValue":"s"}"#);
    assert_eq!(from_proto[2]["msg"], "aGk=");
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn len_field(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(tag << 3) | 2];
    varint(payload.len(), &mut out);
    out.extend_from_slice(payload);
    out
}

/// A request with one log record whose body is `levels` kvlists deep, built
/// by hand (a deep struct would itself be a recursion hazard in the test).
fn nested_body_request(levels: usize) -> Vec<u8> {
    let mut any = len_field(1, b"x"); // AnyValue { string_value: "x" }
    for _ in 0..levels {
        let mut kv = len_field(1, b"k");
        kv.extend(len_field(2, &any)); // KeyValue { key, value }
        let kvlist = len_field(1, &kv); // KeyValueList { values }
        any = len_field(6, &kvlist); // AnyValue { kvlist_value }
    }
    let log_record = len_field(5, &any);
    len_field(1, &len_field(2, &len_field(2, &log_record)))
}

#[test]
fn nesting_is_bounded() {
    let ok = decode(&nested_body_request(20), 10).unwrap();
    assert!(ok[0]["msg"].as_str().unwrap().starts_with(r#"{"k":{"k":"#));
    for levels in [40, MAX_ANY_DEPTH, 100_000] {
        let e = decode(&nested_body_request(levels), 10).unwrap_err();
        assert_eq!(e.code(), "invalid_json", "{levels}");
        assert!(e.to_string().contains("OTLP protobuf"), "{e}");
    }
}

#[test]
fn hostile_bodies_are_errors_not_panics() {
    let body = &fixture_bodies(include_str!(
        "../../../../tests/fixtures/agents/python-otel-sdk-proto.jsonl"
    ))[0];
    // The body is one length-delimited ResourceLogs: every cut leaves it short.
    for cut in 1..body.len() {
        let e = decode(&body[..cut], 100).unwrap_err();
        assert!(
            matches!(e, DecodeError::InvalidJson { line: None, .. }),
            "{cut}"
        );
    }
    for bad in [
        &[0x08, 0x01][..],                                 // resource_logs as a varint
        &[0x0a, 0x02, 0x10, 0x01],                         // scope_logs as a varint
        &[0x0a, 0x04, 0x12, 0x02, 0x10, 0x01],             // log_records as a varint
        &[0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01], // time_unix_nano as a varint
        &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],             // a 4 GiB declared length
        &[0x0a, 0x07, 0x12, 0x05, 0x12, 0x03, 0x1a, 0x01, 0xff], // severity_text not UTF-8
        &[0xff],
    ] {
        let e = decode(bad, 100).unwrap_err();
        let DecodeError::InvalidJson { line: None, detail } = e else {
            panic!("{bad:?}: {e:?}")
        };
        assert!(detail.starts_with("OTLP protobuf: "), "{detail}");
    }
    // Unknown fields are skipped; an empty request has no records.
    assert!(decode(&[], 10).unwrap().is_empty());
    assert!(decode(&[0x10, 0x05, 0x1a, 0x00], 10).unwrap().is_empty());
}

#[test]
fn record_limit() {
    let body = &fixture_bodies(include_str!(
        "../../../../tests/fixtures/agents/python-otel-sdk-proto.jsonl"
    ))[0];
    assert_eq!(decode(body, 10).unwrap().len(), 10);
    assert_eq!(
        decode(body, 9).unwrap_err(),
        DecodeError::TooManyRecords { limit: 9 }
    );
    // A body of a million empty log records stops at the limit.
    let many: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], 1_000_000)
        .flatten()
        .collect();
    let body = len_field(1, &len_field(2, &many));
    assert_eq!(
        decode(&body, 5).unwrap_err(),
        DecodeError::TooManyRecords { limit: 5 }
    );
}

#[test]
fn export_response_roundtrip() {
    assert!(export_response(0, "").is_empty());
    assert_eq!(
        decode_response(&export_response(0, "")),
        Some((0, String::new()))
    );
    let resp = export_response(3, "3 records refused");
    assert_eq!(
        decode_response(&resp),
        Some((3, "3 records refused".into()))
    );
    assert_eq!(
        decode_response(&export_response(0, "warn")),
        Some((0, "warn".into()))
    );
    assert_eq!(decode_response(&[0x0a, 0x05]), None);
}
