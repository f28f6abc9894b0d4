//! The writer thread: group commit over the daily files.
//!
//! Loop: wait for a batch, drain whatever else is queued (up to
//! [`MAX_GROUP_BYTES`]) into one group, append the group's batches for each day
//! with one `writev`, sync once (`always`), then acknowledge every batch. Under
//! `interval` the loop wakes up to sync dirty files; under `never` it leaves
//! syncing to the OS. On shutdown it drains the queue and syncs everything.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::Date;

use super::file::DayFile;
use super::file_sink::{Job, Msg, Shared};
use super::{FsyncPolicy, SinkError};
use crate::chain::sealer::Sealer;
use crate::dayfile;
use crate::metrics::Metrics;
use crate::schema::Tenant;
use crate::watermark::{Appended, Watermarks, MAX_SHARED_BYTES};

/// A group stops growing past this many bytes, bounding one write's size.
const MAX_GROUP_BYTES: usize = 8 * 1024 * 1024;
/// Files kept open: today's and, around midnight, yesterday's, per active tenant.
const MAX_OPEN_FILES: usize = 64;

pub(super) struct Writer {
    dir: PathBuf,
    policy: FsyncPolicy,
    interval: Duration,
    shared: Arc<Shared>,
    metrics: Arc<Metrics>,
    files: Vec<DayFile>,
    last_sync: Instant,
    marks: Arc<Watermarks>,
    /// With `LOGOPS_CHAIN`: where written and synced lines go to be sealed.
    chain: Option<Sealer>,
}

impl Writer {
    pub fn new(
        dir: PathBuf,
        policy: FsyncPolicy,
        interval: Duration,
        chain: Option<Sealer>,
        shared: Arc<Shared>,
        metrics: Arc<Metrics>,
        marks: Arc<Watermarks>,
    ) -> Self {
        Writer {
            dir,
            policy,
            interval,
            shared,
            metrics,
            files: Vec::new(),
            last_sync: Instant::now(),
            marks,
            chain,
        }
    }

    /// Runs until a `Shutdown` message (or every sender is gone).
    pub fn run(mut self, rx: Receiver<Msg>) {
        let mut stopping = false;
        while !stopping {
            let first = match self.wait(&rx) {
                Some(Some(msg)) => msg,
                Some(None) => {
                    self.sync_dirty();
                    continue;
                }
                None => break,
            };
            let mut group = Vec::new();
            let mut bytes = 0;
            match first {
                Msg::Batch(job) => {
                    bytes += job.batch.lines.len();
                    group.push(job);
                }
                Msg::Shutdown => stopping = true,
            }
            while bytes < MAX_GROUP_BYTES {
                match rx.try_recv() {
                    Ok(Msg::Batch(job)) => {
                        bytes += job.batch.lines.len();
                        group.push(job);
                    }
                    Ok(Msg::Shutdown) => stopping = true,
                    Err(_) => break,
                }
            }
            self.commit(group);
        }
        while let Ok(Msg::Batch(job)) = rx.try_recv() {
            self.commit(vec![job]);
        }
        self.sync_dirty();
        self.files.clear();
        if let Some(sealer) = &self.chain {
            sealer.shutdown();
        }
    }

    /// `Some(Some(msg))`, `Some(None)` when an interval sync is due, `None` when closed.
    fn wait(&self, rx: &Receiver<Msg>) -> Option<Option<Msg>> {
        let dirty = self.files.iter().any(|f| f.dirty);
        if self.policy == FsyncPolicy::Interval && dirty {
            let due = self.last_sync + self.interval;
            let timeout = due.saturating_duration_since(Instant::now());
            return match rx.recv_timeout(timeout) {
                Ok(m) => Some(Some(m)),
                Err(RecvTimeoutError::Timeout) => Some(None),
                Err(RecvTimeoutError::Disconnected) => None,
            };
        }
        rx.recv().ok().map(Some)
    }

    fn commit(&mut self, mut group: Vec<Job>) {
        while !group.is_empty() {
            let (tenant, day) = (group[0].batch.tenant.clone(), group[0].batch.day);
            let (jobs, rest): (Vec<Job>, Vec<Job>) = group
                .into_iter()
                .partition(|j| j.batch.day == day && j.batch.tenant == tenant);
            group = rest;
            let bytes: usize = jobs.iter().map(|j| j.batch.lines.len()).sum();
            // Owned once as `Bytes`: the file, the tails and the sealer share them.
            let (lines, acks): (Vec<bytes::Bytes>, Vec<_>) = jobs
                .into_iter()
                .map(|j| (bytes::Bytes::from(j.batch.lines), j.ack))
                .unzip();
            let written = self.write_day(&tenant, day, &lines, bytes);
            self.shared.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
            let share = self.marks.has_listeners();
            let offset = written.as_ref().map_or(0, |(start, _)| *start);
            let path = written.as_ref().ok().map(|(_, p)| p.clone());
            let result = written.map(|_| ());
            // Shared with live tails in groups of ≤ MAX_SHARED_BYTES.
            let (mut parts, mut part_start, mut part_bytes) = (Vec::new(), offset, 0usize);
            if share && result.is_ok() {
                for l in lines {
                    if part_bytes + l.len() > MAX_SHARED_BYTES && !parts.is_empty() {
                        let group = std::mem::take(&mut parts);
                        self.marks
                            .share(Appended::new(tenant.clone(), day, part_start, group));
                        part_start += part_bytes as u64;
                        part_bytes = 0;
                    }
                    part_bytes += l.len();
                    parts.push(l);
                }
            }
            if !parts.is_empty() {
                self.marks
                    .share(Appended::new(tenant.clone(), day, part_start, parts));
            }
            if let Some((path, len)) = path {
                // Readable from here on, before any client hears "stored".
                self.marks.advance(&path, len);
            }
            for ack in acks {
                let _ = ack.send(result.clone());
            }
        }
        if self.policy == FsyncPolicy::Interval && self.last_sync.elapsed() >= self.interval {
            self.sync_dirty();
        }
    }

    fn write_day(
        &mut self,
        tenant: &Tenant,
        day: Date,
        lines: &[bytes::Bytes],
        bytes: usize,
    ) -> Result<(u64, (PathBuf, u64)), SinkError> {
        let parts: Vec<&[u8]> = lines.iter().map(|l| l.as_ref()).collect();
        // The path is checked before the write (`file_index`) and again after
        // it. A file removed in between got the group into an unlinked inode,
        // so the group is written once more, to the reopened path, before any
        // batch is acknowledged; a file renamed away (logrotate, `mv`) still
        // holds it visibly, so it is not written twice.
        for _ in 0..2 {
            let idx = self
                .file_index(tenant, day)
                .map_err(|e| self.failed(None, "open", &e))?;
            let start = self.files[idx].len();
            if let Err(e) = self.files[idx].append(&parts) {
                return Err(self.failed(Some(idx), "write", &e));
            }
            if self.policy == FsyncPolicy::Always {
                let t = Instant::now();
                if let Err(e) = self.files[idx].sync() {
                    self.files[idx].rollback(start);
                    return Err(self.failed(Some(idx), "sync", &e));
                }
                self.metrics.sink_synced(t.elapsed());
            }
            if self.files[idx].is_current() || self.files[idx].is_linked() {
                if let Some(sealer) = &self.chain {
                    let path = self.files[idx].path.clone();
                    sealer.stage(path.clone(), lines.to_vec());
                    // `interval` seals at its next sync; `never` leaves syncing to the OS.
                    if self.policy != FsyncPolicy::Interval {
                        sealer.seal(path);
                    }
                }
                self.metrics.sink_written(bytes);
                self.shared.failing.store(false, Ordering::Release);
                let f = &self.files[idx];
                return Ok((start, (f.path.clone(), f.len())));
            }
        }
        let e = std::io::Error::other("the day file keeps being removed or replaced");
        Err(self.failed(None, "write", &e))
    }

    /// Records a failure; the file is closed so the next batch reopens it.
    fn failed(&mut self, idx: Option<usize>, op: &str, e: &std::io::Error) -> SinkError {
        if let Some(i) = idx {
            let f = self.files.remove(i);
            tracing::error!(path = %f.path.display(), op, error = %e, "sink append failed; batch rolled back");
        } else {
            tracing::error!(dir = %self.dir.display(), op, error = %e, "sink cannot open the daily file");
        }
        self.metrics.sink_error();
        let msg = format!("{op} failed: {e}");
        self.shared.failing.store(true, Ordering::Release);
        if let Ok(mut last) = self.shared.last_error.lock() {
            *last = Some(msg.clone());
        }
        SinkError::Unavailable(msg)
    }

    /// The open file of (tenant, day), reopened when its path no longer
    /// names it (SPEC §4: never acknowledge a batch written to an unlinked file).
    fn file_index(&mut self, tenant: &Tenant, day: Date) -> std::io::Result<usize> {
        if let Some(i) = self
            .files
            .iter()
            .position(|f| f.day == day && f.tenant == *tenant)
        {
            if self.files[i].is_current() {
                return Ok(i);
            }
            let gone = self.files.remove(i);
            tracing::warn!(path = %gone.path.display(), "day file was removed or replaced while open; reopening the path");
            self.metrics.sink_reopened();
        }
        if self.files.len() >= MAX_OPEN_FILES {
            let oldest = (0..self.files.len())
                .min_by_key(|&i| self.files[i].day)
                .unwrap_or(0);
            let mut f = self.files.remove(oldest);
            if let Err(e) = f.sync() {
                tracing::error!(path = %f.path.display(), error = %e, "sync on close failed");
            }
        }
        let path = dayfile::path(&self.dir, tenant, day);
        let file = DayFile::open(path, tenant.clone(), day)?;
        if let Some(sealer) = &self.chain {
            sealer.open(file.path.clone(), tenant.clone(), day, file.len());
        }
        self.marks.advance(&file.path, file.len());
        self.files.push(file);
        Ok(self.files.len() - 1)
    }

    fn sync_dirty(&mut self) {
        for i in 0..self.files.len() {
            if !self.files[i].dirty {
                continue;
            }
            let t = Instant::now();
            match self.files[i].sync() {
                Ok(()) => {
                    self.metrics.sink_synced(t.elapsed());
                    if let Some(sealer) = &self.chain {
                        sealer.seal(self.files[i].path.clone());
                    }
                }
                Err(e) => {
                    self.metrics.sink_error();
                    tracing::error!(path = %self.files[i].path.display(), error = %e, "periodic sync failed");
                }
            }
        }
        self.last_sync = Instant::now();
    }
}
