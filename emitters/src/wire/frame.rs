//! Syslog on the wire: the generator's lines cut into messages, framed for a
//! TCP stream (RFC 6587 octet counting `LEN SP MSG`, or `MSG LF`) or kept one
//! per UDP datagram, and the ring of pre-framed chunks that flood mode cycles
//! through.
//!
//! Messages are zero-copy slices of the generator's body (its lines without
//! the `\n`; the generator never puts a newline inside a line). A TCP chunk is
//! one contiguous buffer of frames, so sending it is one `write_all`.

use bytes::{BufMut, Bytes, BytesMut};

/// How messages are delimited on a TCP stream (`--framing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Framing {
    /// RFC 6587 octet counting: `LEN SP MSG`, frames back to back.
    #[default]
    Octet,
    /// Each message followed by `\n` (RFC 6587 non-transparent framing).
    Lf,
}

impl Framing {
    /// The name used in the summary line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Framing::Octet => "octet",
            Framing::Lf => "lf",
        }
    }
}

/// The transport of a raw run and, for TCP, its framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// A TCP stream with that framing.
    Tcp(Framing),
    /// One message per UDP datagram.
    Udp,
}

/// The lines of a generator body, without their `\n`; empty lines skipped.
pub(crate) fn messages(body: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(body.len() / 100 + 1);
    let mut start = 0;
    for (i, b) in body.iter().enumerate() {
        if *b == b'\n' {
            if i > start {
                out.push(body.slice(start..i));
            }
            start = i + 1;
        }
    }
    if start < body.len() {
        out.push(body.slice(start..));
    }
    out
}

/// `messages` framed back to back for a TCP stream.
pub(crate) fn frame(messages: &[Bytes], framing: Framing) -> Bytes {
    let payload: usize = messages.iter().map(Bytes::len).sum();
    let mut out = BytesMut::with_capacity(payload + messages.len() * 7);
    for m in messages {
        match framing {
            Framing::Octet => {
                out.put_slice(m.len().to_string().as_bytes());
                out.put_u8(b' ');
                out.put_slice(m);
            }
            Framing::Lf => {
                out.put_slice(m);
                out.put_u8(b'\n');
            }
        }
    }
    out.freeze()
}

/// The messages of one generator batch, ready for the wire.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    /// Messages in the chunk.
    pub(crate) messages: u64,
    /// TCP: every message framed, back to back (empty for UDP).
    pub(crate) stream: Bytes,
    /// UDP: one datagram per message (empty for TCP).
    pub(crate) datagrams: Vec<Bytes>,
}

impl Chunk {
    /// Cuts `body` into messages and prepares them for `wire`.
    pub(crate) fn new(body: &Bytes, wire: Wire) -> Chunk {
        let msgs = messages(body);
        let messages = msgs.len() as u64;
        match wire {
            Wire::Tcp(framing) => Chunk {
                messages,
                stream: frame(&msgs, framing),
                datagrams: Vec::new(),
            },
            Wire::Udp => Chunk {
                messages,
                stream: Bytes::new(),
                datagrams: msgs,
            },
        }
    }

    /// What `--dry-run` prints: the TCP bytes exactly as sent, or each
    /// datagram on a line of its own (the `\n` is not part of the datagram).
    pub(crate) fn dry_run(&self) -> Vec<u8> {
        if self.datagrams.is_empty() {
            return self.stream.to_vec();
        }
        let mut out = Vec::with_capacity(self.datagrams.iter().map(|d| d.len() + 1).sum());
        for d in &self.datagrams {
            out.extend_from_slice(d);
            out.push(b'\n');
        }
        out
    }
}

/// Distinct chunks kept in the flood ring.
pub(crate) const RING: u64 = 64;

/// Pre-framed chunks and the rule that maps write number → chunk (the same
/// rule as the HTTP flood's ring of bodies).
pub(crate) struct Ring {
    chunks: Vec<Chunk>,
    /// Full chunks allowed in total (with a message limit).
    full: Option<u64>,
    /// The last, smaller chunk when the limit is not a multiple of the batch size.
    tail: Option<Chunk>,
}

impl Ring {
    /// Up to [`RING`] chunks of `batch` messages made by `make`, plus a tail
    /// chunk when `limit` asks for it.
    pub(crate) fn build(
        batch: usize,
        limit: Option<u64>,
        mut make: impl FnMut(usize) -> Chunk,
    ) -> Ring {
        let b = batch.max(1) as u64;
        let full = limit.map(|l| l / b);
        let distinct = full.map_or(RING, |f| f.min(RING));
        let chunks = (0..distinct).map(|_| make(b as usize)).collect();
        let tail = limit.filter(|l| l % b != 0).map(|l| make((l % b) as usize));
        Ring { chunks, full, tail }
    }

    /// The chunk for write number `k`, or `None` when the limit is reached.
    pub(crate) fn get(&self, k: u64) -> Option<&Chunk> {
        let cycle = |k: u64| {
            self.chunks
                .get((k % self.chunks.len().max(1) as u64) as usize)
        };
        match self.full {
            Some(full) if k < full => cycle(k),
            Some(full) if k == full => self.tail.as_ref(),
            Some(_) => None,
            None => cycle(k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_messages() {
        let body = Bytes::from_static(b"a b\n\ncd\nlast");
        let m = messages(&body);
        assert_eq!(m, vec![&b"a b"[..], &b"cd"[..], &b"last"[..]]);
        assert!(messages(&Bytes::new()).is_empty());
    }

    #[test]
    fn octet_and_lf_frames() {
        let m = [Bytes::from_static(b"<13>1 - x"), Bytes::from_static(b"hi")];
        assert_eq!(&frame(&m, Framing::Octet)[..], b"9 <13>1 - x2 hi");
        assert_eq!(&frame(&m, Framing::Lf)[..], b"<13>1 - x\nhi\n");
        let long = Bytes::from(vec![b'x'; 1234]);
        assert!(frame(&[long], Framing::Octet).starts_with(b"1234 xx"));
    }

    #[test]
    fn chunks_for_each_wire() {
        let body = Bytes::from_static(b"one\ntwo\n");
        let tcp = Chunk::new(&body, Wire::Tcp(Framing::Octet));
        assert_eq!((tcp.messages, &tcp.stream[..]), (2, &b"3 one3 two"[..]));
        assert_eq!(tcp.dry_run(), b"3 one3 two");
        let udp = Chunk::new(&body, Wire::Udp);
        assert_eq!((udp.messages, udp.datagrams.len()), (2, 2));
        assert_eq!(udp.dry_run(), b"one\ntwo\n");
    }

    #[test]
    fn ring_respects_the_limit_and_cycles() {
        let make = |n: usize| Chunk::new(&Bytes::from("m\n".repeat(n)), Wire::Udp);
        let ring = Ring::build(100, Some(250), make);
        let sizes: Vec<u64> = (0..5)
            .map_while(|k| ring.get(k))
            .map(|c| c.messages)
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        let open = Ring::build(3, None, make);
        assert_eq!(open.chunks.len() as u64, RING);
        assert!(open.get(10 * RING).is_some());
    }
}
