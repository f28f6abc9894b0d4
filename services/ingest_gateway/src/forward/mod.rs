//! Forwarding: the day files are the outbox, a forwarder per target follows
//! them and sends the stored lines to a shared store (ClickHouse today).
//!
//! Why it exists: past one machine, many gateways each keep their own day
//! files and push them to one distributed store users query. Ingest never
//! waits for the store — the forwarder only reads files, up to what the sink
//! committed ([`Watermarks`]), and an outage only makes it fall behind.
//!
//! Delivery is at least once. The position of every file (tenant, day, byte
//! offset) lives in `<sink>/.forward/<target>.json` ([`position`]) and moves
//! only after the store acknowledged an insert; a retry resends the identical
//! byte range, so a Replicated table's block deduplication drops it.
//! Housekeeping reads the same file and holds a day the forwarder has not
//! finished.
//!
//! # Layout
//! - [`position`]: the persisted position (atomic writes) and the housekeeping hold.
//! - `outbox`: which files have unsent lines, and how far they are complete.
//! - `batch`: cutting whole lines into a batch (rows / bytes), gzip.
//! - `worker`: the thread that reads and compresses batches, at a lower CPU
//!   priority than ingest.
//! - `backoff`: capped exponential backoff with jitter.
//! - `lag`: how long the oldest unsent line has waited.
//! - `store`: the seam a target implements — one body as one insert, and
//!   what became of it (acknowledged / retry / refused).
//! - `clickhouse`: the ClickHouse HTTP insert and how its answers are classified.
//! - `task`: the forwarder loop.
//! - `state`: what the status API, `/healthz` and the metrics see of a target.
//!
//! A second target (Loki push, Kafka) is one more file next to `clickhouse.rs`
//! implementing `store::Store` (encode a batch, insert it, classify the
//! answer), plus its [`Target`] variant and configuration keys; the loop,
//! positions, batching, the niced thread and the housekeeping hold are shared.

mod backoff;
mod batch;
mod clickhouse;
mod lag;
mod outbox;
pub mod position;
mod state;
mod store;
mod task;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::watermark::Watermarks;

pub use state::{TargetState, TargetStatus};

/// Default `LOGOPS_CLICKHOUSE_URL`.
pub const DEFAULT_CLICKHOUSE_URL: &str = "http://127.0.0.1:8123";
/// Default `LOGOPS_CLICKHOUSE_DATABASE`.
pub const DEFAULT_DATABASE: &str = "default";
/// Default `LOGOPS_CLICKHOUSE_TABLE`.
pub const DEFAULT_TABLE: &str = "logs";
/// Default `LOGOPS_CLICKHOUSE_USER`.
pub const DEFAULT_USER: &str = "default";
/// Default `LOGOPS_FORWARD_BATCH_ROWS`.
pub const DEFAULT_BATCH_ROWS: usize = 100_000;
/// Default `LOGOPS_FORWARD_BATCH_MS`.
pub const DEFAULT_BATCH_MS: u64 = 1000;
/// Default `LOGOPS_FORWARD_BATCH_BYTES`.
pub const DEFAULT_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Default `LOGOPS_FORWARD_BACKOFF_MAX_MS`.
pub const DEFAULT_BACKOFF_MAX_MS: u64 = 30_000;
/// Default `LOGOPS_FORWARD_TIMEOUT_MS`.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default `LOGOPS_FORWARD_NICE`.
pub const DEFAULT_NICE: u8 = 10;

/// How an insert's body is encoded (`LOGOPS_CLICKHOUSE_COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip at the fastest level: about a sixth of the bytes on the wire,
    /// ~0.37 CPU s per million 200-byte lines.
    Gzip,
    /// The stored lines as they are (`none`): for a store on the same host
    /// or a LAN, where the CPU matters more than the bandwidth.
    Plain,
}

impl Compression {
    /// The setting's value: `gzip` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Plain => "none",
        }
    }

    /// The `Content-Encoding` of a body, if any.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::Gzip => Some("gzip"),
            Compression::Plain => None,
        }
    }
}

/// Where a target sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// ClickHouse over its HTTP interface.
    ClickHouse(ClickHouseConfig),
}

impl Target {
    /// The target's name: its position file is `<sink>/.forward/<name>.json`.
    pub fn name(&self) -> &'static str {
        match self {
            Target::ClickHouse(_) => "clickhouse",
        }
    }

    /// How its insert bodies are encoded (for the status API).
    pub fn compression(&self) -> Compression {
        match self {
            Target::ClickHouse(ch) => ch.compression,
        }
    }
}

/// `LOGOPS_CLICKHOUSE_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseConfig {
    /// `LOGOPS_CLICKHOUSE_URL`: the HTTP interface (`http://host:8123`).
    pub url: http::Uri,
    /// `LOGOPS_CLICKHOUSE_DATABASE`.
    pub database: String,
    /// `LOGOPS_CLICKHOUSE_TABLE`.
    pub table: String,
    /// `LOGOPS_CLICKHOUSE_USER`.
    pub user: String,
    /// `LOGOPS_CLICKHOUSE_PASSWORD` (never printed).
    pub password: Secret,
    /// `LOGOPS_CLICKHOUSE_COMPRESSION`.
    pub compression: Compression,
}

/// The forwarding section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardConfig {
    /// `LOGOPS_FORWARD`: the target, `None` when forwarding is off.
    pub target: Option<Target>,
    /// `LOGOPS_FORWARD_BATCH_ROWS`: lines per insert at most.
    pub batch_rows: usize,
    /// `LOGOPS_FORWARD_BATCH_BYTES`: bytes per insert at most (before gzip).
    pub batch_bytes: usize,
    /// `LOGOPS_FORWARD_BATCH_MS`: how long lines may wait for a fuller batch.
    pub batch_wait: Duration,
    /// `LOGOPS_FORWARD_BACKOFF_MAX_MS`: the retry backoff's cap, and the
    /// re-probe interval of a stopped target.
    pub backoff_max: Duration,
    /// `LOGOPS_FORWARD_TIMEOUT_MS`: one insert's timeout (connect to answer).
    pub timeout: Duration,
    /// `LOGOPS_FORWARD_NICE`: how much lower than ingest the forwarder's
    /// reading and compressing runs (a Linux nice increment, 0–19).
    pub nice: u8,
}

impl Default for ForwardConfig {
    fn default() -> Self {
        ForwardConfig {
            target: None,
            batch_rows: DEFAULT_BATCH_ROWS,
            batch_bytes: DEFAULT_BATCH_BYTES,
            batch_wait: Duration::from_millis(DEFAULT_BATCH_MS),
            backoff_max: Duration::from_millis(DEFAULT_BACKOFF_MAX_MS),
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            nice: DEFAULT_NICE,
        }
    }
}

/// Why forwarding could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// The position file cannot be read or written.
    #[error("forward position {}: {source}", path.display())]
    Position {
        /// The position file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The forwarder's reading thread cannot be started.
    #[error("cannot start the forwarder's thread: {0}")]
    Thread(std::io::Error),
}

/// The running forwarders (none when forwarding is off): their states for
/// the status API and `/healthz`, and their tasks.
#[derive(Debug, Default)]
pub struct Forwarders {
    targets: Vec<Arc<TargetState>>,
    pending: std::sync::Mutex<Vec<task::Forwarder>>,
    running: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Forwarders {
    /// Prepares the configured forwarder: loads (or creates) its position
    /// file, so housekeeping holds unforwarded days from the start.
    ///
    /// # Errors
    /// [`ForwardError::Position`] when the position file is unusable,
    /// [`ForwardError::Thread`] when the reading thread cannot start.
    pub fn new(
        cfg: &ForwardConfig,
        sink_dir: PathBuf,
        marks: Arc<Watermarks>,
        metrics: Arc<Metrics>,
    ) -> Result<Forwarders, ForwardError> {
        let Some(target) = &cfg.target else {
            return Ok(Forwarders::default());
        };
        let fw = task::Forwarder::new(cfg, target, sink_dir, marks, metrics)?;
        Ok(Forwarders {
            targets: vec![fw.state()],
            pending: std::sync::Mutex::new(vec![fw]),
            running: std::sync::Mutex::default(),
        })
    }

    /// Starts the forwarder tasks; they stop when `stop` becomes `true`.
    pub fn spawn(&self, stop: watch::Receiver<bool>) {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for fw in pending {
            running.push(tokio::spawn(fw.run(stop.clone())));
        }
    }

    /// Waits (at most `limit`) for the tasks to finish their in-flight insert
    /// and save their position, after `stop` was set.
    pub async fn join(&self, limit: Duration) {
        let handles = std::mem::take(&mut *self.running.lock().unwrap_or_else(|e| e.into_inner()));
        let all = async {
            for h in handles {
                let _ = h.await;
            }
        };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!(target: "forward", "forwarder did not stop in time; it resumes from its saved position");
        }
    }

    /// Every target's state.
    pub fn targets(&self) -> &[Arc<TargetState>] {
        &self.targets
    }

    /// `Err(reason)` when a target is stopped (for `/healthz`).
    pub fn health(&self) -> Result<(), String> {
        for t in &self.targets {
            if let Some(reason) = t.stopped_reason() {
                return Err(format!("forwarding to {} stopped: {reason}", t.name()));
            }
        }
        Ok(())
    }

    /// The status API's `forwarding` section.
    pub fn status_json(&self) -> serde_json::Value {
        serde_json::Value::Array(self.targets.iter().map(|t| t.to_json()).collect())
    }
}
