//! Routes: the batch routes (`POST /v1/logs`, aliases `/ingest` and `/`;
//! Loki push; Elasticsearch `_bulk`; Splunk HEC) go to [`super::batch`];
//! `GET /healthz`, `GET /metrics`, HEC health and the Elasticsearch set-up
//! calls are answered here.

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::json;

use super::error::{json_response, ApiError};
use super::protocols::{self, Protocol};
use super::{batch, body, AppState};

/// Dispatches one request.
pub(super) async fn handle(
    req: Request<Incoming>,
    state: &AppState,
    peer_cn: Option<&str>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let path = path.as_str();
    if let Some(protocol) = batch_protocol(req.method(), path, req.headers()) {
        return batch::ingest(req, state, peer_cn, protocol).await;
    }
    if let Some(resp) = protocols::elasticsearch_api(req.method(), path, req.headers()) {
        return resp;
    }
    let refused = match (req.method(), path) {
        (&Method::GET | &Method::HEAD, "/healthz") => return healthz(state),
        (&Method::GET, "/services/collector/health" | "/services/collector/health/1.0") => {
            return json_response(
                StatusCode::OK,
                &json!({"text": "HEC is healthy", "code": 17}),
            )
        }
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
    super::read::reader(req, state, peer_cn).map(|_| ())
}

/// The batch routes: which protocol a request speaks, if it carries a batch.
fn batch_protocol(method: &Method, path: &str, headers: &http::HeaderMap) -> Option<Protocol> {
    let post = method == Method::POST;
    match path {
        // `/`: Fluent Bit's `http` output posts there by default.
        "/v1/logs" | "/ingest" | "/" if post => Some(Protocol::native(headers)),
        "/loki/api/v1/push" if post => Some(Protocol::Loki),
        "/services/collector/event" | "/services/collector/event/1.0" | "/services/collector"
            if post =>
        {
            Some(Protocol::HecEvent)
        }
        "/services/collector/raw" | "/services/collector/raw/1.0" if post => Some(Protocol::HecRaw),
        _ if (post || method == Method::PUT) && path.ends_with("/_bulk") => {
            let index = path.trim_end_matches("/_bulk").trim_start_matches('/');
            let index = (!index.is_empty()).then(|| index.to_string());
            if index.as_deref().is_some_and(|i| !valid_index(i)) {
                return None;
            }
            Some(Protocol::EsBulk {
                index,
                started: std::time::Instant::now(),
            })
        }
        _ => None,
    }
}

/// An Elasticsearch index name as the URL gives it (lower case, no path).
fn valid_index(name: &str) -> bool {
    name.len() <= 255
        && !name.starts_with(['-', '_', '+'])
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.+%".contains(&b))
}

/// Reads and discards the unread rest of a refused request's body (bounded).
pub(super) async fn drain(body: &mut Incoming, state: &AppState) {
    let limit = body::drain_limit(state.ingest.limits().max_body_bytes);
    body::drain(body, limit, state.server.read_timeout).await;
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
    if !state.forward.targets().is_empty() {
        body["forwarding"] = state.forward.status_json();
    }
    match sink.health() {
        // A stopped forwarder degrades the gateway but ingest still works:
        // 200, so a load balancer keeps sending (docs/forwarding.md).
        Ok(()) => {
            if let Err(reason) = state.forward.health() {
                body["status"] = json!("degraded");
                body["reason"] = json!(reason);
            }
            json_response(StatusCode::OK, &body)
        }
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
