//! `text/plain`: syslog-style lines, one record per non-blank line.
//!
//! Each line is tried as RFC 5424, then RFC 3164, then the simple
//! `YYYY-MM-DD HH:MM:SS LEVEL host app[pid]: msg` form, and otherwise kept whole
//! as `msg` (a leading level word also sets the level). The parsers are small
//! hand-written scanners: no regex, no allocation beyond the output fields.
//! Bodies are decoded lossily (invalid UTF-8 becomes U+FFFD), as SPEC §1 says.

use serde_json::Value;

use super::{push_limited, DecodeError};
use crate::schema::datetime::{is_bsd_timestamp, scan_iso};
use crate::schema::level::is_level_word;
use crate::schema::Record;

/// Decodes a text body.
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        push_limited(&mut out, parse_line(line), max)?;
    }
    Ok(out)
}

/// Parses one line into a raw record (`ts`, `level`, `msg`, `host`, …).
pub fn parse_line(line: &str) -> Record {
    let line = line.trim();
    let mut rec = Record::new();
    if !(rfc5424(line, &mut rec) || rfc3164(line, &mut rec) || simple(line, &mut rec)) {
        rec.clear();
        free_text(line, &mut rec);
    }
    rec
}

fn put(rec: &mut Record, key: &str, value: &str) {
    if !value.is_empty() && value != "-" {
        rec.insert(key.to_string(), Value::String(value.to_string()));
    }
}

/// `<PRI>` at the start: (severity, rest).
fn pri(line: &str) -> Option<(u8, &str)> {
    let rest = line.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u16 = digits.parse().ok()?;
    (value <= 191).then_some(((value % 8) as u8, &rest[end + 1..]))
}

/// Splits off the first space-delimited token.
fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    if s.is_empty() {
        return None;
    }
    Some(match s.find(' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    })
}

fn rfc5424(line: &str, rec: &mut Record) -> bool {
    let Some((sev, rest)) = pri(line) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("1 ") else {
        return false;
    };
    let mut fields = [""; 5];
    let mut rest = rest;
    for f in fields.iter_mut() {
        let Some((tok, r)) = token(rest) else {
            return false;
        };
        *f = tok;
        rest = r;
    }
    let Some((sd, msg)) = structured_data(rest) else {
        return false;
    };
    put(rec, "ts", fields[0]);
    rec.insert("level".into(), Value::from(sev));
    put(rec, "host", fields[1]);
    put(rec, "app", fields[2]);
    put(rec, "procid", fields[3]);
    put(rec, "msgid", fields[4]);
    put(rec, "sd", sd);
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    rec.insert("msg".into(), Value::String(msg.to_string()));
    true
}

/// `-` or `[id k="v"]...`: (structured data, message).
fn structured_data(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('-') {
        return match rest.strip_prefix(' ') {
            Some(msg) => Some(("-", msg)),
            None if rest.is_empty() => Some(("-", "")),
            None => None,
        };
    }
    if !s.starts_with('[') {
        return None;
    }
    let bytes = s.as_bytes();
    let (mut in_quotes, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b']' if !in_quotes && bytes.get(i + 1) != Some(&b'[') => {
                let msg = &s[i + 1..];
                return Some((&s[..=i], msg.strip_prefix(' ').unwrap_or(msg)));
            }
            _ => {}
        }
    }
    None
}

fn rfc3164(line: &str, rec: &mut Record) -> bool {
    let (sev, rest) = match pri(line) {
        Some((sev, rest)) => (Some(sev), rest),
        None => (None, line),
    };
    if rest.len() < 16
        || !rest.is_char_boundary(15)
        || !is_bsd_timestamp(&rest[..15])
        || !rest[15..].starts_with(' ')
    {
        return false;
    }
    let ts = &rest[..15];
    let Some((host, rest)) = token(&rest[16..]) else {
        return false;
    };
    put(rec, "ts", ts);
    if let Some(sev) = sev {
        rec.insert("level".into(), Value::from(sev));
    }
    put(rec, "host", host);
    let msg = match tag(rest, false) {
        Some((app, pid, msg)) => {
            put(rec, "app", app);
            put(rec, "procid", pid);
            msg
        }
        None => rest,
    };
    rec.insert("msg".into(), Value::String(msg.to_string()));
    true
}

/// `APP[PID]: msg` or `APP: msg` → (app, pid, msg). `require_pid` for the simple form.
fn tag(s: &str, require_pid: bool) -> Option<(&str, &str, &str)> {
    let (head, msg) = match s.split_once(' ') {
        Some((h, m)) => (h, m),
        None => (s, ""),
    };
    let head = head.strip_suffix(':')?;
    let (app, pid) = match head.split_once('[') {
        Some((app, pid)) => {
            let pid = pid.strip_suffix(']')?;
            (app, pid)
        }
        None if require_pid => return None,
        None => (head, ""),
    };
    let app_ok = !app.is_empty() && !app.contains([':', ']']);
    let pid_ok = pid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (app_ok && pid_ok && (!require_pid || !pid.is_empty())).then_some((app, pid, msg))
}

/// Length of a leading date-time of the shared grammar, followed by a space or the end.
fn iso_prefix_len(s: &str) -> Option<usize> {
    let len = scan_iso(s.as_bytes())?.len;
    (len == s.len() || s.as_bytes()[len] == b' ').then_some(len)
}

fn simple(line: &str, rec: &mut Record) -> bool {
    let Some(len) = iso_prefix_len(line) else {
        return false;
    };
    put(rec, "ts", &line[..len]);
    let mut rest = line[len..].trim_start();
    if let Some((word, after)) = split_level_word(rest) {
        put(rec, "level", word);
        rest = after;
    }
    if let Some((host, after)) = token(rest) {
        if let Some((app, pid, msg)) = tag(after, true) {
            put(rec, "host", host);
            put(rec, "app", app);
            put(rec, "pid", pid);
            rest = msg;
        }
    }
    rec.insert("msg".into(), Value::String(rest.to_string()));
    true
}

/// A leading level word (`ERROR`, `[warn]`, `Info:`) → (word, rest of the line).
pub fn split_level_word(s: &str) -> Option<(&str, &str)> {
    let (tok, rest) = token(s)?;
    let word = tok.trim_end_matches(':');
    let word = word
        .strip_prefix('[')
        .and_then(|w| w.strip_suffix(']'))
        .unwrap_or(word);
    is_level_word(word).then_some((word, rest.trim_start()))
}

/// SPEC §2.3.4: the whole line is the message; a leading level word also
/// sets the level, and stays in `msg` (so `WARN` alone is not an empty
/// message, and `msg_enc` holds the line as sent).
fn free_text(line: &str, rec: &mut Record) {
    if let Some((word, _)) = split_level_word(line) {
        put(rec, "level", word);
    }
    rec.insert("msg".into(), Value::String(line.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(line: &str) -> Value {
        parse_line(line).to_value()
    }

    #[test]
    fn rfc5424() {
        assert_eq!(
            rec("<165>1 2026-11-22T10:00:00.123Z web-1 nginx 4242 ID47 - GET / from 10.0.0.1"),
            json!({"ts":"2026-11-22T10:00:00.123Z","level":5,"host":"web-1","app":"nginx","procid":"4242","msgid":"ID47","msg":"GET / from 10.0.0.1"})
        );
        let r = rec(r#"<11>1 - - app - - [ex@1 a="x\]y" b="z"][m@2 c="d"] boom"#);
        assert_eq!(r["sd"], r#"[ex@1 a="x\]y" b="z"][m@2 c="d"]"#);
        assert_eq!(r["msg"], "boom");
        assert_eq!(r["level"], 3);
        assert!(r.get("ts").is_none());
    }

    #[test]
    fn rfc3164() {
        assert_eq!(
            rec("<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed"),
            json!({"ts":"Oct 11 22:14:15","level":2,"host":"mymachine","app":"su","procid":"123","msg":"'su root' failed"})
        );
        assert_eq!(
            rec("Nov  2 01:02:03 host cron: job done"),
            json!({"ts":"Nov  2 01:02:03","host":"host","app":"cron","msg":"job done"})
        );
    }

    #[test]
    fn simple_form() {
        assert_eq!(
            rec("2026-11-22 10:00:00 WARN web-1 api[77]: slow request"),
            json!({"ts":"2026-11-22 10:00:00","level":"WARN","host":"web-1","app":"api","pid":"77","msg":"slow request"})
        );
        assert_eq!(
            rec("2026-11-22T10:00:00.5+01:00 error disk full"),
            json!({"ts":"2026-11-22T10:00:00.5+01:00","level":"error","msg":"disk full"})
        );
        assert_eq!(
            rec("2026-11-22T10:00:00+01 zone hours only"),
            json!({"ts":"2026-11-22T10:00:00+01","msg":"zone hours only"})
        );
        assert_eq!(
            rec("2026-11-22 10:00:00 just text"),
            json!({"ts":"2026-11-22 10:00:00","msg":"just text"})
        );
    }

    #[test]
    fn free_text_and_level_word() {
        assert_eq!(rec("hello world"), json!({"msg":"hello world"}));
        assert_eq!(
            rec("ERROR: it broke"),
            json!({"level":"ERROR","msg":"ERROR: it broke"})
        );
        assert_eq!(
            rec("[warn] careful"),
            json!({"level":"warn","msg":"[warn] careful"})
        );
        assert_eq!(rec("WARN"), json!({"level":"WARN","msg":"WARN"}));
        assert_eq!(rec("<999>1 nonsense"), json!({"msg":"<999>1 nonsense"}));
    }

    #[test]
    fn decode_skips_blank_lines_and_is_lossy() {
        let recs = decode(b"a\r\n\r\n  \nb \xff\n", 10).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1]["msg"], "b \u{fffd}");
        assert_eq!(
            decode(b"a\nb\nc\n", 2),
            Err(DecodeError::TooManyRecords { limit: 2 })
        );
    }
}
