//! The Loki-compatible read API (SPEC §9), so Grafana's Loki data source and
//! `logcli` can use LogOps as their Loki URL: `query`, `query_range`
//! (streams, matrix and vector results in Loki's JSON shapes, with
//! `stats`), `labels`, `label/<name>/values`, `series`, `index/stats`,
//! `status/buildinfo` and `/ready`. Errors are Loki's: a plain-text body
//! with the status.
//!
//! Stream labels of a line are its `level`, `emitter` and `scenario_id`
//! (and `tenant` for a tenant other than `default`, which only admins read).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::loki_meta;
use super::read::{self, Params};
use super::stream::{self, Body};
use super::AppState;
use crate::read::filter::Filter;
use crate::read::line::{key_is, Fields, Raw};
use crate::read::logql::{LogQuery, MetricExpr, Query};
use crate::read::metric::{self, MetricRequest, Series, STREAM_LABELS};
use crate::read::query::{self as logs, LogRequest};
use crate::read::source::ScanStats;
use crate::read::timearg::{now_ns, parse_step, parse_time};
use crate::schema::Tenant;

/// The Loki version the build info claims (Grafana enables features by it).
const LOKI_VERSION: &str = "3.4.0";

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
        "/loki/api/v1/labels" => loki_meta::labels(&req, state, peer_cn),
        "/loki/api/v1/series" => loki_meta::series(&req, state, peer_cn).await,
        "/loki/api/v1/index/stats" => loki_meta::index_stats(&req, state, peer_cn).await,
        p if p.starts_with("/loki/api/v1/label/") && p.ends_with("/values") => {
            let name = p["/loki/api/v1/label/".len()..p.len() - "/values".len()].to_string();
            loki_meta::label_values(&req, state, peer_cn, name).await
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

pub(super) fn success(data: Value) -> Response<Body> {
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
    let (params, tenant) = read::begin(req, state, peer_cn)?;
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
