//! Splitting a syslog TCP stream into messages (RFC 6587), pure and bounded.
//!
//! The framing is detected per connection from its first byte: a digit means
//! octet counting (`LEN SP MSG`, what rsyslog's `omfwd` with
//! `TCP_Framing="octet-counted"` and `logger --octet-count` send), anything
//! else (`<` normally) means one message per line (non-transparent framing
//! with LF; a trailing CR is dropped). A message longer than the limit is
//! truncated to it and counted; the rest of it is read and discarded. A
//! malformed octet count is a framing error: the connection is closed.

use bytes::{Buf, BytesMut};

/// How messages are delimited on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Not known yet (nothing read).
    Detect,
    /// RFC 6587 octet counting.
    OctetCounted,
    /// One message per `\n`.
    Lf,
}

/// One framed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message bytes (at most the limit), split off the read buffer without a copy.
    pub bytes: BytesMut,
    /// Whether it was cut to the limit.
    pub truncated: bool,
}

/// The stream is not octet-counted syslog after all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed octet count")]
pub struct FrameError;

/// Per-connection framing state.
#[derive(Debug)]
pub struct Framer {
    framing: Framing,
    max: usize,
    /// Octet counting: bytes of the current frame still to discard past the limit.
    skip: usize,
    /// LF framing: discarding the rest of an over-long line.
    skipping_line: bool,
}

/// Digits of the longest octet count accepted (up to 999 999 999).
const MAX_COUNT_DIGITS: usize = 9;

impl Framer {
    /// A framer for messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Framer {
            framing: Framing::Detect,
            max,
            skip: 0,
            skipping_line: false,
        }
    }

    /// The framing in use.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The next complete message in `buf` (consumed from it), `Ok(None)`
    /// when more bytes are needed.
    ///
    /// # Errors
    /// [`FrameError`] for a malformed octet count.
    pub fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, FrameError> {
        loop {
            if self.framing == Framing::Detect {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                self.framing = if first.is_ascii_digit() {
                    Framing::OctetCounted
                } else {
                    Framing::Lf
                };
            }
            let progressed = match self.framing {
                Framing::OctetCounted => self.octet(buf)?,
                _ => self.line(buf),
            };
            match progressed {
                Step::Message(m) => return Ok(Some(m)),
                Step::NeedMore => return Ok(None),
                Step::Again => {}
            }
        }
    }

    fn octet(&mut self, buf: &mut BytesMut) -> Result<Step, FrameError> {
        if self.skip > 0 {
            let n = self.skip.min(buf.len());
            buf.advance(n);
            self.skip -= n;
            return Ok(if self.skip == 0 {
                Step::Again
            } else {
                Step::NeedMore
            });
        }
        let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > MAX_COUNT_DIGITS || (digits == 0 && !buf.is_empty()) {
            return Err(FrameError);
        }
        if digits == buf.len() {
            return Ok(Step::NeedMore);
        }
        if buf[digits] != b' ' || buf[0] == b'0' {
            return Err(FrameError);
        }
        let len: usize = std::str::from_utf8(&buf[..digits])
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(FrameError)?;
        let keep = len.min(self.max);
        if buf.len() < digits + 1 + keep {
            return Ok(Step::NeedMore);
        }
        buf.advance(digits + 1);
        let bytes = buf.split_to(keep);
        self.skip = len - keep;
        Ok(Step::Message(Message {
            bytes,
            truncated: len > keep,
        }))
    }

    fn line(&mut self, buf: &mut BytesMut) -> Step {
        match memchr::memchr(b'\n', buf) {
            Some(i) if self.skipping_line => {
                buf.advance(i + 1);
                self.skipping_line = false;
                Step::Again
            }
            None if self.skipping_line => {
                buf.clear();
                Step::NeedMore
            }
            Some(i) if i <= self.max => {
                let mut line = buf.split_to(i + 1);
                line.truncate(i);
                if line.last() == Some(&b'\r') {
                    line.truncate(i - 1);
                }
                Step::Message(Message {
                    bytes: line,
                    truncated: false,
                })
            }
            _ if buf.len() > self.max => {
                let bytes = buf.split_to(self.max);
                self.skipping_line = true;
                Step::Message(Message {
                    bytes,
                    truncated: true,
                })
            }
            _ => Step::NeedMore,
        }
    }
}

enum Step {
    Message(Message),
    NeedMore,
    Again,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: &mut Framer, input: &[u8]) -> Result<Vec<(String, bool)>, FrameError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        // Byte by byte: every split point must work.
        for b in input {
            buf.extend_from_slice(&[*b]);
            while let Some(m) = f.next(&mut buf)? {
                out.push((String::from_utf8_lossy(&m.bytes).into_owned(), m.truncated));
            }
        }
        Ok(out)
    }

    #[test]
    fn octet_counting() {
        let mut f = Framer::new(100);
        let got = all(&mut f, b"11 <13>1 - a b5 hello11 line\nbreak!").unwrap();
        assert_eq!(f.framing(), Framing::OctetCounted);
        assert_eq!(
            got,
            [
                ("<13>1 - a b".into(), false),
                ("hello".into(), false),
                ("line\nbreak!".into(), false)
            ]
        );
        let mut f = Framer::new(4);
        assert_eq!(
            all(&mut f, b"10 0123456789").unwrap(),
            [("0123".into(), true)]
        );
        assert_eq!(
            all(&mut f, b"2 ab").unwrap(),
            [("ab".into(), false)],
            "the excess was discarded"
        );
        for bad in [&b"x"[..], b"12x", b"0 a", b"1234567890 x"] {
            assert_eq!(
                all(&mut Framer::new(100), &[b"3 abc", bad].concat()),
                Err(FrameError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lf_framing() {
        let mut f = Framer::new(8);
        let got = all(&mut f, b"<13>a\r\n<14>b\nthis line is too long\n<15>c\n").unwrap();
        assert_eq!(f.framing(), Framing::Lf);
        assert_eq!(
            got,
            [
                ("<13>a".into(), false),
                ("<14>b".into(), false),
                ("this lin".into(), true),
                ("<15>c".into(), false)
            ]
        );
    }
}
