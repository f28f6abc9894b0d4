//! Elasticsearch `_bulk` (`POST /_bulk`, `POST /<index>/_bulk`; SPEC §11.3): NDJSON pairs of
//! an action line and a source line — what Fluent Bit `es`, Filebeat, Logstash, Vector and
//! rsyslog send.
//!
//! - `{"index":{…}}` and `{"create":{…}}` are followed by the document; the document is the
//!   record (its `@timestamp` and `message` are ts/msg aliases already). The action's `_index`
//!   (else the URL's index) is kept as field `index` unless the document has one; `_id` is only
//!   echoed in the answer. The ECS level — nested `{"log":{"level":…}}` or the dotted key
//!   `"log.level"` — is moved to a top-level `level` when the document has no level alias.
//! - `update` (with its source line) and `delete` (without) are read but not stored: LogOps
//!   only appends, so they are per-item errors (400).
//! - Bad items are per-item errors and the rest is stored, as Elasticsearch does: a source
//!   line that is not a JSON object, a missing source line at the end, an unknown action, an
//!   action line that is not `{"<action>":{…}}`. After an unknown or malformed action line, the
//!   next line is taken as its source unless it is itself a valid action line.
//! - Whole-request errors: an empty body, or a first action line that is not JSON at all.
//!
//! [`decode_with_index`] and [`items`] run the same walk over the body, so the records returned
//! are exactly the items with status 201, in order. Blank lines are skipped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::error::Category;
use serde_json::Value;

use super::json::json_error;
use super::{push_limited, DecodeError};
use crate::schema::{Record, LEVEL_KEYS};

/// The outcome of one bulk action, for the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The action as answered: `index`, `create`, `update`, `delete` (`index` for an
    /// unknown or malformed action line).
    pub action: &'static str,
    /// The action's `_index`, else the URL's index, else empty.
    pub index: String,
    /// The action's `_id`, if it gave one.
    pub id: Option<String>,
    /// 201 when the document is stored, 400 otherwise.
    pub status: u16,
    /// Elasticsearch error `type` and `reason` of a refused item.
    pub error: Option<(String, String)>,
}

/// Decodes a bulk body (no URL index); bad items are skipped (see [`items`]).
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    decode_with_index(body, max, None)
}

/// Decodes a bulk body; `default_index` is the URL's `/<index>/_bulk`.
///
/// # Errors
/// An empty body or a first action line that is not JSON; more than `max` stored documents.
pub fn decode_with_index(
    body: &[u8],
    max: usize,
    default_index: Option<&str>,
) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    walk(body, default_index, true, |item, doc| match doc {
        Some(rec) => push_limited(&mut out, finish(rec, item.index), max),
        None => Ok(()),
    })?;
    Ok(out)
}

/// Every action of the body in order, with its outcome, for [`response`].
///
/// # Errors
/// The same whole-request errors as [`decode_with_index`].
pub fn items(body: &[u8], default_index: Option<&str>) -> Result<Vec<Item>, DecodeError> {
    let mut out = Vec::new();
    walk(body, default_index, false, |item, _| {
        out.push(item);
        Ok(())
    })?;
    Ok(out)
}

/// Records and items in one pass (what [`decode_with_index`] and [`items`] return).
///
/// # Errors
/// As [`decode_with_index`].
pub fn decode_items(
    body: &[u8],
    max: usize,
    default_index: Option<&str>,
) -> Result<(Vec<Record>, Vec<Item>), DecodeError> {
    let (mut recs, mut list) = (Vec::new(), Vec::new());
    walk(body, default_index, true, |item, doc| {
        if let Some(rec) = doc {
            push_limited(&mut recs, finish(rec, item.index.clone()), max)?;
        }
        list.push(item);
        Ok(())
    })?;
    Ok((recs, list))
}

/// Elasticsearch's bulk response: `{"took","errors","items":[{"<action>":{…}}]}`; stored items
/// get a generated `_id` when the action had none.
pub fn response(items: &[Item], took_ms: u64) -> Value {
    let mut out = Vec::new();
    write_response(items, took_ms, &mut out);
    serde_json::from_slice(&out).unwrap_or(Value::Null)
}

/// [`response`] written straight as JSON bytes (what the HTTP answer
/// sends): no value tree per item, which would cost more than decoding the
/// item's document did.
pub fn write_response(items: &[Item], took_ms: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    let errors = items.iter().any(|i| i.status >= 300);
    out.reserve(items.len() * 200 + 64);
    let _ = write!(out, r#"{{"took":{took_ms},"errors":{errors},"items":["#);
    let mut seq_no = 0u64;
    for (n, it) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{");
        json_str(out, it.action);
        out.extend_from_slice(br#":{"_index":"#);
        json_str(out, &it.index);
        match &it.error {
            None => {
                out.extend_from_slice(br#","_id":"#);
                match &it.id {
                    Some(id) => json_str(out, id),
                    None => json_str(out, &new_id()),
                }
                let _ = write!(
                    out,
                    r#","_version":1,"result":"created","_shards":{{"total":1,"successful":1,"failed":0}},"_seq_no":{seq_no},"_primary_term":1,"status":{}}}}}"#,
                    it.status
                );
                seq_no += 1;
            }
            Some((kind, reason)) => {
                if let Some(id) = &it.id {
                    out.extend_from_slice(br#","_id":"#);
                    json_str(out, id);
                }
                let _ = write!(out, r#","status":{},"error":{{"type":"#, it.status);
                json_str(out, kind);
                out.extend_from_slice(br#","reason":"#);
                json_str(out, reason);
                out.extend_from_slice(b"}}}");
            }
        }
    }
    out.extend_from_slice(b"]}");
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A 20-hex-digit id, unique within the process (time at first use + counter).
fn new_id() -> String {
    static BASE: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = *BASE.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:012x}{:08x}", base & 0xffff_ffff_ffff, n & 0xffff_ffff)
}

/// Adds `index` (unless present) and lifts the ECS level.
fn finish(mut rec: Record, index: String) -> Record {
    if !index.is_empty() && !rec.contains_key("index") {
        rec.insert("index".into(), Value::String(index));
    }
    lift_ecs_level(rec)
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

/// `{"log":{"level":"warn"}}` or `{"log.level":"warn"}` → `level`, when no level alias is
/// present; the nested key is removed (and `log` with it when nothing else is left).
fn lift_ecs_level(rec: Record) -> Record {
    let mut ecs = false;
    for (k, v) in rec.iter() {
        if is_present(v) && LEVEL_KEYS.iter().any(|a| a.eq_ignore_ascii_case(k)) {
            return rec;
        }
        ecs |= (k == "log.level" && is_present(v))
            || (k == "log" && v.get("level").is_some_and(is_present));
    }
    if !ecs {
        return rec;
    }
    let mut done = false;
    let mut fields = Vec::with_capacity(rec.len() + 1);
    for (k, v) in rec {
        match (k.as_str(), v) {
            // An absent (null/blank) `level` gives way to the lifted one.
            ("level", _) => {}
            ("log.level", v) if !done && is_present(&v) => {
                fields.push(("level".to_string(), v));
                done = true;
            }
            ("log", Value::Object(mut m)) if !done && m.get("level").is_some_and(is_present) => {
                let level = m.shift_remove("level").unwrap_or(Value::Null);
                if !m.is_empty() {
                    fields.push((k, Value::Object(m)));
                }
                fields.push(("level".to_string(), level));
                done = true;
            }
            (_, v) => fields.push((k, v)),
        }
    }
    fields.into_iter().collect()
}

/// The actions of the bulk API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Index,
    Create,
    Update,
    Delete,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        match name {
            "index" => Some(Kind::Index),
            "create" => Some(Kind::Create),
            "update" => Some(Kind::Update),
            "delete" => Some(Kind::Delete),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Create => "create",
            Kind::Update => "update",
            Kind::Delete => "delete",
        }
    }
}

/// An action line `{"<name>":{"_index":…,"_id":…,…}}` (other metadata ignored).
struct ActionLine {
    name: String,
    meta: Meta,
}

#[derive(serde::Deserialize, Default)]
struct Meta {
    #[serde(rename = "_index", default)]
    index: Option<String>,
    #[serde(rename = "_id", default)]
    id: Option<Value>,
}

impl<'de> Deserialize<'de> for ActionLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ActionLine;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object with one action")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ActionLine, A::Error> {
                let Some(name) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "expected an action, found an empty object",
                    ));
                };
                let meta: Meta = map.next_value()?;
                if map.next_key::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("expected one action per line"));
                }
                Ok(ActionLine { name, meta })
            }
        }
        d.deserialize_map(V)
    }
}

/// How an action line was read.
enum Parsed {
    /// A known action with its `_index` and `_id`.
    Known(Kind, Option<String>, Option<String>),
    /// JSON of the right shape, but an action name that is not one of the four.
    Unknown(String),
    /// JSON but not an action line.
    Malformed(String),
    /// Not JSON at all.
    NotJson(serde_json::Error),
}

fn parse_action(line: &[u8]) -> Parsed {
    match serde_json::from_slice::<ActionLine>(line) {
        Ok(a) => {
            let Some(kind) = Kind::of(&a.name) else {
                return Parsed::Unknown(a.name);
            };
            let id = match a.meta.id {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(_) => return Parsed::Malformed("[_id] must be a string".into()),
            };
            Parsed::Known(kind, a.meta.index, id)
        }
        Err(e) if e.classify() == Category::Data => Parsed::Malformed(e.to_string()),
        Err(e) => Parsed::NotJson(e),
    }
}

/// Non-blank lines with their 1-based numbers.
fn lines(body: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
}

const ILLEGAL: &str = "illegal_argument_exception";

fn bad(
    action: &'static str,
    index: String,
    id: Option<String>,
    kind: &str,
    reason: String,
) -> Item {
    Item {
        action,
        index,
        id,
        status: 400,
        error: Some((kind.to_string(), reason)),
    }
}

/// Walks the body: calls `sink` once per action, in order, with the document of a stored one.
fn walk(
    body: &[u8],
    default_index: Option<&str>,
    build: bool,
    mut sink: impl FnMut(Item, Option<Record>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let default = default_index.unwrap_or("");
    // `Format::decode` strips a UTF-8 byte-order mark; the answer's second pass
    // (`items`, on the raw body) must read the same lines.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut it = lines(body).peekable();
    let mut first = true;
    while let Some((no, line)) = it.next() {
        let parsed = parse_action(line);
        if let (true, Parsed::NotJson(e)) = (first, &parsed) {
            return Err(json_error(line, Some(no), e));
        }
        first = false;
        let (kind, index, id) = match parsed {
            Parsed::Known(kind, index, id) => (kind, index.unwrap_or_else(|| default.into()), id),
            other => {
                let reason = match other {
                    Parsed::Unknown(name) => format!(
                        "Malformed action/metadata line [{no}], expected field [create], \
                         [delete], [index] or [update] but found [{name}]"
                    ),
                    Parsed::Malformed(d) => format!("Malformed action/metadata line [{no}]: {d}"),
                    Parsed::NotJson(e) => format!("Malformed action/metadata line [{no}]: {e}"),
                    Parsed::Known(..) => String::new(),
                };
                // Its source line, unless the next line is an action itself.
                if it
                    .peek()
                    .is_some_and(|(_, next)| !matches!(parse_action(next), Parsed::Known(..)))
                {
                    it.next();
                }
                sink(bad("index", default.into(), None, ILLEGAL, reason), None)?;
                continue;
            }
        };
        let action = kind.name();
        match kind {
            Kind::Delete | Kind::Update => {
                if kind == Kind::Update {
                    it.next();
                }
                let reason = format!(
                    "action [{action}] is not supported: LogOps only appends documents \
                     (use index or create)"
                );
                sink(bad(action, index, id, ILLEGAL, reason), None)?;
            }
            Kind::Index | Kind::Create => match it.next() {
                None => {
                    let reason = "Validation Failed: 1: source is missing;".to_string();
                    let kind = "action_request_validation_exception";
                    sink(bad(action, index, id, kind, reason), None)?;
                }
                Some((src_no, src)) => match document(src, build) {
                    Ok(rec) => {
                        let item = Item {
                            action,
                            index,
                            id,
                            status: 201,
                            error: None,
                        };
                        sink(item, rec)?;
                    }
                    Err(e) => {
                        let reason = format!(
                            "failed to parse: the document on line [{src_no}] is not a JSON \
                             object: {e}"
                        );
                        sink(
                            bad(action, index, id, "mapper_parsing_exception", reason),
                            None,
                        )?;
                    }
                },
            },
        }
    }
    if first {
        return Err(DecodeError::InvalidJson {
            line: Some(1),
            detail: "the bulk request body is empty".into(),
        });
    }
    Ok(())
}

/// A source line as a record (`build`), or only checked to be one: the
/// items of the answer need to know which documents were stored, not what
/// they hold, and skipping the values is several times cheaper.
fn document(src: &[u8], build: bool) -> Result<Option<Record>, serde_json::Error> {
    if build {
        return serde_json::from_slice::<Record>(src).map(Some);
    }
    serde_json::from_slice::<AnyObject>(src).map(|_| None)
}

/// Any JSON object, its members skipped.
struct AnyObject;

/// Any JSON value, skipped — through `deserialize_any`, so serde_json's
/// nesting limit applies exactly as when a [`Record`] is built (a document
/// one accepts, the other does too).
struct Skip;

struct SkipVisitor(bool);

impl<'de> serde::de::Visitor<'de> for SkipVisitor {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0 {
            "a JSON object"
        } else {
            "a JSON value"
        })
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        while m.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        if self.0 {
            return Err(serde::de::Error::invalid_type(
                serde::de::Unexpected::Seq,
                &self,
            ));
        }
        while s.next_element::<Skip>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(serde::de::Unexpected::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(serde::de::Unexpected::Signed(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(serde::de::Unexpected::Unsigned(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(serde::de::Unexpected::Float(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(serde::de::Unexpected::Str(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(serde::de::Unexpected::Unit)
    }
}

impl SkipVisitor {
    fn scalar<E: serde::de::Error>(self, what: serde::de::Unexpected<'_>) -> Result<(), E> {
        if self.0 {
            Err(E::invalid_type(what, &self))
        } else {
            Ok(())
        }
    }
}

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor(false)).map(|()| Skip)
    }
}

impl<'de> serde::Deserialize<'de> for AnyObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SkipVisitor(true)).map(|()| AnyObject)
    }
}

#[cfg(test)]
#[path = "es_bulk_tests.rs"]
mod tests;
