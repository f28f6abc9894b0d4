//! Live tails: `GET /v1/tail` (Server-Sent Events, resumable with
//! `Last-Event-ID`) and the loop every tail runs (also Loki's WebSocket
//! tail, [`super::loki_tail`]): poll the files, send what is new with
//! backpressure, wait for the sink; at most `LOGOPS_MAX_TAILS` per tenant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, Request, Response};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::read::{begin, compile, parse_query, Params};
use super::stream::{self, Body};
use super::AppState;
use crate::read::logql::{LogQuery, Query};
use crate::read::tail::{LineId, Start, Tail};
use crate::read::timearg::{now_ns, parse_time};
use crate::schema::Tenant;

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
    let (params, tenant) = begin(req, state, peer_cn)?;
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
