//! Reading a request body within the limits: declared length, bytes on the
//! wire, read timeout; draining what an early answer left unread; and the
//! `Content-Encoding` header. Undoing the encoding
//! is the ingest service's job (`ingest::encoding`).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};

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

/// Reads the whole body, at most `max` bytes, within `timeout`. On
/// [`IngestError::BodyTooLarge`] the rest of the body is left unread (for
/// [`drain`]).
///
/// # Errors
/// [`IngestError::BodyTooLarge`], [`ApiError::BodyTimeout`] or [`ApiError::BodyRead`].
pub async fn read(body: &mut Incoming, max: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    let collect = async {
        let mut buf = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ApiError::BodyRead(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > max {
                    return Err(IngestError::BodyTooLarge { limit: max }.into());
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf.freeze())
    };
    tokio::time::timeout(timeout, collect)
        .await
        .unwrap_or(Err(ApiError::BodyTimeout {
            secs: timeout.as_secs(),
        }))
}

/// How much of an unread body [`drain`] reads at most: 4 × the body limit
/// (at least 1 MiB).
pub fn drain_limit(max_body_bytes: usize) -> usize {
    max_body_bytes.saturating_mul(4).max(1 << 20)
}

/// Reads and discards what is left of `body`, at most `limit` bytes within
/// `timeout`, so that a client still sending it sees the answer sent before
/// the body was read (413, 415, 503, …) instead of a connection reset. Past
/// either bound it gives up and the connection is closed.
pub async fn drain(body: &mut Incoming, limit: usize, timeout: Duration) {
    if body.is_end_stream() {
        return;
    }
    let discard = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > limit {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(timeout, discard).await;
}
