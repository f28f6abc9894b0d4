//! Splitting a stream of stored bytes into lines with one bounded buffer
//! (grown only for a line longer than it): the loop under every scan, of a
//! file range or of an archive entry.

use std::io;

use super::source::{Continue, ScanStats};

/// Read size.
pub(super) const CHUNK: usize = 1 << 20;

/// Calls `on_line(line, offset)` for every complete line `read` yields (a
/// reader filling a buffer, 0 at the end), the first starting at byte
/// `start`, until it returns false. Returns whether it ran to the end, and
/// the offset after the last complete line.
///
/// # Errors
/// The reader's.
pub(super) fn each_line(
    read: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
    start: u64,
    buf: &mut Vec<u8>,
    stats: &mut ScanStats,
    on_line: &mut dyn FnMut(&[u8], u64) -> Continue,
) -> io::Result<(Continue, u64)> {
    if buf.len() < CHUNK {
        buf.resize(CHUNK, 0);
    }
    let (mut pos, mut carry) = (start, 0usize);
    loop {
        if carry == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = read(&mut buf[carry..])?;
        if n == 0 {
            return Ok((true, pos));
        }
        stats.bytes_scanned += n as u64;
        let filled = carry + n;
        let mut at = 0usize;
        while let Some(nl) = memchr::memchr(b'\n', &buf[at..filled]) {
            stats.lines_scanned += 1;
            if !on_line(&buf[at..at + nl], pos + at as u64) {
                return Ok((false, pos + at as u64));
            }
            at += nl + 1;
        }
        buf.copy_within(at..filled, 0);
        carry = filled - at;
        pos += at as u64;
    }
}
