//! What the status API and the console are given at start-up: the
//! configuration without secrets, and today's line count of the files that
//! exist already (counted once, on a background thread, so the status API
//! itself never reads a file).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};

use crate::config::Config;
use crate::dayfile;
use crate::housekeeping::{self, ActionKind};
use crate::http::{AppState, ConsoleState};
use crate::metrics::Metrics;
use crate::status::{unix_now, HousekeepingRun};
use crate::watermark::Watermarks;

/// The console's state for `config`.
pub(super) fn state(config: &Config, marks: Arc<Watermarks>) -> ConsoleState {
    ConsoleState {
        ui: config.server.ui,
        started: Instant::now(),
        started_unix: unix_now(),
        summary: summary(config),
        listeners: Mutex::new(Vec::new()),
        marks,
        sink_dir: config.sink.enabled.then(|| config.sink.dir.clone()),
        archive_dir: config.housekeeping.settings.archive_dir.clone(),
        lines: Default::default(),
    }
}

/// The configuration a reader of the status may see: limits, modes and
/// paths; never a key, a secret or the keys file's content.
fn summary(c: &Config) -> Value {
    let hk = &c.housekeeping;
    json!({
        "listen": c.server.listen.to_string(),
        "tls": c.tls.is_some(),
        "auth": format!("{:?}", c.auth.mode).to_lowercase(),
        "metrics_auth": c.auth.metrics_auth,
        "max_connections": c.server.max_connections,
        "max_body_bytes": c.limits.max_body_bytes,
        "max_records": c.limits.max_records,
        "max_inflight": c.limits.max_inflight,
        "mask_pii": c.pii.mask,
        "encrypt_pii": c.pii.crypt.is_some(),
        "encrypt_fields": c.pii.encrypt_fields,
        "sink_file": c.sink.enabled,
        "sink_dir": c.sink.dir.display().to_string(),
        "fsync": format!("{:?}", c.sink.fsync).to_lowercase(),
        "fsync_interval_ms": c.sink.fsync_interval.as_millis() as u64,
        "sink_queue_bytes": c.sink.queue_bytes,
        "retention_days": hk.settings.retention_days,
        "archive_mode": hk.settings.mode.as_str(),
        "archive_dir": hk.settings.archive_dir.display().to_string(),
        "housekeep_autorun": hk.autorun,
        "housekeep_interval_sec": hk.interval.as_secs(),
        "syslog_tcp": c.syslog.tcp.map(|a| a.to_string()),
        "syslog_udp": c.syslog.udp.map(|a| a.to_string()),
        "query_max_bytes": c.read.max_bytes,
        "query_max_limit": c.read.max_limit,
        "max_tails": c.read.max_tails,
        "max_label_values": c.max_label_values,
        "ui": c.server.ui,
        "forward": c.forward.target.as_ref().map(|t| t.name()),
        "forward_batch_rows": c.forward.batch_rows,
        "forward_batch_bytes": c.forward.batch_bytes,
        "forward_batch_ms": c.forward.batch_wait.as_millis() as u64,
        "forward_compression": c.forward.target.as_ref().map(|t| t.compression().as_str()),
        "forward_nice": c.forward.nice,
        "chain": c.sink.chain.is_some(),
        // Public; shown so monitoring can compare it with the recorded key.
        "chain_public_key": c.sink.chain.as_ref().map(|s| s.public_key()),
    })
}

/// Counts the lines already in today's file of every tenant, up to the
/// length each had before the gateway served (so nothing is counted twice),
/// on a background thread.
pub(super) fn count_existing_lines(sink_dir: &Path, metrics: Arc<Metrics>) {
    let today = time::OffsetDateTime::now_utc().date();
    let day = unix_now() / 86_400;
    let Ok(tenants) = dayfile::tenant_dirs(sink_dir) else {
        return;
    };
    let files: Vec<(String, std::path::PathBuf, u64)> = tenants
        .into_iter()
        .filter_map(|(t, _)| {
            let path = dayfile::path(sink_dir, &t, today);
            let len = std::fs::metadata(&path).ok()?.len();
            Some((t.as_str().to_string(), path, len))
        })
        .collect();
    if files.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("count-lines".into())
        .spawn(move || {
            for (tenant, path, len) in files {
                use std::io::Read;
                let Ok(f) = std::fs::File::open(&path) else {
                    continue;
                };
                let mut r = f.take(len);
                let mut buf = vec![0u8; 1 << 20];
                let mut n = 0u64;
                while let Ok(got) = r.read(&mut buf) {
                    if got == 0 {
                        break;
                    }
                    n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
                }
                metrics.activity().add_existing_lines(&tenant, day, n);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot count today's lines for the status API");
    }
}

/// Tells the status API where the gateway listens (once the sockets are bound).
pub(super) fn record_listeners(
    state: &AppState,
    http: &tokio::net::TcpListener,
    syslog: &[(&'static str, SocketAddr)],
) {
    let mut bound = Vec::new();
    if let Ok(addr) = http.local_addr() {
        let kind = if state.tls.is_some() { "https" } else { "http" };
        bound.push(json!({"kind": kind, "addr": addr.to_string()}));
    }
    for (kind, addr) in syslog {
        bound.push(json!({"kind": format!("syslog-{kind}"), "addr": addr.to_string()}));
    }
    if let Ok(mut l) = state.console.listeners.lock() {
        *l = bound;
    }
}

/// The status API's summary of one housekeeping run.
pub(super) fn housekeeping_run(report: &housekeeping::Report) -> HousekeepingRun {
    HousekeepingRun {
        at: unix_now(),
        deleted: report.count(ActionKind::Deleted),
        archived: report.count(ActionKind::Archived),
        failed: report.failed(),
        actions: report
            .actions
            .iter()
            .take(20)
            .map(|a| a.to_string())
            .collect(),
    }
}
