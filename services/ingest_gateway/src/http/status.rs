//! `GET /api/v1/status`: the gateway's state in one cheap JSON answer, for
//! the web console's overview and for anyone polling (SPEC §10).
//!
//! Everything comes from memory — the per-second [`crate::status::Activity`]
//! ring, gauges, the sink's committed lengths ([`Watermarks`]) — plus one
//! `statvfs` for free disk, so polling every second costs well under a
//! millisecond and never scans a file. Access is that of the read routes
//! (open with auth off, role `read` with it on); a tenant key sees only its own
//! tenant's day file, gateway-wide counters are shown to every reader (as on
//! `/metrics`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::error::{json_response, ApiError};
use super::read::begin;
use super::AppState;
use crate::dayfile;
use crate::schema::Tenant;
use crate::status::unix_now;
use crate::watermark::Watermarks;

/// What the status API and the console need beyond the rest of [`AppState`].
#[derive(Debug)]
pub struct ConsoleState {
    /// `LOGOPS_UI`: serve the console at `/ui/`.
    pub ui: bool,
    /// When the gateway started.
    pub started: Instant,
    /// The same, Unix seconds.
    pub started_unix: u64,
    /// The configuration, without secrets.
    pub summary: Value,
    /// Where the gateway listens (filled in when the sockets are bound).
    pub listeners: Mutex<Vec<Value>>,
    /// The sink's committed length of every file it wrote.
    pub marks: Arc<Watermarks>,
    /// The sink directory (`None` with the discard sink).
    pub sink_dir: Option<PathBuf>,
    /// The archive directory.
    pub archive_dir: PathBuf,
    /// Line counts of the Files page.
    pub lines: super::files::LineCache,
}

/// Free and total bytes of the filesystem holding `dir`.
fn disk(dir: &std::path::Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some((s.f_bavail * s.f_frsize, s.f_blocks * s.f_frsize))
}

/// Answers `GET /api/v1/status`.
pub(super) fn status(
    req: &Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Result<Response<http_body_util::Full<bytes::Bytes>>, ApiError> {
    let (params, tenant) = begin(req, state, peer_cn)?;
    let all_tenants = !state.auth.enabled();
    let seconds = params
        .get("seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(crate::status::WINDOW_SECS);
    let c = &state.console;
    let activity = state.metrics.activity();
    let mut ingest = activity.snapshot(seconds);
    let sink = state.ingest.sink();
    let health = sink.health();
    let info = sink.describe();
    let bytes_per_s = ingest["rates"]["sink_bytes_per_s_15m"]
        .as_f64()
        .unwrap_or(0.0);
    let disk = c.sink_dir.as_deref().and_then(disk).map(|(free, total)| {
        let days_left = (bytes_per_s > 0.0).then(|| free as f64 / (bytes_per_s * 86_400.0));
        json!({"free_bytes": free, "total_bytes": total, "days_left": days_left})
    });
    let today = time::OffsetDateTime::now_utc().date();
    let lines = activity.lines_today();
    let mut tenants: Vec<String> = lines.iter().map(|(t, _)| t.clone()).collect();
    if !tenants.contains(&tenant.as_str().to_string()) {
        tenants.push(tenant.as_str().to_string());
    }
    tenants.sort();
    let files: Vec<Value> = tenants
        .iter()
        .filter(|t| all_tenants || *t == tenant.as_str())
        .filter_map(|t| {
            let tn = Tenant::new(t).ok()?;
            let dir = c.sink_dir.as_deref()?;
            let path = dayfile::path(dir, &tn, today);
            let size = c.marks.committed(&path);
            let n = lines.iter().find(|(x, _)| x == t).map_or(0, |(_, n)| *n);
            Some(json!({
                "tenant": t,
                "file": dayfile::file_name(today),
                "bytes": size.unwrap_or(0),
                "lines": n,
            }))
        })
        .collect();
    if !all_tenants {
        // A tenant key sees gateway-wide counters but no other tenant's name.
        for part in ["totals", "window"] {
            if let Some(t) = ingest[part]["tenants"].as_object_mut() {
                t.retain(|k, _| k == tenant.as_str());
            }
        }
        if let Some(t) = ingest["series"]["tenants"].as_object_mut() {
            t.retain(|k, _| k == tenant.as_str());
        }
    }
    let hk = activity.last_housekeeping().map(|r| {
        json!({"at": r.at, "deleted": r.deleted, "archived": r.archived, "failed": r.failed, "actions": r.actions})
    });
    let listeners = c.listeners.lock().map(|l| l.clone()).unwrap_or_default();
    let body = json!({
        "version": crate::VERSION,
        "now": unix_now(),
        "started_at": c.started_unix,
        "uptime_s": c.started.elapsed().as_secs_f64(),
        "tenant": tenant.as_str(),
        "config": c.summary,
        "listeners": listeners,
        "ingest": ingest,
        "inflight": state.metrics.inflight.get(),
        "sink": {
            "kind": info.kind,
            "dir": info.dir.map(|d| d.display().to_string()),
            "state": if health.is_ok() { "ok" } else { "degraded" },
            "reason": health.err(),
        },
        "disk": disk,
        "today": files,
        "housekeeping": hk,
        "forwarding": state.forward.status_json(),
    });
    let mut resp = json_response(StatusCode::OK, &body);
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}
