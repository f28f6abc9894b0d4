//! The forwarder loop of one target: look at the outbox, take the file
//! whose unsent lines have waited longest, wait a little for a fuller batch while the sink
//! is still writing it, send, and on acknowledgement save the position.
//!
//! - Failures keep the batch: connection errors, timeouts and 5xx are
//!   retried with [`Backoff`]; a refusal (a 4xx such as an unknown table or
//!   a column that does not fit) stops the target — status `stopped` with
//!   ClickHouse's message — and the same batch is re-probed every backoff cap,
//!   so fixing the table resumes forwarding without a restart.
//! - Stopping: an insert in flight is finished (bounded by the timeout) and
//!   its position saved, so a clean stop sends nothing twice.
//! - Nothing here ever waits on the sink: it reads files and watermarks.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::backoff::Backoff;
use super::batch::{self, Batch};
use super::lag::LagClock;
use super::outbox::{self, FileState, Scan};
use super::position::{self, Positions};
use super::state::{TargetState, TargetStatus};
use super::store::{self, Outcome, Store};
use super::worker::Worker;
use super::{ForwardConfig, ForwardError, Target};
use crate::metrics::Metrics;
use crate::watermark::Watermarks;

/// How often the outbox is looked at while idle (new tenants, new days).
const IDLE_RESCAN: Duration = Duration::from_secs(1);
/// Line length assumed before the first batch was read.
const FIRST_LINE_GUESS: f64 = 200.0;

/// One target's forwarder, ready to run.
#[derive(Debug)]
pub struct Forwarder {
    name: &'static str,
    client: Arc<dyn Store>,
    batch_rows: usize,
    batch_bytes: usize,
    batch_wait: Duration,
    backoff_max: Duration,
    root: PathBuf,
    position_file: PathBuf,
    positions: Positions,
    marks: Arc<Watermarks>,
    metrics: Arc<Metrics>,
    state: Arc<TargetState>,
    /// How long the oldest unsent line has waited.
    clock: LagClock,
    /// Reads and compresses batches, below ingest's CPU priority.
    worker: Worker,
}

impl Forwarder {
    /// Loads `target`'s position (writing an empty one if there is none).
    pub fn new(
        cfg: &ForwardConfig,
        target: &Target,
        root: PathBuf,
        marks: Arc<Watermarks>,
        metrics: Arc<Metrics>,
    ) -> Result<Forwarder, ForwardError> {
        let name = target.name();
        let position_file = position::file(&root, name);
        let err = |source| ForwardError::Position {
            path: position_file.clone(),
            source,
        };
        let positions = Positions::load(&position_file).map_err(err)?;
        if !position_file.exists() {
            positions.save(&position_file, name).map_err(err)?;
        }
        // A backlog found at start waits since the last save before it, at the latest.
        let saved_at = std::fs::metadata(&position_file)
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        let client = store::build(target, cfg.timeout);
        let worker = Worker::start(name, cfg.nice).map_err(ForwardError::Thread)?;
        let state = Arc::new(TargetState::new(
            name,
            client.endpoint().to_string(),
            position_file.display().to_string(),
        ));
        metrics.forward().started(name);
        Ok(Forwarder {
            name,
            client,
            batch_rows: cfg.batch_rows,
            batch_bytes: cfg.batch_bytes,
            batch_wait: cfg.batch_wait,
            backoff_max: cfg.backoff_max,
            root,
            position_file,
            positions,
            marks,
            metrics,
            state,
            clock: LagClock::new(saved_at),
            worker,
        })
    }

    /// The state shared with the status API.
    pub fn state(&self) -> Arc<TargetState> {
        Arc::clone(&self.state)
    }

    /// Forwards until `stop` becomes `true`.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        tracing::info!(target: "forward", forward = self.name, endpoint = self.client.endpoint(), files = self.positions.len(), "forwarding day files");
        let mut wake = self.marks.subscribe();
        let mut backoff = Backoff::new(self.backoff_max);
        let mut line_len = FIRST_LINE_GUESS;
        let mut pending_since: Option<Instant> = None;
        // Files whose unsent rest is an incomplete line, with that end.
        let mut torn: Vec<(PathBuf, u64)> = Vec::new();
        while !*stop.borrow() {
            let scan = match self.scan().await {
                Ok(s) => s,
                Err(e) => {
                    self.failed("io", format!("cannot read the sink directory: {e}"));
                    if sleep_or_stop(IDLE_RESCAN, &mut stop).await {
                        return;
                    }
                    continue;
                }
            };
            self.report_lag(&scan.files);
            torn.retain(|(p, end)| scan.files.iter().any(|f| &f.path == p && f.end == *end));
            // The file whose oldest unsent line has waited longest (the oldest
            // day first among equals): a busy tenant does not starve the others.
            let next = scan
                .files
                .into_iter()
                .filter(|f| {
                    f.pending() > 0 && !torn.iter().any(|(p, e)| *p == f.path && *e == f.end)
                })
                .min_by_key(|f| self.clock.waiting_since(&f.path));
            let Some(mut file) = next else {
                pending_since = None;
                tokio::select! {
                    _ = wake.changed() => {}
                    () = tokio::time::sleep(IDLE_RESCAN) => {}
                    _ = stop.changed() => {}
                }
                continue;
            };
            let since = *pending_since.get_or_insert_with(Instant::now);
            if file.live
                && self
                    .wait_for_batch(&mut file, since, line_len, &mut wake, &mut stop)
                    .await
            {
                return;
            }
            let (path, start, end) = (file.path.clone(), file.offset, file.end);
            let (rows, bytes) = (self.batch_rows, self.batch_bytes);
            let store = Arc::clone(&self.client);
            let read = self
                .worker
                .run(move || {
                    let mut b = batch::read(&path, start, end, rows, bytes)?;
                    if let Some(b) = &mut b {
                        b.body = store.encode(std::mem::take(&mut b.body))?;
                    }
                    Ok::<_, std::io::Error>(b)
                })
                .await;
            let batch = match read {
                Some(Ok(Some(b))) => b,
                Some(Ok(None)) => {
                    torn.push((file.path.clone(), file.end));
                    continue;
                }
                Some(Err(e)) => {
                    self.failed("io", format!("cannot read {}: {e}", file.path.display()));
                    if sleep_or_stop(IDLE_RESCAN, &mut stop).await {
                        return;
                    }
                    continue;
                }
                None => {
                    self.failed(
                        "io",
                        format!("reading {} did not complete", file.path.display()),
                    );
                    if sleep_or_stop(IDLE_RESCAN, &mut stop).await {
                        return;
                    }
                    continue;
                }
            };
            line_len = ((batch.end - batch.start) as f64 / batch.rows as f64).max(1.0);
            let sent_at = Instant::now();
            if self.send(&batch, &mut backoff, &mut stop).await {
                return;
            }
            self.acknowledged(&file, &batch).await;
            pending_since = (file.end > batch.end || file.live).then_some(sent_at);
        }
    }

    /// Waits (at most `batch_wait` after `since`) until the live `file` holds
    /// a full batch. Returns `true` when told to stop.
    async fn wait_for_batch(
        &self,
        file: &mut FileState,
        since: Instant,
        line_len: f64,
        wake: &mut watch::Receiver<u64>,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let deadline = tokio::time::Instant::from_std(since + self.batch_wait);
        loop {
            if let Some(end) = self.marks.committed(&file.path) {
                file.end = end.max(file.end);
            }
            let pending = file.pending();
            let full = pending >= self.batch_bytes as u64
                || pending as f64 / line_len >= self.batch_rows as f64;
            if full || tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::select! {
                _ = wake.changed() => {}
                () = tokio::time::sleep_until(deadline) => {}
                _ = stop.changed() => return true,
            }
        }
    }

    /// Sends `batch` until the store takes it. Returns `true` when told to
    /// stop while waiting to retry (the position is unchanged).
    async fn send(
        &mut self,
        batch: &Batch,
        backoff: &mut Backoff,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let mut failing = false;
        loop {
            let wait = match self.client.insert(batch.body.clone()).await {
                Outcome::Acked => {
                    backoff.reset();
                    if failing {
                        tracing::info!(target: "forward", forward = self.name, "the target accepts inserts again; forwarding resumed");
                    }
                    return false;
                }
                Outcome::Retry { reason, detail } => {
                    if !failing {
                        tracing::warn!(target: "forward", forward = self.name, reason, "insert failed, retrying with backoff: {detail}");
                    }
                    self.metrics.forward().error(self.name, reason);
                    self.state.error(detail.clone());
                    self.state.set_status(TargetStatus::Backoff, Some(detail));
                    backoff.next_delay()
                }
                Outcome::Refused { reason, detail } => {
                    if self.state.status() != TargetStatus::Stopped {
                        tracing::error!(target: "forward", forward = self.name, reason, "the target refuses the insert; forwarding stopped (position kept, re-probed every {} ms): {detail}", self.backoff_max.as_millis());
                    }
                    self.metrics.forward().error(self.name, reason);
                    self.state.error(detail.clone());
                    self.state.set_status(TargetStatus::Stopped, Some(detail));
                    self.backoff_max
                }
            };
            failing = true;
            self.refresh_lag().await;
            if sleep_or_stop(wait, stop).await {
                return true;
            }
        }
    }

    /// The store has `batch`: the position moves past it, durably.
    async fn acknowledged(&mut self, file: &FileState, batch: &Batch) {
        self.positions.set(&file.tenant, file.day, batch.end);
        let (positions, path, name) = (
            self.positions.clone(),
            self.position_file.clone(),
            self.name,
        );
        let saved = tokio::task::spawn_blocking(move || positions.save(&path, name)).await;
        if let Err(e) = saved.map_err(std::io::Error::other).and_then(|r| r) {
            // Forwarding goes on; a restart before the next save resends this batch.
            self.failed(
                "io",
                format!(
                    "cannot save the position {}: {e}",
                    self.position_file.display()
                ),
            );
        }
        self.metrics.forward().sent(self.name, batch.rows);
        self.state.acked(batch.rows);
    }

    async fn scan(&mut self) -> std::io::Result<Scan> {
        let mut positions = std::mem::take(&mut self.positions);
        let (root, marks) = (self.root.clone(), Arc::clone(&self.marks));
        let joined = tokio::task::spawn_blocking(move || {
            let r = outbox::scan(&root, &marks, &mut positions);
            (positions, r)
        })
        .await
        .map_err(std::io::Error::other)?;
        self.positions = joined.0;
        let scan = joined.1?;
        if !scan.replaced.is_empty() {
            for r in &scan.replaced {
                self.failed(
                    "file_replaced",
                    format!(
                        "{} is {} bytes but {} were already forwarded: the file was replaced; forwarding it again from its start",
                        r.path.display(),
                        r.len,
                        r.offset
                    ),
                );
            }
            if let Err(e) = self.positions.save(&self.position_file, self.name) {
                self.failed(
                    "io",
                    format!(
                        "cannot save the position {}: {e}",
                        self.position_file.display()
                    ),
                );
            }
        }
        Ok(scan)
    }

    /// Updates the lag while a batch is being retried (the outbox grows
    /// meanwhile); the saved positions are not touched.
    async fn refresh_lag(&mut self) {
        let mut positions = self.positions.clone();
        let (root, marks) = (self.root.clone(), Arc::clone(&self.marks));
        let scan =
            tokio::task::spawn_blocking(move || outbox::scan(&root, &marks, &mut positions)).await;
        if let Ok(Ok(scan)) = scan {
            self.report_lag(&scan.files);
        }
    }

    fn failed(&self, reason: &'static str, detail: String) {
        tracing::error!(target: "forward", forward = self.name, reason, "{detail}");
        self.metrics.forward().error(self.name, reason);
        self.state.error(detail);
    }

    fn report_lag(&mut self, files: &[FileState]) {
        let bytes: u64 = files.iter().map(FileState::pending).sum();
        let seconds = self.clock.observe(files, SystemTime::now());
        self.metrics.forward().lag(self.name, bytes, seconds);
        self.state.lag(bytes, seconds, files.len());
    }
}

/// Sleeps `d`; `true` if `stop` was set meanwhile.
async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}
