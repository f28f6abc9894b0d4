//! Every refusal the HTTP API can answer, mapped to its code, status and
//! `Retry-After` by one exhaustive match ([`ApiError::meta`]): a new error
//! variant does not compile until it is given an answer. The body is
//! `{"error": "<code>", "detail": "<one sentence>", ...}`.

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

use crate::auth::AuthError;
use crate::decode::{DecodeError, SUPPORTED_MEDIA_TYPES};
use crate::ingest::{encoding, IngestError};
use crate::quota::Refusal;
use crate::sink::SinkError;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The ingest service refused the batch.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Authentication or authorization refused the request.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// HMAC mode: the body is not the one the signature covers.
    #[error("the body's SHA-256 does not match X-Content-SHA256")]
    BadContentSha256,
    /// The client was too slow sending the body.
    #[error("the request body was not received within {secs} s")]
    BodyTimeout {
        /// The timeout.
        secs: u64,
    },
    /// The body could not be read from the connection.
    #[error("the request body could not be read: {0}")]
    BodyRead(String),
    /// No such route.
    #[error("no route for {0}")]
    NotFound(String),
    /// A read's query or parameters are invalid (LogQL, time range, limit).
    #[error("{0}")]
    BadQuery(String),
    /// Too many live tails of this tenant at once.
    #[error("at most {max} concurrent tails per tenant (LOGOPS_MAX_TAILS)")]
    TooManyTails {
        /// The limit.
        max: usize,
    },
    /// The stored data could not be read.
    #[error("reading the stored data failed: {0}")]
    ReadFailed(String),
    /// Known path, wrong method.
    #[error("method not allowed; use {allow}")]
    MethodNotAllowed {
        /// The allowed method.
        allow: &'static str,
    },
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        ApiError::Ingest(IngestError::Decode(e))
    }
}

/// How an error is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// The `error` code (also the `reason` label of `logops_rejected_total`).
    pub code: &'static str,
    /// The HTTP status.
    pub status: StatusCode,
    /// `Retry-After` seconds, for answers a client should retry.
    pub retry_after: Option<u32>,
}

const fn meta(code: &'static str, status: StatusCode) -> Meta {
    Meta {
        code,
        status,
        retry_after: None,
    }
}

fn decode_status(d: &DecodeError) -> StatusCode {
    match d {
        DecodeError::InvalidJson { .. }
        | DecodeError::InvalidUtf8 { .. }
        | DecodeError::NotObjectOrArray { .. }
        | DecodeError::InvalidCsv { .. } => StatusCode::BAD_REQUEST,
        DecodeError::InvalidRecords { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        DecodeError::TooManyRecords { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DecodeError::UnsupportedCharset { .. } | DecodeError::UnsupportedMediaType { .. } => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
    }
}

impl ApiError {
    /// Code, status and `Retry-After` of this error.
    pub fn meta(&self) -> Meta {
        match self {
            ApiError::Ingest(e) => {
                let code = e.code();
                match e {
                    IngestError::Decode(d) => meta(code, decode_status(d)),
                    IngestError::BodyTooLarge { .. } => meta(code, StatusCode::PAYLOAD_TOO_LARGE),
                    IngestError::UnsupportedEncoding { .. } => {
                        meta(code, StatusCode::UNSUPPORTED_MEDIA_TYPE)
                    }
                    IngestError::InvalidEncoding { .. } => meta(code, StatusCode::BAD_REQUEST),
                    IngestError::Overloaded { .. }
                    | IngestError::Sink(SinkError::Overloaded { .. }) => Meta {
                        retry_after: Some(1),
                        ..meta(code, StatusCode::SERVICE_UNAVAILABLE)
                    },
                    IngestError::Sink(SinkError::Unavailable(_)) => Meta {
                        retry_after: Some(5),
                        ..meta(code, StatusCode::SERVICE_UNAVAILABLE)
                    },
                    IngestError::Internal(_) => meta(code, StatusCode::INTERNAL_SERVER_ERROR),
                    IngestError::Quota(Refusal::Limited {
                        retry_after_secs, ..
                    }) => Meta {
                        retry_after: Some(clamp_secs(*retry_after_secs)),
                        ..meta(code, StatusCode::TOO_MANY_REQUESTS)
                    },
                    IngestError::Quota(Refusal::ExceedsBurst { .. }) => {
                        meta(code, StatusCode::PAYLOAD_TOO_LARGE)
                    }
                }
            }
            ApiError::Auth(AuthError::Unauthorized(_)) => {
                meta("unauthorized", StatusCode::UNAUTHORIZED)
            }
            ApiError::Auth(AuthError::Forbidden { .. }) => meta("forbidden", StatusCode::FORBIDDEN),
            ApiError::Auth(AuthError::NonceCacheFull { retry_after_secs }) => Meta {
                retry_after: Some(clamp_secs(*retry_after_secs)),
                ..meta("rate_limited", StatusCode::TOO_MANY_REQUESTS)
            },
            ApiError::BadContentSha256 => meta("bad_content_sha256", StatusCode::BAD_REQUEST),
            ApiError::BodyTimeout { .. } => meta("body_timeout", StatusCode::REQUEST_TIMEOUT),
            ApiError::BodyRead(_) => meta("body_read_error", StatusCode::BAD_REQUEST),
            ApiError::NotFound(_) => meta("not_found", StatusCode::NOT_FOUND),
            ApiError::BadQuery(_) => meta("invalid_query", StatusCode::BAD_REQUEST),
            ApiError::TooManyTails { .. } => Meta {
                retry_after: Some(5),
                ..meta("too_many_tails", StatusCode::TOO_MANY_REQUESTS)
            },
            ApiError::ReadFailed(_) => meta("read_failed", StatusCode::INTERNAL_SERVER_ERROR),
            ApiError::MethodNotAllowed { .. } => {
                meta("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED)
            }
        }
    }

    /// Could the body not be parsed (`logops_parse_errors_total`)?
    pub fn is_parse_error(&self) -> bool {
        matches!(self, ApiError::Ingest(e) if e.is_parse_error())
    }

    /// The `reason` of a 401 (`logops_auth_failures_total{reason}`).
    pub fn auth_reason(&self) -> Option<&'static str> {
        match self {
            ApiError::Auth(AuthError::Unauthorized(r)) => Some(r.as_str()),
            _ => None,
        }
    }

    /// Extra body fields beyond `error` and `detail`.
    fn extra(&self, body: &mut Map<String, Value>) {
        if let Some(reason) = self.auth_reason() {
            body.insert("reason".into(), json!(reason));
        }
        let ApiError::Ingest(e) = self else { return };
        match e {
            IngestError::Decode(DecodeError::InvalidJson { line: Some(l), .. })
            | IngestError::Decode(DecodeError::InvalidUtf8 { line: Some(l) })
            | IngestError::Decode(DecodeError::InvalidCsv { line: Some(l), .. }) => {
                body.insert("line".into(), json!(l));
            }
            IngestError::Decode(DecodeError::InvalidRecords { indices, count }) => {
                body.insert("invalid_indices".into(), json!(indices));
                body.insert("count".into(), json!(count));
            }
            IngestError::Decode(DecodeError::TooManyRecords { limit })
            | IngestError::BodyTooLarge { limit } => {
                body.insert("limit".into(), json!(limit));
            }
            IngestError::Decode(
                DecodeError::UnsupportedMediaType { .. } | DecodeError::UnsupportedCharset { .. },
            ) => {
                body.insert("supported".into(), json!(SUPPORTED_MEDIA_TYPES));
            }
            IngestError::UnsupportedEncoding { .. } => {
                body.insert("supported".into(), json!(encoding::SUPPORTED));
            }
            IngestError::Quota(Refusal::ExceedsBurst { burst, .. }) => {
                body.insert("limit".into(), json!(burst));
            }
            _ => {}
        }
    }

    /// The full HTTP response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let m = self.meta();
        let mut body = Map::new();
        body.insert("error".into(), json!(m.code));
        body.insert("detail".into(), json!(self.to_string()));
        self.extra(&mut body);
        let mut resp = json_response(m.status, &Value::Object(body));
        let headers = resp.headers_mut();
        if let Some(secs) = m.retry_after {
            headers.insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        if let ApiError::MethodNotAllowed { allow } = &self {
            headers.insert(header::ALLOW, header::HeaderValue::from_static(allow));
        }
        if m.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"logops\""),
            );
        }
        resp
    }
}

/// `Retry-After` as the header's `u32`.
fn clamp_secs(secs: u64) -> u32 {
    u32::try_from(secs).unwrap_or(u32::MAX)
}

/// A JSON response with that status; the body ends in a newline (so `curl`
/// output does not run into the prompt).
pub fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes.push(b'\n');
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicked_worker_is_a_500_not_a_400() {
        let m = ApiError::from(IngestError::Internal("pipeline worker failed".into())).meta();
        assert_eq!(
            (m.code, m.status),
            ("internal", StatusCode::INTERNAL_SERVER_ERROR)
        );
    }

    #[test]
    fn overload_answers_carry_retry_after() {
        let r = ApiError::from(IngestError::Overloaded { limit: 1 }).into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r =
            ApiError::from(IngestError::Sink(SinkError::Unavailable("x".into()))).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
    }
}
