//! Reading a request body within the limits: declared length, bytes on the
//! wire, read timeout; and the `Content-Encoding` header. Undoing the encoding
//! is the ingest service's job (`ingest::encoding`).

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::error::ApiError;
use crate::ingest::{Encoding, IngestError};

/// The encodings to undo, in the order they were applied.
///
/// # Errors
/// [`IngestError::UnsupportedEncoding`] for anything but gzip/zstd/identity.
pub fn encodings(headers: &HeaderMap) -> Result<Vec<Encoding>, IngestError> {
    let mut out = Vec::new();
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        let text = value
            .to_str()
            .map_err(|_| IngestError::UnsupportedEncoding {
                encoding: "<non-ASCII>".into(),
            })?;
        for token in text.split(',').filter(|e| !e.trim().is_empty()) {
            out.extend(Encoding::parse(token)?);
        }
    }
    Ok(out)
}

/// Refuses a declared `Content-Length` over `max` before reading anything.
///
/// # Errors
/// [`IngestError::BodyTooLarge`].
pub fn check_declared_length(headers: &HeaderMap, max: usize) -> Result<(), IngestError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => Err(IngestError::BodyTooLarge { limit: max }),
        _ => Ok(()),
    }
}

/// Reads the whole body, at most `max` bytes, within `timeout`.
///
/// # Errors
/// [`IngestError::BodyTooLarge`], [`ApiError::BodyTimeout`] or [`ApiError::BodyRead`].
pub async fn read(body: Incoming, max: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    let collect = Limited::new(body, max).collect();
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => Err(ApiError::BodyTimeout {
            secs: timeout.as_secs(),
        }),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => {
            Err(IngestError::BodyTooLarge { limit: max }.into())
        }
        Ok(Err(e)) => Err(ApiError::BodyRead(e.to_string())),
    }
}
