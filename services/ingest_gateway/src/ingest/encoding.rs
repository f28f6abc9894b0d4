//! `Content-Encoding` decoding whose *output* is bounded, so a gzip or zstd
//! bomb is refused without allocating its output. Used by every way in that
//! carries compressed bodies (HTTP today; OTLP and Loki push reuse it).

use std::io::Read;

use bytes::Bytes;

use super::IngestError;

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

/// Supported `Content-Encoding` values, for the 415 message.
pub const SUPPORTED: &str = "gzip, zstd, identity";

impl Encoding {
    /// One `Content-Encoding` token: `Ok(None)` for `identity`.
    ///
    /// # Errors
    /// [`IngestError::UnsupportedEncoding`] for anything but gzip/zstd/identity.
    pub fn parse(token: &str) -> Result<Option<Encoding>, IngestError> {
        match token.trim().to_ascii_lowercase().as_str() {
            "identity" => Ok(None),
            "gzip" | "x-gzip" => Ok(Some(Encoding::Gzip)),
            "zstd" => Ok(Some(Encoding::Zstd)),
            other => Err(IngestError::UnsupportedEncoding {
                encoding: other.to_string(),
            }),
        }
    }
}

/// Undoes `encodings` (last applied first), each output bounded by `max`.
///
/// # Errors
/// [`IngestError::BodyTooLarge`] or [`IngestError::InvalidEncoding`].
pub fn decode(mut body: Bytes, encodings: &[Encoding], max: usize) -> Result<Bytes, IngestError> {
    for enc in encodings.iter().rev() {
        body = match enc {
            Encoding::Gzip => {
                bounded_read(flate2::read::MultiGzDecoder::new(&body[..]), max, "gzip")?
            }
            Encoding::Zstd => {
                let mut d = zstd::stream::read::Decoder::with_buffer(&body[..]).map_err(|e| {
                    IngestError::InvalidEncoding {
                        encoding: "zstd",
                        detail: e.to_string(),
                    }
                })?;
                d.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(|e| {
                    IngestError::InvalidEncoding {
                        encoding: "zstd",
                        detail: e.to_string(),
                    }
                })?;
                bounded_read(d, max, "zstd")?
            }
        };
    }
    Ok(body)
}

fn bounded_read(
    reader: impl Read,
    max: usize,
    encoding: &'static str,
) -> Result<Bytes, IngestError> {
    let mut out = Vec::new();
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::InvalidEncoding {
            encoding,
            detail: e.to_string(),
        })?;
    if out.len() > max {
        return Err(IngestError::BodyTooLarge { limit: max });
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
            Err(IngestError::BodyTooLarge { .. })
        ));
    }

    #[test]
    fn garbage_is_invalid_encoding() {
        assert!(matches!(
            decode(Bytes::from_static(b"nope"), &[Encoding::Gzip], 100),
            Err(IngestError::InvalidEncoding { .. })
        ));
    }
}
