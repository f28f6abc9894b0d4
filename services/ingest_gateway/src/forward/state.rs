//! What the rest of the gateway sees of one forwarder: running, backing off
//! or stopped (with the reason), its lag and totals. Written by the task,
//! read by `GET /api/v1/status` and `/healthz`; the metrics are set by the
//! task alongside.

use std::sync::Mutex;

use serde_json::{json, Value};

use crate::status::unix_now;

/// A forwarder's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    /// Sending, or caught up and waiting for lines.
    Running,
    /// The store is unreachable or answers 5xx; retrying with backoff.
    Backoff,
    /// The store refuses the insert (4xx that will not succeed by retrying);
    /// the place is kept and the insert re-probed every backoff cap.
    Stopped,
}

impl TargetStatus {
    fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Running => "running",
            TargetStatus::Backoff => "backoff",
            TargetStatus::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone)]
struct Snapshot {
    status: TargetStatus,
    reason: Option<String>,
    last_error: Option<(u64, String)>,
    lag_bytes: u64,
    lag_seconds: f64,
    sent_records: u64,
    sent_batches: u64,
    last_ack_at: Option<u64>,
    files: usize,
}

/// One target's shared state.
#[derive(Debug)]
pub struct TargetState {
    name: &'static str,
    /// Where it sends, without credentials.
    endpoint: String,
    /// The position file.
    position_file: String,
    inner: Mutex<Snapshot>,
}

impl TargetState {
    pub(crate) fn new(name: &'static str, endpoint: String, position_file: String) -> Self {
        TargetState {
            name,
            endpoint,
            position_file,
            inner: Mutex::new(Snapshot {
                status: TargetStatus::Running,
                reason: None,
                last_error: None,
                lag_bytes: 0,
                lag_seconds: 0.0,
                sent_records: 0,
                sent_batches: 0,
                last_ack_at: None,
                files: 0,
            }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Snapshot) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// The target's name (`clickhouse`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The current condition.
    pub fn status(&self) -> TargetStatus {
        self.with(|s| s.status)
    }

    /// The reason it is stopped, if it is.
    pub fn stopped_reason(&self) -> Option<String> {
        self.with(|s| {
            (s.status == TargetStatus::Stopped).then(|| s.reason.clone().unwrap_or_default())
        })
    }

    pub(crate) fn set_status(&self, status: TargetStatus, reason: Option<String>) {
        self.with(|s| {
            s.status = status;
            s.reason = reason;
        });
    }

    pub(crate) fn error(&self, detail: String) {
        self.with(|s| s.last_error = Some((unix_now(), detail)));
    }

    pub(crate) fn lag(&self, bytes: u64, seconds: f64, files: usize) {
        self.with(|s| {
            s.lag_bytes = bytes;
            s.lag_seconds = seconds;
            s.files = files;
        });
    }

    pub(crate) fn acked(&self, records: u64) {
        self.with(|s| {
            s.sent_records += records;
            s.sent_batches += 1;
            s.last_ack_at = Some(unix_now());
            s.status = TargetStatus::Running;
            s.reason = None;
        });
    }

    /// The status API's view of this target.
    pub fn to_json(&self) -> Value {
        self.with(|s| {
            json!({
                "target": self.name,
                "endpoint": self.endpoint,
                "position_file": self.position_file,
                "state": s.status.as_str(),
                "reason": s.reason,
                "last_error": s.last_error.as_ref().map(|(at, d)| json!({"at": at, "detail": d})),
                "lag_bytes": s.lag_bytes,
                "lag_seconds": s.lag_seconds,
                "files": s.files,
                "sent_records": s.sent_records,
                "sent_batches": s.sent_batches,
                "last_ack_at": s.last_ack_at,
            })
        })
    }
}
