//! Splunk HTTP Event Collector (SPEC §11.4): what Fluent Bit `splunk`, Docker's splunk driver
//! and the Collector's `splunk_hec` exporter send.
//!
//! - `/services/collector/event` ([`decode_event`]): JSON event objects one after another (no
//!   separator, or whitespace/newlines), each `{"time", "event", "fields", "host", "source",
//!   "sourcetype", "index"}`. An object `event` is the record (its own ts/level/msg aliases
//!   apply); any other `event` is `msg` (a string as is, other JSON as its text). `time` (epoch
//!   seconds, number or string) becomes `ts` unless the record has a ts alias already (then the
//!   envelope's `time`, the sender's ingest time, is dropped). `fields` entries, then `host`,
//!   `source`, `sourcetype`, `index` become top-level fields, never overwriting the event's own.
//! - `/services/collector/raw` ([`decode_raw`]): one event per non-blank line, the line as
//!   `msg` — or the record itself when the line is a JSON object. Lossy UTF-8, like `text/plain`.
//!
//! Errors refuse the whole request (nothing stored), in Splunk's terms: an empty body is
//! `No data` (5); not JSON, truncated objects or an item that is not an object are `Invalid
//! data format` (6); an item without `event` is `Event field is required` (12), with a null or
//! blank `event` `Event field cannot be blank` (13). They are [`DecodeError::InvalidJson`] with
//! a `HEC: <text>` detail; [`splunk_code`] gives back the code and the 0-based event number.

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

use super::json::Element;
use super::{push_limited, DecodeError};
use crate::schema::{Record, TS_KEYS};

/// `{"text":"Success","code":0}`.
pub const CODE_SUCCESS: u16 = 0;
/// Missing `Authorization` header (HTTP 401).
pub const CODE_TOKEN_REQUIRED: u16 = 2;
/// `Authorization` not of the form `Splunk <token>` (HTTP 401).
pub const CODE_INVALID_AUTHORIZATION: u16 = 3;
/// Unknown token (HTTP 403).
pub const CODE_INVALID_TOKEN: u16 = 4;
/// Empty body (HTTP 400).
pub const CODE_NO_DATA: u16 = 5;
/// Not JSON, or not event objects (HTTP 400; Splunk also uses it with 413).
pub const CODE_INVALID_DATA_FORMAT: u16 = 6;
/// Internal server error (HTTP 500).
pub const CODE_INTERNAL_ERROR: u16 = 8;
/// Server is busy (HTTP 503).
pub const CODE_SERVER_BUSY: u16 = 9;
/// An event object without `event` (HTTP 400).
pub const CODE_EVENT_FIELD_REQUIRED: u16 = 12;
/// An `event` that is null or blank (HTTP 400).
pub const CODE_EVENT_FIELD_BLANK: u16 = 13;
/// `GET /services/collector/health`: HEC is healthy (HTTP 200).
pub const CODE_HEALTHY: u16 = 17;

/// Splunk's text for a code (`""` for codes not listed here).
pub fn code_text(code: u16) -> &'static str {
    match code {
        CODE_SUCCESS => "Success",
        CODE_TOKEN_REQUIRED => "Token is required",
        CODE_INVALID_AUTHORIZATION => "Invalid authorization",
        CODE_INVALID_TOKEN => "Invalid token",
        CODE_NO_DATA => "No data",
        CODE_INVALID_DATA_FORMAT => "Invalid data format",
        CODE_INTERNAL_ERROR => "Internal server error",
        CODE_SERVER_BUSY => "Server is busy",
        CODE_EVENT_FIELD_REQUIRED => "Event field is required",
        CODE_EVENT_FIELD_BLANK => "Event field cannot be blank",
        CODE_HEALTHY => "HEC is healthy",
        _ => "",
    }
}

/// A HEC answer body: `{"text":…,"code":…}`.
pub fn error_body(code: u16, text: &str) -> Value {
    json!({"text": text, "code": code})
}

/// The Splunk code, text and 0-based `invalid-event-number` of an error from this decoder;
/// `None` for errors that are not about the body's format (e.g. `TooManyRecords`).
pub fn splunk_code(err: &DecodeError) -> Option<(u16, &'static str, Option<usize>)> {
    match err {
        DecodeError::InvalidUtf8 { .. } => Some((
            CODE_INVALID_DATA_FORMAT,
            code_text(CODE_INVALID_DATA_FORMAT),
            None,
        )),
        DecodeError::InvalidJson { detail, .. } => {
            let rest = detail.strip_prefix("HEC: ")?;
            let code = [
                CODE_NO_DATA,
                CODE_INVALID_DATA_FORMAT,
                CODE_EVENT_FIELD_REQUIRED,
                CODE_EVENT_FIELD_BLANK,
            ]
            .into_iter()
            .find(|c| rest.starts_with(code_text(*c)))?;
            let number = rest
                .split_once("(event ")
                .and_then(|(_, n)| n.split(')').next())
                .and_then(|n| n.parse().ok());
            Some((code, code_text(code), number))
        }
        _ => None,
    }
}

fn refuse(code: u16, event: Option<usize>, detail: &str) -> DecodeError {
    let mut d = format!("HEC: {}", code_text(code));
    if let Some(n) = event {
        d.push_str(&format!(" (event {n})"));
    }
    if !detail.is_empty() {
        d.push_str(": ");
        d.push_str(detail);
    }
    DecodeError::InvalidJson {
        line: None,
        detail: d,
    }
}

/// Decodes a `/services/collector/event` body.
pub(super) fn decode_event(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<Item>();
    for (n, item) in stream.enumerate() {
        let env = match item {
            Ok(Item::Envelope(env)) => env,
            Ok(Item::NotObject) => {
                let detail = "not a JSON object";
                return Err(refuse(CODE_INVALID_DATA_FORMAT, Some(n), detail));
            }
            Err(_) if std::str::from_utf8(body).is_err() => {
                return Err(DecodeError::InvalidUtf8 { line: None });
            }
            Err(e) => {
                let detail = e.to_string();
                return Err(refuse(CODE_INVALID_DATA_FORMAT, Some(n), &detail));
            }
        };
        push_limited(&mut out, env.into_record(n)?, max)?;
    }
    if out.is_empty() {
        return Err(refuse(CODE_NO_DATA, None, ""));
    }
    Ok(out)
}

/// Decodes a `/services/collector/raw` body.
pub(super) fn decode_raw(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    for line in body.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let rec = match line.trim_ascii_start().first() {
            Some(b'{') => match serde_json::from_slice::<Element>(line) {
                Ok(Element::Object(rec)) => Some(rec),
                _ => None,
            },
            _ => None,
        };
        let rec = rec.unwrap_or_else(|| {
            let text = String::from_utf8_lossy(line);
            let mut rec = Record::new();
            rec.insert(
                "msg".into(),
                Value::String(text.trim_end_matches('\r').into()),
            );
            rec
        });
        push_limited(&mut out, rec, max)?;
    }
    if out.is_empty() {
        return Err(refuse(CODE_NO_DATA, None, ""));
    }
    Ok(out)
}

/// One item of the stream: an event object, or any other JSON value.
enum Item {
    Envelope(Box<Envelope>),
    NotObject,
}

/// The envelope of one event (other keys ignored).
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(default)]
    time: Option<Value>,
    #[serde(default)]
    event: Event,
    #[serde(default)]
    fields: Option<Record>,
    #[serde(default)]
    host: Option<Value>,
    #[serde(default)]
    source: Option<Value>,
    #[serde(default)]
    sourcetype: Option<Value>,
    #[serde(default)]
    index: Option<Value>,
}

/// The `event` member.
#[derive(Default)]
enum Event {
    #[default]
    Absent,
    Object(Record),
    Other(Value),
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

impl Envelope {
    /// The record of event number `n` (0-based).
    fn into_record(self, n: usize) -> Result<Record, DecodeError> {
        let mut rec = match self.event {
            Event::Absent => return Err(refuse(CODE_EVENT_FIELD_REQUIRED, Some(n), "")),
            Event::Other(v) if !is_present(&v) => {
                return Err(refuse(CODE_EVENT_FIELD_BLANK, Some(n), ""))
            }
            Event::Object(rec) => rec,
            Event::Other(v) => {
                let mut rec = Record::new();
                rec.insert("msg".into(), v);
                rec
            }
        };
        if let Some(time) = self.time.filter(is_present) {
            let has_ts = rec
                .iter()
                .any(|(k, v)| is_present(v) && TS_KEYS.iter().any(|a| a.eq_ignore_ascii_case(k)));
            if !has_ts {
                rec.insert("ts".into(), time);
            }
        }
        let meta = [
            ("host", self.host),
            ("source", self.source),
            ("sourcetype", self.sourcetype),
            ("index", self.index),
        ];
        let extra = self.fields.into_iter().flatten().chain(
            meta.into_iter()
                .filter_map(|(k, v)| v.filter(|v| !v.is_null()).map(|v| (k.to_string(), v))),
        );
        for (k, v) in extra {
            if !rec.contains_key(&k) {
                rec.insert(k, v);
            }
        }
        Ok(rec)
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ItemVisitor)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EventVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a HEC event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
        Envelope::deserialize(MapAccessDeserializer::new(map)).map(|e| Item::Envelope(Box::new(e)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::NotObject)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
    fn visit_unit<E>(self) -> Result<Item, E> {
        Ok(Item::NotObject)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event: a string or an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Event, A::Error> {
        Record::from_map_access(map).map(Event::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Event, A::Error> {
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Event::Other)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Event, E> {
        Ok(Event::Other(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Event, E> {
        Ok(Event::Other(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Event, E> {
        Ok(Event::Other(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Event, E> {
        Ok(Event::Other(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Event, E> {
        Ok(Event::Other(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Event, E> {
        Ok(Event::Other(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Event, E> {
        Ok(Event::Other(Value::Null))
    }
}

#[cfg(test)]
#[path = "hec_tests.rs"]
mod tests;
