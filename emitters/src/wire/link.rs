//! One sender of a raw syslog run and what it counts: a TCP connection behind
//! a `BufWriter`, or a connected UDP socket (one datagram per message).
//!
//! Syslog has no acknowledgement, so `sent` means "handed to the kernel":
//! TCP messages count once the bytes holding them left the write buffer (the
//! buffer is flushed before a chunk would overflow it, so the count is exact
//! rather than guessed from `BufWriter`'s own flushes), UDP messages once
//! their datagram was accepted by `send`. A write that fails or stalls past
//! `--timeout` drops the connection and counts what was still buffered, plus
//! the chunk being written, as `failed` (it may or may not have arrived); the
//! next chunk opens a new connection.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::{TcpStream, UdpSocket};

use super::frame::{Chunk, Wire};

/// Size of a TCP connection's write buffer: chunks are gathered into writes
/// of up to this many bytes.
pub(crate) const WRITE_BUFFER: usize = 256 * 1024;

/// Longest wait for a TCP connection to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What one or more links did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Messages handed to the kernel.
    pub(crate) sent: u64,
    /// Bytes of those messages on the wire, framing included.
    pub(crate) bytes: u64,
    /// Messages lost to a failed write or send (they may or may not have arrived).
    pub(crate) failed: u64,
    /// TCP connections opened (reconnects included); UDP sockets.
    pub(crate) connections: u64,
}

impl Counters {
    /// Adds another link's counters.
    pub(crate) fn merge(&mut self, other: &Counters) {
        self.sent += other.sent;
        self.bytes += other.bytes;
        self.failed += other.failed;
        self.connections += other.connections;
    }
}

/// A TCP connection or a UDP socket to the receiver.
pub(crate) enum Link {
    /// A (re)connecting TCP stream.
    Tcp(TcpLink),
    /// A connected UDP socket.
    Udp(UdpLink),
}

impl Link {
    /// Opens a link to `addr` (the TCP connection is made now, so an
    /// unreachable receiver is an error before the run starts).
    ///
    /// # Errors
    /// The connect (TCP) or bind/connect (UDP) error.
    pub(crate) async fn open(wire: Wire, addr: SocketAddr, timeout: Duration) -> io::Result<Link> {
        match wire {
            Wire::Tcp(_) => {
                let mut link = TcpLink {
                    addr,
                    w: None,
                    pending: (0, 0),
                    timeout,
                    counters: Counters::default(),
                };
                link.connect().await?;
                Ok(Link::Tcp(link))
            }
            Wire::Udp => {
                let local: SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let sock = UdpSocket::bind(local).await?;
                sock.connect(addr).await?;
                Ok(Link::Udp(UdpLink {
                    sock,
                    counters: Counters {
                        connections: 1,
                        ..Counters::default()
                    },
                }))
            }
        }
    }

    /// Sends one chunk (TCP: into the write buffer).
    ///
    /// # Errors
    /// The first write or send error; the chunk's messages then count as
    /// failed (UDP: only those whose datagram was refused).
    pub(crate) async fn send(&mut self, chunk: &Chunk) -> io::Result<()> {
        match self {
            Link::Tcp(t) => t.send(chunk).await,
            Link::Udp(u) => u.send(chunk).await,
        }
    }

    /// Writes out what is buffered (TCP; nothing to do for UDP).
    ///
    /// # Errors
    /// The write error; the buffered messages then count as failed.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        match self {
            Link::Tcp(t) => t.flush().await,
            Link::Udp(_) => Ok(()),
        }
    }

    /// Flushes, closes (TCP: a FIN after the last byte) and returns the counts.
    pub(crate) async fn finish(mut self) -> (Counters, io::Result<()>) {
        let result = self.flush().await;
        match self {
            Link::Tcp(mut t) => {
                if let Some(mut w) = t.w.take() {
                    let _ = tokio::time::timeout(t.timeout, w.get_mut().shutdown()).await;
                }
                (t.counters, result)
            }
            Link::Udp(u) => (u.counters, result),
        }
    }

    /// The counts so far.
    #[cfg(test)]
    pub(crate) fn counters(&self) -> Counters {
        match self {
            Link::Tcp(t) => t.counters,
            Link::Udp(u) => u.counters,
        }
    }
}

/// A TCP connection behind a write buffer, reopened after a failure.
pub(crate) struct TcpLink {
    addr: SocketAddr,
    /// The connection, `None` after a failure until the next send reopens it.
    w: Option<BufWriter<TcpStream>>,
    /// Messages and bytes in the write buffer, not yet written to the socket.
    pending: (u64, u64),
    /// Longest wait for one write or flush.
    timeout: Duration,
    counters: Counters,
}

impl TcpLink {
    async fn connect(&mut self) -> io::Result<()> {
        let wait = self.timeout.min(CONNECT_TIMEOUT);
        let stream = match tokio::time::timeout(wait, TcpStream::connect(self.addr)).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
        };
        stream.set_nodelay(true)?;
        self.w = Some(BufWriter::with_capacity(WRITE_BUFFER, stream));
        self.counters.connections += 1;
        Ok(())
    }

    /// The buffered messages reached the socket.
    fn commit(&mut self) {
        self.counters.sent += self.pending.0;
        self.counters.bytes += self.pending.1;
        self.pending = (0, 0);
    }

    /// The connection broke: what was buffered, and `extra` more, is lost.
    fn lose(&mut self, extra: u64) {
        self.counters.failed += self.pending.0 + extra;
        self.pending = (0, 0);
        self.w = None;
    }

    async fn send(&mut self, chunk: &Chunk) -> io::Result<()> {
        if self.w.is_none() {
            if let Err(e) = self.connect().await {
                self.counters.failed += chunk.messages;
                return Err(e);
            }
        }
        let bytes = &chunk.stream;
        let overflow = self.w.as_ref().is_some_and(|w| {
            !w.buffer().is_empty() && w.buffer().len() + bytes.len() > WRITE_BUFFER
        });
        if overflow {
            if let Err(e) = self.flush().await {
                self.counters.failed += chunk.messages;
                return Err(e);
            }
        }
        let Some(w) = self.w.as_mut() else {
            self.counters.failed += chunk.messages;
            return Err(io::Error::from(io::ErrorKind::NotConnected));
        };
        match tokio::time::timeout(self.timeout, w.write_all(bytes)).await {
            Ok(Ok(())) => {
                let direct = w.buffer().is_empty();
                self.pending.0 += chunk.messages;
                self.pending.1 += bytes.len() as u64;
                if direct {
                    self.commit();
                }
                Ok(())
            }
            Ok(Err(e)) => {
                self.lose(chunk.messages);
                Err(e)
            }
            Err(_) => {
                self.lose(chunk.messages);
                Err(stalled(self.timeout))
            }
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        let Some(w) = self.w.as_mut() else {
            return Ok(());
        };
        match tokio::time::timeout(self.timeout, w.flush()).await {
            Ok(Ok(())) => {
                self.commit();
                Ok(())
            }
            Ok(Err(e)) => {
                self.lose(0);
                Err(e)
            }
            Err(_) => {
                self.lose(0);
                Err(stalled(self.timeout))
            }
        }
    }
}

fn stalled(timeout: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("write stalled for {} s (--timeout)", timeout.as_secs()),
    )
}

/// A connected UDP socket.
pub(crate) struct UdpLink {
    sock: UdpSocket,
    counters: Counters,
}

impl UdpLink {
    async fn send(&mut self, chunk: &Chunk) -> io::Result<()> {
        let mut first_err = None;
        for d in &chunk.datagrams {
            match self.sock.send(d).await {
                Ok(n) => {
                    self.counters.sent += 1;
                    self.counters.bytes += n as u64;
                }
                Err(e) => {
                    self.counters.failed += 1;
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::Framing;
    use bytes::Bytes;
    use tokio::io::AsyncReadExt;

    fn chunk(n: usize, wire: Wire) -> Chunk {
        Chunk::new(&Bytes::from("<13>1 - - - - - hello\n".repeat(n)), wire)
    }

    #[tokio::test]
    async fn tcp_counts_what_left_the_buffer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.unwrap();
            all.len()
        });
        let wire = Wire::Tcp(Framing::Lf);
        let mut link = Link::open(wire, addr, Duration::from_secs(5))
            .await
            .unwrap();
        let c = chunk(10, wire);
        link.send(&c).await.unwrap();
        assert_eq!(link.counters().sent, 0, "still buffered");
        // Enough chunks to overflow the buffer: the earlier ones are committed.
        let big = chunk(20_000, wire);
        link.send(&big).await.unwrap();
        assert_eq!(link.counters().sent, 20_010);
        link.send(&c).await.unwrap();
        let (counters, result) = link.finish().await;
        result.unwrap();
        assert_eq!(
            (counters.sent, counters.failed, counters.connections),
            (20_020, 0, 1)
        );
        assert_eq!(reader.await.unwrap() as u64, counters.bytes);
    }

    #[tokio::test]
    async fn tcp_refused_is_an_error() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let wire = Wire::Tcp(Framing::Octet);
        let err = Link::open(wire, addr, Duration::from_secs(5))
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
