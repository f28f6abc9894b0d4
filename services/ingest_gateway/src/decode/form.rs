//! `application/x-www-form-urlencoded`, what two kinds of senders mean by it:
//! - `curl -d '{"msg":"x"}'` sends JSON under the form type: a body whose first
//!   non-blank byte is `{` or `[` is decoded as JSON (and its errors are JSON
//!   errors), as the Python gateway accepted it;
//! - Python's `logging.handlers.HTTPHandler` sends the `LogRecord`'s fields as
//!   a form: the fields become one record. Its `msg` is the %-format template
//!   and `args` the `repr` of the argument tuple; when `args` is a tuple of
//!   plain literals the placeholders are filled (`pylog`), otherwise both are
//!   kept as they came. `levelname` and `created` are level and ts aliases.

use serde_json::Value;

use super::{json, pylog, DecodeError};
use crate::schema::Record;

/// Decodes a form body (or a JSON body sent as a form).
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        return json::decode(body, max);
    }
    let mut rec: Record = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    if rec.is_empty() {
        return Ok(Vec::new());
    }
    if let (Some(Value::String(template)), Some(Value::String(args))) =
        (rec.get("msg"), rec.get("args"))
    {
        if let Some(filled) = pylog::fill(template, args) {
            rec.insert("msg".into(), Value::String(filled));
        }
    }
    Ok(vec![rec])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_under_the_form_type_is_json() {
        let recs = decode(br#"{"msg":"x"}"#, 10).unwrap();
        assert_eq!(recs[0].to_value(), json!({"msg":"x"}));
        assert!(matches!(
            decode(b"{\"msg\":", 10),
            Err(DecodeError::InvalidJson { .. })
        ));
    }

    #[test]
    fn http_handler_fields_become_one_record_with_the_template_filled() {
        let body = b"name=app&msg=req+%25d+failed+for+alice%40example.com&args=%280%2C%29&levelname=ERROR&created=1796114263.2400463";
        let recs = decode(body, 10).unwrap();
        assert_eq!(
            recs[0].to_value(),
            json!({"name":"app","msg":"req 0 failed for alice@example.com","args":"(0,)","levelname":"ERROR","created":"1796114263.2400463"})
        );
        let body = b"msg=%25s+and+%25s&args=%28object%28%29%2C%29";
        let recs = decode(body, 10).unwrap();
        assert_eq!(recs[0]["msg"], "%s and %s");
        assert!(decode(b"", 10).unwrap().is_empty());
    }
}
