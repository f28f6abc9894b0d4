//! The JSON-based protocol bodies (OTLP/JSON, Loki push JSON, Elasticsearch
//! bulk, HEC events) and the mapping shared with the protobuf ones (`pb`):
//! a record split into an OTLP log record, and records grouped into Loki streams.
//!
//! OTLP: an RFC 3339 `ts` becomes `timeUnixNano`, a string `level` the
//! `severityText` (and `severityNumber` for the four plain words), a string
//! `message`/`msg` the body; every other field is an attribute, so the gateway
//! reads what it would have read from the native body. Loki: one stream per
//! `service` (labels `job`, `service`), the line is the record as JSON, the
//! entry time its `ts` (else the batch's nearest one). ES bulk: a `create`
//! action per record. HEC: `{"time":…,"event":record}` per record.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::ts_nanos;

/// `job` label of the Loki streams and OTLP scope name.
pub(super) const SOURCE: &str = "logops-emitters";

/// A record as an OTLP log record.
pub(super) struct LogParts {
    /// `time_unix_nano` (0: none).
    pub(super) time: u64,
    /// `severity_number` (0: unspecified).
    pub(super) severity: i32,
    /// `severity_text`.
    pub(super) severity_text: String,
    /// The body, when the record has a string message.
    pub(super) body: Option<String>,
    /// The other fields.
    pub(super) attributes: Vec<(String, Value)>,
}

/// OTLP severity numbers of the plain level words (DEBUG 5, INFO 9, WARN 13, ERROR 17).
fn severity_number(word: &str) -> i32 {
    match word.to_ascii_uppercase().as_str() {
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" | "WARNING" => 13,
        "ERROR" => 17,
        _ => 0,
    }
}

pub(super) fn log_parts(rec: &Map<String, Value>) -> LogParts {
    let time = ts_nanos(rec).unwrap_or(0);
    let level = rec.get("level").and_then(Value::as_str);
    let body_key = ["message", "msg"]
        .into_iter()
        .find(|k| rec.get(*k).is_some_and(Value::is_string));
    // Fields carried elsewhere in the log record are not attributes too.
    let carried = |k: &str| {
        (time != 0 && k == "ts") || (level.is_some() && k == "level") || Some(k) == body_key
    };
    let attributes = rec
        .iter()
        .filter(|(k, v)| !v.is_null() && !carried(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    LogParts {
        time,
        severity: level.map_or(0, severity_number),
        severity_text: level.unwrap_or_default().to_string(),
        body: body_key.and_then(|k| rec[k].as_str()).map(str::to_string),
        attributes,
    }
}

/// OTLP/JSON `AnyValue` of a JSON value (int64 as a decimal string, as proto3 JSON writes it).
fn any_value(v: &Value) -> Value {
    match v {
        Value::Null => json!({}),
        Value::Bool(b) => json!({ "boolValue": b }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => json!({ "intValue": i.to_string() }),
            None => json!({ "doubleValue": n.as_f64().unwrap_or(0.0) }),
        },
        Value::String(s) => json!({ "stringValue": s }),
        Value::Array(a) => {
            json!({ "arrayValue": { "values": a.iter().map(any_value).collect::<Vec<_>>() } })
        }
        Value::Object(m) => json!({ "kvlistValue": { "values": key_values(m.iter()) } }),
    }
}

fn key_values<'a>(fields: impl Iterator<Item = (&'a String, &'a Value)>) -> Vec<Value> {
    fields
        .map(|(k, v)| json!({ "key": k, "value": any_value(v) }))
        .collect()
}

/// An OTLP/HTTP JSON `ExportLogsServiceRequest` of the records.
pub(super) fn otlp_json(records: &[Map<String, Value>]) -> Bytes {
    let logs: Vec<Value> = records
        .iter()
        .map(|rec| {
            let p = log_parts(rec);
            let mut lr = Map::new();
            if p.time != 0 {
                lr.insert("timeUnixNano".into(), Value::String(p.time.to_string()));
            }
            if p.severity != 0 {
                lr.insert("severityNumber".into(), json!(p.severity));
            }
            if !p.severity_text.is_empty() {
                lr.insert("severityText".into(), Value::String(p.severity_text));
            }
            if let Some(body) = p.body {
                lr.insert("body".into(), json!({ "stringValue": body }));
            }
            let attrs = key_values(p.attributes.iter().map(|(k, v)| (k, v)));
            lr.insert("attributes".into(), Value::Array(attrs));
            Value::Object(lr)
        })
        .collect();
    let req =
        json!({"resourceLogs": [{"scopeLogs": [{"scope": {"name": SOURCE}, "logRecords": logs}]}]});
    Bytes::from(serde_json::to_vec(&req).expect("JSON values always serialize"))
}

/// One Loki stream: its labels and entries (nanosecond time, line).
pub(super) struct Stream {
    /// `(name, value)` label pairs.
    pub(super) labels: Vec<(String, String)>,
    /// `(unix ns, line)`.
    pub(super) entries: Vec<(u64, String)>,
}

/// Groups the records into streams by `service`, in order of first appearance.
pub(super) fn loki_streams(records: &[Map<String, Value>]) -> Vec<Stream> {
    let times: Vec<Option<u64>> = records.iter().map(ts_nanos).collect();
    let fallback = times
        .iter()
        .flatten()
        .next()
        .copied()
        .unwrap_or_else(now_ns);
    let mut last = fallback;
    let mut streams: Vec<Stream> = Vec::new();
    for (rec, t) in records.iter().zip(times) {
        let ts = t.unwrap_or(last);
        last = ts;
        let mut labels = vec![("job".to_string(), SOURCE.to_string())];
        if let Some(s) = rec.get("service").and_then(Value::as_str) {
            labels.push(("service".into(), s.into()));
        }
        let line = serde_json::to_string(rec).expect("JSON values always serialize");
        match streams.iter_mut().find(|s| s.labels == labels) {
            Some(s) => s.entries.push((ts, line)),
            None => streams.push(Stream {
                labels,
                entries: vec![(ts, line)],
            }),
        }
    }
    streams
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// A Loki JSON push of the streams.
pub(super) fn loki_json(streams: &[Stream]) -> Bytes {
    let streams: Vec<Value> = streams
        .iter()
        .map(|s| {
            let labels: Map<String, Value> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let values: Vec<Value> = s
                .entries
                .iter()
                .map(|(ts, line)| json!([ts.to_string(), line]))
                .collect();
            json!({"stream": labels, "values": values})
        })
        .collect();
    Bytes::from(serde_json::to_vec(&json!({ "streams": streams })).expect("serializes"))
}

/// Prometheus label-set text, `{job="x", service="y"}`.
pub(super) fn label_text(labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// An Elasticsearch bulk body: `{"create":{}}` and the document, per record.
pub(super) fn es_bulk(records: &[Map<String, Value>]) -> Bytes {
    let mut out = Vec::with_capacity(records.len() * 200);
    for rec in records {
        out.extend_from_slice(b"{\"create\":{}}\n");
        serde_json::to_writer(&mut out, rec).expect("JSON values always serialize");
        out.push(b'\n');
    }
    Bytes::from(out)
}

/// Splunk HEC events, one per line: `{"time":<epoch s>,"event":{record}}`
/// (`time` when the record's `ts` is RFC 3339; its own `ts` wins at the gateway).
pub(super) fn hec(records: &[Map<String, Value>]) -> Bytes {
    let mut out = Vec::with_capacity(records.len() * 220);
    for rec in records {
        let mut env = Map::new();
        if let Some(ns) = ts_nanos(rec) {
            env.insert("time".into(), json!((ns / 1_000_000) as f64 / 1000.0));
        }
        env.insert("event".into(), Value::Object(rec.clone()));
        serde_json::to_writer(&mut out, &env).expect("JSON values always serialize");
        out.push(b'\n');
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_record_maps_onto_an_otlp_log_record() {
        let r = rec(
            json!({"ts":"2026-01-01T00:00:00Z","level":"warn","message":"m","host":"h","n":null}),
        );
        let p = log_parts(&r);
        assert_eq!(
            (p.time, p.severity, p.severity_text.as_str()),
            (1_767_225_600_000_000_000, 13, "warn")
        );
        assert_eq!(p.body.as_deref(), Some("m"));
        assert_eq!(p.attributes, vec![("host".to_string(), json!("h"))]);
        // An unparsed ts, a numeric level and an object message stay fields.
        let odd = rec(json!({"ts":1767225600,"level":3,"message":{"a":1}}));
        let p = log_parts(&odd);
        assert_eq!((p.time, p.severity, p.body), (0, 0, None));
        assert_eq!(p.attributes.len(), 3);
    }

    #[test]
    fn loki_streams_group_by_service_and_fill_times() {
        let records = [
            rec(json!({"message":"a","service":"api"})),
            rec(json!({"ts":"2026-01-01T00:00:00Z","service":"db"})),
            rec(json!({"message":"c","service":"api"})),
        ];
        let streams = loki_streams(&records);
        assert_eq!(streams.len(), 2);
        assert_eq!(
            label_text(&streams[0].labels),
            r#"{job="logops-emitters", service="api"}"#
        );
        let times: Vec<u64> = streams[0].entries.iter().map(|e| e.0).collect();
        assert_eq!(times, vec![1_767_225_600_000_000_000; 2]);
    }

    #[test]
    fn bulk_and_hec_carry_each_record_whole() {
        let records = [rec(json!({"ts":"2026-01-01T00:00:00.5Z","message":"m"}))];
        let bulk = es_bulk(&records);
        assert_eq!(
            &bulk[..],
            b"{\"create\":{}}\n{\"ts\":\"2026-01-01T00:00:00.5Z\",\"message\":\"m\"}\n"
        );
        let event: Value = serde_json::from_slice(&hec(&records)).unwrap();
        assert_eq!(event["time"], json!(1_767_225_600.5));
        assert_eq!(event["event"]["message"], "m");
    }
}
