//! `application/x-ndjson` (and `jsonl`/`ndjson`): one JSON object per line;
//! blank lines are skipped; errors name the 1-based line, and `invalid_records`
//! lists the 1-based line numbers of lines that are JSON but not objects.

use super::json::{json_error, Element};
use super::{push_limited, DecodeError, MAX_INVALID_INDICES};
use crate::schema::Record;

/// Decodes an NDJSON body.
pub(super) fn decode(body: &[u8], max: usize) -> Result<Vec<Record>, DecodeError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut bad_count = 0usize;
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let element: Element =
            serde_json::from_slice(line).map_err(|e| json_error(line, Some(line_no), &e))?;
        match element {
            Element::Object(rec) => push_limited(&mut out, rec, max)?,
            Element::Other => {
                bad_count += 1;
                if bad.len() < MAX_INVALID_INDICES {
                    bad.push(line_no);
                }
            }
        }
    }
    if bad_count > 0 {
        return Err(DecodeError::InvalidRecords {
            indices: bad,
            count: bad_count,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_blank_lines_and_errors() {
        let recs = decode(b"{\"msg\":\"a\"}\n\n  \r\n{\"msg\":\"b\"}\r\n", 10).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(
            decode(b"{\"a\":1}\n{oops\n", 10),
            Err(DecodeError::InvalidJson {
                line: Some(2),
                detail: "key must be a string at line 1 column 2".into()
            })
        );
        assert_eq!(
            decode(b"{}\n\xff\n", 10),
            Err(DecodeError::InvalidUtf8 { line: Some(2) })
        );
        assert_eq!(
            decode(b"{}\n[1]\n{}\n3\n", 10),
            Err(DecodeError::InvalidRecords {
                indices: vec![2, 4],
                count: 2
            })
        );
        assert_eq!(
            decode(b"{}\n{}\n{}\n", 2),
            Err(DecodeError::TooManyRecords { limit: 2 })
        );
    }
}
