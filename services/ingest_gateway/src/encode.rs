//! Encode: a normalized record → one compact NDJSON line, keys in SPEC §2.1
//! order: `ts`, `level`, `msg`, `emitter`, `scenario_id`, `ts_raw`/`level_raw`
//! when present, the other fields in input order, then the `*_enc` fields.
//! Lines are appended straight into the batch buffer: no intermediate `Value`.

use serde::Serialize;
use serde_json::Value;

use crate::normalize::{BatchContext, Normalized};

/// Appends `rec` (plus its `*_enc` tokens) as one line ending in `\n`.
pub fn write_line(
    buf: &mut Vec<u8>,
    rec: &Normalized,
    enc: &[(String, String)],
    ctx: &BatchContext<'_>,
) {
    buf.push(b'{');
    field(buf, "ts", rec.ts.as_str(), true);
    field(buf, "level", rec.level.as_str(), false);
    field(buf, "msg", rec.msg.as_str(), false);
    field(buf, "emitter", rec.emitter(ctx), false);
    field(buf, "scenario_id", rec.scenario_id(ctx), false);
    if let Some(raw) = &rec.ts_raw {
        field(buf, "ts_raw", raw, false);
    }
    if let Some(raw) = &rec.level_raw {
        field(buf, "level_raw", raw, false);
    }
    for (k, v) in &rec.fields {
        field::<Value>(buf, k, v, false);
    }
    for (k, v) in enc {
        field(buf, k, v.as_str(), false);
    }
    buf.extend_from_slice(b"}\n");
}

fn field<T: Serialize + ?Sized>(buf: &mut Vec<u8>, key: &str, value: &T, first: bool) {
    if !first {
        buf.push(b',');
    }
    // Writing JSON into a Vec<u8> cannot fail: strings and Values always serialize.
    let _ = serde_json::to_writer(&mut *buf, key);
    buf.push(b':');
    let _ = serde_json::to_writer(&mut *buf, value);
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
        };
        let Value::Object(m) = json!({"b":1,"level":"nope","ts":"bad","msg":"a\"\n","a":{"x":[1]}})
        else {
            unreachable!()
        };
        let n = normalize(m.into(), &ctx);
        let mut buf = Vec::new();
        write_line(&mut buf, &n, &[("msg_enc".into(), "tok".into())], &ctx);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\"ts\":\"2026-11-22T00:00:00.000Z\",\"level\":\"INFO\",\"msg\":\"a\\\"\\n\",\"emitter\":\"e\",\"scenario_id\":\"s\",\
             \"ts_raw\":\"bad\",\"level_raw\":\"nope\",\"b\":1,\"a\":{\"x\":[1]},\"msg_enc\":\"tok\"}\n"
        );
    }
}
