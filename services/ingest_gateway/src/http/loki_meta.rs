//! The Loki metadata routes: `labels`, `label/<name>/values`, `series` and
//! `index/stats` — what Grafana's query builder and logs volume ask before
//! (and beside) the queries of [`super::loki`]. Each scans the range once
//! on the blocking pool, bounded to 10 000 distinct values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use super::error::ApiError;
use super::loki::{stream_labels, success};
use super::read::{self, Params};
use super::stream::Body;
use super::AppState;
use crate::read::line::Raw;
use crate::read::logql::{LogQuery, Query};
use crate::read::metric::STREAM_LABELS;
use crate::read::source::{Line, ScanStats};
use crate::schema::Tenant;

/// Most distinct values a label-values or series answer holds.
const MAX_VALUES: usize = 10_000;

/// `labels`: the stream label names (every stored line has them).
pub(super) fn labels(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (_, tenant) = read::begin(req, state, peer_cn)?;
    let mut names: Vec<&str> = STREAM_LABELS.to_vec();
    if !tenant.is_default() {
        names.push("tenant");
    }
    names.sort_unstable();
    Ok(success(json!(names)))
}

/// Calls `visit` with the stream labels of every line of the range
/// matching `selector` until it returns false.
async fn scan_streams(
    state: &Arc<AppState>,
    tenant: Tenant,
    selector: Option<LogQuery>,
    (start, end): (i64, i64),
    mut visit: impl FnMut(BTreeMap<String, String>, &[u8]) -> bool + Send + 'static,
) -> Result<(), ApiError> {
    let filter = read::compile(&selector.unwrap_or_default())?;
    let st = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let mut stats = ScanStats::default();
        for src in st.store.sources(&tenant)? {
            let mut f = |l: Line<'_>| {
                !filter.matches(l.bytes) || visit(stream_labels(l.bytes, &tenant), l.bytes)
            };
            if !st
                .store
                .scan(&src, 0, (start, end.saturating_add(1)), &mut stats, &mut f)?
            {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await
    .map_err(|e| ApiError::ReadFailed(e.to_string()))?
    .map_err(|e| ApiError::ReadFailed(e.to_string()))
}

fn selector(params: &Params, name: &str) -> Result<Option<LogQuery>, ApiError> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    match crate::read::logql::parse(text).map_err(|e| ApiError::BadQuery(e.to_string()))? {
        Query::Logs(q) => Ok(Some(q)),
        _ => Err(ApiError::BadQuery(format!(
            "{name} must be a stream selector"
        ))),
    }
}

fn take<T: Default>(shared: &Arc<Mutex<T>>) -> T {
    std::mem::take(&mut *shared.lock().unwrap_or_else(|p| p.into_inner()))
}

/// `label/<name>/values`.
pub(super) async fn label_values(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
    name: String,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = read::begin(req, state, peer_cn)?;
    let range = read::time_range(&params)?;
    let sel = selector(&params, "query")?;
    let values = Arc::new(Mutex::new(BTreeSet::new()));
    let is_stream = STREAM_LABELS.contains(&name.as_str()) || name == "tenant";
    let found = Arc::clone(&values);
    let visit = move |labels: BTreeMap<String, String>, line: &[u8]| {
        let v = if is_stream {
            labels.get(&name).cloned()
        } else {
            crate::read::line::field(line, &name).and_then(|v| match v {
                Raw::Str(_) => Some(v.text().into_owned()),
                Raw::Other(_) => None,
            })
        };
        let mut set = found.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = v {
            set.insert(v);
        }
        set.len() < MAX_VALUES
    };
    scan_streams(state, tenant, sel, range, visit).await?;
    Ok(success(json!(take(&values))))
}

/// `series`: the distinct label sets of the streams matching `match[]`.
pub(super) async fn series(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = read::begin(req, state, peer_cn)?;
    let range = read::time_range(&params)?;
    let mut queries: Vec<Option<LogQuery>> = Vec::new();
    for m in params.all("match[]").chain(params.all("match")) {
        match crate::read::logql::parse(m).map_err(|e| ApiError::BadQuery(e.to_string()))? {
            Query::Logs(q) => queries.push(Some(q)),
            _ => {
                return Err(ApiError::BadQuery(
                    "match[] must be a stream selector".into(),
                ))
            }
        }
    }
    if queries.is_empty() {
        queries.push(None);
    }
    let found = Arc::new(Mutex::new(BTreeSet::new()));
    for q in queries {
        let seen = Arc::clone(&found);
        let visit = move |labels: BTreeMap<String, String>, _: &[u8]| {
            let mut set = seen.lock().unwrap_or_else(|p| p.into_inner());
            set.insert(labels);
            set.len() < MAX_VALUES
        };
        scan_streams(state, tenant.clone(), q, range, visit).await?;
    }
    Ok(success(json!(take(&found))))
}

#[derive(Default)]
struct IndexStats {
    streams: BTreeSet<BTreeMap<String, String>>,
    entries: u64,
    bytes: u64,
}

/// `index/stats`: streams, chunks (day files), entries and bytes matching `query`.
pub(super) async fn index_stats(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = read::begin(req, state, peer_cn)?;
    let range = read::time_range(&params)?;
    let sel = selector(&params, "query")?;
    let acc = Arc::new(Mutex::new(IndexStats::default()));
    let shared = Arc::clone(&acc);
    let visit = move |labels: BTreeMap<String, String>, line: &[u8]| {
        let mut a = shared.lock().unwrap_or_else(|p| p.into_inner());
        a.entries += 1;
        a.bytes += line.len() as u64;
        a.streams.insert(labels);
        true
    };
    scan_streams(state, tenant.clone(), sel, range, visit).await?;
    let a = take(&acc);
    let files = state.store.sources(&tenant).map(|v| v.len()).unwrap_or(0);
    Ok(read::json(
        StatusCode::OK,
        &json!({"streams": a.streams.len(), "chunks": files, "entries": a.entries, "bytes": a.bytes}),
    ))
}
