//! `text/csv`: a header row, then one record per data row (RFC 4180 quoting).
//!
//! Columns are matched by name, case-insensitive and trimmed: the ts, level and
//! msg aliases of SPEC §2.2 are stored under their lower-case alias so the
//! normalizer finds them; every other column keeps its (trimmed) header name.
//! Empty cells are absent. Cells beyond the header get `column_<n>` names
//! (1-based), so ragged rows lose nothing. Bodies are decoded lossily.

use serde_json::Value;

use super::{push_limited, DecodeError, Record};
use crate::normalize::is_alias;

/// Decodes a CSV body.
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let text = String::from_utf8_lossy(body);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(DecodeError::InvalidCsv {
            line: Some(1),
            detail: "no header row".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&e))?
        .iter()
        .enumerate()
        .map(|(i, h)| column_name(h, i))
        .collect();
    let mut out = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e)),
        }
        if row.len() == 1 && row[0].trim().is_empty() {
            continue;
        }
        let mut rec = Record::new();
        for (i, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let name = header
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("column_{}", i + 1));
            rec.insert(name, Value::String(cell.to_string()));
        }
        push_limited(&mut out, rec, max)?;
    }
    Ok(out)
}

/// Header cell → field name: aliases lower-cased, others trimmed, blanks numbered.
fn column_name(header: &str, index: usize) -> String {
    let trimmed = header.trim();
    let lower = trimmed.to_ascii_lowercase();
    if trimmed.is_empty() {
        format!("column_{}", index + 1)
    } else if is_alias(&lower) {
        lower
    } else {
        trimmed.to_string()
    }
}

fn csv_error(e: &csv::Error) -> DecodeError {
    let line = e.position().map(|p| p.line() as usize);
    DecodeError::InvalidCsv {
        line,
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_by_name_quoting_and_extras() {
        let body = "Timestamp, LEVEL ,message,user\n\
                    2026-11-22T10:00:00Z,warn,\"a, \"\"quoted\"\"\nline\",bob,extra\n\
                    ,,only user,alice\n\n";
        let recs = decode(body.as_bytes(), 10).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[0].to_value(),
            json!({"timestamp":"2026-11-22T10:00:00Z","level":"warn","message":"a, \"quoted\"\nline","user":"bob","column_5":"extra"})
        );
        assert_eq!(
            recs[1].to_value(),
            json!({"message":"only user","user":"alice"})
        );
    }

    #[test]
    fn empty_body_has_no_header() {
        assert!(matches!(
            decode(b"", 10),
            Err(DecodeError::InvalidCsv { .. })
        ));
        assert!(decode(b"ts,msg\n", 10).unwrap().is_empty());
        assert_eq!(
            decode(b"msg\na\nb\nc\n", 2),
            Err(DecodeError::TooManyRecords { limit: 2 })
        );
    }
}
