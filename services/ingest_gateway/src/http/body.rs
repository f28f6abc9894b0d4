//! Reading a request body within the limits: declared length, bytes on the
//! wire, read timeout, then `Content-Encoding` decoding whose *output* is
//! bounded too, so a gzip bomb is refused without allocating its output.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::error::ApiError;

/// A supported `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// gzip (RFC 1952), possibly multi-member.
    Gzip,
    /// Zstandard.
    Zstd,
}

/// zstd window limit (2^23 = 8 MiB): bounds the decoder's memory whatever the frame claims.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// The encodings to undo, in the order they were applied.
///
/// # Errors
/// [`ApiError::UnsupportedEncoding`] for anything but gzip/zstd/identity.
pub fn encodings(headers: &HeaderMap) -> Result<Vec<Encoding>, ApiError> {
    let mut out = Vec::new();
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        let text = value.to_str().map_err(|_| ApiError::UnsupportedEncoding {
            encoding: "<non-ASCII>".into(),
        })?;
        for enc in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match enc.to_ascii_lowercase().as_str() {
                "identity" => {}
                "gzip" | "x-gzip" => out.push(Encoding::Gzip),
                "zstd" => out.push(Encoding::Zstd),
                other => {
                    return Err(ApiError::UnsupportedEncoding {
                        encoding: other.to_string(),
                    })
                }
            }
        }
    }
    Ok(out)
}

/// Refuses a declared `Content-Length` over `max` before reading anything.
///
/// # Errors
/// [`ApiError::BodyTooLarge`].
pub fn check_declared_length(headers: &HeaderMap, max: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => Err(ApiError::BodyTooLarge { limit: max }),
        _ => Ok(()),
    }
}

/// Reads the whole body, at most `max` bytes, within `timeout`.
///
/// # Errors
/// [`ApiError::BodyTooLarge`], [`ApiError::BodyTimeout`] or [`ApiError::BodyRead`].
pub async fn read(body: Incoming, max: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    let collect = Limited::new(body, max).collect();
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => Err(ApiError::BodyTimeout {
            secs: timeout.as_secs(),
        }),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(ApiError::BodyTooLarge { limit: max }),
        Ok(Err(e)) => Err(ApiError::BodyRead(e.to_string())),
    }
}

/// Undoes `encodings` (last applied first), each output bounded by `max`.
///
/// # Errors
/// [`ApiError::BodyTooLarge`] or [`ApiError::InvalidEncoding`].
pub fn decode(mut body: Bytes, encodings: &[Encoding], max: usize) -> Result<Bytes, ApiError> {
    for enc in encodings.iter().rev() {
        body = match enc {
            Encoding::Gzip => {
                bounded_read(flate2::read::MultiGzDecoder::new(&body[..]), max, "gzip")?
            }
            Encoding::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(&body[..]).map_err(|e| {
                    ApiError::InvalidEncoding {
                        encoding: "zstd",
                        detail: e.to_string(),
                    }
                })?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)
                    .map_err(|e| ApiError::InvalidEncoding {
                        encoding: "zstd",
                        detail: e.to_string(),
                    })?;
                bounded_read(d, max, "zstd")?
            }
        };
    }
    Ok(body)
}

fn bounded_read(reader: impl Read, max: usize, encoding: &'static str) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::InvalidEncoding {
            encoding,
            detail: e.to_string(),
        })?;
    if out.len() > max {
        return Err(ApiError::BodyTooLarge { limit: max });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        Bytes::from(e.finish().unwrap())
    }

    #[test]
    fn gzip_and_zstd_round_trip() {
        assert_eq!(
            decode(gzip(b"hello"), &[Encoding::Gzip], 100).unwrap(),
            &b"hello"[..]
        );
        let z = zstd::encode_all(&b"hello"[..], 3).unwrap();
        assert_eq!(
            decode(Bytes::from(z), &[Encoding::Zstd], 100).unwrap(),
            &b"hello"[..]
        );
    }

    #[test]
    fn bombs_are_refused_by_output_size() {
        let bomb = gzip(&vec![b'a'; 10 * 1024 * 1024]);
        assert!(bomb.len() < 100_000);
        assert!(matches!(
            decode(bomb, &[Encoding::Gzip], 1024 * 1024),
            Err(ApiError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn garbage_is_invalid_encoding() {
        assert!(matches!(
            decode(Bytes::from_static(b"nope"), &[Encoding::Gzip], 100),
            Err(ApiError::InvalidEncoding { .. })
        ));
    }
}
