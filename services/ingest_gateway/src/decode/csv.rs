//! `text/csv`: a header row, then one record per data row (RFC 4180 quoting).
//!
//! Columns are matched by name, case-insensitive and trimmed: the ts, level and
//! msg aliases of SPEC §2.2 are stored under their lower-case alias so the
//! normalizer finds them; every other column keeps its (trimmed) header name.
//! Empty cells are absent. Cells beyond the header get `column_<n>` names
//! (1-based), so ragged rows lose nothing. Bodies are decoded lossily.

use std::cell::Cell;

use csv_core::{ReadRecordResult, Reader};
use serde_json::Value;

use super::{push_limited, DecodeError};
use crate::schema::{is_alias, Record};

thread_local! {
    /// The RFC 4180 parser, built once per thread and `reset()` between bodies:
    /// building its DFA per request was ~5 % of the CSV profile. (A clone of a
    /// built `csv_core::Reader` does not parse correctly, so it is reused, not cloned.)
    static PARSER: Cell<Option<Reader>> = const { Cell::new(None) };
}

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
    let mut rows = Rows::new(text.as_bytes());
    let header: Vec<String> = match rows.next_row() {
        Some(cells) => cells.enumerate().map(|(i, h)| column_name(h, i)).collect(),
        None => {
            return Err(DecodeError::InvalidCsv {
                line: Some(1),
                detail: "no header row".into(),
            })
        }
    };
    let mut out = Vec::new();
    while let Some(cells) = rows.next_row() {
        let mut rec = Record::new();
        let (mut blank, mut ncells) = (true, 0);
        for (i, cell) in cells.enumerate() {
            blank &= cell.trim().is_empty();
            ncells += 1;
            if cell.is_empty() {
                continue;
            }
            let name = header
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("column_{}", i + 1));
            rec.insert(name, Value::String(cell.to_string()));
        }
        if blank && ncells <= 1 {
            continue;
        }
        push_limited(&mut out, rec, max)?;
    }
    Ok(out)
}

/// Row-by-row reader over a whole body, reusing its output buffers.
struct Rows<'a> {
    parser: Reader,
    input: &'a [u8],
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl<'a> Rows<'a> {
    fn new(input: &'a [u8]) -> Self {
        let parser = PARSER
            .with(Cell::take)
            .unwrap_or_else(|| csv_core::ReaderBuilder::new().build());
        Rows {
            parser,
            input,
            out: vec![0; 4096],
            ends: vec![0; 64],
        }
    }

    /// The next row's cells (the body is valid UTF-8, and unquoting keeps it so).
    fn next_row(&mut self) -> Option<impl Iterator<Item = &str> + '_> {
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            let (res, nin, nout, nend) = self.parser.read_record(
                self.input,
                &mut self.out[outlen..],
                &mut self.ends[endlen..],
            );
            self.input = &self.input[nin..];
            outlen += nout;
            endlen += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.out.resize(self.out.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return None,
            }
        }
        let (out, ends) = (&self.out[..outlen], &self.ends[..endlen]);
        Some((0..endlen).map(move |i| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            std::str::from_utf8(&out[start..ends[i]]).unwrap_or("")
        }))
    }
}

impl Drop for Rows<'_> {
    /// Hands the parser back to the thread for the next body.
    fn drop(&mut self) {
        let mut parser = std::mem::take(&mut self.parser);
        parser.reset();
        PARSER.with(|slot| slot.set(Some(parser)));
    }
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
