//! Response bodies: whole (`Full`) for most answers, streamed from a bounded
//! channel for reads (query results, SSE tails), so a reader never holds
//! more than a few chunks however big the answer.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame};
use tokio::sync::mpsc;

/// The body of every response.
pub type Body = BoxBody<Bytes, Infallible>;

/// Chunks in flight between a producer and the connection.
pub const CHANNEL_CHUNKS: usize = 8;

/// A whole body.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

/// A body fed by `rx`; it ends when every sender is gone.
pub fn channel(rx: mpsc::Receiver<Bytes>) -> Body {
    ChannelBody { rx }.boxed()
}

struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

/// Collects lines into chunks of about 64 KiB before sending them.
pub struct Chunker {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

/// A chunk is sent once it holds this much.
const CHUNK_BYTES: usize = 64 * 1024;

impl Chunker {
    /// A chunker over `tx`.
    pub fn new(tx: mpsc::Sender<Bytes>) -> Self {
        Chunker {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES + 4096),
        }
    }

    /// Appends bytes; sends (blocking: call from a blocking thread) when full.
    /// False when the client went away.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK_BYTES {
            return self.flush();
        }
        true
    }

    /// Sends what is buffered. False when the client went away.
    pub fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK_BYTES + 4096),
        ));
        self.tx.blocking_send(chunk).is_ok()
    }
}
