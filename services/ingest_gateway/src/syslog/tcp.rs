//! The syslog TCP listener: a connection cap, an idle timeout, per-connection
//! framing ([`super::framing`]), and backpressure: the messages of each read
//! are handed to the batcher as one [`Chunk`] with `send().await`, so while
//! the sink is full the connection is simply not read any further.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};

use super::batcher::Chunk;
use super::framing::Framer;
use crate::metrics::{Metrics, SyslogCounters};

/// What every connection of the listener shares.
#[derive(Clone)]
pub(super) struct Shared {
    pub tx: mpsc::Sender<Chunk>,
    pub metrics: Arc<Metrics>,
    pub max_message: usize,
    pub idle: Duration,
}

/// Accepts until `stop` changes; each connection ends at EOF, idle timeout,
/// framing error or stop (what was read is handed on first).
pub(super) async fn serve(
    listener: TcpListener,
    shared: Shared,
    max_connections: usize,
    mut stop: watch::Receiver<bool>,
) {
    let limit = Arc::new(Semaphore::new(max_connections));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((stream, _peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
            shared.metrics.syslog_dropped("tcp", "connection_limit", 1);
            drop(stream);
            continue;
        };
        let (shared, stop) = (shared.clone(), stop.clone());
        tokio::spawn(async move {
            shared.metrics.syslog_connection("tcp", 1);
            connection(stream, &shared, stop).await;
            shared.metrics.syslog_connection("tcp", -1);
            drop(permit);
        });
    }
}

/// A chunk is handed on once it holds this much (so one is never near the body limit).
const CHUNK_BYTES: usize = 64 * 1024;

async fn connection(mut stream: TcpStream, shared: &Shared, mut stop: watch::Receiver<bool>) {
    let counters = shared.metrics.syslog_counters("tcp");
    let mut framer = Framer::new(shared.max_message);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        let mut chunk = Chunk::with_capacity(buf.len());
        let (mut bytes, mut truncated) = (0u64, 0u64);
        let framed = loop {
            match framer.next(&mut buf) {
                Ok(Some(m)) => {
                    bytes += m.bytes.len() as u64;
                    truncated += u64::from(m.truncated);
                    chunk.push(&m.bytes);
                    if chunk.len() >= CHUNK_BYTES {
                        let full = std::mem::replace(&mut chunk, Chunk::with_capacity(buf.len()));
                        if !hand_on(shared, &counters, full, &mut bytes, &mut truncated).await {
                            return;
                        }
                    }
                }
                Ok(None) => break true,
                Err(e) => {
                    shared.metrics.syslog_parse_error("tcp");
                    tracing::debug!(error = %e, "syslog TCP framing error; closing the connection");
                    break false;
                }
            }
        };
        if !hand_on(shared, &counters, chunk, &mut bytes, &mut truncated).await || !framed {
            return;
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        let read = tokio::select! {
            r = tokio::time::timeout(shared.idle, stream.read_buf(&mut buf)) => r,
            _ = stop.changed() => return,
        };
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => {
                tracing::debug!("syslog TCP connection idle; closing it");
                return;
            }
        }
    }
}

/// Counts and sends a chunk (an empty one is not sent); false once the batcher is gone.
async fn hand_on(
    shared: &Shared,
    counters: &SyslogCounters,
    chunk: Chunk,
    bytes: &mut u64,
    truncated: &mut u64,
) -> bool {
    if chunk.count() == 0 {
        return true;
    }
    counters.add(chunk.count() as u64, *bytes, *truncated);
    (*bytes, *truncated) = (0, 0);
    shared.tx.send(chunk).await.is_ok()
}
