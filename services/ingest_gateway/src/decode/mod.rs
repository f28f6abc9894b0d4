//! Decode: request body bytes → raw records, one decoder per format.
//!
//! The format comes from `Content-Type` ([`Format::from_content_type`]); each
//! decoder turns the (already decompressed) body into a list of [`Record`]s that
//! the normalizer then maps onto the common schema. Decoders are pure functions
//! without I/O; they stop early once a batch exceeds the record limit so a huge
//! body never turns into a huge allocation.

mod csv;
pub mod es_bulk;
mod form;
pub mod hec;
mod json;
pub mod loki;
mod ndjson;
mod otlp;
mod otlp_pb;
pub mod otlp_proto;
mod pb_wire;
mod pylog;
mod text;

pub use text::{parse_line as parse_text_line, split_level_word};

pub use crate::schema::Record;

/// The body formats the gateway understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON object, an array of objects, or OTLP/HTTP JSON.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Syslog-style text lines.
    Text,
    /// CSV with a header row.
    Csv,
    /// `application/x-www-form-urlencoded`: JSON sent by `curl -d`, or the
    /// fields of Python's `HTTPHandler` as one record.
    Form,
    /// OTLP/HTTP protobuf `ExportLogsServiceRequest` (`application/x-protobuf` on `/v1/logs`).
    OtlpProto,
    /// Loki push, JSON (`/loki/api/v1/push`).
    LokiJson,
    /// Loki push, snappy-compressed protobuf `PushRequest`.
    LokiProto,
    /// Elasticsearch bulk: NDJSON action/source pairs (`/_bulk`); bad items are skipped here
    /// and reported per item by [`es_bulk::items`].
    EsBulk,
    /// Splunk HEC `/services/collector/event`: concatenated JSON event objects.
    HecEvent,
    /// Splunk HEC `/services/collector/raw`: one event per line.
    HecRaw,
}

/// The media types accepted, for the 415 message.
pub const SUPPORTED_MEDIA_TYPES: &str =
    "application/json, application/x-ndjson, application/jsonl, \
     application/ndjson, text/plain, text/csv, application/x-www-form-urlencoded";

/// Why a body could not be decoded. Mapped to HTTP statuses in `http::error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not valid JSON (`line` for NDJSON).
    #[error("body is not valid JSON{}: {detail}", line_suffix(*.line))]
    InvalidJson {
        /// 1-based NDJSON line, if any.
        line: Option<usize>,
        /// Parser message.
        detail: String,
    },
    /// JSON/NDJSON body is not UTF-8.
    #[error("body is not valid UTF-8{}", line_suffix(*.line))]
    InvalidUtf8 {
        /// 1-based NDJSON line, if known.
        line: Option<usize>,
    },
    /// JSON root is a scalar or string.
    #[error("JSON root must be an object or an array of objects, got {kind}")]
    NotObjectOrArray {
        /// What the root was.
        kind: &'static str,
    },
    /// CSV without a header, or an unparseable row.
    #[error("CSV cannot be parsed{}: {detail}", line_suffix(*.line))]
    InvalidCsv {
        /// 1-based line, if any.
        line: Option<usize>,
        /// Why.
        detail: String,
    },
    /// Array elements (or NDJSON lines) that are not objects.
    #[error("{count} record(s) are not JSON objects")]
    InvalidRecords {
        /// First 50 offending 0-based positions.
        indices: Vec<usize>,
        /// How many in total.
        count: usize,
    },
    /// More records than `LOGOPS_MAX_RECORDS`.
    #[error("batch has more than {limit} records")]
    TooManyRecords {
        /// The limit.
        limit: usize,
    },
    /// A `charset` parameter other than UTF-8.
    #[error("unsupported charset {charset:?}: only utf-8 is accepted")]
    UnsupportedCharset {
        /// The charset given.
        charset: String,
    },
    /// Unknown media type.
    #[error("unsupported media type {media_type:?}; supported: {SUPPORTED_MEDIA_TYPES}")]
    UnsupportedMediaType {
        /// The media type given.
        media_type: String,
    },
}

impl DecodeError {
    /// The error code of the API (also the `reason` label of `logops_rejected_total`).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::InvalidJson { .. } => "invalid_json",
            DecodeError::InvalidUtf8 { .. } => "invalid_utf8",
            DecodeError::NotObjectOrArray { .. } => "not_object_or_array",
            DecodeError::InvalidCsv { .. } => "invalid_csv",
            DecodeError::InvalidRecords { .. } => "invalid_records",
            DecodeError::TooManyRecords { .. } => "too_many_records",
            DecodeError::UnsupportedCharset { .. } | DecodeError::UnsupportedMediaType { .. } => {
                "unsupported_media_type"
            }
        }
    }

    /// Is this a body that could not be parsed (`logops_parse_errors_total`),
    /// rather than a refusal by limit or media type?
    pub fn is_parse_error(&self) -> bool {
        match self {
            DecodeError::InvalidJson { .. }
            | DecodeError::InvalidUtf8 { .. }
            | DecodeError::NotObjectOrArray { .. }
            | DecodeError::InvalidCsv { .. }
            | DecodeError::InvalidRecords { .. } => true,
            DecodeError::TooManyRecords { .. }
            | DecodeError::UnsupportedCharset { .. }
            | DecodeError::UnsupportedMediaType { .. } => false,
        }
    }
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

/// How many invalid positions an `invalid_records` error lists.
pub const MAX_INVALID_INDICES: usize = 50;

impl Format {
    /// Picks the decoder from a `Content-Type` header value (`None` = JSON).
    ///
    /// # Errors
    /// [`DecodeError::UnsupportedMediaType`] or [`DecodeError::UnsupportedCharset`].
    pub fn from_content_type(value: Option<&str>) -> Result<Format, DecodeError> {
        let Some(value) = value else {
            return Ok(Format::Json);
        };
        let mut parts = value.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        for param in parts {
            let (name, val) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("charset") {
                let cs = val.trim().trim_matches('"');
                if !cs.eq_ignore_ascii_case("utf-8") && !cs.eq_ignore_ascii_case("utf8") {
                    return Err(DecodeError::UnsupportedCharset {
                        charset: cs.to_string(),
                    });
                }
            }
        }
        match media.as_str() {
            "application/json" | "" => Ok(Format::Json),
            "application/x-ndjson" | "application/jsonl" | "application/ndjson" => {
                Ok(Format::Ndjson)
            }
            "text/plain" => Ok(Format::Text),
            "text/csv" => Ok(Format::Csv),
            "application/x-www-form-urlencoded" => Ok(Format::Form),
            "application/x-protobuf" | "application/protobuf" => Ok(Format::OtlpProto),
            _ => Err(DecodeError::UnsupportedMediaType { media_type: media }),
        }
    }

    /// Decodes a whole body into records, refusing more than `max_records`.
    /// A UTF-8 byte-order mark at the start is ignored, whatever the format.
    ///
    /// # Errors
    /// A [`DecodeError`] describing the first problem; nothing is partially returned.
    pub fn decode(self, body: &[u8], max_records: usize) -> Result<Vec<Record>, DecodeError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        match self {
            Format::Form => form::decode(body, max_records),
            Format::OtlpProto => otlp_proto::decode(body, max_records),
            Format::LokiJson => loki::decode_json(body, max_records),
            Format::LokiProto => loki::decode_proto(body, max_records),
            Format::EsBulk => es_bulk::decode(body, max_records),
            Format::HecEvent => hec::decode_event(body, max_records),
            Format::HecRaw => hec::decode_raw(body, max_records),
            Format::Json => json::decode(body, max_records),
            Format::Ndjson => ndjson::decode(body, max_records),
            Format::Text => text::decode(body, max_records),
            Format::Csv => csv::decode(body, max_records),
        }
    }
}

/// Pushes `record`, failing once the batch would exceed `max`.
fn push_limited(out: &mut Vec<Record>, record: Record, max: usize) -> Result<(), DecodeError> {
    if out.len() >= max {
        return Err(DecodeError::TooManyRecords { limit: max });
    }
    out.push(record);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(Format::from_content_type(None).unwrap(), Format::Json);
        assert_eq!(
            Format::from_content_type(Some("Application/JSON; charset=UTF-8")).unwrap(),
            Format::Json
        );
        assert_eq!(
            Format::from_content_type(Some("application/jsonl")).unwrap(),
            Format::Ndjson
        );
        assert_eq!(
            Format::from_content_type(Some("text/plain")).unwrap(),
            Format::Text
        );
        assert_eq!(
            Format::from_content_type(Some("text/csv;header=present")).unwrap(),
            Format::Csv
        );
        assert!(matches!(
            Format::from_content_type(Some("application/xml")),
            Err(DecodeError::UnsupportedMediaType { .. })
        ));
        assert!(matches!(
            Format::from_content_type(Some("text/plain; charset=latin1")),
            Err(DecodeError::UnsupportedCharset { .. })
        ));
    }
}
