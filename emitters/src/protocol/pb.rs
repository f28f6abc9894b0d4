//! The protobuf bodies: OTLP `ExportLogsServiceRequest` and Loki's
//! snappy-compressed `PushRequest`, and OTLP's `ExportLogsServiceResponse`.
//!
//! The emitters crate is deliberately independent of the gateway crate (it
//! load-tests the gateway from outside), so it carries its own small `prost`
//! messages — only the fields it writes or reads — rather than the gateway's.
//! Field numbers: opentelemetry-proto `logs/v1/logs.proto`, `common/v1/common.proto`,
//! `collector/logs/v1/logs_service.proto`; grafana/loki `pkg/push/push.proto`.

use bytes::Bytes;
use prost::Message as _;
use serde_json::{Map, Value};

use super::encode::{label_text, log_parts, Stream, SOURCE};

#[derive(Clone, PartialEq, prost::Message)]
struct ExportLogsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    resource_logs: Vec<ResourceLogs>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ResourceLogs {
    #[prost(message, repeated, tag = "2")]
    scope_logs: Vec<ScopeLogs>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ScopeLogs {
    #[prost(message, optional, tag = "1")]
    scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    log_records: Vec<LogRecord>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct InstrumentationScope {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LogRecord {
    #[prost(fixed64, tag = "1")]
    time_unix_nano: u64,
    #[prost(int32, tag = "2")]
    severity_number: i32,
    #[prost(string, tag = "3")]
    severity_text: String,
    #[prost(message, optional, tag = "5")]
    body: Option<AnyValue>,
    #[prost(message, repeated, tag = "6")]
    attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyValue {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(message, optional, tag = "2")]
    value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AnyValue {
    #[prost(oneof = "Kind", tags = "1, 2, 3, 4, 5, 6")]
    value: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    #[prost(string, tag = "1")]
    String(String),
    #[prost(bool, tag = "2")]
    Bool(bool),
    #[prost(int64, tag = "3")]
    Int(i64),
    #[prost(double, tag = "4")]
    Double(f64),
    #[prost(message, tag = "5")]
    Array(ArrayValue),
    #[prost(message, tag = "6")]
    Kvlist(KeyValueList),
}

#[derive(Clone, PartialEq, prost::Message)]
struct ArrayValue {
    #[prost(message, repeated, tag = "1")]
    values: Vec<AnyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyValueList {
    #[prost(message, repeated, tag = "1")]
    values: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ExportLogsServiceResponse {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<ExportLogsPartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ExportLogsPartialSuccess {
    #[prost(int64, tag = "1")]
    rejected_log_records: i64,
    #[prost(string, tag = "2")]
    error_message: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    streams: Vec<StreamAdapter>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct StreamAdapter {
    #[prost(string, tag = "1")]
    labels: String,
    #[prost(message, repeated, tag = "2")]
    entries: Vec<EntryAdapter>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    line: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Timestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

fn any_value(v: &Value) -> AnyValue {
    let kind = match v {
        Value::Null => None,
        Value::Bool(b) => Some(Kind::Bool(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Kind::Int(i),
            None => Kind::Double(n.as_f64().unwrap_or(0.0)),
        }),
        Value::String(s) => Some(Kind::String(s.clone())),
        Value::Array(a) => Some(Kind::Array(ArrayValue {
            values: a.iter().map(any_value).collect(),
        })),
        Value::Object(m) => Some(Kind::Kvlist(KeyValueList {
            values: m.iter().map(|(k, v)| key_value(k, v)).collect(),
        })),
    };
    AnyValue { value: kind }
}

fn key_value(key: &str, v: &Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(any_value(v)),
    }
}

/// An OTLP/HTTP protobuf `ExportLogsServiceRequest` of the records (mapping in `encode`).
pub(super) fn otlp(records: &[Map<String, Value>]) -> Bytes {
    let log_records = records
        .iter()
        .map(|rec| {
            let p = log_parts(rec);
            LogRecord {
                time_unix_nano: p.time,
                severity_number: p.severity,
                severity_text: p.severity_text,
                body: p.body.map(|b| AnyValue {
                    value: Some(Kind::String(b)),
                }),
                attributes: p.attributes.iter().map(|(k, v)| key_value(k, v)).collect(),
            }
        })
        .collect();
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: SOURCE.into(),
                }),
                log_records,
            }],
        }],
    };
    Bytes::from(req.encode_to_vec())
}

/// The `rejected_log_records` of an `ExportLogsServiceResponse` (0 when absent or unreadable).
pub(super) fn rejected_log_records(body: &[u8]) -> u64 {
    ExportLogsServiceResponse::decode(body)
        .ok()
        .and_then(|r| r.partial_success)
        .map_or(0, |p| u64::try_from(p.rejected_log_records).unwrap_or(0))
}

/// An `ExportLogsServiceResponse` rejecting that many records (for tests).
#[cfg(test)]
pub(super) fn response(rejected: i64) -> Vec<u8> {
    ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: rejected,
            error_message: "test".into(),
        }),
    }
    .encode_to_vec()
}

/// A Loki `PushRequest` of the streams, snappy block-compressed (as Promtail sends it).
pub(super) fn loki(streams: &[Stream]) -> Bytes {
    let req = PushRequest {
        streams: streams
            .iter()
            .map(|s| StreamAdapter {
                labels: label_text(&s.labels),
                entries: s
                    .entries
                    .iter()
                    .map(|(ns, line)| EntryAdapter {
                        timestamp: Some(Timestamp {
                            seconds: (ns / 1_000_000_000) as i64,
                            nanos: (ns % 1_000_000_000) as i32,
                        }),
                        line: line.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let packed = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .expect("snappy compresses any input");
    Bytes::from(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loki_body_is_a_snappy_push_request() {
        let rec = json!({"ts":"2026-01-01T00:00:00Z","message":"m"});
        let streams = super::super::encode::loki_streams(&[rec.as_object().cloned().unwrap()]);
        let body = loki(&streams);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let push = PushRequest::decode(&raw[..]).unwrap();
        assert_eq!(push.streams[0].labels, r#"{job="logops-emitters"}"#);
        let e = &push.streams[0].entries[0];
        assert_eq!(e.timestamp.as_ref().map(|t| t.seconds), Some(1_767_225_600));
        assert_eq!(e.line, rec.to_string());
    }

    #[test]
    fn otlp_body_carries_every_record() {
        let records: Vec<_> = (0..3)
            .map(|i| {
                json!({"message": format!("m{i}"), "n": i})
                    .as_object()
                    .cloned()
                    .unwrap()
            })
            .collect();
        let req = ExportLogsServiceRequest::decode(&otlp(&records)[..]).unwrap();
        let logs = &req.resource_logs[0].scope_logs[0].log_records;
        assert_eq!(logs.len(), 3);
        assert_eq!(logs[2].attributes[0].value, Some(any_value(&json!(2))));
    }
}
