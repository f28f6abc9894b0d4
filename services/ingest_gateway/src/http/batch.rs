//! The ingest flow every batch-carrying route shares: authenticate, check the
//! role and the rate limit, admit, read the body, hand it to the ingest
//! service, and answer in the protocol's own shape ([`super::protocols`]).

use bytes::Bytes;
use http::{header, HeaderMap, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

use super::error::ApiError;
use super::protocols::Protocol;
use super::{body, AppState};
use crate::auth::{hmac, AuthError, Head, Principal};
use crate::ingest::{self, Accepted, IngestError};
use crate::quota::Quota;

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// One batch request, answered as `protocol` answers.
pub(super) async fn ingest(
    req: Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
    protocol: Protocol,
) -> Response<Full<Bytes>> {
    let (parts, mut body) = req.into_parts();
    let headers = &parts.headers;
    let scenario = header_str(headers, "x-scenario-id")
        .or_else(|| header_str(headers, "x-scenario"))
        .unwrap_or("na")
        .to_string();
    let mut emitter = header_str(headers, "x-emitter")
        .unwrap_or(protocol.default_emitter())
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
            let e = e.into();
            return refuse(
                state, &mut body, e, &protocol, &emitter, &scenario, "none", None,
            )
            .await;
        }
    };
    if let Some(forced) = &principal.emitter {
        emitter.clone_from(forced);
    }
    let quota = principal.quota.clone();
    let tenant = principal.tenant.as_str().to_string();
    match accept_batch(
        headers, &mut body, state, principal, &protocol, &emitter, &scenario,
    )
    .await
    {
        Ok((accepted, raw)) => {
            let mut resp = protocol.success(&accepted, &raw, &emitter, &scenario);
            rate_limit_headers(&mut resp, quota.as_deref());
            resp
        }
        Err(e) => {
            refuse(
                state,
                &mut body,
                e,
                &protocol,
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
#[allow(clippy::too_many_arguments)]
async fn refuse(
    state: &AppState,
    body: &mut Incoming,
    e: ApiError,
    protocol: &Protocol,
    emitter: &str,
    scenario: &str,
    tenant: &str,
    quota: Option<&Quota>,
) -> Response<Full<Bytes>> {
    // A slow or broken sender is not waited for a second time.
    if !matches!(e, ApiError::BodyTimeout { .. } | ApiError::BodyRead(_)) {
        super::routes::drain(body, state).await;
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
    let mut resp = protocol.error(e);
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
/// the ingest service; `Ok` only once it is stored (with the decompressed
/// body, which the Elasticsearch answer lists item by item). On an early
/// refusal the body is left unread for the caller to drain.
async fn accept_batch(
    headers: &HeaderMap,
    incoming: &mut Incoming,
    state: &AppState,
    principal: Principal,
    protocol: &Protocol,
    emitter: &str,
    scenario: &str,
) -> Result<(Accepted, Bytes), ApiError> {
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
    let format = protocol.format(content_type)?;
    let mut encodings = body::encodings(headers)?;
    body::check_declared_length(headers, limits.max_body_bytes)?;
    let mut raw = body::read(incoming, limits.max_body_bytes, state.server.read_timeout).await?;
    if format == crate::decode::Format::LokiProto && encodings.is_empty() {
        // Snappy's declared size, checked against the body limit before decoding (413, not 400).
        if crate::decode::loki::snappy_decompressed_len(&raw)
            .is_some_and(|n| n > limits.max_body_bytes)
        {
            return Err(IngestError::BodyTooLarge {
                limit: limits.max_body_bytes,
            }
            .into());
        }
    }
    if let Some(want) = &principal.body_sha256 {
        if hmac::sha256_hex(&raw) != *want {
            return Err(ApiError::BadContentSha256);
        }
    }
    if protocol.needs_body_back() && !encodings.is_empty() {
        let max = limits.max_body_bytes;
        let (compressed, encs) = (raw, std::mem::take(&mut encodings));
        raw = tokio::task::spawn_blocking(move || ingest::encoding::decode(compressed, &encs, max))
            .await
            .map_err(|e| IngestError::Internal(format!("decompression worker failed: {e}")))??;
    }
    let request = ingest::Request {
        format,
        body: raw.clone(),
        encodings,
        emitter: emitter.to_string(),
        scenario: scenario.to_string(),
        tenant: principal.tenant,
        quota: principal.quota,
        defaults: protocol.defaults(),
    };
    Ok((service.ingest(admission, request).await?, raw))
}
