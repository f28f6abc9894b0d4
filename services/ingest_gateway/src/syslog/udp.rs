//! The syslog UDP listener: one message per datagram, truncated to the limit.
//! UDP has no backpressure: when the batcher's queue is full the datagram is
//! dropped and counted (`logops_syslog_dropped_total{reason="queue_full"}`).

use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};

use super::batcher::Chunk;
use crate::metrics::Metrics;

/// Receives until `stop` changes.
pub(super) async fn serve(
    socket: UdpSocket,
    tx: mpsc::Sender<Chunk>,
    metrics: Arc<Metrics>,
    max_message: usize,
    mut stop: watch::Receiver<bool>,
) {
    let counters = metrics.syslog_counters("udp");
    let mut buf = vec![0u8; 65_536];
    loop {
        let received = tokio::select! {
            r = socket.recv_from(&mut buf) => r,
            _ = stop.changed() => return,
        };
        let Ok((n, _peer)) = received else { continue };
        let mut msg = &buf[..n];
        while let Some(rest) = msg.strip_suffix(b"\n").or_else(|| msg.strip_suffix(b"\r")) {
            msg = rest;
        }
        let truncated = msg.len() > max_message;
        let msg = &msg[..msg.len().min(max_message)];
        counters.add(1, msg.len() as u64, u64::from(truncated));
        let mut chunk = Chunk::with_capacity(msg.len() + 1);
        chunk.push(msg);
        match tx.try_send(chunk) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => metrics.syslog_dropped("udp", "queue_full", 1),
            Err(TrySendError::Closed(_)) => return,
        }
    }
}
