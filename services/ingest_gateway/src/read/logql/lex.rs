//! The LogQL tokenizer: identifiers, strings (`"…"` with escapes, `` `…` ``
//! raw), numbers and durations, punctuation — each with its byte position,
//! so the parser's errors can name line and column — and durations' values.

use super::parse::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(&'static str),
    End,
}

impl Tok {
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Num(n) => format!("`{n}`"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::End => "the end of the query".into(),
        }
    }
}

/// Longest first, so `|=` wins over `|`.
const PUNCTS: &[&str] = &[
    "|=", "|~", "!=", "!~", "=~", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",", "|", "=",
    ">", "<", "+",
];

/// An error at byte `pos` of `src`, as line and column.
pub(super) fn error_at(src: &str, pos: usize, message: String) -> ParseError {
    let before = &src[..pos.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ParseError { line, col, message }
}

/// The tokens of `src` with their byte positions, ending with [`Tok::End`].
pub(super) fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let mut toks = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'"' || c == b'`' {
            let (s, len) = string_literal(src, i)?;
            toks.push((Tok::Str(s), i));
            i += len;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let len = bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            toks.push((Tok::Ident(src[i..i + len].to_string()), i));
            i += len;
            continue;
        }
        if c.is_ascii_digit() || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let len = 1 + bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.' || **b == b'_')
                .count();
            toks.push((Tok::Num(src[i..i + len].to_string()), i));
            i += len;
            continue;
        }
        let Some(p) = PUNCTS.iter().find(|p| src[i..].starts_with(**p)) else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(error_at(src, i, format!("unexpected character `{ch}`")));
        };
        toks.push((Tok::Punct(p), i));
        i += p.len();
    }
    toks.push((Tok::End, src.len()));
    Ok(toks)
}

/// A `"…"` string (escapes `\" \\ \n \r \t \u{…}` and Go's `\uXXXX`) or a
/// `` `…` `` raw string starting at `start`; returns it and its length.
fn string_literal(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((out, i + 2));
        }
        if c != '\\' || quote == '`' {
            out.push(c);
            continue;
        }
        let bad = || error_at(src, start + 1 + i, "invalid escape in string".to_string());
        match chars.next().map(|(_, c)| c) {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let rest = &src[start + 1 + i + 2..];
                let (hex, used) = if let Some(body) = rest.strip_prefix('{') {
                    let end = body.find('}').ok_or_else(bad)?;
                    (&body[..end], end + 2)
                } else {
                    (rest.get(..4).ok_or_else(bad)?, 4)
                };
                let c = u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(bad)?;
                out.push(c);
                for _ in 0..used {
                    chars.next();
                }
            }
            _ => return Err(bad()),
        }
    }
    Err(error_at(src, start, "unterminated string".to_string()))
}

/// `5m`, `1h30m`, `250ms` → nanoseconds (`None` for anything else).
pub fn parse_duration(s: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 7 * 86_400_000_000_000,
            "y" => 365 * 86_400_000_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}
