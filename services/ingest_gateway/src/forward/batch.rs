//! One insert's worth of a day file: whole lines from an offset, at most
//! `rows` lines and `bytes` bytes (a single longer line is sent alone), and
//! gzip for the stores that want it. The batch is a byte range; its body is
//! encoded once by the store, so a retry resends the same bytes.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use bytes::Bytes;
use flate2::write::GzEncoder;

/// A byte range of one day file, ready to send.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Offset of the first line.
    pub start: u64,
    /// Offset just past the last line's `\n`.
    pub end: u64,
    /// Lines in it.
    pub rows: u64,
    /// The lines as stored, until the store encodes them
    /// ([`super::store::Store::encode`]); then what is sent.
    pub body: Bytes,
}

/// The longest prefix of `buf` made of whole lines, at most `max_rows` of
/// them: (bytes, lines).
pub fn cut(buf: &[u8], max_rows: usize) -> (usize, usize) {
    let mut rows = 0;
    let mut len = 0;
    for nl in memchr::memchr_iter(b'\n', buf) {
        if rows == max_rows {
            break;
        }
        rows += 1;
        len = nl + 1;
    }
    (len, rows)
}

/// Reads the next batch of `path` in `[start, end)`: `None` when that range
/// holds no complete line.
///
/// # Errors
/// The I/O error of opening or reading the file (or an early end of file).
pub fn read(
    path: &Path,
    start: u64,
    end: u64,
    max_rows: usize,
    max_bytes: usize,
) -> io::Result<Option<Batch>> {
    if end <= start {
        return Ok(None);
    }
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(start))?;
    let available = end - start;
    let mut want = available.min(max_bytes.max(1) as u64);
    loop {
        let mut buf = vec![0; want as usize];
        f.read_exact_at_most(&mut buf)?;
        // Past the byte cap only the one long line goes.
        let row_cap = if want > max_bytes as u64 {
            1
        } else {
            max_rows.max(1)
        };
        let (len, rows) = cut(&buf, row_cap);
        if rows > 0 {
            buf.truncate(len);
            return Ok(Some(Batch {
                start,
                end: start + len as u64,
                rows: rows as u64,
                body: Bytes::from(buf),
            }));
        }
        if want == available {
            return Ok(None);
        }
        // One line longer than the byte cap: read on to its end.
        f.seek(SeekFrom::Start(start))?;
        want = (want * 2).min(available);
    }
}

/// `read_exact` that names the short read as an error.
trait ReadExact {
    fn read_exact_at_most(&mut self, buf: &mut [u8]) -> io::Result<()>;
}

impl<R: Read> ReadExact for R {
    fn read_exact_at_most(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    e.kind(),
                    "the day file is shorter than its committed length",
                )
            } else {
                e
            }
        })
    }
}

/// gzip at the fastest level: the store's CPU and the network matter more
/// than the ratio, and it already shrinks log lines about sixfold (zlib-rs,
/// ~540 MB/s here).
pub fn gzip(data: &[u8]) -> io::Result<Bytes> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(data.len() / 6 + 64),
        flate2::Compression::fast(),
    );
    enc.write_all(data)?;
    Ok(Bytes::from(enc.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn cut_keeps_whole_lines_and_the_row_cap() {
        assert_eq!(cut(b"a\nbb\nccc", 10), (5, 2));
        assert_eq!(cut(b"a\nbb\nccc\n", 2), (5, 2));
        assert_eq!(cut(b"partial", 10), (0, 0));
        assert_eq!(cut(b"", 10), (0, 0));
    }

    #[test]
    fn batches_by_rows_and_bytes_from_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("20261201.ndjson");
        std::fs::write(
            &path,
            b"{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5",
        )
        .unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        // Rows cap.
        let b = read(&path, 0, len, 2, 1 << 20).unwrap().unwrap();
        assert_eq!((b.start, b.end, b.rows), (0, 16, 2));
        assert_eq!(&b.body[..], b"{\"n\":1}\n{\"n\":2}\n");
        // Byte cap (20 bytes hold two whole lines), from an offset.
        let b = read(&path, 16, len, 100, 20).unwrap().unwrap();
        assert_eq!((b.start, b.end, b.rows), (16, 32, 2));
        // The unterminated tail is never sent.
        assert!(read(&path, 32, len, 100, 1 << 20).unwrap().is_none());
        // Only up to the committed end.
        let b = read(&path, 0, 12, 100, 1 << 20).unwrap().unwrap();
        assert_eq!((b.end, b.rows), (8, 1));
    }

    #[test]
    fn a_line_longer_than_the_byte_cap_goes_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("20261201.ndjson");
        let long = format!("{{\"msg\":\"{}\"}}\n", "x".repeat(100));
        std::fs::write(&path, format!("{long}{{}}\n")).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let b = read(&path, 0, len, 100, 10).unwrap().unwrap();
        assert_eq!((b.end, b.rows), (long.len() as u64, 1));
    }

    #[test]
    fn gzip_round_trips_and_is_deterministic() {
        let lines = b"{\"n\":1}\n{\"n\":2}\n".repeat(100);
        let a = gzip(&lines).unwrap();
        assert_eq!(gunzip(&a), lines);
        // A retry re-encodes nothing, but the same bytes would come out anyway.
        assert_eq!(a, gzip(&lines).unwrap());
        assert!(a.len() < lines.len() / 4);
    }
}
