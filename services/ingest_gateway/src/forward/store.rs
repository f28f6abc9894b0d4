//! The seam between the forwarder loop and a store: what one target must do
//! — encode a batch's lines into its body (on the forwarder's niced thread),
//! send that body as one insert, and say what became of it.
//!
//! Why it exists: the loop, the positions, batching, backoff, the lag and the
//! housekeeping hold are the same for every store. A second target (Loki
//! push, Kafka, Elasticsearch bulk) is one more file implementing [`Store`],
//! plus its [`Target`] variant with its configuration keys and one arm in
//! [`build`]; nothing in the loop changes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::clickhouse::ClickHouse;
use super::Target;

/// What the store said to one insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every line of the batch is stored.
    Acked,
    /// Unreachable, timed out or a server error: the same batch is retried
    /// after a backoff.
    Retry {
        /// Bounded metric label.
        reason: &'static str,
        /// What happened, for the status API and the log.
        detail: String,
    },
    /// A refusal retrying will not fix (unknown table, schema mismatch,
    /// credentials): the target stops, keeping its place.
    Refused {
        /// Bounded metric label.
        reason: &'static str,
        /// The store's message.
        detail: String,
    },
}

/// The future [`Store::insert`] returns.
pub type InsertFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One target's store.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Where it sends, for the status API and the log (never credentials).
    fn endpoint(&self) -> &str;

    /// Turns a batch's stored lines (whole NDJSON lines) into the body of
    /// one insert. Runs on the forwarder's niced thread, once per batch.
    ///
    /// # Errors
    /// The encoder's I/O error.
    fn encode(&self, lines: Bytes) -> io::Result<Bytes>;

    /// Sends one body made by [`Store::encode`] as one insert. Sending the
    /// same body again must be safe: a retry resends the identical bytes.
    fn insert(&self, body: Bytes) -> InsertFuture<'_>;
}

/// The store of `target`; `timeout` bounds one insert.
pub fn build(target: &Target, timeout: Duration) -> Arc<dyn Store> {
    match target {
        Target::ClickHouse(cfg) => Arc::new(ClickHouse::new(cfg, timeout)),
    }
}
