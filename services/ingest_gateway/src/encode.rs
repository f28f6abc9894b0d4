//! Encode: a normalized record → one compact NDJSON line, keys in SPEC §2.1
//! order: `ts`, `level`, `msg`, `emitter`, `scenario_id`, `tenant` (not for
//! the default tenant), `ts_raw`/`level_raw`
//! when present, the other fields in input order, then the `*_enc` fields.
//! Lines are appended straight into the batch buffer: no intermediate `Value`.

use serde::Serialize;
use serde_json::Value;

use crate::normalize::{BatchContext, Normalized};

/// The `*_enc` tokens of one record, written after its fields: names
/// borrowed (made once per pipeline), the token text in one buffer reused
/// from record to record, so encrypting allocates nothing per token.
#[derive(Debug, Default)]
pub struct Tokens<'n> {
    text: String,
    items: Vec<(&'n str, usize, usize)>,
}

impl<'n> Tokens<'n> {
    /// Forgets the tokens, keeping the buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.items.clear();
    }

    /// Adds the token `name`, its text appended to the buffer by `write`.
    pub fn push_with(&mut self, name: &'n str, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.items.push((name, start, self.text.len()));
    }

    /// The (name, token) pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'n str, &str)> + '_ {
        self.items
            .iter()
            .map(|&(name, start, end)| (name, &self.text[start..end]))
    }

    /// Is `name` one of the tokens' names?
    pub fn has(&self, name: &str) -> bool {
        self.items.iter().any(|(n, _, _)| *n == name)
    }

    /// No tokens?
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Appends `rec` (plus its `*_enc` tokens) as one line ending in `\n`.
pub fn write_line(buf: &mut Vec<u8>, rec: &Normalized, enc: &Tokens<'_>, ctx: &BatchContext<'_>) {
    buf.push(b'{');
    str_field(buf, "ts", &rec.ts, true);
    str_field(buf, "level", rec.level.as_str(), false);
    str_field(buf, "msg", &rec.msg, false);
    str_field(buf, "emitter", rec.emitter(ctx), false);
    str_field(buf, "scenario_id", rec.scenario_id(ctx), false);
    if let Some(tenant) = ctx.tenant {
        str_field(buf, "tenant", tenant, false);
    }
    if let Some(raw) = &rec.ts_raw {
        field(buf, "ts_raw", raw, false);
    }
    if let Some(raw) = &rec.level_raw {
        field(buf, "level_raw", raw, false);
    }
    for (k, v) in &rec.fields {
        match v {
            Value::String(s) => str_field(buf, k, s, false),
            other => field(buf, k, other, false),
        }
    }
    for (k, v) in enc.iter() {
        str_field(buf, k, v, false);
    }
    buf.extend_from_slice(b"}\n");
}

fn field<T: Serialize + ?Sized>(buf: &mut Vec<u8>, key: &str, value: &T, first: bool) {
    if !first {
        buf.push(b',');
    }
    write_str(buf, key);
    buf.push(b':');
    // Writing JSON into a Vec<u8> cannot fail: strings and Values always serialize.
    let _ = serde_json::to_writer(&mut *buf, value);
}

fn str_field(buf: &mut Vec<u8>, key: &str, value: &str, first: bool) {
    if !first {
        buf.push(b',');
    }
    write_str(buf, key);
    buf.push(b':');
    write_str(buf, value);
}

/// A JSON string. Most strings need no escaping: they are copied in one go
/// after a branch-free scan (which the compiler vectorizes); only the others
/// go through serde_json's byte-by-byte escaper.
fn write_str(buf: &mut Vec<u8>, s: &str) {
    let plain = !s.bytes().fold(false, |needs, b| {
        needs | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *buf, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{normalize, BatchContext};
    use serde_json::json;

    #[test]
    fn key_order_and_escaping() {
        let ctx = BatchContext {
            emitter: "e",
            scenario_id: "s",
            received: "2026-11-22T00:00:00.000Z",
            year: 2026,
            tenant: None,
            defaults: &[],
        };
        let Value::Object(m) = json!({"b":1,"level":"nope","ts":"bad","msg":"a\"\n","a":{"x":[1]}})
        else {
            unreachable!()
        };
        let n = normalize(m.into(), &ctx);
        let mut buf = Vec::new();
        let mut enc = Tokens::default();
        enc.push_with("msg_enc", |t| t.push_str("tok"));
        write_line(&mut buf, &n, &enc, &ctx);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\"ts\":\"2026-11-22T00:00:00.000Z\",\"level\":\"INFO\",\"msg\":\"a\\\"\\n\",\"emitter\":\"e\",\"scenario_id\":\"s\",\
             \"ts_raw\":\"bad\",\"level_raw\":\"nope\",\"b\":1,\"a\":{\"x\":[1]},\"msg_enc\":\"tok\"}\n"
        );
    }

    proptest::proptest! {
        /// The fast path writes exactly what serde_json writes.
        #[test]
        fn strings_match_serde_json(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
            let mut buf = Vec::new();
            write_str(&mut buf, &s);
            proptest::prop_assert_eq!(String::from_utf8(buf).unwrap(), serde_json::to_string(&s).unwrap());
        }
    }
}
