//! Groups a listener's messages into batches for the ingest service: up to
//! `LOGOPS_SYSLOG_BATCH` messages, or what arrived within
//! `LOGOPS_SYSLOG_FLUSH_MS` of the first, or just under the body limit.
//!
//! A batch the service cannot take now (overloaded, sink full or failing) is
//! retried, with a capped backoff, until it is stored or the gateway stops:
//! meanwhile the bounded channel fills and the TCP readers stop reading, so
//! the senders' own queues hold the data (backpressure) and nothing read is
//! dropped. Only UDP drops, at the channel (`udp.rs`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::decode::Format;
use crate::ingest::{IngestError, IngestService, Request};
use crate::metrics::Metrics;
use crate::schema::Tenant;

/// The emitter label of syslog records (the app name stays in `app`, so the
/// label's cardinality does not follow the senders' program names).
pub const EMITTER: &str = "syslog";

/// Messages read together (one TCP read, one datagram), already as lines:
/// what the listeners hand the batcher, so the channel is crossed once per
/// read rather than once per message.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    lines: Vec<u8>,
    count: usize,
}

impl Chunk {
    /// An empty chunk with room for `bytes`.
    pub(super) fn with_capacity(bytes: usize) -> Self {
        Chunk {
            lines: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    /// Appends one message as a line: an embedded line break (possible in an
    /// octet-counted frame) becomes a space, so one message stays one record.
    pub(super) fn push(&mut self, msg: &[u8]) {
        let start = self.lines.len();
        self.lines.extend_from_slice(msg);
        for b in &mut self.lines[start..] {
            if *b == b'\n' || *b == b'\r' {
                *b = b' ';
            }
        }
        self.lines.push(b'\n');
        self.count += 1;
    }

    /// Bytes held.
    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Messages held.
    pub(super) fn count(&self) -> usize {
        self.count
    }
}

/// What a batcher needs.
pub(super) struct Batcher {
    pub ingest: Arc<IngestService>,
    pub metrics: Arc<Metrics>,
    pub listener: &'static str,
    pub tenant: Tenant,
    pub max_messages: usize,
    pub flush: Duration,
}

impl Batcher {
    /// Runs until every sender of `rx` is gone, then stores what is left.
    pub(super) async fn run(self, mut rx: mpsc::Receiver<Chunk>) {
        let max_bytes = self.ingest.limits().max_body_bytes;
        let mut body = Vec::with_capacity(64 * 1024);
        let mut count = 0usize;
        let mut deadline: Option<Instant> = None;
        loop {
            let next = match deadline {
                Some(d) => tokio::select! {
                    m = rx.recv() => m.map(Some),
                    () = tokio::time::sleep_until(d) => Some(None),
                },
                None => rx.recv().await.map(Some),
            };
            match next {
                None => {
                    self.store(&mut body, &mut count).await;
                    return;
                }
                Some(None) => {
                    self.store(&mut body, &mut count).await;
                    deadline = None;
                }
                Some(Some(chunk)) => {
                    if count > 0 && body.len() + chunk.len() > max_bytes {
                        self.store(&mut body, &mut count).await;
                        deadline = None;
                    }
                    if body.is_empty() && body.capacity() < chunk.len() {
                        body = chunk.lines;
                    } else {
                        body.extend_from_slice(&chunk.lines);
                    }
                    count += chunk.count;
                    deadline.get_or_insert_with(|| Instant::now() + self.flush);
                    if count >= self.max_messages {
                        self.store(&mut body, &mut count).await;
                        deadline = None;
                    }
                }
            }
        }
    }

    /// Hands the batch to the ingest service, retrying until it is stored.
    async fn store(&self, body: &mut Vec<u8>, count: &mut usize) {
        if *count == 0 {
            return;
        }
        let bytes = Bytes::from(std::mem::take(body));
        *count = 0;
        let mut backoff = Duration::from_millis(10);
        loop {
            let result = match self.ingest.admit() {
                Ok(admission) => {
                    let req = Request {
                        format: Format::Text,
                        body: bytes.clone(),
                        encodings: Vec::new(),
                        emitter: EMITTER.to_string(),
                        scenario: "na".to_string(),
                        tenant: self.tenant.clone(),
                        quota: None,
                        defaults: Vec::new(),
                    };
                    self.ingest.ingest(admission, req).await.map(|_| ())
                }
                Err(e) => Err(e),
            };
            let Err(e) = result else { return };
            self.metrics.batch_rejected(
                e.code(),
                e.is_parse_error(),
                EMITTER,
                "na",
                self.tenant.as_str(),
                &e.to_string(),
            );
            if !retryable(&e) {
                // Only a bug gets here (a text body always decodes); say so loudly.
                tracing::error!(listener = self.listener, error = %e, "syslog batch refused and dropped");
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
}

fn retryable(e: &IngestError) -> bool {
    matches!(e, IngestError::Overloaded { .. } | IngestError::Sink(_))
}
