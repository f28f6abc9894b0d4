//! Sink: where accepted batches go, behind one small seam.
//!
//! [`Sink`] is what the ingest service appends to: `append` (resolves once the
//! batch is stored), `health`, `describe` and `shutdown`. [`build`] makes the
//! configured one from its own config section ([`SinkConfig`]): the file sink
//! ([`file_sink::FileSink`], daily NDJSON files with group commit) or, with
//! `LOGOPS_SINK_FILE=false`, [`DiscardSink`]. A fan-out or a forwarder is one
//! more implementation here; routes and the ingest service do not change.

mod file;
mod file_sink;
mod writer;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use time::Date;

use crate::metrics::Metrics;
use crate::schema::Tenant;
use crate::watermark::Watermarks;

pub use file_sink::FileSink;

/// Default `LOGOPS_SINK_DIR`.
pub const DEFAULT_DIR: &str = "./data/ingest";
/// Default `LOGOPS_FSYNC_INTERVAL_MS`.
pub const DEFAULT_FSYNC_INTERVAL_MS: u64 = 1000;
/// Default `LOGOPS_SINK_QUEUE_BYTES`.
pub const DEFAULT_QUEUE_BYTES: usize = 64 * 1024 * 1024;

/// When the file sink makes appended data durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` before answering 2xx (shared by every batch of a group commit).
    Always,
    /// Sync every [`SinkConfig::fsync_interval`]; answer after the write.
    Interval,
    /// Leave syncing to the OS.
    Never,
}

/// The sink section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    /// `LOGOPS_SINK_FILE`: write daily files at all (else records are discarded).
    pub enabled: bool,
    /// `LOGOPS_SINK_DIR`: the directory of the day files (created if missing).
    pub dir: PathBuf,
    /// `LOGOPS_FSYNC`.
    pub fsync: FsyncPolicy,
    /// `LOGOPS_FSYNC_INTERVAL_MS`.
    pub fsync_interval: Duration,
    /// `LOGOPS_SINK_QUEUE_BYTES`: bytes of batches waiting for the writer; beyond → 503.
    pub queue_bytes: usize,
    /// `LOGOPS_CHAIN`: seal every committed group with a signed checkpoint.
    pub chain: Option<crate::chain::Signer>,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            enabled: true,
            dir: PathBuf::from(DEFAULT_DIR),
            fsync: FsyncPolicy::Always,
            fsync_interval: Duration::from_millis(DEFAULT_FSYNC_INTERVAL_MS),
            queue_bytes: DEFAULT_QUEUE_BYTES,
            chain: None,
        }
    }
}

/// Why a batch was not stored. Nothing of it is in the file.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The queue is full; retry later.
    #[error("the sink queue is full ({limit} bytes); retry later")]
    Overloaded {
        /// `LOGOPS_SINK_QUEUE_BYTES`.
        limit: usize,
    },
    /// Writing or syncing failed (disk full, permissions, …), or the sink stopped.
    #[error("the sink cannot write: {0}")]
    Unavailable(String),
}

/// One batch to store: whole NDJSON lines, each ending in `\n`.
#[derive(Debug)]
pub struct Batch {
    /// Whose records these are.
    pub tenant: Tenant,
    /// The UTC day the batch was received (its file).
    pub day: Date,
    /// The encoded lines.
    pub lines: Vec<u8>,
}

/// What a sink says about itself (for `/healthz` and the start-up log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkInfo {
    /// `file` or `discard`.
    pub kind: &'static str,
    /// The directory written to, if any.
    pub dir: Option<PathBuf>,
}

/// The future [`Sink::append`] returns.
pub type AppendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send + 'a>>;

/// A destination for accepted batches.
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// Stores `batch`; resolves `Ok` only once it is stored (and durable, as
    /// the sink's policy says). On `Err` nothing of the batch is stored.
    fn append(&self, batch: Batch) -> AppendFuture<'_>;

    /// `Err(reason)` when the sink cannot store batches right now.
    fn health(&self) -> Result<(), String>;

    /// What and where this sink is.
    fn describe(&self) -> SinkInfo;

    /// Stores everything already accepted, then stops. Blocking.
    fn shutdown(&self);
}

/// Builds the configured sink.
///
/// # Errors
/// The file sink's directory cannot be created or repaired.
pub fn build(
    cfg: &SinkConfig,
    metrics: Arc<Metrics>,
    marks: Arc<Watermarks>,
) -> std::io::Result<Arc<dyn Sink>> {
    if cfg.enabled {
        Ok(Arc::new(FileSink::start(cfg, metrics, marks)?))
    } else {
        Ok(Arc::new(DiscardSink))
    }
}

/// `LOGOPS_SINK_FILE=false`: accepts every batch and keeps nothing (for
/// throughput tests of the pipeline alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardSink;

impl Sink for DiscardSink {
    fn append(&self, _batch: Batch) -> AppendFuture<'_> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn health(&self) -> Result<(), String> {
        Ok(())
    }

    fn describe(&self) -> SinkInfo {
        SinkInfo {
            kind: "discard",
            dir: None,
        }
    }

    fn shutdown(&self) {}
}
