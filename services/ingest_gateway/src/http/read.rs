//! The native read routes: `GET /v1/query` (NDJSON lines and a `_stats`
//! line) and `GET /v1/stats` (metric series), and what every read route
//! shares (the tails of [`super::tail`], the Loki-compatible routes of
//! [`super::loki`]): authorization to one tenant, parameters, the time range.
//!
//! Queries run on the blocking pool and stream their answer through a
//! bounded channel: a slow client slows the scan, it never grows a buffer.

use std::collections::HashMap;
use std::sync::Arc;

use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::stream::{self, Body, Chunker};
use super::AppState;
use crate::auth::{AuthError, Head, Principal};
use crate::read::filter::Filter;
use crate::read::logql::{self, LogQuery, Query};
use crate::read::query::{self, Direction, LogRequest, Outcome};
use crate::read::timearg::{now_ns, parse_time};
use crate::schema::Tenant;

/// The query-string parameters (the last of a repeated name wins; `all` keeps every one).
pub(super) struct Params {
    map: HashMap<String, String>,
    all: Vec<(String, String)>,
}

impl Params {
    pub(super) fn parse(query: Option<&str>) -> Params {
        let all: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        Params {
            map: all.iter().cloned().collect(),
            all,
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(super) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.all
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The start of every read route: its query parameters and the tenant the
/// caller may read ([`authorize`]).
pub(super) fn begin(
    req: &Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Result<(Params, Tenant), ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = authorize(req, state, peer_cn, &params)?;
    Ok((params, tenant))
}

/// The tenant a read request may read: its key's, or — for admin keys (and
/// with auth off) — the one named by `?tenant=` or `X-Scope-OrgID`.
pub(super) fn authorize(
    req: &Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
    params: &Params,
) -> Result<Tenant, ApiError> {
    let principal = reader(req, state, peer_cn)?;
    let key = principal.key_id.clone().unwrap_or_default();
    let asked = params.get("tenant").or_else(|| {
        req.headers()
            .get("x-scope-orgid")
            .and_then(|v| v.to_str().ok())
    });
    match asked {
        None => Ok(principal.tenant),
        Some(t) if t == principal.tenant.as_str() => Ok(principal.tenant),
        Some(t) if principal.roles.admin => {
            Tenant::new(t).map_err(|e| ApiError::BadQuery(format!("invalid tenant: {e}")))
        }
        Some(_) => Err(AuthError::Forbidden { key, role: "admin" }.into()),
    }
}

/// The caller of a read-only route (the reads, the status API, `/metrics`
/// behind auth): authenticated — key headers accepted even when ingest signs
/// with HMAC — failures counted, and the read (or admin) role required.
pub(super) fn reader(
    req: &Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Result<Principal, ApiError> {
    let head = Head {
        method: req.method().as_str(),
        path: req.uri().path(),
        headers: req.headers(),
        peer_cn,
    };
    let principal = state.auth.authenticate(head, true).inspect_err(|e| {
        if let AuthError::Unauthorized(r) = e {
            state.metrics.auth_failed(r.as_str());
        }
    })?;
    if !principal.roles.can_read() {
        let key = principal.key_id.unwrap_or_default();
        return Err(AuthError::Forbidden { key, role: "read" }.into());
    }
    Ok(principal)
}

/// Parses `query` as LogQL.
pub(super) fn parse_query(params: &Params) -> Result<Query, ApiError> {
    let q = params
        .get("query")
        .ok_or_else(|| ApiError::BadQuery("the query parameter is missing".into()))?;
    logql::parse(q).map_err(|e| ApiError::BadQuery(e.to_string()))
}

/// Compiles a log query.
pub(super) fn compile(q: &LogQuery) -> Result<Filter, ApiError> {
    Filter::new(q).map_err(|e| ApiError::BadQuery(e.to_string()))
}

/// `[start, end]` from the parameters: `end` defaults to now, `start` to an
/// hour before `end`.
pub(super) fn time_range(params: &Params) -> Result<(i64, i64), ApiError> {
    let now = now_ns();
    let bad = |e: crate::read::timearg::TimeError| ApiError::BadQuery(e.to_string());
    let end = params
        .get("end")
        .map_or(Ok(now), |v| parse_time("end", v, now))
        .map_err(bad)?;
    let start = params
        .get("start")
        .map_or(Ok(end.saturating_sub(3_600_000_000_000)), |v| {
            parse_time("start", v, now)
        })
        .map_err(bad)?;
    if start > end {
        return Err(ApiError::BadQuery("start is after end".into()));
    }
    Ok((start, end))
}

/// `limit` (default 100) within `LOGOPS_QUERY_MAX_LIMIT`.
pub(super) fn limit(params: &Params, state: &AppState) -> Result<usize, ApiError> {
    let max = state.read.max_limit;
    match params.get("limit") {
        None => Ok(100.min(max)),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            Ok(n) => Err(ApiError::BadQuery(format!(
                "limit {n} is above the maximum of {max} (LOGOPS_QUERY_MAX_LIMIT)"
            ))),
            Err(_) => Err(ApiError::BadQuery(format!("invalid limit {v:?}"))),
        },
    }
}

/// `direction` (default backward).
pub(super) fn direction(params: &Params) -> Result<Direction, ApiError> {
    match params
        .get("direction")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("backward") => Ok(Direction::Backward),
        Some("forward") => Ok(Direction::Forward),
        Some(d) => Err(ApiError::BadQuery(format!(
            "invalid direction {d:?}: forward or backward"
        ))),
    }
}

fn ndjson_response(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-ndjson"),
    );
    resp
}

/// `GET /v1/query`.
pub(super) fn query(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = begin(req, state, peer_cn)?;
    let Query::Logs(q) = parse_query(&params)? else {
        return Err(ApiError::BadQuery(
            "a metric query: ask /v1/stats (this endpoint returns lines)".into(),
        ));
    };
    let filter = compile(&q)?;
    let (start, end) = time_range(&params)?;
    let limit = limit(&params, state)?;
    let direction = direction(&params)?;
    let (tx, rx) = mpsc::channel(stream::CHANNEL_CHUNKS);
    let st = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let mut out = Chunker::new(tx);
        let req = LogRequest {
            filter: &filter,
            range: (start, end.saturating_add(1)),
            limit,
            direction,
            max_bytes: st.read.max_bytes,
        };
        let result = query::run(&st.store, &tenant, &req, &mut |hit| {
            out.push(hit.line) && out.push(b"\n")
        });
        let mut stats = match &result {
            Ok(o) => stats_json(o),
            Err(e) => json!({"error": format!("reading the stored data failed: {e}")}),
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, "query failed while reading");
            stats["truncated"] = json!(true);
        }
        let mut line = serde_json::to_vec(&json!({ "_stats": stats })).unwrap_or_default();
        line.push(b'\n');
        let _ = out.push(&line) && out.flush();
    });
    Ok(ndjson_response(stream::channel(rx)))
}

fn stats_json(o: &Outcome) -> serde_json::Value {
    json!({
        "files": o.scan.files,
        "bytes_scanned": o.scan.bytes_scanned,
        "lines_scanned": o.scan.lines_scanned,
        "matched": o.matched,
        "truncated": o.truncated,
    })
}

/// `GET /v1/stats`.
pub(super) async fn stats(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = begin(req, state, peer_cn)?;
    let Query::Metric(expr) = parse_query(&params)? else {
        return Err(ApiError::BadQuery(
            "not a metric query: wrap it in count_over_time, rate or bytes_over_time".into(),
        ));
    };
    let filter = compile(expr.log_query())?;
    let (start, end) = time_range(&params)?;
    let step = match params.get("step") {
        Some(v) => {
            crate::read::timearg::parse_step(v).map_err(|e| ApiError::BadQuery(e.to_string()))?
        }
        None => 60_000_000_000,
    };
    let st = Arc::clone(state);
    let series = super::loki::evaluate(st, tenant, expr, filter, (start, end), step).await?;
    let body = json!({
        "series": series.0.iter().map(|s| json!({
            "labels": s.labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<String, serde_json::Value>>(),
            "points": s.points.iter().map(|(t, v)| json!([*t as f64 / 1e9, v])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "_stats": {"files": series.1.files, "bytes_scanned": series.1.bytes_scanned, "lines_scanned": series.1.lines_scanned},
    });
    Ok(json(StatusCode::OK, &body))
}

/// A JSON answer.
pub(super) fn json(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let resp = super::error::json_response(status, body);
    let (parts, full) = resp.into_parts();
    Response::from_parts(parts, http_body_util::BodyExt::boxed(full))
}
