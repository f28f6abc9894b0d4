//! Small assertions and builders shared by the black-box tests: record keys,
//! value text, NDJSON bodies, the `levels` map of a response.

use serde_json::Value;

/// The keys of a JSON object, in order (empty for non-objects).
pub fn keys_of(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// A value as text: strings as-is, anything else as compact JSON. For fields whose
/// JSON type the contract leaves open (a pid may be `"77"` or `77`).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One compact JSON object per line, newline-terminated.
pub fn to_ndjson(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// `levels[level]` of a success response, 0 when absent.
pub fn level_count(resp: &Value, level: &str) -> u64 {
    resp["levels"]
        .get(level)
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// Asserts the response's `levels` map has exactly these non-zero counts.
///
/// # Panics
/// With the response if a count differs or an unexpected level has a count.
pub fn assert_levels(resp: &Value, expected: &[(&str, u64)]) {
    for (level, n) in expected {
        assert_eq!(level_count(resp, level), *n, "levels[{level}] in {resp}");
    }
    if let Some(map) = resp["levels"].as_object() {
        for (k, v) in map {
            let want = expected.iter().find(|(l, _)| l == k).map_or(0, |(_, n)| *n);
            assert_eq!(v.as_u64(), Some(want), "levels[{k}] in {resp}");
        }
    } else {
        panic!("response has no levels object: {resp}");
    }
}

/// Asserts the first five keys are the fixed head of SPEC §2.1.
///
/// # Panics
/// With the record if they are not.
pub fn assert_head(rec: &Value) {
    assert_eq!(
        keys_of(rec).get(..5),
        Some(&["ts", "level", "msg", "emitter", "scenario_id"][..]),
        "record head keys: {rec}"
    );
}

/// Keys of `rec` after the fixed head (ts, level, msg, emitter, scenario_id),
/// asserting the head first.
pub fn tail_keys(rec: &Value) -> Vec<&str> {
    assert_head(rec);
    keys_of(rec)[5..].to_vec()
}

impl crate::Gateway {
    /// Posts `records` as one JSON array to `/v1/logs` with `headers` (plus the
    /// JSON content type); asserts a 200 accepting all of them and exactly that
    /// many new lines on disk. Returns the response JSON and every record stored
    /// so far.
    pub fn ingest_records(
        &self,
        headers: &[(&str, &str)],
        records: &[Value],
    ) -> (Value, Vec<Value>) {
        let before = self.stored_lines().len();
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        let body = Value::from(records.to_vec()).to_string();
        let r = self.post("/v1/logs", &h, body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text);
        let j = r.json();
        assert_eq!(j["accepted"], records.len(), "{j}");
        let stored = self.stored_records();
        assert_eq!(stored.len(), before + records.len(), "new lines on disk");
        (j, stored)
    }
}
