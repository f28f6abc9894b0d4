//! Routes: `POST /v1/logs` (aliases `/ingest` and `/`), `GET /healthz`, `GET /metrics`.
//! They parse HTTP, hand batches to the ingest service and map its errors.

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::error::{json_response, ApiError};
use super::{body, AppState};
use crate::auth::{hmac, AuthError, Head, Principal};
use crate::decode::Format;
use crate::ingest::{self, Accepted, IngestError};
use crate::pipeline::levels_object;
use crate::quota::Quota;

/// Dispatches one request.
pub(super) async fn handle(
    req: Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let refused = match (req.method(), path) {
        // `/`: Fluent Bit's `http` output posts there by default.
        (&Method::POST, "/v1/logs" | "/ingest" | "/") => return ingest(req, state, peer_cn).await,
        (&Method::GET | &Method::HEAD, "/healthz") => return healthz(state),
        (&Method::GET, "/metrics") => match metrics_allowed(&req, state, peer_cn) {
            Ok(()) => return metrics(state),
            Err(e) => e,
        },
        (_, "/v1/logs" | "/ingest") => ApiError::MethodNotAllowed { allow: "POST" },
        (_, "/healthz" | "/metrics") => ApiError::MethodNotAllowed { allow: "GET" },
        _ => ApiError::NotFound(path.to_string()),
    };
    let mut body = req.into_body();
    drain(&mut body, state).await;
    refused.into_response()
}

/// `/metrics` is open unless `LOGOPS_METRICS_AUTH=true`; then it needs a
/// read (or admin) key, in key-mode headers even when `LOGOPS_AUTH=hmac`.
fn metrics_allowed(
    req: &Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Result<(), ApiError> {
    if !(state.auth.enabled() && state.auth.config().metrics_auth) {
        return Ok(());
    }
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
    if principal.roles.can_read() {
        Ok(())
    } else {
        Err(AuthError::Forbidden {
            key: principal.key_id.unwrap_or_default(),
            role: "read",
        }
        .into())
    }
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

async fn ingest(
    req: Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Response<Full<Bytes>> {
    let (parts, mut body) = req.into_parts();
    let headers = &parts.headers;
    let scenario = header_str(headers, "x-scenario-id")
        .or_else(|| header_str(headers, "x-scenario"))
        .unwrap_or("na")
        .to_string();
    let mut emitter = header_str(headers, "x-emitter")
        .unwrap_or("unknown")
        .to_string();
    let head = Head {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        headers,
        peer_cn,
    };
    // Authentication, then the rate limit, then the body (SPEC §8).
    let principal = match state.auth.authenticate(head, false) {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                state,
                &mut body,
                e.into(),
                &emitter,
                &scenario,
                "none",
                None,
            )
            .await
        }
    };
    if let Some(forced) = &principal.emitter {
        emitter.clone_from(forced);
    }
    let quota = principal.quota.clone();
    let tenant = principal.tenant.as_str().to_string();
    match accept_batch(headers, &mut body, state, principal, &emitter, &scenario).await {
        Ok(accepted) => {
            let mut resp = json_response(
                StatusCode::OK,
                &success_body(&accepted, &emitter, &scenario),
            );
            rate_limit_headers(&mut resp, quota.as_deref());
            resp
        }
        Err(e) => {
            refuse(
                state,
                &mut body,
                e,
                &emitter,
                &scenario,
                &tenant,
                quota.as_deref(),
            )
            .await
        }
    }
}

/// Drains what is left of the body, counts the refusal, answers it.
async fn refuse(
    state: &AppState,
    body: &mut Incoming,
    e: ApiError,
    emitter: &str,
    scenario: &str,
    tenant: &str,
    quota: Option<&Quota>,
) -> Response<Full<Bytes>> {
    // A slow or broken sender is not waited for a second time.
    if !matches!(e, ApiError::BodyTimeout { .. } | ApiError::BodyRead(_)) {
        drain(body, state).await;
    }
    if let Some(reason) = e.auth_reason() {
        state.metrics.auth_failed(reason);
    }
    let code = e.meta().code;
    state.metrics.batch_rejected(
        code,
        e.is_parse_error(),
        emitter,
        scenario,
        tenant,
        &e.to_string(),
    );
    let mut resp = e.into_response();
    rate_limit_headers(&mut resp, quota);
    resp
}

/// `RateLimit-Policy` / `RateLimit` (IETF httpapi draft) for a limited key.
fn rate_limit_headers(resp: &mut Response<Full<Bytes>>, quota: Option<&Quota>) {
    let Some(q) = quota else { return };
    let s = q.state();
    let policy = format!("\"records\";q={};w={}", s.quota, s.window_secs);
    let now = format!("\"records\";r={};t={}", s.remaining, s.reset_secs);
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", now)] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// Checks the role and the rate limit, admits, reads and hands one batch to
/// the ingest service; `Ok` only once it is stored. On an early refusal the
/// body is left unread for the caller to drain.
async fn accept_batch(
    headers: &HeaderMap,
    incoming: &mut Incoming,
    state: &AppState,
    principal: Principal,
    emitter: &str,
    scenario: &str,
) -> Result<Accepted, ApiError> {
    if !principal.roles.can_ingest() {
        return Err(AuthError::Forbidden {
            key: principal.key_id.unwrap_or_default(),
            role: "ingest",
        }
        .into());
    }
    if let Some(q) = &principal.quota {
        q.admit().map_err(IngestError::from)?;
    }
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
    if let Some(want) = &principal.body_sha256 {
        if hmac::sha256_hex(&raw) != *want {
            return Err(ApiError::BadContentSha256);
        }
    }
    let request = ingest::Request {
        format,
        body: raw,
        encodings,
        emitter: emitter.to_string(),
        scenario: scenario.to_string(),
        tenant: principal.tenant,
        quota: principal.quota,
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
