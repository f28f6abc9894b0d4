//! A log query compiled for scanning: what a stored line must satisfy.
//!
//! Checks run cheapest first, whatever order they were written in (they are
//! all conjunctions of pure tests, so the answer is the same): literal
//! substrings with a SIMD `memmem` on the raw line — also one per
//! `label="value"` matcher, whose compact `"label":"value"` must appear in a
//! line it matches — then regexes, then the field scan of labels and field
//! filters. Only lines that pass the prefilters are walked field by field.

use memchr::memmem::Finder;
use regex::bytes::Regex as BytesRegex;
use regex::Regex;

use super::line::{Fields, Raw};
use super::logql::{FieldOp, FieldValue, LineOp, LogQuery, MatchOp, Stage};

/// A regex in a query does not compile (or is too big).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid regex {pattern:?}: {reason}")]
pub struct RegexError {
    /// The pattern as written.
    pub pattern: String,
    /// Why it was refused.
    pub reason: String,
}

/// Compiled size limit of one regex (the `regex` crate's own guard against
/// patterns that would take unbounded memory to build).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

enum Test {
    Eq(String),
    Ne(String),
    Re(Regex),
    Nre(Regex),
    Num(FieldOp, f64),
}

struct Check {
    name: String,
    test: Test,
    /// A selector matcher (strings only) rather than a field filter.
    label: bool,
}

/// A compiled [`LogQuery`].
pub struct Filter {
    /// `|=` literals first (users type rare words), then the compact forms
    /// of `label="value"` matchers (labels have few values: weak filters).
    contains: Vec<Finder<'static>>,
    not_contains: Vec<Finder<'static>>,
    regexes: Vec<(BytesRegex, bool)>,
    checks: Vec<Check>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter").finish_non_exhaustive()
    }
}

fn regex(pattern: &str, anchored: bool) -> Result<Regex, RegexError> {
    let full = if anchored {
        format!("^(?:{pattern})$")
    } else {
        pattern.to_string()
    };
    regex::RegexBuilder::new(&full)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| RegexError {
            pattern: pattern.to_string(),
            reason: e.to_string(),
        })
}

/// Does `s` need escaping in JSON (so its compact form cannot be predicted)?
fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

impl Filter {
    /// Compiles `q`.
    ///
    /// # Errors
    /// A regex that does not compile or exceeds the size limit.
    pub fn new(q: &LogQuery) -> Result<Filter, RegexError> {
        let mut label_needles = Vec::new();
        let mut f = Filter {
            contains: Vec::new(),
            not_contains: Vec::new(),
            regexes: Vec::new(),
            checks: Vec::new(),
        };
        for m in &q.selector {
            let test = match m.op {
                MatchOp::Eq => {
                    if !m.value.is_empty() && plain(&m.name) && plain(&m.value) {
                        let needle = format!("\"{}\":\"{}\"", m.name, m.value);
                        label_needles.push(Finder::new(needle.as_bytes()).into_owned());
                    }
                    Test::Eq(m.value.clone())
                }
                MatchOp::Ne => Test::Ne(m.value.clone()),
                MatchOp::Re => Test::Re(regex(&m.value, true)?),
                MatchOp::Nre => Test::Nre(regex(&m.value, true)?),
            };
            f.checks.push(Check {
                name: m.name.clone(),
                test,
                label: true,
            });
        }
        for stage in &q.stages {
            match stage {
                Stage::Line(LineOp::Contains, s) => {
                    f.contains.push(Finder::new(s.as_bytes()).into_owned());
                }
                Stage::Line(LineOp::NotContains, s) => {
                    f.not_contains.push(Finder::new(s.as_bytes()).into_owned());
                }
                Stage::Line(op, s) => {
                    let re = regex(s, false)?;
                    let bytes = regex::bytes::RegexBuilder::new(re.as_str())
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| RegexError {
                            pattern: s.clone(),
                            reason: e.to_string(),
                        })?;
                    f.regexes.push((bytes, *op == LineOp::Matches));
                }
                Stage::Json => {}
                Stage::Field(ff) => {
                    let test = match (&ff.value, ff.op) {
                        (FieldValue::Str(s), FieldOp::Eq) => Test::Eq(s.clone()),
                        (FieldValue::Str(s), FieldOp::Ne) => Test::Ne(s.clone()),
                        (FieldValue::Str(s), FieldOp::Re) => Test::Re(regex(s, true)?),
                        (FieldValue::Str(s), FieldOp::Nre) => Test::Nre(regex(s, true)?),
                        (FieldValue::Str(s), op) => match s.parse::<f64>() {
                            Ok(n) => Test::Num(op, n),
                            Err(_) => {
                                return Err(RegexError {
                                    pattern: s.clone(),
                                    reason: "a numeric comparison needs a number".into(),
                                })
                            }
                        },
                        (FieldValue::Num(n), op) => Test::Num(op, *n),
                    };
                    f.checks.push(Check {
                        name: ff.name.clone(),
                        test,
                        label: false,
                    });
                }
            }
        }
        // Longest needles first: usually the rarest.
        f.contains
            .sort_by_key(|n| std::cmp::Reverse(n.needle().len()));
        Ok(f)
    }

    /// A literal every matching line contains (the longest `|=` one, else
    /// the longest label form), if any:
    /// scanners may search whole chunks for it and look only at the lines
    /// around its occurrences.
    pub fn required(&self) -> Option<&Finder<'static>> {
        self.contains.first().filter(|n| !n.needle().is_empty())
    }

    /// Does the stored `line` (without its `\n`) match?
    pub fn matches(&self, line: &[u8]) -> bool {
        if !self.contains.iter().all(|n| n.find(line).is_some())
            || self.not_contains.iter().any(|n| n.find(line).is_some())
            || !self
                .regexes
                .iter()
                .all(|(re, want)| re.is_match(line) == *want)
        {
            return false;
        }
        self.checks.iter().all(|c| {
            let value = Fields::new(line)
                .find(|(k, _)| super::line::key_is(k, &c.name))
                .map(|(_, v)| v);
            check(c, value)
        })
    }
}

fn check(c: &Check, value: Option<Raw<'_>>) -> bool {
    // A label is a top-level string field; anything else reads as absent ("").
    let value = match value {
        Some(Raw::Other(_)) if c.label => None,
        v => v,
    };
    let text = || value.map(|v| v.text()).unwrap_or_default();
    match &c.test {
        Test::Eq(s) => text() == s.as_str(),
        Test::Ne(s) => text() != s.as_str(),
        Test::Re(re) => re.is_match(&text()),
        Test::Nre(re) => !re.is_match(&text()),
        Test::Num(op, n) => {
            let Some(v) = value.and_then(|v| v.number()) else {
                return false;
            };
            match op {
                FieldOp::Gt => v > *n,
                FieldOp::Ge => v >= *n,
                FieldOp::Lt => v < *n,
                FieldOp::Le => v <= *n,
                FieldOp::Eq => v == *n,
                FieldOp::Ne => v != *n,
                FieldOp::Re | FieldOp::Nre => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::logql::{parse, Query};

    fn filter(q: &str) -> Filter {
        let Query::Logs(l) = parse(q).unwrap() else {
            panic!()
        };
        Filter::new(&l).unwrap()
    }

    const LINE: &[u8] = br#"{"ts":"2026-01-01T00:00:00Z","level":"ERROR","msg":"db timeout after 250 ms","emitter":"json","scenario_id":"na","service":"api","latency_ms":250,"nested":{"level":"INFO"}}"#;

    #[test]
    fn selectors_line_and_field_filters() {
        for (q, want) in [
            (r#"{}"#, true),
            (r#"{level="ERROR"}"#, true),
            (r#"{level="INFO"}"#, false),
            (r#"{level!="INFO", emitter=~"js.*"}"#, true),
            (r#"{emitter=~"js"}"#, false),
            (r#"{emitter!~"csv|json"}"#, false),
            (r#"{missing=""}"#, true),
            (r#"{latency_ms="250"}"#, false),
            (r#"{} |= "timeout" != "retry""#, true),
            (r#"{} |= "timeout" |= "nope""#, false),
            (r#"{} |~ "after \\d+ ms" !~ "^x""#, true),
            (r#"{} | json | latency_ms > 200 | service="api""#, true),
            (r#"{} | latency_ms >= 251"#, false),
            (r#"{} | latency_ms = 250"#, true),
            (r#"{} | latency_ms = "250""#, true),
            (r#"{} | service =~ "a.i""#, true),
            (r#"{} | msg > 5"#, false),
        ] {
            assert_eq!(filter(q).matches(LINE), want, "{q}");
        }
    }

    #[test]
    fn bad_and_huge_regexes_are_refused() {
        let Query::Logs(l) = parse(r#"{} |~ "(""#).unwrap() else {
            panic!()
        };
        assert!(Filter::new(&l).is_err());
        let Query::Logs(l) = parse(r#"{a=~"(a{1000}){1000}"}"#).unwrap() else {
            panic!()
        };
        let e = Filter::new(&l).unwrap_err();
        assert!(e.reason.contains("size limit"), "{e}");
    }
}
