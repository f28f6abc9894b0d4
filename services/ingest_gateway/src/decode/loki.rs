//! Loki push (`POST /loki/api/v1/push`, SPEC §11.2), in both encodings:
//! - JSON: `{"streams":[{"stream":{label:value,…},"values":[["<unix ns>","line"(, {metadata})],…]}]}`
//!   (Fluent Bit `loki`, `python-logging-loki`, Alloy/Promtail with JSON); the
//!   metadata object is either flat `{name: value}` or Loki's newer
//!   `{"structuredMetadata":{…},"parsed":{…}}` (`parsed` is Loki's own, ignored);
//! - protobuf: a snappy *block*-compressed `logproto.PushRequest` (Promtail,
//!   Alloy `loki.write`, Docker's loki driver). From grafana/loki
//!   `pkg/push/push.proto`: `PushRequest { repeated StreamAdapter streams = 1; }`,
//!   `StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }`
//!   (`labels` is Prometheus label-set text: `{job="x", app="y"}`, Go string
//!   escapes), `EntryAdapter { google.protobuf.Timestamp timestamp = 1; string line = 2;
//!   repeated LabelPairAdapter structuredMetadata = 3; }`,
//!   `LabelPairAdapter { string name = 1; string value = 2; }`.
//!
//! Each entry → one record:
//! - a line that is itself a JSON object is merged as the record (so Promtail
//!   shipping LogOps' own NDJSON round-trips); any other line becomes `msg`;
//! - `ts` ← the entry's timestamp as a nanosecond-epoch decimal string, unless
//!   the line's own fields carry a (non-null) timestamp under one of
//!   [`TS_KEYS`] — the event's time wins over the shipper's read time;
//! - then the entry's structured metadata, then the stream's labels, each only
//!   filling keys still missing: **the line's fields win**, then metadata, then
//!   labels (per-entry data is more specific than per-stream data).
//!
//! Errors (bad JSON, a timestamp that is not a decimal nanosecond epoch, a
//! non-string label, bad snappy, a snappy block declaring more than
//! [`MAX_SNAPPY_DECOMPRESSED`] bytes or more than snappy can expand to — checked
//! before allocating —, bad protobuf, bad label text) → `invalid_json`
//! ("Loki push: …"). The record limit is checked as entries are built; the
//! protobuf streams are walked field by field ([`super::pb_wire`]) and each
//! entry is decoded on its own.

use std::fmt;

use prost::Message as _;
use serde::de::{Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::pb_wire::walk;
use super::{push_limited, DecodeError};
use crate::schema::{Record, TS_KEYS};

/// The most a Loki protobuf body may decompress to (checked on the declared size).
pub const MAX_SNAPPY_DECOMPRESSED: usize = 64 << 20;

/// Snappy's largest expansion: a 3-byte copy op writes at most 64 bytes.
const SNAPPY_MAX_RATIO: usize = 22;

/// The size a snappy block declares it decompresses to (`None`: not a snappy block),
/// for the HTTP layer to hold against its own body limit before decoding.
pub fn snappy_decompressed_len(body: &[u8]) -> Option<usize> {
    snap::raw::decompress_len(body).ok()
}

fn invalid(detail: String) -> DecodeError {
    DecodeError::InvalidJson {
        line: None,
        detail: format!("Loki push: {detail}"),
    }
}

/// Decodes a Loki JSON push.
pub(super) fn decode_json(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    // serde would also take a struct from an array: `[]` is not a push.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(invalid("body must be a JSON object".into()));
    }
    let push: PushJson = serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    let mut out = Vec::new();
    for stream in push.streams {
        let labels = stream
            .stream
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(_) => Ok((k, v)),
                other => Err(invalid(format!("label {k:?} is not a string: {other}"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        for e in stream.values {
            if e.ts.is_empty() || !e.ts.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "timestamp {:?} is not a nanosecond epoch string",
                    e.ts
                )));
            }
            push_limited(
                &mut out,
                entry_record(Some(e.ts), e.line, e.metadata, &labels),
                max,
            )?;
        }
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct PushJson {
    #[serde(default)]
    streams: Vec<StreamJson>,
}

#[derive(serde::Deserialize)]
struct StreamJson {
    #[serde(default)]
    stream: Map<String, Value>,
    #[serde(default)]
    values: Vec<EntryJson>,
}

/// `["<ns>", "line"(, {metadata})]`.
struct EntryJson {
    ts: String,
    line: String,
    metadata: Vec<(String, Value)>,
}

impl<'de> Deserialize<'de> for EntryJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = EntryJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an entry ["<unix ns>", "<line>"(, {metadata})]"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EntryJson, A::Error> {
                use serde::de::Error as _;
                let ts: String = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let line: String = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                let meta: Option<Map<String, Value>> = seq.next_element::<Option<_>>()?.flatten();
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(4, &self));
                }
                let mut metadata = Vec::new();
                for (k, v) in meta.unwrap_or_default() {
                    match (k.as_str(), v) {
                        ("structuredMetadata", Value::Object(m)) => metadata.extend(m),
                        ("parsed", Value::Object(_)) => {}
                        (_, v) => metadata.push((k, v)),
                    }
                }
                Ok(EntryJson { ts, line, metadata })
            }
        }
        d.deserialize_seq(EntryVisitor)
    }
}

/// Decodes a snappy-compressed protobuf Loki push.
pub(super) fn decode_proto(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let declared = snap::raw::decompress_len(body)
        .map_err(|e| invalid(format!("body is not a snappy block: {e}")))?;
    let bound = body
        .len()
        .saturating_mul(SNAPPY_MAX_RATIO)
        .min(MAX_SNAPPY_DECOMPRESSED);
    if declared > bound {
        return Err(invalid(format!(
            "snappy block declares {declared} bytes, over the {bound}-byte bound for this body"
        )));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| invalid(format!("bad snappy block: {e}")))?;
    let mut out = Vec::new();
    walk(&raw, invalid, |tag, field| match tag {
        1 => stream_proto(field.bytes(tag, invalid)?, max, &mut out),
        _ => Ok(()),
    })?;
    Ok(out)
}

fn stream_proto(buf: &[u8], max: usize, out: &mut Vec<Record>) -> Result<(), DecodeError> {
    // `labels` may follow the entries on the wire: collect both first.
    let mut labels = "";
    let mut entries = Vec::new();
    walk(buf, invalid, |tag, field| {
        match tag {
            1 => {
                labels = std::str::from_utf8(field.bytes(tag, invalid)?)
                    .map_err(|_| invalid("stream labels are not UTF-8".into()))?;
            }
            2 => entries.push(field.bytes(tag, invalid)?),
            _ => {}
        }
        Ok(())
    })?;
    let labels = parse_labels(labels).map_err(|e| invalid(format!("labels {labels:?}: {e}")))?;
    for entry in entries {
        let e = EntryAdapter::decode(entry).map_err(|e| invalid(e.to_string()))?;
        let ts = e
            .timestamp
            .map(|t| (i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos)).to_string());
        let metadata = e
            .structured_metadata
            .into_iter()
            .map(|p| (p.name, Value::String(p.value)))
            .collect();
        push_limited(out, entry_record(ts, e.line, metadata, &labels), max)?;
    }
    Ok(())
}

/// `logproto.EntryAdapter` (`parsed = 4` is Loki's own and skipped).
#[derive(Clone, PartialEq, prost::Message)]
struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    line: String,
    #[prost(message, repeated, tag = "3")]
    structured_metadata: Vec<LabelPairAdapter>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, prost::Message)]
struct Timestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// One entry → a record (precedence in the module header).
fn entry_record(
    ts: Option<String>,
    line: String,
    metadata: Vec<(String, Value)>,
    labels: &[(String, Value)],
) -> Record {
    let object = line
        .trim_start()
        .starts_with('{')
        .then(|| serde_json::from_str::<Record>(&line).ok())
        .flatten();
    let mut rec = match object {
        Some(rec) => rec,
        None => {
            let mut rec = Record::new();
            rec.insert("msg".into(), Value::String(line));
            rec
        }
    };
    let has_ts = rec
        .iter()
        .any(|(k, v)| !v.is_null() && TS_KEYS.iter().any(|t| k.eq_ignore_ascii_case(t)));
    if let (false, Some(ts)) = (has_ts, ts) {
        rec.insert("ts".into(), Value::String(ts));
    }
    for (k, v) in metadata.into_iter().chain(labels.iter().cloned()) {
        if !rec.contains_key(&k) {
            rec.insert(k, v);
        }
    }
    rec
}

/// Parses Prometheus label-set text, `{name="value", …}` (also `""`/`{}`: no
/// labels). Values are Go-quoted strings (`"…"` with escapes, or raw `` `…` ``);
/// names are `[A-Za-z_][A-Za-z0-9_]*` or, as Prometheus 3 writes UTF-8 names, quoted.
fn parse_labels(text: &str) -> Result<Vec<(String, Value)>, String> {
    let mut p = Parser {
        chars: text.trim().chars().peekable(),
    };
    let mut out = Vec::new();
    if p.chars.peek().is_none() {
        return Ok(out);
    }
    p.expect('{')?;
    loop {
        p.skip_ws();
        if p.eat('}') {
            break;
        }
        let name = match p.chars.peek() {
            Some('"' | '`') => p.quoted()?,
            _ => p.name()?,
        };
        p.skip_ws();
        p.expect('=')?;
        p.skip_ws();
        let value = p.quoted()?;
        match out.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = Value::String(value),
            None => out.push((name, Value::String(value))),
        }
        p.skip_ws();
        if p.eat(',') {
            continue;
        }
        p.expect('}')?;
        break;
    }
    match p.chars.next() {
        None => Ok(out),
        Some(c) => Err(format!("unexpected {c:?} after the closing brace")),
    }
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.chars.next_if(|c| c.is_whitespace()).is_some() {}
    }

    fn eat(&mut self, c: char) -> bool {
        self.chars.next_if_eq(&c).is_some()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.chars.next() {
            Some(got) if got == c => Ok(()),
            Some(got) => Err(format!("expected {c:?}, found {got:?}")),
            None => Err(format!("expected {c:?}, found the end")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let mut name = String::new();
        while let Some(c) = self
            .chars
            .next_if(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            name.push(c);
        }
        match name.chars().next() {
            Some(c) if !c.is_ascii_digit() => Ok(name),
            Some(_) => Err(format!("label name {name:?} starts with a digit")),
            None => Err(match self.chars.peek() {
                Some(c) => format!("expected a label name, found {c:?}"),
                None => "expected a label name, found the end".into(),
            }),
        }
    }

    /// A Go string literal: `"…"` with escapes, or raw `` `…` ``.
    fn quoted(&mut self) -> Result<String, String> {
        let quote = match self.chars.next() {
            Some(q @ ('"' | '`')) => q,
            Some(c) => return Err(format!("expected a quoted value, found {c:?}")),
            None => return Err("expected a quoted value, found the end".into()),
        };
        let mut s = String::new();
        loop {
            match self.chars.next() {
                None => return Err("unterminated string".into()),
                Some(c) if c == quote => return Ok(s),
                Some('\\') if quote == '"' => s.push(self.escape()?),
                Some(c) => s.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        let c = self.chars.next().ok_or("unterminated escape")?;
        let simple = match c {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '"' | '\'' => Some(c),
            _ => None,
        };
        if let Some(ch) = simple {
            return Ok(ch);
        }
        let (digits, radix) = match c {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return Err(format!("unknown escape \\{c}")),
        };
        let mut code = if radix == 8 {
            c.to_digit(8).unwrap_or(0)
        } else {
            0
        };
        for _ in 0..digits {
            let d = self
                .chars
                .next()
                .and_then(|d| d.to_digit(radix))
                .ok_or_else(|| format!("bad \\{c} escape"))?;
            code = code.saturating_mul(radix).saturating_add(d);
        }
        // \x and octal escapes are bytes; only ASCII ones keep the value UTF-8.
        if matches!(c, 'x' | '0'..='7') && code > 0x7f {
            return Err(format!("escape \\{c}… is not an ASCII byte"));
        }
        char::from_u32(code).ok_or_else(|| format!("escape \\{c}… is not a Unicode scalar"))
    }
}

#[cfg(test)]
#[path = "loki_tests.rs"]
mod tests;
