//! A parser for the subset of the Alloy configuration syntax that
//! `infra/docker/alloy/config.alloy` uses: blocks (`name.sub "label" { ... }`),
//! attributes (`key = value`), strings (quoted and raw), numbers, booleans,
//! `null`, lists, objects and references (`loki.write.default.receiver`),
//! with `//` and `/* */` comments.
//!
//! There is no Alloy binary on the test machines, so this is what "the file
//! parses" means for Alloy here: a syntax error (unbalanced braces, a missing
//! comma in an object, an unterminated string) fails the test with its line.

use std::fmt;

/// One statement of a block body.
#[derive(Debug, Clone)]
pub enum Node {
    /// `name.sub "label" { body }`
    Block {
        /// Dotted block name, e.g. `stage.json`.
        name: String,
        /// The optional quoted label, e.g. `"logops"`.
        label: Option<String>,
        /// Statements inside the braces.
        body: Vec<Node>,
    },
    /// `key = value`
    Attr {
        /// Attribute name.
        name: String,
        /// Its value.
        value: Expr,
    },
}

/// A value expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A string literal (escapes resolved).
    Str(String),
    /// A number literal, as written.
    Num(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ key = value, "quoted key" = value }`, in order.
    Object(Vec<(String, Expr)>),
    /// A dotted reference to another component's export.
    Ref(String),
}

/// A syntax error with its 1-based line.
#[derive(Debug)]
pub struct ParseError {
    /// Line of the offending token.
    pub line: usize,
    /// What was wrong.
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(char),
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line) = (0, 1);
    let mut out = Vec::new();
    let err = |line, msg: &str| ParseError {
        line,
        msg: msg.to_string(),
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let start = line;
                i += 2;
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated /* comment")),
                        Some('*') if chars.get(i + 1) == Some(&'/') => {
                            i += 2;
                            break;
                        }
                        Some('\n') => line += 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
            '"' => {
                let start = line;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None | Some('\n') => return Err(err(start, "unterminated string")),
                        Some('"') => break,
                        Some('\\') => {
                            i += 1;
                            match chars.get(i) {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                Some('r') => s.push('\r'),
                                Some('\\') => s.push('\\'),
                                Some('"') => s.push('"'),
                                _ => return Err(err(line, "unknown escape in string")),
                            }
                        }
                        Some(&c) => s.push(c),
                    }
                    i += 1;
                }
                i += 1;
                out.push((Tok::Str(s), start));
            }
            '`' => {
                let start = line;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated raw string")),
                        Some('`') => break,
                        Some(&c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            s.push(c);
                        }
                    }
                    i += 1;
                }
                i += 1;
                out.push((Tok::Str(s), start));
            }
            '{' | '}' | '[' | ']' | '=' | ',' | '.' => {
                out.push((Tok::Punct(c), line));
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((Tok::Ident(chars[start..i].iter().collect()), line));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push((Tok::Num(chars[start..i].iter().collect()), line));
            }
            other => return Err(err(line, &format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |(_, l)| *l)
    }

    fn fail<T>(&self, msg: &str) -> Result<T, ParseError> {
        Err(ParseError {
            line: self.line(),
            msg: format!("{msg} (found {:?})", self.peek()),
        })
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(t, _)| t.clone());
        self.pos += 1;
        t
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => self.fail("expected a name"),
        }
    }

    fn dotted(&mut self) -> Result<String, ParseError> {
        let mut name = self.ident()?;
        while self.eat('.') {
            name.push('.');
            name.push_str(&self.ident()?);
        }
        Ok(name)
    }

    /// Statements until `}` (inside a block) or the end of input.
    fn body(&mut self, nested: bool) -> Result<Vec<Node>, ParseError> {
        let mut nodes = Vec::new();
        loop {
            match self.peek() {
                None if nested => return self.fail("missing closing '}'"),
                None => return Ok(nodes),
                Some(Tok::Punct('}')) if nested => {
                    self.pos += 1;
                    return Ok(nodes);
                }
                _ => nodes.push(self.statement()?),
            }
        }
    }

    fn statement(&mut self) -> Result<Node, ParseError> {
        let name = self.dotted()?;
        if self.eat('=') {
            if name.contains('.') {
                return self.fail(&format!("attribute name {name:?} contains a dot"));
            }
            let value = self.expr()?;
            return Ok(Node::Attr { name, value });
        }
        let label = match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        };
        if !self.eat('{') {
            return self.fail(&format!("expected '=' or '{{' after {name:?}"));
        }
        let body = self.body(true)?;
        Ok(Node::Block { name, label, body })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Ident(id)) => match id.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "null" => Ok(Expr::Null),
                _ => {
                    let mut name = id;
                    while self.eat('.') {
                        name.push('.');
                        name.push_str(&self.ident()?);
                    }
                    Ok(Expr::Ref(name))
                }
            },
            Some(Tok::Punct('[')) => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    items.push(self.expr()?);
                    if !self.eat(',') && self.peek() != Some(&Tok::Punct(']')) {
                        return self.fail("expected ',' or ']' in list");
                    }
                }
                Ok(Expr::List(items))
            }
            Some(Tok::Punct('{')) => {
                let mut fields = Vec::new();
                while !self.eat('}') {
                    let key = match self.next() {
                        Some(Tok::Ident(s)) | Some(Tok::Str(s)) => s,
                        _ => {
                            self.pos -= 1;
                            return self.fail("expected an object key");
                        }
                    };
                    if !self.eat('=') {
                        return self.fail("expected '=' after object key");
                    }
                    fields.push((key, self.expr()?));
                    if !self.eat(',') && self.peek() != Some(&Tok::Punct('}')) {
                        return self.fail("expected ',' or '}' in object");
                    }
                }
                Ok(Expr::Object(fields))
            }
            _ => {
                self.pos -= 1;
                self.fail("expected a value")
            }
        }
    }
}

/// Parses a whole Alloy file into its top-level statements.
pub fn parse(src: &str) -> Result<Vec<Node>, ParseError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
    };
    p.body(false)
}

/// Every block named `name` (any label), searched recursively.
pub fn blocks<'a>(nodes: &'a [Node], name: &str) -> Vec<(&'a Option<String>, &'a [Node])> {
    let mut out = Vec::new();
    for n in nodes {
        if let Node::Block {
            name: n_name,
            label,
            body,
        } = n
        {
            if n_name == name {
                out.push((label, body.as_slice()));
            }
            out.extend(blocks(body, name));
        }
    }
    out
}

/// The attribute `name` directly inside `body`.
pub fn attr<'a>(body: &'a [Node], name: &str) -> Option<&'a Expr> {
    body.iter().find_map(|n| match n {
        Node::Attr { name: a, value } if a == name => Some(value),
        _ => None,
    })
}

/// Keys of an object attribute (`values = { app = "", ... }`).
pub fn object_keys(e: Option<&Expr>) -> Vec<String> {
    match e {
        Some(Expr::Object(fields)) => fields.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_attrs_and_values() {
        let src = r#"
            // comment
            a.b "x" { k = [1, "s", c.d.e,] /* c */ o = { "p q" = true, r = null } }
        "#;
        let nodes = parse(src).unwrap();
        let found = blocks(&nodes, "a.b");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.as_deref(), Some("x"));
        assert_eq!(
            attr(found[0].1, "k"),
            Some(&Expr::List(vec![
                Expr::Num("1".into()),
                Expr::Str("s".into()),
                Expr::Ref("c.d.e".into())
            ]))
        );
        assert_eq!(object_keys(attr(found[0].1, "o")), vec!["p q", "r"]);
    }

    #[test]
    fn reports_syntax_errors_with_line() {
        let missing_comma = "a {\n  o = { x = \"1\"\n y = \"2\" }\n}";
        assert_eq!(parse(missing_comma).unwrap_err().line, 3);
        assert!(parse("a { b = 1").is_err());
        assert!(parse("a { b = \"x }").is_err());
        assert!(parse("a.b = 1").is_err());
    }
}
