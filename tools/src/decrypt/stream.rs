//! NDJSON in, NDJSON out: each line with tokens is decrypted (or rotated),
//! every other line is copied byte for byte. Each problem is reported as
//! `<file>:<line>: <what>` and counted; the line is then written unchanged, so
//! nothing is ever dropped.

use std::io::{self, BufRead, Write};

use logops_gateway::pii::Crypt;
use serde_json::Value;

use super::{decrypt_record, has_tokens, rotate_record};

/// What a stream does to each record with tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Put the original values back and drop the token fields.
    Decrypt,
    /// Re-encrypt the tokens with the first key.
    Rotate,
}

/// Counts for one stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Non-blank lines read.
    pub records: u64,
    /// Tokens decrypted or rotated.
    pub tokens: u64,
    /// Problems reported (tokens that failed, lines that are not JSON objects).
    pub failures: u64,
}

/// Processes `input` (named `label` in reports) into `out`, reporting problems
/// to `report`.
///
/// # Errors
/// Reading `input` or writing `out`/`report` failed.
pub fn process(
    op: Op,
    mut input: impl BufRead,
    label: &str,
    crypt: &Crypt,
    out: &mut impl Write,
    report: &mut impl Write,
) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        let body = trim_line_end(&line);
        if body.iter().all(u8::is_ascii_whitespace) {
            out.write_all(&line)?;
            continue;
        }
        stats.records += 1;
        let mut record = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                writeln!(report, "{label}:{number}: not a JSON object")?;
                stats.failures += 1;
                out.write_all(&line)?;
                continue;
            }
            Err(e) => {
                writeln!(
                    report,
                    "{label}:{number}: not a JSON object (invalid JSON: {e})"
                )?;
                stats.failures += 1;
                out.write_all(&line)?;
                continue;
            }
        };
        if !has_tokens(&record) {
            out.write_all(&line)?;
            continue;
        }
        let outcome = match op {
            Op::Decrypt => {
                let (decrypted, outcome) = decrypt_record(&record, crypt);
                record = decrypted;
                outcome
            }
            Op::Rotate => rotate_record(&mut record, crypt),
        };
        for failure in &outcome.failed {
            writeln!(report, "{label}:{number}: {failure}")?;
        }
        stats.tokens += outcome.done as u64;
        stats.failures += outcome.failed.len() as u64;
        serde_json::to_writer(&mut *out, &record)?;
        if line.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(stats)
}

/// The line without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_file_and_line_and_copies_everything_else() {
        let crypt = Crypt::from_key_list(&Crypt::generate_key()).unwrap();
        let good = crypt.encrypt(b"bob@example.com");
        let input = format!(
            "{{\"msg\":\"plain\"}}\n\n[1,2]\n{{\"user_email\":\"b***@example.com\",\"user_email_enc\":\"{good}\"}}\n\
             {{\"msg\":\"m\",\"msg_enc\":\"garbage\"}}\nnot json\n{{\"msg\":\"last\"}}"
        );
        let (mut out, mut report) = (Vec::new(), Vec::new());
        let stats = process(
            Op::Decrypt,
            input.as_bytes(),
            "f.ndjson",
            &crypt,
            &mut out,
            &mut report,
        )
        .unwrap();
        assert_eq!(
            stats,
            Stats {
                records: 6,
                tokens: 1,
                failures: 3
            }
        );
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(lines[0], "{\"msg\":\"plain\"}");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "[1,2]");
        assert_eq!(lines[3], "{\"user_email\":\"bob@example.com\"}");
        assert_eq!(lines[4], "{\"msg\":\"m\",\"msg_enc\":\"garbage\"}");
        assert_eq!(lines[5], "not json");
        assert_eq!(lines[6], "{\"msg\":\"last\"}");
        let report = String::from_utf8(report).unwrap();
        let report: Vec<&str> = report.lines().collect();
        assert_eq!(report[0], "f.ndjson:3: not a JSON object");
        assert_eq!(report[1], "f.ndjson:5: field msg_enc: cannot decrypt");
        assert!(
            report[2].starts_with("f.ndjson:6: not a JSON object (invalid JSON"),
            "{}",
            report[2]
        );
    }
}
