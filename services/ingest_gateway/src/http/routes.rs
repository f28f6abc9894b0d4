//! Routes: `POST /v1/logs` (aliases `/ingest` and `/`), `GET /healthz`, `GET /metrics`.
//! They parse HTTP, hand batches to the ingest service and map its errors.

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::error::{json_response, ApiError};
use super::{body, AppState};
use crate::decode::Format;
use crate::ingest::{self, Accepted};
use crate::pipeline::levels_object;
use crate::schema::Tenant;

/// Dispatches one request.
pub(super) async fn handle(req: Request<Incoming>, state: &AppState) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let refused = match (req.method(), path) {
        // `/`: Fluent Bit's `http` output posts there by default.
        (&Method::POST, "/v1/logs" | "/ingest" | "/") => return ingest(req, state).await,
        (&Method::GET | &Method::HEAD, "/healthz") => return healthz(state),
        (&Method::GET, "/metrics") => return metrics(state),
        (_, "/v1/logs" | "/ingest") => ApiError::MethodNotAllowed { allow: "POST" },
        (_, "/healthz" | "/metrics") => ApiError::MethodNotAllowed { allow: "GET" },
        _ => ApiError::NotFound(path.to_string()),
    };
    let mut body = req.into_body();
    drain(&mut body, state).await;
    refused.into_response()
}

/// Reads and discards the unread rest of a refused request's body (bounded).
async fn drain(body: &mut Incoming, state: &AppState) {
    let limit = body::drain_limit(state.ingest.limits().max_body_bytes);
    body::drain(body, limit, state.server.read_timeout).await;
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn ingest(req: Request<Incoming>, state: &AppState) -> Response<Full<Bytes>> {
    let headers = req.headers();
    let emitter = header_str(headers, "x-emitter")
        .unwrap_or("unknown")
        .to_string();
    let scenario = header_str(headers, "x-scenario-id")
        .or_else(|| header_str(headers, "x-scenario"))
        .unwrap_or("na")
        .to_string();
    let (parts, mut body) = req.into_parts();
    match accept_batch(&parts.headers, &mut body, state, &emitter, &scenario).await {
        Ok(accepted) => json_response(
            StatusCode::OK,
            &success_body(&accepted, &emitter, &scenario),
        ),
        Err(e) => {
            // A slow or broken sender is not waited for a second time.
            if !matches!(e, ApiError::BodyTimeout { .. } | ApiError::BodyRead(_)) {
                drain(&mut body, state).await;
            }
            let code = e.meta().code;
            state.metrics.batch_rejected(
                code,
                e.is_parse_error(),
                &emitter,
                &scenario,
                &e.to_string(),
            );
            e.into_response()
        }
    }
}

/// Admits, reads and hands one batch to the ingest service; `Ok` only once it
/// is stored. On an early refusal the body is left unread for the caller to drain.
async fn accept_batch(
    headers: &HeaderMap,
    incoming: &mut Incoming,
    state: &AppState,
    emitter: &str,
    scenario: &str,
) -> Result<Accepted, ApiError> {
    let service = &state.ingest;
    let admission = service.admit()?;
    let limits = service.limits();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = Format::from_content_type(content_type)?;
    let encodings = body::encodings(headers)?;
    body::check_declared_length(headers, limits.max_body_bytes)?;
    let raw = body::read(incoming, limits.max_body_bytes, state.server.read_timeout).await?;
    let request = ingest::Request {
        format,
        body: raw,
        encodings,
        emitter: emitter.to_string(),
        scenario: scenario.to_string(),
        tenant: Tenant::default(),
    };
    Ok(service.ingest(admission, request).await?)
}

fn success_body(batch: &Accepted, emitter: &str, scenario: &str) -> Value {
    let t = &batch.totals;
    let mut body = json!({
        "accepted": t.accepted,
        "ts": batch.received,
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
    let sink = state.ingest.sink();
    let dir = sink.describe().dir.map(|d| d.display().to_string());
    let mut body = json!({
        "status": "ok",
        "version": crate::VERSION,
        "pii_encryption": state.ingest.encrypts(),
        "file_sink": dir.is_some(),
        "file_sink_dir": dir,
    });
    match sink.health() {
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
