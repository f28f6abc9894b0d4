//! OTLP/HTTP JSON logs: `resourceLogs[].scopeLogs[].logRecords[]`.
//!
//! Each logRecord becomes a record: `ts` ← `timeUnixNano` (else
//! `observedTimeUnixNano`), `level` ← `severityNumber` mapped to a level word
//! (else `severityText`), `msg` ← `body` (a `stringValue`, other kinds as JSON),
//! resource and record attributes flattened to `key: value`, plus
//! `trace_id`/`span_id` when present.

use serde_json::{Map, Value};

use super::{push_limited, DecodeError};
use crate::schema::Record;

/// Decodes an OTLP `ExportLogsServiceRequest` in its JSON mapping.
pub(super) fn decode(mut root: Map<String, Value>, max: usize) -> Result<Vec<Record>, DecodeError> {
    let Some(Value::Array(resource_logs)) = root.remove("resourceLogs") else {
        return Err(invalid("resourceLogs must be an array"));
    };
    let mut out = Vec::new();
    for rl in resource_logs {
        let Value::Object(mut rl) = rl else {
            return Err(invalid("resourceLogs[] must be objects"));
        };
        let resource_attrs = rl
            .remove("resource")
            .and_then(|r| r.get("attributes").cloned())
            .unwrap_or(Value::Null);
        for sl in take_array(&mut rl, "scopeLogs")? {
            let Value::Object(mut sl) = sl else {
                return Err(invalid("scopeLogs[] must be objects"));
            };
            for lr in take_array(&mut sl, "logRecords")? {
                let Value::Object(lr) = lr else {
                    return Err(invalid("logRecords[] must be objects"));
                };
                push_limited(&mut out, log_record(lr, &resource_attrs), max)?;
            }
        }
    }
    Ok(out)
}

fn invalid(detail: &str) -> DecodeError {
    DecodeError::InvalidJson {
        line: None,
        detail: format!("OTLP: {detail}"),
    }
}

fn take_array(m: &mut Map<String, Value>, key: &str) -> Result<Vec<Value>, DecodeError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(&format!("{key} must be an array"))),
    }
}

fn log_record(mut lr: Map<String, Value>, resource_attrs: &Value) -> Record {
    let mut rec = Record::new();
    let ts = [lr.remove("timeUnixNano"), lr.remove("observedTimeUnixNano")]
        .into_iter()
        .flatten()
        .find(|v| !is_zero(v));
    if let Some(ts) = ts {
        rec.insert("ts".into(), ts);
    }
    let severity = lr
        .get("severityNumber")
        .and_then(Value::as_u64)
        .and_then(severity_word);
    match (severity, lr.remove("severityText")) {
        (Some(word), _) => {
            rec.insert("level".into(), Value::String(word.into()));
        }
        (None, Some(text)) => {
            rec.insert("level".into(), text);
        }
        (None, None) => {}
    }
    if let Some(body) = lr.remove("body") {
        let msg = match any_value(body) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        rec.insert("msg".into(), Value::String(msg));
    }
    flatten_attributes(resource_attrs, &mut |k, v| rec.insert(k, v));
    // SPEC §2.5: `service` too, the field the Alloy/Promtail `app` label reads.
    if let Some(name) = rec.get("service.name").cloned() {
        if !rec.contains_key("service") {
            rec.insert("service".into(), name);
        }
    }
    if let Some(attrs) = lr.get("attributes") {
        flatten_attributes(attrs, &mut |k, v| rec.insert(k, v));
    }
    for (from, to) in [("traceId", "trace_id"), ("spanId", "span_id")] {
        if let Some(Value::String(id)) = lr.remove(from) {
            if !id.is_empty() {
                rec.insert(to.into(), Value::String(id));
            }
        }
    }
    rec
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty() || s.bytes().all(|b| b == b'0'),
        Value::Number(n) => n.as_u64() == Some(0),
        Value::Null => true,
        _ => false,
    }
}

/// OTLP severity number → level word (1–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–24 ERROR).
pub(super) fn severity_word(n: u64) -> Option<&'static str> {
    match n {
        1..=8 => Some("DEBUG"),
        9..=12 => Some("INFO"),
        13..=16 => Some("WARN"),
        17..=24 => Some("ERROR"),
        _ => None,
    }
}

/// `[{key, value: AnyValue}]` → `key: plain value` fields.
fn flatten_attributes(attrs: &Value, put: &mut dyn FnMut(String, Value)) {
    let Some(list) = attrs.as_array() else { return };
    for kv in list {
        if let (Some(key), Some(value)) = (kv.get("key").and_then(Value::as_str), kv.get("value")) {
            put(key.to_string(), any_value(value.clone()));
        }
    }
}

/// An OTLP `AnyValue` object → the plain JSON value it carries.
fn any_value(v: Value) -> Value {
    let Value::Object(mut m) = v else { return v };
    if let Some(s) = m.remove("stringValue") {
        return s;
    }
    if let Some(b) = m.remove("boolValue") {
        return b;
    }
    if let Some(i) = m.remove("intValue") {
        return match &i {
            Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or(i),
            _ => i,
        };
    }
    if let Some(d) = m.remove("doubleValue") {
        return d;
    }
    if let Some(b) = m.remove("bytesValue") {
        return b;
    }
    if let Some(Value::Object(mut arr)) = m.remove("arrayValue") {
        let values = match arr.remove("values") {
            Some(Value::Array(a)) => a.into_iter().map(any_value).collect(),
            _ => Vec::new(),
        };
        return Value::Array(values);
    }
    if let Some(Value::Object(kvl)) = m.remove("kvlistValue") {
        let mut out = Map::new();
        flatten_attributes(kvl.get("values").unwrap_or(&Value::Null), &mut |k, v| {
            out.insert(k, v);
        });
        return Value::Object(out);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_records_attributes_and_ids() {
        let body = json!({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
        "scopeLogs":[{"logRecords":[
          {"timeUnixNano":"1700000000000000000","severityNumber":17,"body":{"stringValue":"boom"},
           "attributes":[{"key":"n","value":{"intValue":"42"}}],"traceId":"abc","spanId":""},
          {"timeUnixNano":"0","observedTimeUnixNano":"1700000000000000001","severityText":"warn","body":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}}
        ]}]}]});
        let Value::Object(root) = body else {
            unreachable!()
        };
        let recs = decode(root, 10).unwrap();
        assert_eq!(
            recs[0].to_value(),
            json!({"ts":"1700000000000000000","level":"ERROR","msg":"boom","service.name":"api","service":"api","n":42,"trace_id":"abc"})
        );
        assert_eq!(recs[1]["ts"], "1700000000000000001");
        assert_eq!(recs[1]["level"], "warn");
        assert_eq!(recs[1]["msg"], r#"{"a":true}"#);
    }
}
