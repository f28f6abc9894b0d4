//! The native read routes (SPEC §9): `GET /v1/query` (NDJSON lines and a
//! `_stats` line), `GET /v1/stats` (metric series), `GET /v1/tail`
//! (Server-Sent Events, resumable with `Last-Event-ID`), and what they share
//! with the Loki-compatible routes ([`super::loki`]): authorization to one
//! tenant, parameters, the time range.
//!
//! Queries run on the blocking pool and stream their answer through a
//! bounded channel: a slow client slows the scan, it never grows a buffer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::stream::{self, Body, Chunker};
use super::AppState;
use crate::auth::{AuthError, Head};
use crate::read::filter::Filter;
use crate::read::logql::{self, LogQuery, Query};
use crate::read::query::{self, Direction, LogRequest, Outcome};
use crate::read::tail::{LineId, Start, Tail};
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

/// The tenant a read request may read: its key's, or — for admin keys (and
/// with auth off) — the one named by `?tenant=` or `X-Scope-OrgID`.
pub(super) fn authorize(
    req: &Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
    params: &Params,
) -> Result<Tenant, ApiError> {
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
    let key = principal.key_id.clone().unwrap_or_default();
    if !principal.roles.can_read() {
        return Err(AuthError::Forbidden { key, role: "read" }.into());
    }
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
    let params = Params::parse(req.uri().query());
    let tenant = authorize(req, state, peer_cn, &params)?;
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
    let params = Params::parse(req.uri().query());
    let tenant = authorize(req, state, peer_cn, &params)?;
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

/// Live tails per tenant (`LOGOPS_MAX_TAILS`).
#[derive(Debug, Default)]
pub struct Tails {
    open: Mutex<HashMap<Tenant, usize>>,
}

/// One open tail; closing it frees its place.
pub(super) struct TailSlot {
    tails: Arc<AppState>,
    tenant: Tenant,
}

impl Drop for TailSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.tails.tails.open.lock() {
            if let Some(n) = m.get_mut(&self.tenant) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

/// Takes a tail slot of `tenant`, or refuses with 429.
pub(super) fn tail_slot(state: &Arc<AppState>, tenant: &Tenant) -> Result<TailSlot, ApiError> {
    let max = state.read.max_tails;
    let mut m = state
        .tails
        .open
        .lock()
        .map_err(|_| ApiError::ReadFailed("tail registry".into()))?;
    let n = m.entry(tenant.clone()).or_default();
    if *n >= max {
        return Err(ApiError::TooManyTails { max });
    }
    *n += 1;
    Ok(TailSlot {
        tails: Arc::clone(state),
        tenant: tenant.clone(),
    })
}

/// Where a tail starts: after `Last-Event-ID`, from `start`, or now.
pub(super) fn tail_start(headers: &HeaderMap, params: &Params) -> Result<Start, ApiError> {
    if let Some(id) = headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        return id
            .parse::<LineId>()
            .map(Start::After)
            .map_err(ApiError::BadQuery);
    }
    match params.get("start") {
        Some(v) => parse_time("start", v, now_ns())
            .map(Start::Since)
            .map_err(|e| ApiError::BadQuery(e.to_string())),
        None => Ok(Start::Now),
    }
}

/// Lines per poll of a tail (then the events are sent, with backpressure).
const TAIL_BATCH: usize = 512;
/// A tail polls the files at most this often: under a flood the sink
/// commits thousands of groups a second, and 32 tails each re-reading after
/// every one would cost the ingest path more than the reads themselves.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(25);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// `GET /v1/tail`.
pub(super) fn tail(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(req.uri().query());
    let tenant = authorize(req, state, peer_cn, &params)?;
    let q = match params.get("query") {
        None => LogQuery::default(),
        Some(_) => match parse_query(&params)? {
            Query::Logs(q) => q,
            _ => {
                return Err(ApiError::BadQuery(
                    "a tail follows lines: give a log query".into(),
                ))
            }
        },
    };
    let filter = compile(&q)?;
    let start = tail_start(req.headers(), &params)?;
    let slot = tail_slot(state, &tenant)?;
    let tail = Tail::new(Arc::clone(&state.store), tenant, filter, start)
        .map_err(|e| ApiError::ReadFailed(e.to_string()))?;
    let (tx, rx) = mpsc::channel(stream::CHANNEL_CHUNKS);
    let sse: Formatter = Box::new(|events, id, line| {
        events.extend_from_slice(b"id: ");
        events.extend_from_slice(id.to_string().as_bytes());
        events.extend_from_slice(b"\ndata: ");
        events.extend_from_slice(line);
        events.extend_from_slice(b"\n\n");
    });
    tokio::spawn(follow(
        Arc::clone(state),
        tail,
        tx,
        slot,
        sse,
        b": keepalive\n\n",
    ));
    let mut resp = Response::new(stream::channel(rx));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    Ok(resp)
}

/// Appends one line (with its id) in the wire form of a tail.
pub(super) type Formatter = Box<dyn FnMut(&mut Vec<u8>, LineId, &[u8]) + Send>;

/// Runs a tail until the client goes away: poll the files, send what is new
/// (waiting while the client is slow: the tail falls behind, it loses
/// nothing), then wait for the sink to acknowledge more, or send `keepalive`.
pub(super) async fn follow(
    state: Arc<AppState>,
    mut tail: Tail,
    tx: mpsc::Sender<Bytes>,
    slot: TailSlot,
    mut format: Formatter,
    keepalive: &'static [u8],
) {
    let _slot = slot;
    let mut changed = state.store.marks().map(|m| m.subscribe());
    let mut last_poll = tokio::time::Instant::now() - MIN_POLL_INTERVAL;
    loop {
        tokio::time::sleep_until(last_poll + MIN_POLL_INTERVAL).await;
        last_poll = tokio::time::Instant::now();
        if let Some(c) = changed.as_mut() {
            c.borrow_and_update();
        }
        let polled = tokio::task::spawn_blocking(move || {
            let mut events = Vec::new();
            let r = tail.poll(TAIL_BATCH, &mut |id, line| {
                format(&mut events, id, line.bytes)
            });
            (tail, format, r, events)
        })
        .await;
        let Ok((t, f, result, events)) = polled else {
            return;
        };
        (tail, format) = (t, f);
        match result {
            Err(e) => {
                tracing::warn!(error = %e, "tail read failed; closing it");
                return;
            }
            Ok(n) if n > 0 => {
                if tx.send(Bytes::from(events)).await.is_err() {
                    return;
                }
                if n >= TAIL_BATCH {
                    continue;
                }
            }
            Ok(_) => {}
        }
        let woke = match changed.as_mut() {
            Some(c) => tokio::time::timeout(KEEPALIVE, c.changed()).await,
            None => {
                tokio::time::sleep(Duration::from_millis(250)).await;
                Ok(Ok(()))
            }
        };
        if woke.is_err() && tx.send(Bytes::from_static(keepalive)).await.is_err() {
            return;
        }
        if tx.is_closed() {
            return;
        }
    }
}
