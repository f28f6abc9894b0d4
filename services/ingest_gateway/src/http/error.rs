//! Every refusal the HTTP API can answer, mapped to a status and a JSON body
//! `{"error": "<code>", "detail": "<one sentence>", ...}` in one place.

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use crate::decode::{DecodeError, SUPPORTED_MEDIA_TYPES};
use crate::sink::SinkError;

/// Supported `Content-Encoding` values, for the 415 message.
pub const SUPPORTED_ENCODINGS: &str = "gzip, zstd, identity";

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The body could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Raw or decompressed body over `LOGOPS_MAX_BODY_BYTES`.
    #[error("body exceeds the limit of {limit} bytes (LOGOPS_MAX_BODY_BYTES)")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A `Content-Encoding` other than gzip/zstd/identity.
    #[error("unsupported content encoding {encoding:?}; supported: {SUPPORTED_ENCODINGS}")]
    UnsupportedEncoding {
        /// The encoding given.
        encoding: String,
    },
    /// The body is not valid for its declared `Content-Encoding`.
    #[error("body is not valid {encoding}: {detail}")]
    InvalidEncoding {
        /// The declared encoding.
        encoding: &'static str,
        /// Decoder message.
        detail: String,
    },
    /// The client was too slow sending the body.
    #[error("the request body was not received within {secs} s")]
    BodyTimeout {
        /// The timeout.
        secs: u64,
    },
    /// The body could not be read from the connection.
    #[error("the request body could not be read: {0}")]
    BodyRead(String),
    /// More ingest requests in progress than `LOGOPS_MAX_INFLIGHT`.
    #[error("too many requests in progress (limit {limit}, LOGOPS_MAX_INFLIGHT); retry later")]
    TooManyInflight {
        /// The limit.
        limit: usize,
    },
    /// The sink could not take or write the batch.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// No such route.
    #[error("no route for {0}")]
    NotFound(String),
    /// Known path, wrong method.
    #[error("method not allowed; use {allow}")]
    MethodNotAllowed {
        /// The allowed method.
        allow: &'static str,
    },
}

impl ApiError {
    /// The `error` code (also the `reason` label of `logops_rejected_total`).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Decode(d) => match d {
                DecodeError::InvalidJson { .. } => "invalid_json",
                DecodeError::InvalidUtf8 { .. } => "invalid_utf8",
                DecodeError::NotObjectOrArray { .. } => "not_object_or_array",
                DecodeError::InvalidCsv { .. } => "invalid_csv",
                DecodeError::InvalidRecords { .. } => "invalid_records",
                DecodeError::TooManyRecords { .. } => "too_many_records",
                DecodeError::UnsupportedCharset { .. }
                | DecodeError::UnsupportedMediaType { .. } => "unsupported_media_type",
            },
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::UnsupportedEncoding { .. } => "unsupported_encoding",
            ApiError::InvalidEncoding { .. } => "invalid_encoding",
            ApiError::BodyTimeout { .. } => "body_timeout",
            ApiError::BodyRead(_) => "body_read_error",
            ApiError::Sink(SinkError::Overloaded { .. }) | ApiError::TooManyInflight { .. } => {
                "overloaded"
            }
            ApiError::Sink(_) => "sink_unavailable",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self.code() {
            "body_too_large" | "too_many_records" => StatusCode::PAYLOAD_TOO_LARGE,
            "unsupported_media_type" | "unsupported_encoding" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_records" => StatusCode::UNPROCESSABLE_ENTITY,
            "overloaded" | "sink_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            "body_timeout" => StatusCode::REQUEST_TIMEOUT,
            "not_found" => StatusCode::NOT_FOUND,
            "method_not_allowed" => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Extra body fields beyond `error` and `detail`.
    fn extra(&self, body: &mut Map<String, Value>) {
        match self {
            ApiError::Decode(DecodeError::InvalidJson { line: Some(l), .. })
            | ApiError::Decode(DecodeError::InvalidUtf8 { line: Some(l) })
            | ApiError::Decode(DecodeError::InvalidCsv { line: Some(l), .. }) => {
                body.insert("line".into(), json!(l));
            }
            ApiError::Decode(DecodeError::InvalidRecords { indices, count }) => {
                body.insert("invalid_indices".into(), json!(indices));
                body.insert("count".into(), json!(count));
            }
            ApiError::Decode(DecodeError::TooManyRecords { limit })
            | ApiError::BodyTooLarge { limit } => {
                body.insert("limit".into(), json!(limit));
            }
            ApiError::Decode(
                DecodeError::UnsupportedMediaType { .. } | DecodeError::UnsupportedCharset { .. },
            ) => {
                body.insert("supported".into(), json!(SUPPORTED_MEDIA_TYPES));
            }
            ApiError::UnsupportedEncoding { .. } => {
                body.insert("supported".into(), json!(SUPPORTED_ENCODINGS));
            }
            _ => {}
        }
    }

    /// The full HTTP response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut body = Map::new();
        body.insert("error".into(), json!(self.code()));
        body.insert("detail".into(), json!(self.to_string()));
        self.extra(&mut body);
        let mut resp = json_response(self.status(), &Value::Object(body));
        let headers = resp.headers_mut();
        match &self {
            ApiError::Sink(SinkError::Overloaded { .. }) | ApiError::TooManyInflight { .. } => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            ApiError::Sink(_) => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            }
            ApiError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, header::HeaderValue::from_static(allow));
            }
            _ => {}
        }
        resp
    }
}

/// A JSON response with that status.
pub fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}
