//! Reading a stored line without parsing it: its `ts` (always the first
//! field, in the normalized `YYYY-MM-DDTHH:MM:SS[.f]Z` form) and its
//! top-level fields, walked by a small scanner that skips values instead of
//! building them. Queries touch every line of a scan; a full JSON parse per
//! line would cost more than reading the file.

use std::borrow::Cow;

/// A top-level value as it appears in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw<'a> {
    /// A string: the bytes between the quotes, still escaped.
    Str(&'a [u8]),
    /// Anything else (number, literal, object, array), verbatim.
    Other(&'a [u8]),
}

impl<'a> Raw<'a> {
    /// The value as text: a string unescaped (only when it has escapes),
    /// anything else as written.
    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            Raw::Str(b) if !b.contains(&b'\\') => String::from_utf8_lossy(b),
            Raw::Str(b) => {
                let mut quoted = Vec::with_capacity(b.len() + 2);
                quoted.push(b'"');
                quoted.extend_from_slice(b);
                quoted.push(b'"');
                serde_json::from_slice::<String>(&quoted).map_or_else(
                    |_| String::from_utf8_lossy(b).into_owned().into(),
                    Cow::Owned,
                )
            }
            Raw::Other(b) => String::from_utf8_lossy(b),
        }
    }

    /// The value as a number: a JSON number, or a string holding one.
    pub fn number(&self) -> Option<f64> {
        let b = match *self {
            Raw::Str(b) | Raw::Other(b) => b,
        };
        std::str::from_utf8(b).ok()?.trim().parse().ok()
    }
}

/// Nanoseconds since the Unix epoch of the line's leading `"ts"`, `None`
/// when the line does not start with one in the normalized form.
pub fn ts_nanos(line: &[u8]) -> Option<i64> {
    let rest = line.strip_prefix(b"{\"ts\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    parse_ts(&rest[..end])
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` → Unix nanoseconds.
pub fn parse_ts(b: &[u8]) -> Option<i64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut frac_ns = 0i64;
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let mut scale = 100_000_000i64;
        while i < b.len() && b[i].is_ascii_digit() {
            frac_ns += i64::from(b[i] - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    if i + 1 != b.len() || b[i] != b'Z' {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + frac_ns)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The value of top-level field `name` (an unescaped key) in `line`.
pub fn field<'a>(line: &'a [u8], name: &str) -> Option<Raw<'a>> {
    Fields::new(line)
        .find(|(k, _)| key_is(k, name))
        .map(|(_, v)| v)
}

/// Does the raw (escaped) key `k` spell `name`?
pub fn key_is(k: &[u8], name: &str) -> bool {
    if k.contains(&b'\\') {
        Raw::Str(k).text() == name
    } else {
        k == name.as_bytes()
    }
}

/// The top-level (key, value) pairs of a JSON object line, in order. Stops
/// (yields nothing more) at anything that is not a well-formed object.
pub struct Fields<'a> {
    b: &'a [u8],
    i: usize,
    done: bool,
}

impl<'a> Fields<'a> {
    /// Scans `line` (one stored record, with or without its `\n`).
    pub fn new(line: &'a [u8]) -> Self {
        let mut f = Fields {
            b: line,
            i: 0,
            done: false,
        };
        f.ws();
        if f.b.get(f.i) == Some(&b'{') {
            f.i += 1;
        } else {
            f.done = true;
        }
        f
    }

    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    /// The string starting at `i` (on its `"`): its inner bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        loop {
            let k = memchr::memchr2(b'"', b'\\', &self.b[j..])? + j;
            if self.b[k] == b'\\' {
                j = k + 2;
                if j > self.b.len() {
                    return None;
                }
            } else {
                self.i = k + 1;
                return Some(&self.b[start..k]);
            }
        }
    }

    /// Skips one value at `i`, returning its bytes.
    fn value(&mut self) -> Option<Raw<'a>> {
        match self.b.get(self.i)? {
            b'"' => self.string().map(Raw::Str),
            b'{' | b'[' => {
                let start = self.i;
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(Raw::Other(&self.b[start..self.i]));
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                None
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len() && !matches!(self.b[self.i], b',' | b'}' | b']') {
                    self.i += 1;
                }
                let v = self.b[start..self.i].trim_ascii_end();
                (!v.is_empty()).then_some(Raw::Other(v))
            }
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], Raw<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = (|| {
            self.ws();
            if self.b.get(self.i) == Some(&b',') {
                self.i += 1;
                self.ws();
            }
            let key = self.string()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            self.ws();
            let value = self.value()?;
            Some((key, value))
        })();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ts_of_normalized_lines() {
        assert_eq!(
            ts_nanos(br#"{"ts":"1970-01-01T00:00:01Z","level":"INFO"}"#),
            Some(1_000_000_000)
        );
        assert_eq!(
            ts_nanos(br#"{"ts":"2026-01-01T00:00:00.030485Z"}"#),
            Some(1_767_225_600_030_485_000)
        );
        assert_eq!(ts_nanos(br#"{"level":"INFO"}"#), None);
        assert_eq!(ts_nanos(br#"{"ts":"2026-13-01T00:00:00Z"}"#), None);
        assert_eq!(
            parse_ts(b"2026-01-01T00:00:00.5Z"),
            Some(1_767_225_600_500_000_000)
        );
    }

    #[test]
    fn fields_in_order_with_nesting_and_escapes() {
        let line = br#"{"ts":"x","msg":"a \"q\" }","n":-1.5e3,"o":{"a":[1,{"b":"]"}]},"k\u0041":true , "z":null}"#;
        let got: Vec<(String, String)> = Fields::new(line)
            .map(|(k, v)| (Raw::Str(k).text().into_owned(), v.text().into_owned()))
            .collect();
        assert_eq!(
            got,
            [
                ("ts".into(), "x".into()),
                ("msg".into(), "a \"q\" }".into()),
                ("n".into(), "-1.5e3".into()),
                ("o".into(), r#"{"a":[1,{"b":"]"}]}"#.into()),
                ("kA".into(), "true".into()),
                ("z".into(), "null".into()),
            ]
        );
        assert_eq!(field(line, "kA"), Some(Raw::Other(b"true")));
        assert_eq!(field(line, "n").and_then(|v| v.number()), Some(-1500.0));
        assert_eq!(field(b"not json", "a"), None);
        assert_eq!(Fields::new(br#"{"a":"unterminated"#).count(), 0);
    }

    proptest::proptest! {
        /// The scanner agrees with serde_json on every top-level field of any object.
        #[test]
        fn agrees_with_serde_json(v in proptest::collection::btree_map("\\PC{0,6}", proptest::prop_oneof![
            proptest::arbitrary::any::<String>().prop_map(serde_json::Value::from),
            proptest::arbitrary::any::<i64>().prop_map(serde_json::Value::from),
            proptest::arbitrary::any::<bool>().prop_map(serde_json::Value::from),
            proptest::collection::vec(proptest::arbitrary::any::<String>(), 0..3).prop_map(|v| serde_json::json!({"in": v})),
        ], 0..6)) {
            let line = serde_json::to_vec(&v).unwrap();
            let got: Vec<(String, String)> = Fields::new(&line)
                .map(|(k, raw)| (Raw::Str(k).text().into_owned(), raw.text().into_owned()))
                .collect();
            let want: Vec<(String, String)> = v.iter().map(|(k, val)| (k.clone(), match val {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })).collect();
            prop_assert_eq!(got, want);
        }
    }
}
