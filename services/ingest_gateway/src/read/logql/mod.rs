//! The query language of reads (SPEC §9): the part of Grafana Loki's LogQL
//! that selects and counts stored lines — a stream selector over top-level
//! fields, line filters, `| json` and field filters, and the range
//! aggregations `count_over_time`, `rate`, `bytes_over_time` under `sum
//! [by (…)]` and `topk`.
//!
//! [`parse`] turns text into a [`Query`]; `Display` prints the canonical
//! text, and `parse(print(q)) == q` for every query (property-tested). What
//! LogQL has and LogOps does not (`logfmt`, `unwrap`, `avg`, `offset`, …) is
//! refused by name, never half-understood.

mod lex;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

pub use lex::parse_duration;
pub use parse::{parse, ParseError};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Lines: a selector and its pipeline.
    Logs(LogQuery),
    /// Numbers over time.
    Metric(MetricExpr),
    /// `vector(1)` (summed with `+`): a constant, what Grafana's data-source
    /// health check asks.
    Vector(f64),
}

/// `{selector} stage*`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogQuery {
    /// Label matchers, all of which must hold (`{}`: none).
    pub selector: Vec<Matcher>,
    /// Filters in the order written.
    pub stages: Vec<Stage>,
}

/// `name op "value"` in the selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The top-level field.
    pub name: String,
    /// How it is compared.
    pub op: MatchOp,
    /// The literal or the regex.
    pub value: String,
}

/// Selector operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~` (the regex matches the whole value, as in Loki)
    Re,
    /// `!~`
    Nre,
}

/// One pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// `|= "s"`, `!= "s"`, `|~ "re"`, `!~ "re"` on the stored line.
    Line(LineOp, String),
    /// `| json`: fields of the record become usable in field filters (they
    /// always are: the stored line is JSON; kept so Loki queries parse).
    Json,
    /// `| name op value`.
    Field(FieldFilter),
}

/// Line filter operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Matches,
    /// `!~`
    NotMatches,
}

/// `| name op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    /// The top-level field.
    pub name: String,
    /// The comparison.
    pub op: FieldOp,
    /// What it is compared with.
    pub value: FieldValue,
}

/// Field filter operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `=` (also written `==`)
    Eq,
    /// `!=`
    Ne,
    /// `=~`
    Re,
    /// `!~`
    Nre,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// The right-hand side of a field filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A quoted string.
    Str(String),
    /// A number (compared numerically).
    Num(f64),
}

/// A metric expression.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpr {
    /// `fn(log [range])`.
    Range {
        /// Which aggregation.
        func: RangeFn,
        /// The lines counted.
        query: LogQuery,
        /// The window, in nanoseconds.
        range_ns: u64,
    },
    /// `sum [by (labels)] (expr)`; `by: None` sums everything into one series.
    Sum {
        /// The grouping labels.
        by: Option<Vec<String>>,
        /// What is summed.
        inner: Box<MetricExpr>,
    },
    /// `topk(k, expr)`.
    Topk {
        /// How many series at each step.
        k: usize,
        /// What is ranked.
        inner: Box<MetricExpr>,
    },
}

/// Range aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    /// Lines in the window.
    CountOverTime,
    /// Lines per second over the window.
    Rate,
    /// Bytes of the lines in the window.
    BytesOverTime,
}

impl RangeFn {
    /// The LogQL name.
    pub fn name(self) -> &'static str {
        match self {
            RangeFn::CountOverTime => "count_over_time",
            RangeFn::Rate => "rate",
            RangeFn::BytesOverTime => "bytes_over_time",
        }
    }
}

impl MetricExpr {
    /// The log query at the bottom of the expression.
    pub fn log_query(&self) -> &LogQuery {
        match self {
            MetricExpr::Range { query, .. } => query,
            MetricExpr::Sum { inner, .. } | MetricExpr::Topk { inner, .. } => inner.log_query(),
        }
    }

    /// The window of the range aggregation, in nanoseconds.
    pub fn range_ns(&self) -> u64 {
        match self {
            MetricExpr::Range { range_ns, .. } => *range_ns,
            MetricExpr::Sum { inner, .. } | MetricExpr::Topk { inner, .. } => inner.range_ns(),
        }
    }
}

/// Writes `s` as a double-quoted LogQL string.
fn quote(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// A duration in its largest exact unit (`90s`, `5m`, `1500ms`).
pub fn format_duration(ns: u64) -> String {
    const UNITS: [(&str, u64); 7] = [
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    for (unit, size) in UNITS {
        if ns > 0 && ns.is_multiple_of(size) {
            return format!("{}{unit}", ns / size);
        }
    }
    "0s".to_string()
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::Logs(q) => q.fmt(f),
            Query::Metric(m) => m.fmt(f),
            Query::Vector(v) => write!(f, "vector({v})"),
        }
    }
}

impl fmt::Display for LogQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.selector.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let op = match m.op {
                MatchOp::Eq => "=",
                MatchOp::Ne => "!=",
                MatchOp::Re => "=~",
                MatchOp::Nre => "!~",
            };
            write!(f, "{}{op}", m.name)?;
            quote(f, &m.value)?;
        }
        f.write_str("}")?;
        for stage in &self.stages {
            match stage {
                Stage::Line(op, s) => {
                    let op = match op {
                        LineOp::Contains => "|=",
                        LineOp::NotContains => "!=",
                        LineOp::Matches => "|~",
                        LineOp::NotMatches => "!~",
                    };
                    write!(f, " {op} ")?;
                    quote(f, s)?;
                }
                Stage::Json => f.write_str(" | json")?,
                Stage::Field(ff) => {
                    let op = match ff.op {
                        FieldOp::Eq => "=",
                        FieldOp::Ne => "!=",
                        FieldOp::Re => "=~",
                        FieldOp::Nre => "!~",
                        FieldOp::Gt => ">",
                        FieldOp::Ge => ">=",
                        FieldOp::Lt => "<",
                        FieldOp::Le => "<=",
                    };
                    write!(f, " | {} {op} ", ff.name)?;
                    match &ff.value {
                        FieldValue::Str(s) => quote(f, s)?,
                        FieldValue::Num(n) => write!(f, "{n}")?,
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for MetricExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpr::Range {
                func,
                query,
                range_ns,
            } => write!(
                f,
                "{}({query} [{}])",
                func.name(),
                format_duration(*range_ns)
            ),
            MetricExpr::Sum { by: None, inner } => write!(f, "sum({inner})"),
            MetricExpr::Sum {
                by: Some(by),
                inner,
            } => write!(f, "sum by ({}) ({inner})", by.join(", ")),
            MetricExpr::Topk { k, inner } => write!(f, "topk({k}, {inner})"),
        }
    }
}
