//! `application/json`: one object, an array of objects, or OTLP/HTTP JSON
//! (an object with a `resourceLogs` key, see [`super::otlp`]).
//!
//! The body is deserialized straight into [`Record`]s (no intermediate
//! `Value` tree for the array or the records' top level); elements that are
//! not objects are skipped over and reported as `invalid_records`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{otlp, DecodeError, MAX_INVALID_INDICES};
use crate::schema::Record;

/// Decodes a JSON body.
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let root: Root = serde_json::from_slice(body).map_err(|e| json_error(body, None, &e))?;
    match root {
        Root::Object(rec) if rec.contains_key("resourceLogs") => otlp::decode(rec.into_map(), max),
        Root::Object(rec) => Ok(vec![rec]),
        Root::Array(items) => array_of_objects(items, max),
        Root::Scalar(kind) => Err(DecodeError::NotObjectOrArray { kind }),
    }
}

/// A parse error, told apart as `invalid_utf8` or `invalid_json`. serde_json
/// validates UTF-8 inside every string it accepts (and any other non-ASCII
/// byte is a syntax error), so a body that parses is valid UTF-8 and the
/// UTF-8 scan is only needed on this error path.
pub(super) fn json_error(bytes: &[u8], line: Option<usize>, e: &serde_json::Error) -> DecodeError {
    if std::str::from_utf8(bytes).is_err() {
        DecodeError::InvalidUtf8 { line }
    } else {
        DecodeError::InvalidJson {
            line,
            detail: e.to_string(),
        }
    }
}

fn array_of_objects(items: Vec<Element>, max: usize) -> Result<Vec<Record>, DecodeError> {
    if items.len() > max {
        return Err(DecodeError::TooManyRecords { limit: max });
    }
    let bad: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Element::Other))
        .map(|(i, _)| i)
        .collect();
    if !bad.is_empty() {
        let count = bad.len();
        let indices = bad.into_iter().take(MAX_INVALID_INDICES).collect();
        return Err(DecodeError::InvalidRecords { indices, count });
    }
    Ok(items
        .into_iter()
        .filter_map(|e| match e {
            Element::Object(r) => Some(r),
            Element::Other => None,
        })
        .collect())
}

/// The root of a JSON body.
enum Root {
    Object(Record),
    Array(Vec<Element>),
    Scalar(&'static str),
}

/// An array element or an NDJSON line: an object, or anything else (skipped).
pub(super) enum Element {
    Object(Record),
    Other,
}

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RootVisitor)
    }
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct RootVisitor;

impl<'de> Visitor<'de> for RootVisitor {
    type Value = Root;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Root, A::Error> {
        Record::from_map_access(map).map(Root::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Root, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(4096));
        while let Some(e) = seq.next_element::<Element>()? {
            items.push(e);
        }
        Ok(Root::Array(items))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Root, E> {
        Ok(Root::Scalar("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Root, E> {
        Ok(Root::Scalar("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Root, E> {
        Ok(Root::Scalar("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Root, E> {
        Ok(Root::Scalar("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Root, E> {
        Ok(Root::Scalar("a string"))
    }
    fn visit_unit<E>(self) -> Result<Root, E> {
        Ok(Root::Scalar("null"))
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element, A::Error> {
        Record::from_map_access(map).map(Element::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Element, E> {
        Ok(Element::Other)
    }
    fn visit_unit<E>(self) -> Result<Element, E> {
        Ok(Element::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_array_and_errors() {
        assert_eq!(decode(br#"{"msg":"a"}"#, 10).unwrap().len(), 1);
        assert_eq!(
            decode(br#"[{"msg":"a"},{"msg":"b"}]"#, 10).unwrap().len(),
            2
        );
        assert_eq!(decode(b"[]", 10).unwrap().len(), 0);
        assert!(matches!(
            decode(b"42", 10),
            Err(DecodeError::NotObjectOrArray { .. })
        ));
        assert!(matches!(
            decode(b"\"x\"", 10),
            Err(DecodeError::NotObjectOrArray { .. })
        ));
        assert!(matches!(
            decode(b"null", 10),
            Err(DecodeError::NotObjectOrArray { kind: "null" })
        ));
        assert!(matches!(
            decode(b"{", 10),
            Err(DecodeError::InvalidJson { .. })
        ));
        assert!(matches!(
            decode(b"{\"a\":\"\xff\"}", 10),
            Err(DecodeError::InvalidUtf8 { .. })
        ));
        assert_eq!(
            decode(br#"[{"a":1}, 2, "x", {"b":2}, [1, [2]], null]"#, 10),
            Err(DecodeError::InvalidRecords {
                indices: vec![1, 2, 4, 5],
                count: 4
            })
        );
        assert_eq!(
            decode(br#"[{},{},{}]"#, 2),
            Err(DecodeError::TooManyRecords { limit: 2 })
        );
        assert!(matches!(
            decode(b"[1] x", 10),
            Err(DecodeError::InvalidJson { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let body = "[".repeat(100_000);
        assert!(matches!(
            decode(body.as_bytes(), 10),
            Err(DecodeError::InvalidJson { .. })
        ));
        let body = format!("[{}", "{\"a\":".repeat(100_000));
        assert!(matches!(
            decode(body.as_bytes(), 10),
            Err(DecodeError::InvalidJson { .. })
        ));
    }
}
