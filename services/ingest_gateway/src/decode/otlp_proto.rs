//! OTLP/HTTP protobuf logs: a binary `ExportLogsServiceRequest`
//! (`application/x-protobuf` on `POST /v1/logs`, SPEC §11.1), mapped exactly
//! like the OTLP/JSON decoder [`super::otlp`] (SPEC §2.5).
//!
//! `resource_logs[].scope_logs[].log_records[]`, each log record → a record:
//! - `ts` ← `time_unix_nano`, else `observed_time_unix_nano` (the first that is
//!   not 0), as a decimal-string nanosecond epoch (as OTLP/JSON carries it);
//! - `level` ← `severity_number` (1–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–24 ERROR,
//!   [`super::otlp::severity_word`]), else a non-empty `severity_text`;
//! - `msg` ← `body`: a string as is, any other kind as compact JSON (kvlist →
//!   object, array → array, bytes → standard base64 string, int → number,
//!   NaN/±∞ doubles → `"NaN"`/`"Infinity"`/`"-Infinity"` as in OTLP/JSON);
//! - the resource's attributes, then the record's, flattened to `key: value`
//!   (a record attribute overrides a resource attribute of the same key); the
//!   resource's `service.name` is also written as `service`;
//! - `trace_id` / `span_id` as lowercase hex when non-empty.
//!
//! Scope, schema URLs, flags, `event_name` and dropped counts are not mapped
//! (neither are they from OTLP/JSON). The mapping is written directly on the
//! protobuf structs (no intermediate JSON tree: the protobuf path must be at
//! least as fast as the JSON path); `tests::same_records_as_otlp_json` checks
//! that it gives the JSON decoder's records for the same logical request.
//!
//! Bad input: the outer layers are walked field by field ([`super::pb_wire`])
//! and each log record is decoded on its own, so the record limit is checked
//! as records are decoded; truncation, wrong wire types, lengths past the end
//! and invalid UTF-8 are `invalid_json` errors ("OTLP protobuf: …"). Nesting is
//! bounded twice: prost refuses messages nested deeper than 100 levels, and the
//! mapping refuses `AnyValue`s nested deeper than [`MAX_ANY_DEPTH`].

use base64::Engine as _;
use prost::Message as _;
use serde_json::{Map, Number, Value};

use super::otlp::severity_word;
use super::otlp_pb::{
    any_value, AnyValue, ExportLogsPartialSuccess, ExportLogsServiceResponse, KeyValue, LogRecord,
    Resource,
};
use super::pb_wire::{walk, Field};
use super::{push_limited, DecodeError};
use crate::schema::Record;

/// How deep `AnyValue`s (arrays, kvlists) may nest inside a body or attribute.
pub const MAX_ANY_DEPTH: usize = 64;

/// Decodes an OTLP `ExportLogsServiceRequest` in its protobuf encoding.
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    // ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
    walk(body, invalid, |tag, field| match tag {
        1 => resource_logs(field.bytes(tag, invalid)?, max, &mut out),
        _ => Ok(()),
    })?;
    Ok(out)
}

fn invalid(detail: String) -> DecodeError {
    DecodeError::InvalidJson {
        line: None,
        detail: format!("OTLP protobuf: {detail}"),
    }
}

fn prost_error(e: prost::DecodeError) -> DecodeError {
    invalid(e.to_string())
}

/// `ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }`.
fn resource_logs(buf: &[u8], max: usize, out: &mut Vec<Record>) -> Result<(), DecodeError> {
    // The resource may follow its scope logs on the wire: collect both first.
    let mut resource = Resource::default();
    let mut scopes = Vec::new();
    walk(buf, invalid, |tag, field| {
        match tag {
            1 => resource
                .merge(field.bytes(tag, invalid)?)
                .map_err(prost_error)?,
            2 => scopes.push(field.bytes(tag, invalid)?),
            _ => {}
        }
        Ok(())
    })?;
    let mut resource_fields = Vec::with_capacity(resource.attributes.len() + 1);
    flatten(resource.attributes, &mut |k, v| match resource_fields
        .iter_mut()
        .find(|(key, _)| *key == k)
    {
        Some(slot) => *slot = (k, v),
        None => resource_fields.push((k, v)),
    })?;
    // SPEC §2.5: `service` too, the field the Alloy/Promtail `app` label reads.
    if let Some((_, name)) = resource_fields.iter().find(|(k, _)| k == "service.name") {
        if !resource_fields.iter().any(|(k, _)| k == "service") {
            let name = name.clone();
            resource_fields.push(("service".into(), name));
        }
    }
    for scope in scopes {
        // ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
        walk(scope, invalid, |tag, field: Field<'_>| {
            if tag == 2 {
                let lr = LogRecord::decode(field.bytes(tag, invalid)?).map_err(prost_error)?;
                push_limited(out, log_record(lr, &resource_fields)?, max)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn log_record(lr: LogRecord, resource_fields: &[(String, Value)]) -> Result<Record, DecodeError> {
    let mut rec = Record::new();
    if let Some(ts) = [lr.time_unix_nano, lr.observed_time_unix_nano]
        .into_iter()
        .find(|t| *t != 0)
    {
        rec.insert("ts".into(), Value::String(ts.to_string()));
    }
    let severity = u64::try_from(lr.severity_number)
        .ok()
        .and_then(severity_word);
    match severity {
        Some(word) => rec.insert("level".into(), Value::String(word.into())),
        None if !lr.severity_text.is_empty() => {
            rec.insert("level".into(), Value::String(lr.severity_text));
        }
        None => {}
    }
    if let Some(body) = lr.body {
        let msg = match plain(body, 0)? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        rec.insert("msg".into(), Value::String(msg));
    }
    for (k, v) in resource_fields {
        rec.insert(k.clone(), v.clone());
    }
    flatten(lr.attributes, &mut |k, v| rec.insert(k, v))?;
    for (name, id) in [("trace_id", lr.trace_id), ("span_id", lr.span_id)] {
        if !id.is_empty() {
            rec.insert(name.into(), Value::String(hex(&id)));
        }
    }
    Ok(rec)
}

/// `[KeyValue]` → `key: plain value`; a key without a value is skipped (as in OTLP/JSON).
fn flatten(attrs: Vec<KeyValue>, put: &mut dyn FnMut(String, Value)) -> Result<(), DecodeError> {
    flatten_at(attrs, 0, put)
}

fn flatten_at(
    attrs: Vec<KeyValue>,
    depth: usize,
    put: &mut dyn FnMut(String, Value),
) -> Result<(), DecodeError> {
    for kv in attrs {
        if let Some(value) = kv.value {
            put(kv.key, plain(value, depth)?);
        }
    }
    Ok(())
}

/// An `AnyValue` → the plain JSON value it carries (what [`super::otlp`] makes of its JSON form).
fn plain(v: AnyValue, depth: usize) -> Result<Value, DecodeError> {
    use any_value::Value as V;
    if depth >= MAX_ANY_DEPTH {
        return Err(invalid(format!(
            "AnyValue nested deeper than {MAX_ANY_DEPTH} levels"
        )));
    }
    Ok(match v.value {
        None => Value::Object(Map::new()),
        Some(V::String(s)) => Value::String(s),
        Some(V::Bool(b)) => Value::Bool(b),
        Some(V::Int(i)) => Value::from(i),
        Some(V::Double(d)) => match Number::from_f64(d) {
            Some(n) => Value::Number(n),
            None if d.is_nan() => Value::String("NaN".into()),
            None if d > 0.0 => Value::String("Infinity".into()),
            None => Value::String("-Infinity".into()),
        },
        Some(V::Bytes(b)) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Some(V::Array(a)) => Value::Array(
            a.values
                .into_iter()
                .map(|v| plain(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Some(V::Kvlist(kvl)) => {
            let mut out = Map::new();
            flatten_at(kvl.values, depth + 1, &mut |k, v| {
                out.insert(k, v);
            })?;
            Value::Object(out)
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// The protobuf `ExportLogsServiceResponse` answering a protobuf request:
/// `partial_success { rejected_log_records, error_message }`, omitted when
/// nothing was rejected and there is no message (a full success).
pub fn export_response(rejected: i64, message: &str) -> Vec<u8> {
    let partial_success =
        (rejected != 0 || !message.is_empty()).then(|| ExportLogsPartialSuccess {
            rejected_log_records: rejected,
            error_message: message.to_string(),
        });
    ExportLogsServiceResponse { partial_success }.encode_to_vec()
}

/// Reads an `ExportLogsServiceResponse` back: `(rejected_log_records, error_message)`,
/// `(0, "")` for a full success; `None` when the bytes are not one (for tests and clients).
pub fn decode_response(bytes: &[u8]) -> Option<(i64, String)> {
    let resp = ExportLogsServiceResponse::decode(bytes).ok()?;
    let p = resp.partial_success.unwrap_or_default();
    Some((p.rejected_log_records, p.error_message))
}

#[cfg(test)]
#[path = "otlp_proto_tests.rs"]
mod tests;
