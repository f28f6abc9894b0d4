//! The LogQL parser: a tokenizer and a recursive descent over the grammar
//!
//! ```text
//! query   := metric | log | vector ('+' vector)*
//! log     := '{' [matcher (',' matcher)*] '}' stage*
//! matcher := ident ('=' | '!=' | '=~' | '!~') string
//! stage   := ('|=' | '!=' | '|~' | '!~') string | '|' 'json' | '|' ident cmp (string | number)
//! metric  := range_fn '(' log '[' duration ']' ')'
//!          | 'sum' [by] '(' metric ')' [by] | 'topk' '(' int ',' metric ')'
//! by      := 'by' '(' ident (',' ident)* ')'
//! ```
//!
//! Errors name the line and column and what was expected there.

use super::lex::{error_at, parse_duration, tokenize, Tok};
use super::{
    FieldFilter, FieldOp, FieldValue, LineOp, LogQuery, MatchOp, Matcher, MetricExpr, Query,
    RangeFn, Stage,
};

/// A query that does not parse (or uses what LogOps does not support).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse error at line {line}, col {col}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub col: usize,
    /// What went wrong ("expected …, found …", "… is not supported").
    pub message: String,
}

/// The longest query accepted (bytes).
const MAX_QUERY_BYTES: usize = 64 * 1024;
/// The deepest nesting of metric expressions accepted.
const MAX_DEPTH: usize = 32;

/// LogQL words LogOps knows but does not implement: refused by name.
const UNSUPPORTED: &[&str] = &[
    "logfmt",
    "pattern",
    "regexp",
    "unpack",
    "line_format",
    "label_format",
    "unwrap",
    "decolorize",
    "drop",
    "keep",
    "avg",
    "min",
    "max",
    "count",
    "stddev",
    "stdvar",
    "bottomk",
    "sort",
    "sort_desc",
    "without",
    "offset",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "quantile_over_time",
    "first_over_time",
    "last_over_time",
    "absent_over_time",
    "bytes_rate",
    "rate_counter",
    "stddev_over_time",
    "stdvar_over_time",
    "label_replace",
    "ip",
    "or",
    "and",
    "unless",
];

/// Is `word` a LogQL word LogOps refuses?
pub(crate) fn is_unsupported(word: &str) -> bool {
    UNSUPPORTED.contains(&word)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

/// Parses a LogQL query.
///
/// # Errors
/// [`ParseError`] naming where and what was expected, or the unsupported construct.
pub fn parse(src: &str) -> Result<Query, ParseError> {
    if src.len() > MAX_QUERY_BYTES {
        return Err(error_at(
            src,
            0,
            format!("query longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let toks = tokenize(src)?;
    let mut p = Parser {
        src,
        toks,
        at: 0,
        depth: 0,
    };
    let q = p.query()?;
    p.expect_end()?;
    Ok(q)
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }

    fn peek2(&self) -> &Tok {
        &self.toks[(self.at + 1).min(self.toks.len() - 1)].0
    }

    fn bump(&mut self) -> Tok {
        let t = self.toks[self.at].0.clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn err(&self, message: String) -> ParseError {
        error_at(self.src, self.toks[self.at].1, message)
    }

    fn expected(&self, what: &str) -> ParseError {
        if let Tok::Ident(w) = self.peek() {
            if is_unsupported(w) {
                return self.err(format!("`{w}` is not supported by LogOps"));
            }
        }
        self.err(format!("expected {what}, found {}", self.peek().describe()))
    }

    fn punct(&mut self, p: &'static str) -> Result<(), ParseError> {
        if *self.peek() == Tok::Punct(p) {
            self.bump();
            Ok(())
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        match self.bump() {
            Tok::Str(s) => Ok(s),
            _ => {
                self.at -= 1;
                Err(self.expected("a string"))
            }
        }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        match self.peek() {
            Tok::End => Ok(()),
            _ => Err(self.expected("the end of the query")),
        }
    }

    fn query(&mut self) -> Result<Query, ParseError> {
        match self.peek() {
            Tok::Punct("{") => Ok(Query::Logs(self.log()?)),
            Tok::Ident(w) if w == "vector" => self.vector_sum(),
            Tok::Ident(_) => Ok(Query::Metric(self.metric()?)),
            _ => Err(self.expected("`{` or a metric function")),
        }
    }

    fn vector_sum(&mut self) -> Result<Query, ParseError> {
        let mut total = 0.0;
        loop {
            self.bump();
            self.punct("(")?;
            total += self.number()?;
            self.punct(")")?;
            if *self.peek() != Tok::Punct("+") {
                return Ok(Query::Vector(total));
            }
            self.bump();
            if *self.peek() != Tok::Ident("vector".into()) {
                return Err(self.expected("`vector`"));
            }
        }
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        match self.peek() {
            Tok::Num(n) => match n.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    self.bump();
                    Ok(v)
                }
                _ => Err(self.expected("a number")),
            },
            _ => Err(self.expected("a number")),
        }
    }

    fn log(&mut self) -> Result<LogQuery, ParseError> {
        self.punct("{")?;
        let mut selector = Vec::new();
        if *self.peek() != Tok::Punct("}") {
            loop {
                let name = self.ident("a label name")?;
                let op = match self.bump() {
                    Tok::Punct("=") => MatchOp::Eq,
                    Tok::Punct("!=") => MatchOp::Ne,
                    Tok::Punct("=~") => MatchOp::Re,
                    Tok::Punct("!~") => MatchOp::Nre,
                    _ => {
                        self.at -= 1;
                        return Err(self.expected("`=`, `!=`, `=~` or `!~`"));
                    }
                };
                let value = self.string()?;
                selector.push(Matcher { name, op, value });
                if *self.peek() == Tok::Punct(",") {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        self.punct("}")?;
        let mut stages = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Punct("|=") => LineOp::Contains,
                Tok::Punct("!=") => LineOp::NotContains,
                Tok::Punct("|~") => LineOp::Matches,
                Tok::Punct("!~") => LineOp::NotMatches,
                Tok::Punct("|") => {
                    self.bump();
                    stages.push(self.pipe_stage()?);
                    continue;
                }
                _ => return Ok(LogQuery { selector, stages }),
            };
            self.bump();
            stages.push(Stage::Line(op, self.string()?));
        }
    }

    fn pipe_stage(&mut self) -> Result<Stage, ParseError> {
        if *self.peek() == Tok::Ident("json".into()) {
            self.bump();
            if matches!(self.peek(), Tok::Ident(_) | Tok::Str(_)) {
                return Err(self.err("`| json` with parameters is not supported by LogOps".into()));
            }
            return Ok(Stage::Json);
        }
        let Tok::Ident(name) = self.peek().clone() else {
            return Err(self.expected("`json` or a field filter"));
        };
        let op = match self.peek2() {
            Tok::Punct("=" | "==") => FieldOp::Eq,
            Tok::Punct("!=") => FieldOp::Ne,
            Tok::Punct("=~") => FieldOp::Re,
            Tok::Punct("!~") => FieldOp::Nre,
            Tok::Punct(">") => FieldOp::Gt,
            Tok::Punct(">=") => FieldOp::Ge,
            Tok::Punct("<") => FieldOp::Lt,
            Tok::Punct("<=") => FieldOp::Le,
            _ if is_unsupported(&name) => {
                return Err(self.err(format!("`{name}` is not supported by LogOps")))
            }
            _ => {
                self.bump();
                return Err(
                    self.expected("a comparison (`=`, `!=`, `=~`, `!~`, `>`, `>=`, `<`, `<=`)")
                );
            }
        };
        let name = self.ident("a field name")?;
        self.bump();
        let value = match (self.peek().clone(), op) {
            (Tok::Str(s), _) => {
                self.bump();
                FieldValue::Str(s)
            }
            (Tok::Num(_), FieldOp::Re | FieldOp::Nre) => return Err(self.expected("a string")),
            (Tok::Num(_), _) => FieldValue::Num(self.number()?),
            _ => return Err(self.expected("a string or a number")),
        };
        Ok(Stage::Field(FieldFilter { name, op, value }))
    }

    fn metric(&mut self) -> Result<MetricExpr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("expression nested deeper than {MAX_DEPTH}")));
        }
        let Tok::Ident(word) = self.peek().clone() else {
            return Err(self.expected("a metric function"));
        };
        let expr = match word.as_str() {
            "count_over_time" | "rate" | "bytes_over_time" => {
                let func = match word.as_str() {
                    "count_over_time" => RangeFn::CountOverTime,
                    "rate" => RangeFn::Rate,
                    _ => RangeFn::BytesOverTime,
                };
                self.bump();
                self.punct("(")?;
                let query = self.log()?;
                self.punct("[")?;
                let range_ns = match self.peek() {
                    Tok::Num(d) => parse_duration(d).filter(|n| *n > 0),
                    _ => None,
                }
                .ok_or_else(|| self.expected("a duration (`5m`, `30s`, `1h`)"))?;
                self.bump();
                self.punct("]")?;
                if *self.peek() == Tok::Ident("offset".into()) {
                    return Err(self.expected("`)`"));
                }
                self.punct(")")?;
                MetricExpr::Range {
                    func,
                    query,
                    range_ns,
                }
            }
            "sum" => {
                self.bump();
                let mut by = self.grouping()?;
                self.punct("(")?;
                let inner = Box::new(self.metric()?);
                self.punct(")")?;
                if by.is_none() {
                    by = self.grouping()?;
                }
                MetricExpr::Sum { by, inner }
            }
            "topk" => {
                self.bump();
                self.punct("(")?;
                let k = self.number()?;
                if k < 1.0 || k.fract() != 0.0 || k > 10_000.0 {
                    self.at -= 1;
                    return Err(self.expected("a whole number from 1 to 10000"));
                }
                self.punct(",")?;
                let inner = Box::new(self.metric()?);
                self.punct(")")?;
                MetricExpr::Topk {
                    k: k as usize,
                    inner,
                }
            }
            _ => {
                return Err(
                    self.expected("`count_over_time`, `rate`, `bytes_over_time`, `sum` or `topk`")
                )
            }
        };
        self.depth -= 1;
        Ok(expr)
    }

    /// `by (a, b)`, if present (`without` is refused by name).
    fn grouping(&mut self) -> Result<Option<Vec<String>>, ParseError> {
        if *self.peek() != Tok::Ident("by".into()) {
            if *self.peek() == Tok::Ident("without".into()) {
                return Err(self.expected("`by`"));
            }
            return Ok(None);
        }
        self.bump();
        self.punct("(")?;
        let mut labels = Vec::new();
        if *self.peek() != Tok::Punct(")") {
            loop {
                labels.push(self.ident("a label name")?);
                if *self.peek() != Tok::Punct(",") {
                    break;
                }
                self.bump();
            }
        }
        self.punct(")")?;
        Ok(Some(labels))
    }
}
