//! [`FileSink`]: appends batches to the tenant's `<YYYYMMDD>.ndjson`, durably.
//!
//! One writer thread owns the files (`writer`). Requests hand it their batch
//! through a bounded queue and wait for the acknowledgement. The writer drains
//! whatever is queued into one group, appends it with one write and one
//! `fdatasync` per file (group commit), then answers every batch of the group.
//! A batch is one contiguous buffer, so batches never interleave. When the
//! queue holds more than `LOGOPS_SINK_QUEUE_BYTES` the request is refused at
//! once with [`SinkError::Overloaded`]: there is no unbounded buffer. A failed
//! write or sync truncates the file back and fails the whole group.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{file, writer, AppendFuture, Batch, Sink, SinkConfig, SinkError, SinkInfo};
use crate::dayfile;
use crate::metrics::Metrics;
use crate::watermark::Watermarks;

/// A batch for the writer.
pub(super) struct Job {
    pub batch: Batch,
    pub ack: oneshot::Sender<Result<(), SinkError>>,
}

pub(super) enum Msg {
    Batch(Job),
    Shutdown,
}

/// State shared between the handle and the writer thread.
#[derive(Debug, Default)]
pub(super) struct Shared {
    pub queued_bytes: AtomicUsize,
    pub failing: AtomicBool,
    pub last_error: Mutex<Option<String>>,
}

/// Handle to the file sink.
pub struct FileSink {
    tx: SyncSender<Msg>,
    shared: Arc<Shared>,
    max_queued: usize,
    dir: PathBuf,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The sink directory's lock ([`dayfile::try_lock`]), held while running.
    _lock: std::fs::File,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Most batches waiting at once, whatever their size.
const QUEUE_SLOTS: usize = 8192;

impl FileSink {
    /// Creates the directory, repairs torn tails, starts the writer thread.
    ///
    /// # Errors
    /// The directory cannot be created or read.
    pub fn start(
        cfg: &SinkConfig,
        metrics: Arc<Metrics>,
        marks: Arc<Watermarks>,
    ) -> std::io::Result<FileSink> {
        let shared = Arc::new(Shared::default());
        std::fs::create_dir_all(&cfg.dir)?;
        let lock = dayfile::try_lock(&cfg.dir)?.ok_or_else(|| {
            std::io::Error::other(format!(
                "another logops-gateway (or logops-decrypt --rotate) is using it ({} is locked)",
                dayfile::LOCK_FILE
            ))
        })?;
        file::repair_dir(&cfg.dir)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE_SLOTS);
        let sealer = match &cfg.chain {
            Some(signer) => Some(crate::chain::sealer::Sealer::start(
                signer.clone(),
                cfg.dir.clone(),
                Arc::clone(&metrics),
            )?),
            None => None,
        };
        let w = writer::Writer::new(
            cfg.dir.clone(),
            cfg.fsync,
            cfg.fsync_interval,
            sealer,
            Arc::clone(&shared),
            metrics,
            marks,
        );
        let thread = std::thread::Builder::new()
            .name("logops-sink".into())
            .spawn(move || w.run(rx))?;
        Ok(FileSink {
            tx,
            shared,
            max_queued: cfg.queue_bytes,
            dir: cfg.dir.clone(),
            thread: Mutex::new(Some(thread)),
            _lock: lock,
        })
    }

    async fn append_batch(&self, batch: Batch) -> Result<(), SinkError> {
        let len = batch.lines.len();
        let before = self.shared.queued_bytes.fetch_add(len, Ordering::AcqRel);
        if before > 0 && before + len > self.max_queued {
            self.shared.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(SinkError::Overloaded {
                limit: self.max_queued,
            });
        }
        let (ack, done) = oneshot::channel();
        let refused = match self.tx.try_send(Msg::Batch(Job { batch, ack })) {
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
}

impl Sink for FileSink {
    fn append(&self, batch: Batch) -> AppendFuture<'_> {
        Box::pin(self.append_batch(batch))
    }

    /// `Err(reason)` when the directory is not writable or the last append failed.
    fn health(&self) -> Result<(), String> {
        file::probe_writable(&self.dir)
            .map_err(|e| format!("sink directory {} is not writable: {e}", self.dir.display()))?;
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

    fn describe(&self) -> SinkInfo {
        SinkInfo {
            kind: "file",
            dir: Some(self.dir.clone()),
        }
    }

    /// Writes everything queued, syncs and closes the files, stops the writer.
    fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}
