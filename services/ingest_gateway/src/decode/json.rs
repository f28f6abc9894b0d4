//! `application/json`: one object, an array of objects, or OTLP/HTTP JSON
//! (an object with a `resourceLogs` key, see [`super::otlp`]).

use serde_json::Value;

use super::{otlp, push_limited, DecodeError, Record, MAX_INVALID_INDICES};

/// Decodes a JSON body.
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let root: Value = serde_json::from_slice(body).map_err(|e| json_error(body, None, &e))?;
    match root {
        Value::Object(map) if map.contains_key("resourceLogs") => otlp::decode(map, max),
        Value::Object(map) => Ok(vec![map]),
        Value::Array(items) => array_of_objects(items, max),
        other => Err(DecodeError::NotObjectOrArray {
            kind: kind_of(&other),
        }),
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

fn array_of_objects(items: Vec<Value>, max: usize) -> Result<Vec<Record>, DecodeError> {
    if items.len() > max {
        return Err(DecodeError::TooManyRecords { limit: max });
    }
    let bad: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_object())
        .map(|(i, _)| i)
        .collect();
    if !bad.is_empty() {
        let count = bad.len();
        let indices = bad.into_iter().take(MAX_INVALID_INDICES).collect();
        return Err(DecodeError::InvalidRecords { indices, count });
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Value::Object(map) = item {
            push_limited(&mut out, map, max)?;
        }
    }
    Ok(out)
}

/// A short name for a JSON value's type, for error messages.
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
            decode(b"{", 10),
            Err(DecodeError::InvalidJson { .. })
        ));
        assert!(matches!(
            decode(b"{\"a\":\"\xff\"}", 10),
            Err(DecodeError::InvalidUtf8 { .. })
        ));
        assert_eq!(
            decode(br#"[{"a":1}, 2, "x", {"b":2}]"#, 10),
            Err(DecodeError::InvalidRecords {
                indices: vec![1, 2],
                count: 2
            })
        );
        assert_eq!(
            decode(br#"[{},{},{}]"#, 2),
            Err(DecodeError::TooManyRecords { limit: 2 })
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let body = "[".repeat(100_000);
        assert!(matches!(
            decode(body.as_bytes(), 10),
            Err(DecodeError::InvalidJson { .. })
        ));
    }
}
