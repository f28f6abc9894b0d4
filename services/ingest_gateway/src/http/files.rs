//! `GET /api/v1/files`: each tenant's day files and archives with their sizes
//! and line counts, for the console's Files page.
//!
//! Tenant-scoped like the read routes: a key lists its own tenant (an admin
//! key, or anyone with auth off, may name another with `?tenant=`; with auth
//! off and no tenant named, every tenant is listed). Counting lines reads a
//! file once; the count is kept by (path, length, mtime), so the next listing
//! of an unchanged file reads nothing, and a day file being written is counted
//! only up to its acknowledged length. Runs on the blocking pool.
//! Verification state (hash chains) does not exist yet and is not reported.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::error::{json_response, ApiError};
use super::read::begin;
use super::AppState;
use crate::dayfile;
use crate::housekeeping::{archive_entries, read_entry};
use crate::schema::Tenant;

/// What a line count is valid for: file, archive entry (`""` for a day
/// file), length and modification time.
type CountKey = (PathBuf, String, u64, Option<SystemTime>);

/// Line counts already made.
#[derive(Debug, Default)]
pub struct LineCache {
    counts: Mutex<HashMap<CountKey, u64>>,
}

impl LineCache {
    fn get_or(&self, key: CountKey, count: impl FnOnce() -> Option<u64>) -> Option<u64> {
        if let Some(n) = self.counts.lock().ok().and_then(|c| c.get(&key).copied()) {
            return Some(n);
        }
        let n = count()?;
        if let Ok(mut c) = self.counts.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(key, n);
        }
        Some(n)
    }
}

fn count_lines(path: &Path, limit: u64) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut r = file.take(limit);
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let got = r.read(&mut buf).ok()?;
        if got == 0 {
            return Some(n);
        }
        n += memchr::memchr_iter(b'\n', &buf[..got]).count() as u64;
    }
}

/// Answers `GET /api/v1/files`.
pub(super) async fn files(
    req: &Request<Incoming>,
    state: &std::sync::Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<http_body_util::Full<bytes::Bytes>>, ApiError> {
    let (params, tenant) = begin(req, state, peer_cn)?;
    let every = !state.auth.enabled() && params.get("tenant").is_none();
    let st = std::sync::Arc::clone(state);
    let listing = tokio::task::spawn_blocking(move || list(&st, &tenant, every))
        .await
        .map_err(|e| ApiError::ReadFailed(e.to_string()))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "tenants": listing }),
    ))
}

fn list(state: &AppState, tenant: &Tenant, every: bool) -> Vec<Value> {
    let c = &state.console;
    let Some(sink_dir) = c.sink_dir.as_deref() else {
        return Vec::new();
    };
    let tenants: Vec<Tenant> = if every {
        let mut t: Vec<Tenant> = dayfile::tenant_dirs(sink_dir)
            .map(|d| d.into_iter().map(|(t, _)| t).collect())
            .unwrap_or_default();
        if let Ok(archived) = dayfile::tenant_dirs(&c.archive_dir) {
            for (a, _) in archived {
                if !t.contains(&a) {
                    t.push(a);
                }
            }
        }
        t
    } else {
        vec![tenant.clone()]
    };
    tenants
        .iter()
        .map(|t| {
            json!({
                "tenant": t.as_str(),
                "days": days(state, sink_dir, t),
                "archives": archives(state, &c.archive_dir, t),
            })
        })
        .collect()
}

fn days(state: &AppState, sink_dir: &Path, tenant: &Tenant) -> Vec<Value> {
    let entries = dayfile::list(&dayfile::tenant_dir(sink_dir, tenant)).unwrap_or_default();
    entries
        .iter()
        .rev()
        .filter_map(|e| {
            let meta = std::fs::metadata(&e.path).ok()?;
            let len = state.console.marks.committed(&e.path).unwrap_or(meta.len());
            let key = (e.path.clone(), String::new(), len, meta.modified().ok());
            let lines = state
                .console
                .lines
                .get_or(key, || count_lines(&e.path, len));
            Some(json!({
                "day": dayfile::stem(e.day),
                "file": dayfile::file_name(e.day),
                "bytes": len,
                "lines": lines,
            }))
        })
        .collect()
}

fn archives(state: &AppState, archive_dir: &Path, tenant: &Tenant) -> Vec<Value> {
    let dir = dayfile::tenant_dir(archive_dir, tenant);
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut zips: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "zip")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(dayfile::parse_stem)
                    .is_some()
        })
        .collect();
    zips.sort();
    zips.reverse();
    zips.iter()
        .filter_map(|zip| {
            let meta = std::fs::metadata(zip).ok()?;
            let entries = archive_entries(zip).ok()?;
            let entries: Vec<Value> = entries
                .iter()
                .map(|en| {
                    let key = (
                        zip.clone(),
                        en.name.clone(),
                        meta.len(),
                        meta.modified().ok(),
                    );
                    let lines = state.console.lines.get_or(key, || {
                        let data = read_entry(zip, &en.name).ok()?;
                        Some(memchr::memchr_iter(b'\n', &data).count() as u64)
                    });
                    json!({"name": en.name, "bytes": en.size, "lines": lines})
                })
                .collect();
            Some(json!({
                "file": zip.file_name()?.to_string_lossy(),
                "bytes": meta.len(),
                "entries": entries,
            }))
        })
        .collect()
}
