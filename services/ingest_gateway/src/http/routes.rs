//! Routes: `POST /v1/logs` (alias `/ingest`), `GET /healthz`, `GET /metrics`.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::error::{json_response, ApiError};
use super::{body, AppState};
use crate::decode::Format;
use crate::normalize::{timestamp, BatchContext};
use crate::pipeline::{levels_object, Encoded};
use crate::sink::day_number;

/// Bodies larger than this are processed on a blocking thread, not the reactor.
const INLINE_BODY_BYTES: usize = 256 * 1024;
/// Compressed bodies larger than this are decoded on a blocking thread too.
const INLINE_ENCODED_BYTES: usize = 4 * 1024;

/// Dispatches one request.
pub(super) async fn handle(req: Request<Incoming>, state: &Arc<AppState>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    match (req.method(), path) {
        (&Method::POST, "/v1/logs" | "/ingest") => ingest(req, state).await,
        (&Method::GET | &Method::HEAD, "/healthz") => healthz(state),
        (&Method::GET, "/metrics") => metrics(state),
        (_, "/v1/logs" | "/ingest") => ApiError::MethodNotAllowed { allow: "POST" }.into_response(),
        (_, "/healthz" | "/metrics") => ApiError::MethodNotAllowed { allow: "GET" }.into_response(),
        _ => ApiError::NotFound(path.to_string()).into_response(),
    }
}

/// Decrements `logops_inflight` when the request ends, however it ends.
struct InflightGuard<'a>(&'a AppState);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.metrics.inflight.dec();
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn ingest(req: Request<Incoming>, state: &Arc<AppState>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let already = state.metrics.inflight.inc();
    let _guard = InflightGuard(state);
    let headers = req.headers();
    let emitter = header_str(headers, "x-emitter")
        .unwrap_or("unknown")
        .to_string();
    let scenario = header_str(headers, "x-scenario-id")
        .or_else(|| header_str(headers, "x-scenario"))
        .unwrap_or("na")
        .to_string();
    let result = if already >= state.config.max_inflight as i64 {
        Err(ApiError::TooManyInflight {
            limit: state.config.max_inflight,
        })
    } else {
        accept_batch(req, state, &emitter, &scenario).await
    };
    match result {
        Ok((batch, received)) => {
            state
                .metrics
                .batch_accepted(&batch, &emitter, &scenario, started.elapsed());
            json_response(
                StatusCode::OK,
                &success_body(&batch, &received, &emitter, &scenario),
            )
        }
        Err(e) => {
            state
                .metrics
                .batch_rejected(e.code(), &emitter, &scenario, &e.to_string());
            e.into_response()
        }
    }
}

/// Reads, decodes, encodes and appends one batch; `Ok` only once it is in the file.
async fn accept_batch(
    req: Request<Incoming>,
    state: &Arc<AppState>,
    emitter: &str,
    scenario: &str,
) -> Result<(Encoded, String), ApiError> {
    let cfg = &state.config;
    let headers = req.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = Format::from_content_type(content_type)?;
    let encodings = body::encodings(headers)?;
    body::check_declared_length(headers, cfg.max_body_bytes)?;
    let raw = body::read(req.into_body(), cfg.max_body_bytes, cfg.read_timeout).await?;
    let now = OffsetDateTime::now_utc();
    let day = day_number(now.date());
    let raw = RawBatch {
        format,
        raw,
        encodings,
        emitter: emitter.to_string(),
        scenario: scenario.to_string(),
        received: timestamp::format_millis(now),
        year: now.year(),
    };
    let (mut batch, received) = if raw.runs_inline() {
        raw.process(state)?
    } else {
        let st = Arc::clone(state);
        tokio::task::spawn_blocking(move || raw.process(&st))
            .await
            .map_err(|e| ApiError::BodyRead(format!("worker failed: {e}")))??
    };
    if batch.totals.accepted > 0 {
        state
            .sink
            .append(day, std::mem::take(&mut batch.lines))
            .await?;
    }
    Ok((batch, received))
}

/// A request body as read, with what the pipeline needs to know about it.
struct RawBatch {
    format: Format,
    raw: Bytes,
    encodings: Vec<body::Encoding>,
    emitter: String,
    scenario: String,
    received: String,
    year: i32,
}

impl RawBatch {
    /// Small plain bodies run on the reactor; big ones, and compressed ones that
    /// may expand up to the body limit, go to the blocking pool.
    fn runs_inline(&self) -> bool {
        let limit = if self.encodings.is_empty() {
            INLINE_BODY_BYTES
        } else {
            INLINE_ENCODED_BYTES
        };
        self.raw.len() <= limit
    }

    /// Decompresses and runs the pipeline; returns the batch and its receive time.
    fn process(self, state: &AppState) -> Result<(Encoded, String), ApiError> {
        let body = body::decode(self.raw, &self.encodings, state.config.max_body_bytes)?;
        let ctx = BatchContext {
            emitter: &self.emitter,
            scenario_id: &self.scenario,
            received: &self.received,
            year: self.year,
        };
        let batch = state.pipeline.run(self.format, &body, &ctx)?;
        Ok((batch, self.received))
    }
}

fn success_body(batch: &Encoded, received: &str, emitter: &str, scenario: &str) -> Value {
    let t = &batch.totals;
    let mut body = json!({
        "accepted": t.accepted,
        "ts": received,
        "emitter": emitter,
        "scenario": scenario,
        "missing_ts": t.missing_ts,
        "missing_level": t.missing_level,
        "invalid_ts": t.invalid_ts,
        "levels": levels_object(&t.levels),
    });
    if !batch.sample.is_empty() {
        body["sample"] = Value::Array(batch.sample.clone());
    }
    body
}

fn healthz(state: &AppState) -> Response<Full<Bytes>> {
    let dir = state.sink.dir().map(|d| d.display().to_string());
    let mut body = json!({
        "status": "ok",
        "version": crate::VERSION,
        "pii_encryption": state.pipeline.encrypts(),
        "file_sink": dir.is_some(),
        "file_sink_dir": dir,
    });
    match state.sink.health() {
        Ok(()) => json_response(StatusCode::OK, &body),
        Err(reason) => {
            body["status"] = json!("degraded");
            body["reason"] = json!(reason);
            json_response(StatusCode::SERVICE_UNAVAILABLE, &body)
        }
    }
}

fn metrics(state: &AppState) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(state.metrics.encode())));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    );
    resp
}
