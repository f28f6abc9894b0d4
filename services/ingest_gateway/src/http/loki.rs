//! The Loki-compatible read API (SPEC §9), so Grafana's Loki data source and
//! `logcli` can use LogOps as their Loki URL: `query`, `query_range`
//! (streams, matrix and vector results in Loki's JSON shapes, with
//! `stats`), `labels`, `label/<name>/values`, `series`, `index/stats`,
//! `status/buildinfo` and `/ready`. Errors are Loki's: a plain-text body
//! with the status.
//!
//! Stream labels of a line are its `level`, `emitter` and `scenario_id`
//! (and `tenant` for a tenant other than `default`, which only admins read).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::read::{self, Params};
use super::stream::{self, Body};
use super::AppState;
use crate::read::filter::Filter;
use crate::read::line::{key_is, Fields, Raw};
use crate::read::logql::{LogQuery, MetricExpr, Query};
use crate::read::metric::{self, MetricRequest, Series, STREAM_LABELS};
use crate::read::query::{self as logs, LogRequest};
use crate::read::source::{Line, ScanStats};
use crate::read::timearg::{now_ns, parse_step, parse_time};
use crate::schema::Tenant;

/// The Loki version the build info claims (Grafana enables features by it).
const LOKI_VERSION: &str = "3.4.0";
/// Most distinct values a label-values or series answer holds.
const MAX_VALUES: usize = 10_000;

/// Is `path` one of the Loki read routes?
pub(super) fn is_route(path: &str) -> bool {
    path == "/ready" || (path.starts_with("/loki/api/v1/") && path != "/loki/api/v1/push")
}

/// Answers a Loki read route.
pub(super) async fn handle(
    req: Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Response<Body> {
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let result = match path.as_str() {
        "/ready" => Ok(text(StatusCode::OK, "ready\n".into())),
        "/loki/api/v1/status/buildinfo" => Ok(read::json(
            StatusCode::OK,
            &json!({"version": LOKI_VERSION, "revision": format!("logops-{}", crate::VERSION),
                    "branch": "", "buildUser": "", "buildDate": "", "goVersion": ""}),
        )),
        "/loki/api/v1/query_range" => query(&req, state, peer_cn, true, started).await,
        "/loki/api/v1/query" => query(&req, state, peer_cn, false, started).await,
        "/loki/api/v1/labels" => labels(&req, state, peer_cn),
        "/loki/api/v1/series" => series(&req, state, peer_cn).await,
        "/loki/api/v1/index/stats" => index_stats(&req, state, peer_cn).await,
        p if p.starts_with("/loki/api/v1/label/") && p.ends_with("/values") => {
            let name = p["/loki/api/v1/label/".len()..p.len() - "/values".len()].to_string();
            label_values(&req, state, peer_cn, name).await
        }
        _ => Err(ApiError::NotFound(path.clone())),
    };
    result.unwrap_or_else(error)
}

/// Loki answers errors as plain text.
pub(super) fn error(e: ApiError) -> Response<Body> {
    let m = e.meta();
    let mut resp = text(m.status, format!("{e}\n"));
    if let Some(secs) = m.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    resp
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(stream::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn success(data: Value) -> Response<Body> {
    read::json(StatusCode::OK, &json!({"status": "success", "data": data}))
}

/// Runs a metric query on the blocking pool.
pub(super) async fn evaluate(
    state: Arc<AppState>,
    tenant: Tenant,
    expr: MetricExpr,
    filter: Filter,
    (start, end): (i64, i64),
    step: i64,
) -> Result<(Vec<Series>, ScanStats), ApiError> {
    tokio::task::spawn_blocking(move || {
        let req = MetricRequest {
            expr: &expr,
            filter: &filter,
            start,
            end,
            step,
        };
        metric::evaluate(&state.store, &tenant, &req)
    })
    .await
    .map_err(|e| ApiError::ReadFailed(e.to_string()))?
    .map_err(|e| match e {
        metric::MetricError::Io(e) => ApiError::ReadFailed(e.to_string()),
        other => ApiError::BadQuery(other.to_string()),
    })
}

/// The stream labels of a stored line.
pub(super) fn stream_labels(line: &[u8], tenant: &Tenant) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in Fields::new(line) {
        if let (Some(name), Raw::Str(_)) = (STREAM_LABELS.iter().find(|n| key_is(k, n)), v) {
            out.insert((*name).to_string(), v.text().into_owned());
            if out.len() == STREAM_LABELS.len() {
                break;
            }
        }
    }
    if !tenant.is_default() {
        out.insert("tenant".into(), tenant.as_str().to_string());
    }
    out
}

fn summary(scan: &ScanStats, returned: u64, started: Instant) -> Value {
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    json!({"summary": {
        "bytesProcessedPerSecond": (scan.bytes_scanned as f64 / secs) as u64,
        "linesProcessedPerSecond": (scan.lines_scanned as f64 / secs) as u64,
        "totalBytesProcessed": scan.bytes_scanned,
        "totalLinesProcessed": scan.lines_scanned,
        "totalEntriesReturned": returned,
        "execTime": secs,
        "queueTime": 0,
        "subqueries": 0,
        "splits": 0,
        "shards": 0,
    }})
}

/// `query_range` (`range`) and `query` (instant).
async fn query(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
    range: bool,
    started: Instant,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = read::authorize(req, state, peer_cn, &params)?;
    let q = read::parse_query(&params)?;
    let now = now_ns();
    let (start, end) = if range {
        read::time_range(&params)?
    } else {
        let t = params
            .get("time")
            .map_or(Ok(now), |v| parse_time("time", v, now))
            .map_err(|e| ApiError::BadQuery(e.to_string()))?;
        (t.saturating_sub(3_600_000_000_000), t)
    };
    match q {
        Query::Vector(v) => Ok(success(json!({
            "resultType": "vector",
            "result": [{"metric": {}, "value": [end as f64 / 1e9, v.to_string()]}],
            "stats": summary(&ScanStats::default(), 0, started),
        }))),
        Query::Logs(lq) => streams(state, tenant, &lq, &params, (start, end), started).await,
        Query::Metric(expr) => {
            let filter = read::compile(expr.log_query())?;
            let (first, step) = if range {
                let step = match params.get("step") {
                    Some(v) => parse_step(v).map_err(|e| ApiError::BadQuery(e.to_string()))?,
                    // Loki's default: about 250 points, at least a second.
                    None => ((end - start) / 250).max(1_000_000_000),
                };
                (start, step)
            } else {
                (end, 1_000_000_000)
            };
            let (series, scan) =
                evaluate(Arc::clone(state), tenant, expr, filter, (first, end), step).await?;
            let fmt = |v: f64| {
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    format!("{}", v as i64)
                } else {
                    v.to_string()
                }
            };
            let result: Vec<Value> = series
                .iter()
                .map(|s| {
                    let metric: Map<String, Value> = s
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    if range {
                        let values: Vec<Value> = s
                            .points
                            .iter()
                            .map(|(t, v)| json!([*t as f64 / 1e9, fmt(*v)]))
                            .collect();
                        json!({"metric": metric, "values": values})
                    } else {
                        let (t, v) = s.points[s.points.len() - 1];
                        json!({"metric": metric, "value": [t as f64 / 1e9, fmt(v)]})
                    }
                })
                .collect();
            Ok(success(json!({
                "resultType": if range { "matrix" } else { "vector" },
                "result": result,
                "stats": summary(&scan, 0, started),
            })))
        }
    }
}

/// A log query's lines as Loki streams.
async fn streams(
    state: &Arc<AppState>,
    tenant: Tenant,
    lq: &LogQuery,
    params: &Params,
    (start, end): (i64, i64),
    started: Instant,
) -> Result<Response<Body>, ApiError> {
    let filter = read::compile(lq)?;
    let limit = read::limit(params, state)?;
    let direction = read::direction(params)?;
    let st = Arc::clone(state);
    let (groups, outcome) = tokio::task::spawn_blocking(move || {
        let mut groups: BTreeMap<BTreeMap<String, String>, Vec<Value>> = BTreeMap::new();
        let req = LogRequest {
            filter: &filter,
            range: (start, end.saturating_add(1)),
            limit,
            direction,
            max_bytes: st.read.max_bytes,
        };
        let outcome = logs::run(&st.store, &tenant, &req, &mut |hit| {
            let labels = stream_labels(hit.line, &tenant);
            let line = String::from_utf8_lossy(hit.line).into_owned();
            groups
                .entry(labels)
                .or_default()
                .push(json!([hit.ts.to_string(), line]));
            true
        });
        (groups, outcome)
    })
    .await
    .map_err(|e| ApiError::ReadFailed(e.to_string()))?;
    let outcome = outcome.map_err(|e| ApiError::ReadFailed(e.to_string()))?;
    let result: Vec<Value> = groups
        .into_iter()
        .map(|(labels, values)| json!({"stream": labels, "values": values}))
        .collect();
    Ok(success(json!({
        "resultType": "streams",
        "result": result,
        "stats": summary(&outcome.scan, outcome.matched, started),
    })))
}

/// `labels`: the stream label names (every stored line has them).
fn labels(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = read::authorize(req, state, peer_cn, &params)?;
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
async fn label_values(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
    name: String,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = read::authorize(req, state, peer_cn, &params)?;
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
async fn series(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = read::authorize(req, state, peer_cn, &params)?;
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
async fn index_stats(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = read::authorize(req, state, peer_cn, &params)?;
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
