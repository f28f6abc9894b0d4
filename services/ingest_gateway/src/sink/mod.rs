//! Sink: appends encoded batches to `<dir>/<YYYYMMDD>.ndjson`, durably.
//!
//! One writer thread owns the files ([`writer`]). Requests hand it their batch
//! through a bounded queue ([`Sink::append`]) and wait for the acknowledgement.
//! The writer drains whatever is queued into one group, appends it with one
//! write and one `fdatasync` (group commit), then answers every batch of the
//! group. A batch is one contiguous buffer, so batches never interleave. When
//! the queue holds more than `LOGOPS_SINK_QUEUE_BYTES` the request is refused
//! at once with [`SinkError::Overloaded`]: there is no unbounded buffer. A
//! failed write or sync truncates the file back and fails the whole group.

mod file;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::config::Config;
use crate::metrics::Metrics;

/// Why a batch was not appended. Nothing of it is in the file.
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

/// A batch for the writer.
struct Job {
    day: u32,
    bytes: Vec<u8>,
    ack: oneshot::Sender<Result<(), SinkError>>,
}

enum Msg {
    Batch(Job),
    Shutdown,
}

/// State shared between the handle and the writer thread.
#[derive(Debug, Default)]
struct Shared {
    queued_bytes: AtomicUsize,
    failing: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("dir", &self.dir())
            .finish_non_exhaustive()
    }
}

/// Handle to the file sink (or a discarding sink when `LOGOPS_SINK_FILE=false`).
pub struct Sink {
    tx: Option<SyncSender<Msg>>,
    shared: Arc<Shared>,
    max_queued: usize,
    dir: Option<PathBuf>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Most batches waiting at once, whatever their size.
const QUEUE_SLOTS: usize = 8192;

impl Sink {
    /// Creates the directory and starts the writer thread.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn start(cfg: &Config, metrics: Arc<Metrics>) -> std::io::Result<Sink> {
        let shared = Arc::new(Shared::default());
        if !cfg.sink_file {
            return Ok(Sink {
                tx: None,
                shared,
                max_queued: cfg.sink_queue_bytes,
                dir: None,
                thread: Mutex::new(None),
            });
        }
        std::fs::create_dir_all(&cfg.sink_dir)?;
        file::repair_dir(&cfg.sink_dir)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_SLOTS);
        let w = writer::Writer::new(
            cfg.sink_dir.clone(),
            cfg.fsync,
            cfg.fsync_interval,
            Arc::clone(&shared),
            metrics,
        );
        let thread = std::thread::Builder::new()
            .name("logops-sink".into())
            .spawn(move || w.run(rx))?;
        Ok(Sink {
            tx: Some(tx),
            shared,
            max_queued: cfg.sink_queue_bytes,
            dir: Some(cfg.sink_dir.clone()),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The sink directory, `None` when the file sink is off.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Appends one batch to the file of `day` (`YYYYMMDD`) and waits until it is
    /// written (and synced under `LOGOPS_FSYNC=always`).
    ///
    /// # Errors
    /// [`SinkError::Overloaded`] at once when the queue is full;
    /// [`SinkError::Unavailable`] when the write failed and was rolled back.
    pub async fn append(&self, day: u32, bytes: Vec<u8>) -> Result<(), SinkError> {
        let Some(tx) = &self.tx else { return Ok(()) };
        let len = bytes.len();
        let before = self.shared.queued_bytes.fetch_add(len, Ordering::AcqRel);
        if before > 0 && before + len > self.max_queued {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(SinkError::Overloaded {
                limit: self.max_queued,
            });
        }
        let (ack, done) = oneshot::channel();
        let refused = match tx.try_send(Msg::Batch(Job { day, bytes, ack })) {
            Ok(()) => None,
            Err(TrySendError::Full(_)) => Some(SinkError::Overloaded {
                limit: self.max_queued,
            }),
            Err(TrySendError::Disconnected(_)) => {
                Some(SinkError::Unavailable("the sink has stopped".into()))
            }
        };
        if let Some(e) = refused {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(e);
        }
        done.await
            .unwrap_or_else(|_| Err(SinkError::Unavailable("the sink has stopped".into())))
    }

    /// `Err(reason)` when the sink cannot write: its directory is not writable,
    /// or the last append failed.
    pub fn health(&self) -> Result<(), String> {
        let Some(dir) = &self.dir else { return Ok(()) };
        file::probe_writable(dir)
            .map_err(|e| format!("sink directory {} is not writable: {e}", dir.display()))?;
        if self.shared.failing.load(Ordering::Acquire) {
            let last = self
                .shared
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_default();
            return Err(format!("last append failed: {last}"));
        }
        Ok(())
    }

    /// Writes everything queued, syncs and closes the files, stops the writer.
    pub fn shutdown(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Msg::Shutdown);
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// `YYYYMMDD` of a UTC date, the daily file's name.
pub fn day_number(date: time::Date) -> u32 {
    date.year() as u32 * 10_000 + u8::from(date.month()) as u32 * 100 + date.day() as u32
}
