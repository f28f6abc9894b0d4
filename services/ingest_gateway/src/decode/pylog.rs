//! Filling a Python logging template (`msg % args`) from the `repr` of the
//! argument tuple, as Python's `logging.handlers.HTTPHandler` sends them.
//!
//! Only what can be done exactly is done: the tuple must hold plain literals
//! (ints, floats, strings, `None`, `True`, `False`) and the template only
//! `%s %r %d %i %f %x %X %%` conversions (with optional `-`/`0`/`+` flags, width
//! and precision), one per argument. Anything else returns `None`, and the
//! caller keeps template and arguments as they came.

/// One literal of the tuple: its Python `repr` and, for strings, its value.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Int(i64, String),
    Float(f64, String),
    Str(String, String),
    Word(&'static str),
}

impl Lit {
    fn str_form(&self) -> String {
        match self {
            Lit::Int(_, r) | Lit::Float(_, r) => r.clone(),
            Lit::Str(v, _) => v.clone(),
            Lit::Word(w) => (*w).to_string(),
        }
    }

    fn repr(&self) -> String {
        match self {
            Lit::Int(_, r) | Lit::Float(_, r) | Lit::Str(_, r) => r.clone(),
            Lit::Word(w) => (*w).to_string(),
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Lit::Int(i, _) => Some(*i as f64),
            Lit::Float(f, _) => Some(*f),
            Lit::Word("True") => Some(1.0),
            Lit::Word("False") => Some(0.0),
            _ => None,
        }
    }
}

/// `template % args`, or `None` when it cannot be done exactly.
pub(super) fn fill(template: &str, args: &str) -> Option<String> {
    let args = parse_tuple(args.trim())?;
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = args.iter();
    let mut chars = template.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek().map(|(_, c)| *c) == Some('%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.left = true,
                '0' => spec.zero = true,
                '+' => spec.plus = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = digits(&mut chars);
        if chars.peek().map(|(_, c)| *c) == Some('.') {
            chars.next();
            spec.precision = Some(digits(&mut chars).unwrap_or(0));
        }
        let (_, conv) = chars.next()?;
        let arg = next.next()?;
        let text = convert(conv, arg, &spec)?;
        out.push_str(&pad(text, &spec));
    }
    next.next().is_none().then_some(out)
}

#[derive(Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

fn digits(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        n = Some(
            n.unwrap_or(0)
                .checked_mul(10)?
                .checked_add(v as usize)?
                .min(1000),
        );
        chars.next();
    }
    n
}

fn convert(conv: char, arg: &Lit, spec: &Spec) -> Option<String> {
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if spec.plus {
            "+"
        } else {
            ""
        }
    };
    Some(match conv {
        's' => truncate(arg.str_form(), spec.precision),
        'r' => truncate(arg.repr(), spec.precision),
        'd' | 'i' => {
            let v = arg.as_f64()?.trunc();
            format!("{}{}", sign(v < 0.0), v.abs() as i64)
        }
        'f' | 'F' => {
            let v = arg.as_f64()?;
            format!(
                "{}{:.*}",
                sign(v < 0.0),
                spec.precision.unwrap_or(6),
                v.abs()
            )
        }
        'x' | 'X' => {
            let Lit::Int(i, _) = arg else { return None };
            let hex = format!("{:x}", i.unsigned_abs());
            let hex = if conv == 'X' { hex.to_uppercase() } else { hex };
            format!("{}{hex}", sign(*i < 0))
        }
        _ => return None,
    })
}

fn truncate(s: String, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s,
    }
}

fn pad(text: String, spec: &Spec) -> String {
    let width = spec.width.unwrap_or(0);
    let len = text.chars().count();
    if len >= width {
        return text;
    }
    let fill = width - len;
    if spec.left {
        format!("{text}{}", " ".repeat(fill))
    } else if spec.zero
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.".contains(&b))
    {
        let (sign, digits) = text.split_at(usize::from(text.starts_with(['-', '+'])));
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

/// `(a, b)`, `(a,)`, `()` of plain literals.
fn parse_tuple(s: &str) -> Option<Vec<Lit>> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    let mut out = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (lit, after) = literal(rest)?;
        out.push(lit);
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if after.is_empty() => after,
            None => return None,
        };
    }
    // A one-element tuple's repr always has its trailing comma.
    (out.len() != 1 || inner.trim_end().ends_with(',')).then_some(out)
}

fn literal(s: &str) -> Option<(Lit, &str)> {
    for word in ["None", "True", "False"] {
        if let Some(rest) = s.strip_prefix(word) {
            if !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                return Some((Lit::Word(word), rest));
            }
        }
    }
    match s.chars().next()? {
        q @ ('\'' | '"') => string(s, q),
        _ => number(s),
    }
}

fn string(s: &str, quote: char) -> Option<(Lit, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                value.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' | '\'' | '"' => e,
                    _ => return None,
                });
            }
            c if c == quote => {
                let end = i + c.len_utf8();
                return Some((Lit::Str(value, s[..end].to_string()), &s[end..]));
            }
            c => value.push(c),
        }
    }
    None
}

fn number(s: &str) -> Option<(Lit, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
        .unwrap_or(s.len());
    let text = &s[..end];
    if let Ok(i) = text.parse::<i64>() {
        return Some((Lit::Int(i, text.to_string()), &s[end..]));
    }
    let f: f64 = text.parse().ok().filter(|f: &f64| f.is_finite())?;
    Some((Lit::Float(f, text.to_string()), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_what_python_would() {
        assert_eq!(
            fill("req %d failed", "(0,)").as_deref(),
            Some("req 0 failed")
        );
        assert_eq!(
            fill(
                "%s logged in from %s (%r) %.2f%%",
                "('alice', '10.0.0.1', 'x', 1.5)"
            )
            .as_deref(),
            Some("alice logged in from 10.0.0.1 ('x') 1.50%")
        );
        assert_eq!(
            fill("%05d|%-4s|%x", "(42, 'ab', 255)").as_deref(),
            Some("00042|ab  |ff")
        );
        assert_eq!(
            fill("%s %s %s", "(None, True, 2.0)").as_deref(),
            Some("None True 2.0")
        );
        assert_eq!(fill("no args", "()").as_deref(), Some("no args"));
        assert_eq!(
            fill("it's \"%s\"", r#"("a'b",)"#).as_deref(),
            Some("it's \"a'b\"")
        );
    }

    #[test]
    fn refuses_what_it_cannot_do_exactly() {
        for (t, a) in [
            ("%s", "(object(),)"),
            ("%s %s", "(1,)"),
            ("%s", "(1, 2)"),
            ("%(name)s", "({'name': 1},)"),
            ("%d", "('x',)"),
            ("%s", "(1)"),
            ("%s", "not a tuple"),
            ("%q", "(1,)"),
        ] {
            assert_eq!(fill(t, a), None, "{t} % {a}");
        }
    }
}
