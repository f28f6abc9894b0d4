//! The protocols real agents speak (SPEC §11.1–4), each answered in its own
//! shape and status codes, because the clients parse the answers and decide
//! on retries from them:
//! - native `/v1/logs` (JSON answer; OTLP/HTTP protobuf requests get a
//!   protobuf `ExportLogsServiceResponse`, errors a `google.rpc.Status`);
//! - Loki push (`204`, errors as text);
//! - Elasticsearch bulk (per-item results; errors in Elasticsearch's shape),
//!   plus the handful of calls shippers make before their first bulk;
//! - Splunk HEC (`{"text":"Success","code":0}`, errors with HEC codes).
//!
//! Every one of them runs the same ingest flow (`batch.rs`).

use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, Method, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};

use super::error::{json_response, ApiError};
use crate::decode::{es_bulk, hec, otlp_proto, DecodeError, Format};
use crate::ingest::{Accepted, IngestError};
use crate::pipeline::levels_object;

/// How a batch route decodes and answers.
#[derive(Debug, Clone)]
pub(super) enum Protocol {
    /// `POST /v1/logs`: the format from `Content-Type`.
    Native {
        /// An OTLP/HTTP protobuf request: answered in protobuf.
        otlp_proto: bool,
    },
    /// `POST /loki/api/v1/push`.
    Loki,
    /// `POST /_bulk`, `/<index>/_bulk`.
    EsBulk {
        /// The index of the URL, for actions without `_index`.
        index: Option<String>,
        /// When the request started (`took`).
        started: Instant,
    },
    /// `POST /services/collector/event`.
    HecEvent,
    /// `POST /services/collector/raw`.
    HecRaw,
}

fn media(content_type: Option<&str>) -> String {
    content_type
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Protocol {
    /// The native route, from its request headers.
    pub(super) fn native(headers: &HeaderMap) -> Self {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        Protocol::Native {
            otlp_proto: matches!(
                media(ct).as_str(),
                "application/x-protobuf" | "application/protobuf"
            ),
        }
    }

    /// The emitter label when the request names none (SPEC §11).
    pub(super) fn default_emitter(&self) -> &'static str {
        match self {
            Protocol::Native { otlp_proto: true } => "otlp",
            Protocol::Native { otlp_proto: false } => "unknown",
            Protocol::Loki => "loki",
            Protocol::EsBulk { .. } => "elasticsearch",
            Protocol::HecEvent | Protocol::HecRaw => "splunk",
        }
    }

    /// The decoder for this request.
    pub(super) fn format(&self, content_type: Option<&str>) -> Result<Format, ApiError> {
        match self {
            Protocol::Native { .. } => Ok(Format::from_content_type(content_type)?),
            Protocol::Loki => match media(content_type).as_str() {
                "application/json" => Ok(Format::LokiJson),
                "application/x-protobuf" | "application/protobuf" | "" => Ok(Format::LokiProto),
                other => Err(DecodeError::UnsupportedMediaType {
                    media_type: format!(
                        "{other} (Loki push takes application/json or application/x-protobuf)"
                    ),
                }
                .into()),
            },
            Protocol::EsBulk { .. } => Ok(Format::EsBulk),
            Protocol::HecEvent => Ok(Format::HecEvent),
            Protocol::HecRaw => Ok(Format::HecRaw),
        }
    }

    /// Does the answer need the (decompressed) body? (Elasticsearch lists items.)
    pub(super) fn needs_body_back(&self) -> bool {
        matches!(self, Protocol::EsBulk { .. })
    }

    /// Fields every record of the batch gets when it has none of that name.
    pub(super) fn defaults(&self) -> Vec<(String, Value)> {
        match self {
            Protocol::EsBulk { index: Some(i), .. } => {
                vec![("index".into(), Value::String(i.clone()))]
            }
            _ => Vec::new(),
        }
    }

    /// The answer to a stored batch.
    pub(super) fn success(
        &self,
        batch: &Accepted,
        raw: &[u8],
        emitter: &str,
        scenario: &str,
    ) -> Response<Full<Bytes>> {
        match self {
            Protocol::Native { otlp_proto: true } => {
                protobuf(StatusCode::OK, otlp_proto::export_response(0, ""))
            }
            Protocol::Native { otlp_proto: false } => {
                json_response(StatusCode::OK, &native_body(batch, emitter, scenario))
            }
            Protocol::Loki => {
                let mut r = Response::new(Full::new(Bytes::new()));
                *r.status_mut() = StatusCode::NO_CONTENT;
                r
            }
            Protocol::EsBulk { index, started } => {
                let took = started.elapsed().as_millis() as u64;
                match es_bulk::items(raw, index.as_deref()) {
                    // (A second, light pass over a body that just decoded.)
                    Ok(items) => {
                        let mut body = Vec::new();
                        es_bulk::write_response(&items, took, &mut body);
                        body.push(b'\n');
                        let mut r = Response::new(Full::new(Bytes::from(body)));
                        r.headers_mut().insert(
                            header::CONTENT_TYPE,
                            header::HeaderValue::from_static("application/json"),
                        );
                        r.headers_mut().insert(
                            "x-elastic-product",
                            header::HeaderValue::from_static("Elasticsearch"),
                        );
                        r
                    }
                    // Cannot happen: the same body was just decoded.
                    Err(e) => self.error(ApiError::from(e)),
                }
            }
            Protocol::HecEvent | Protocol::HecRaw => {
                json_response(StatusCode::OK, &json!({"text": "Success", "code": 0}))
            }
        }
    }

    /// The answer to a refused request, in the protocol's shape (status and
    /// `Retry-After` as the native API answers them).
    pub(super) fn error(&self, e: ApiError) -> Response<Full<Bytes>> {
        let m = e.meta();
        let detail = e.to_string();
        let mut resp = match self {
            Protocol::Native { otlp_proto: false } => return e.into_response(),
            Protocol::Native { otlp_proto: true } => {
                protobuf(m.status, rpc_status(grpc_code(m.status), &detail))
            }
            Protocol::Loki => {
                let mut r =
                    Response::new(Full::new(Bytes::from(format!("{}: {detail}\n", m.code))));
                *r.status_mut() = m.status;
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                r
            }
            Protocol::EsBulk { .. } => {
                let kind = es_error_type(m.status);
                elastic(
                    m.status,
                    &json!({"error": {"root_cause": [{"type": kind, "reason": detail}], "type": kind, "reason": detail}, "status": m.status.as_u16()}),
                )
            }
            Protocol::HecEvent | Protocol::HecRaw => {
                let decoded = match &e {
                    ApiError::Ingest(IngestError::Decode(d)) => hec::splunk_code(d),
                    _ => None,
                };
                let (code, text, event) = decoded.unwrap_or_else(|| {
                    let (c, t) = hec_code(m.status, m.code);
                    (c, t, None)
                });
                let mut body = hec::error_body(code, text);
                if let Some(n) = event {
                    body["invalid-event-number"] = Value::from(n);
                }
                body["detail"] = Value::String(detail);
                json_response(m.status, &body)
            }
        };
        if let Some(secs) = m.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

fn native_body(batch: &Accepted, emitter: &str, scenario: &str) -> Value {
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

fn protobuf(status: StatusCode, bytes: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(bytes)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-protobuf"),
    );
    r
}

/// `google.rpc.Status { int32 code = 1; string message = 2; }` by hand (two fields).
fn rpc_status(code: i32, message: &str) -> Vec<u8> {
    #[derive(prost::Message)]
    struct Status {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    prost::Message::encode_to_vec(&Status {
        code,
        message: message.to_string(),
    })
}

/// The gRPC code OTLP clients expect for an HTTP status (OTLP/HTTP spec).
fn grpc_code(status: StatusCode) -> i32 {
    match status.as_u16() {
        400 | 413 | 415 | 422 => 3, // INVALID_ARGUMENT
        401 => 16,                  // UNAUTHENTICATED
        403 => 7,                   // PERMISSION_DENIED
        404 | 405 => 12,            // UNIMPLEMENTED
        408 => 4,                   // DEADLINE_EXCEEDED
        429 => 8,                   // RESOURCE_EXHAUSTED
        503 => 14,                  // UNAVAILABLE
        _ => 13,                    // INTERNAL
    }
}

fn es_error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 | 403 => "security_exception",
        413 => "content_too_long_exception",
        429 => "es_rejected_execution_exception",
        503 => "unavailable_shards_exception",
        500 => "exception",
        _ => "parse_exception",
    }
}

fn hec_code(status: StatusCode, code: &str) -> (u16, &'static str) {
    match (status.as_u16(), code) {
        (401, _) => (2, "Token is required"),
        (403, _) => (4, "Invalid token"),
        (429 | 503, _) => (9, "Server is busy"),
        (_, "invalid_json" | "invalid_utf8" | "not_object_or_array" | "invalid_records") => {
            (6, "Invalid data format")
        }
        (413, _) => (6, "Invalid data format"),
        _ => (8, "Internal server error"),
    }
}

/// A JSON answer with the header official Elasticsearch clients insist on.
fn elastic(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut r = json_response(status, body);
    r.headers_mut().insert(
        "x-elastic-product",
        header::HeaderValue::from_static("Elasticsearch"),
    );
    r
}

/// The calls Elasticsearch shippers make before (or beside) `_bulk`:
/// version info, license, template / ILM / index set-up, cluster health.
/// `None` when the request is none of them.
pub(super) fn elasticsearch_api(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response<Full<Bytes>>> {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    match (method, path) {
        (&Method::GET | &Method::HEAD, "/") if !wants_html => Some(elastic(
            StatusCode::OK,
            &json!({
                "name": "logops",
                "cluster_name": "logops",
                "cluster_uuid": "logops-gateway",
                "version": {
                    "number": "8.11.0",
                    "build_flavor": "default",
                    "build_type": "logops",
                    "lucene_version": "9.8.0",
                    "minimum_wire_compatibility_version": "7.17.0",
                    "minimum_index_compatibility_version": "7.0.0"
                },
                "tagline": "You Know, for Search"
            }),
        )),
        (&Method::GET, "/_license") => Some(elastic(
            StatusCode::OK,
            &json!({"license": {"status": "active", "uid": "logops", "type": "basic", "mode": "basic"}}),
        )),
        (&Method::GET, "/_xpack") => Some(elastic(StatusCode::OK, &json!({"features": {}}))),
        (&Method::GET, "/_cluster/health") => Some(elastic(
            StatusCode::OK,
            &json!({"cluster_name": "logops", "status": "green"}),
        )),
        (&Method::GET | &Method::HEAD, p) if is_setup_path(p) => Some(elastic(
            StatusCode::NOT_FOUND,
            &json!({"error": {"type": "resource_not_found_exception", "reason": "LogOps keeps no templates or policies"}, "status": 404}),
        )),
        (&Method::PUT | &Method::POST, p) if is_setup_path(p) => {
            Some(elastic(StatusCode::OK, &json!({"acknowledged": true})))
        }
        _ => None,
    }
}

/// Template, ILM and data-stream set-up paths, acknowledged and ignored.
fn is_setup_path(path: &str) -> bool {
    [
        "/_index_template/",
        "/_template/",
        "/_component_template/",
        "/_ilm/policy/",
        "/_data_stream/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}
