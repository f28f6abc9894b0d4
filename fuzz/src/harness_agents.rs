//! Fuzz checks of the agents' protocols (issue #13): OTLP/HTTP protobuf, Loki
//! push (JSON and snappy-compressed protobuf), Elasticsearch bulk and Splunk
//! HEC (event and raw).
//!
//! Each check holds a decoder to an independent reading of the same bytes
//! (the record count a plain `serde_json` or `prost` parse finds, the bulk
//! items, the non-blank lines), refuses nothing it should accept for a reason
//! that is not the body's own, and runs every accepted body through the whole
//! pipeline ([`super::stored`]), so every record the decoder returns must
//! become one valid line. A refused body must be refused by the pipeline too:
//! nothing of it is stored.
//!
//! A module of [`super`] (`harness.rs`), kept apart to keep files short; the
//! gateway's `tests/fuzz_regressions.rs` replays it with the rest.

use logops_gateway::decode::{es_bulk, hec, loki, DecodeError, Format, Record};
use prost::Message as _;
use serde_json::Value;

use super::{check_decoded, stored, MAX_RECORDS};

/// Snappy's largest expansion, as the Loki decoder bounds it: a 3-byte copy op writes 64 bytes.
const SNAPPY_MAX_RATIO: usize = 22;

/// Decodes with `format`, checks the record limit, and stores the body through
/// the pipeline: it must store one line per record, or refuse when the decoder did.
fn decode_and_store(format: Format, data: &[u8]) -> Option<Vec<Record>> {
    let records = check_decoded(format, data);
    let lines = stored(format, data);
    assert_eq!(
        records.as_ref().map(|r| r.len() as u64),
        lines,
        "{format:?}: the pipeline stored another number of records than the decoder returned"
    );
    records
}

/// OTLP/HTTP protobuf `ExportLogsServiceRequest`.
pub fn decode_otlp_proto(data: &[u8]) {
    let Some(records) = decode_and_store(Format::OtlpProto, data) else {
        return;
    };
    // prost refuses a few things the gateway's wire walker lets pass in fields it
    // skips (keys above u32): compare counts only when both read the body.
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if let Ok(req) = OtlpRequest::decode(body) {
        let n: usize = req
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        assert_eq!(records.len(), n, "OTLP protobuf: records != log records");
    }
}

/// Loki push: the bytes as a JSON push, as a snappy block, and compressed with
/// snappy for real (so the protobuf walker sees the fuzzer's bytes). A block
/// declaring more than snappy can expand the body to is refused before
/// anything is allocated for it (libFuzzer's `-malloc_limit_mb` would catch an
/// allocation of the declared size).
pub fn decode_loki(data: &[u8]) {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if let Some(records) = decode_and_store(Format::LokiJson, data) {
        // Skipped members are not checked for UTF-8 (serde's IgnoredAny): read the
        // push the same way, not as a `Value`, which refuses them.
        let push: LokiJsonCount = serde_json::from_slice(body).expect("accepted Loki JSON parses");
        let entries: usize = push.streams.iter().map(|s| s.values.len()).sum();
        assert_eq!(records.len(), entries, "Loki JSON: records != entries");
    }

    let declared = snap::raw::decompress_len(body).ok();
    let bound = body
        .len()
        .saturating_mul(SNAPPY_MAX_RATIO)
        .min(loki::MAX_SNAPPY_DECOMPRESSED);
    let records = decode_and_store(Format::LokiProto, data);
    if declared.is_none_or(|d| d > bound) {
        assert!(
            records.is_none(),
            "Loki protobuf: a block declaring {declared:?} bytes (bound {bound}) was accepted"
        );
    }
    if let Some(records) = records {
        let raw = snap::raw::Decoder::new()
            .decompress_vec(body)
            .expect("accepted snappy decompresses");
        check_loki_entries(&raw, records.len());
    }

    let packed = snap::raw::Encoder::new()
        .compress_vec(data)
        .expect("snappy compresses any input");
    match Format::LokiProto.decode(&packed, MAX_RECORDS) {
        Ok(records) => {
            check_loki_entries(data, records.len());
            let lines = stored(Format::LokiProto, &packed);
            assert_eq!(
                lines,
                Some(records.len() as u64),
                "Loki protobuf: one line per record"
            );
        }
        Err(e) => assert!(
            !e.to_string().contains("snappy"),
            "Loki protobuf: a real snappy block was refused: {e}"
        ),
    }
}

fn check_loki_entries(raw: &[u8], records: usize) {
    if let Ok(push) = LokiPush::decode(raw) {
        let n: usize = push.streams.iter().map(|s| s.entries.len()).sum();
        assert_eq!(records, n, "Loki protobuf: records != entries");
    }
}

/// Elasticsearch bulk: the records are exactly the items answered 201, with
/// and without a URL index, and the response says `errors` when an item failed.
pub fn decode_es_bulk(data: &[u8]) {
    let records = decode_and_store(Format::EsBulk, data);
    let items = es_bulk::items(data, None);
    match (&records, &items) {
        (Some(r), Ok(items)) => {
            let stored = items.iter().filter(|i| i.status == 201).count();
            assert_eq!(r.len(), stored, "ES bulk: records != items answered 201");
            let resp = es_bulk::response(items, 0);
            let failed = items.iter().any(|i| i.status >= 300);
            assert_eq!(resp["errors"], Value::Bool(failed), "ES bulk: errors flag");
            assert_eq!(
                resp["items"].as_array().map(Vec::len),
                Some(items.len()),
                "ES bulk: one answer per item"
            );
            let (recs, again) =
                es_bulk::decode_items(data, MAX_RECORDS, None).expect("one-pass decode");
            assert_eq!((recs.len(), again.len()), (r.len(), items.len()));
        }
        (None, Ok(items)) => assert!(
            items.iter().filter(|i| i.status == 201).count() > MAX_RECORDS,
            "ES bulk: refused a body whose items parse"
        ),
        (Some(_), Err(e)) => panic!("ES bulk: records decoded but items refused: {e}"),
        (None, Err(_)) => {}
    }
    let indexed = es_bulk::decode_with_index(data, MAX_RECORDS, Some("fuzz-index"));
    assert_eq!(
        indexed.ok().map(|r| r.len()),
        records.map(|r| r.len()),
        "ES bulk: the URL index changed what is stored"
    );
}

/// Splunk HEC: `/services/collector/event` (one record per JSON value of the
/// stream; refusals carry a HEC code) and `/services/collector/raw` (one
/// record per non-blank line, never refused otherwise).
pub fn decode_hec(data: &[u8]) {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    match Format::HecEvent.decode(data, MAX_RECORDS) {
        Ok(records) => {
            assert!(records.len() <= MAX_RECORDS, "HEC event: over the limit");
            let mut values = 0;
            for v in serde_json::Deserializer::from_slice(body).into_iter::<serde::de::IgnoredAny>()
            {
                v.expect("accepted HEC events parse");
                values += 1;
            }
            assert_eq!(records.len(), values, "HEC event: records != events");
            let lines = stored(Format::HecEvent, data);
            assert_eq!(lines, Some(values as u64), "HEC event: one line per record");
        }
        Err(e) => {
            assert!(
                matches!(e, DecodeError::TooManyRecords { .. }) || hec::splunk_code(&e).is_some(),
                "HEC event: refusal without a HEC code: {e}"
            );
            assert_eq!(stored(Format::HecEvent, data), None, "HEC event stored");
        }
    }
    let lines = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    match decode_and_store(Format::HecRaw, data) {
        Some(r) => assert_eq!(r.len(), lines, "HEC raw: one record per non-blank line"),
        None => assert!(
            lines == 0 || lines > MAX_RECORDS,
            "HEC raw refused a body of {lines} lines"
        ),
    }
}

/// The nesting of `ExportLogsServiceRequest` down to the log records, which are
/// only counted (their fields are skipped).
#[derive(Clone, PartialEq, prost::Message)]
struct OtlpRequest {
    #[prost(message, repeated, tag = "1")]
    resource_logs: Vec<OtlpResourceLogs>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct OtlpResourceLogs {
    #[prost(message, repeated, tag = "2")]
    scope_logs: Vec<OtlpScopeLogs>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct OtlpScopeLogs {
    #[prost(message, repeated, tag = "2")]
    log_records: Vec<Skipped>,
}

/// A Loki JSON push down to the entries, which are only counted.
#[derive(serde::Deserialize)]
struct LokiJsonCount {
    #[serde(default)]
    streams: Vec<LokiJsonStream>,
}

#[derive(serde::Deserialize)]
struct LokiJsonStream {
    #[serde(default)]
    values: Vec<serde::de::IgnoredAny>,
}

/// Loki's `PushRequest` down to the entries, which are only counted.
#[derive(Clone, PartialEq, prost::Message)]
struct LokiPush {
    #[prost(message, repeated, tag = "1")]
    streams: Vec<LokiStream>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LokiStream {
    #[prost(message, repeated, tag = "2")]
    entries: Vec<Skipped>,
}

/// A message whose fields are all skipped.
#[derive(Clone, PartialEq, prost::Message)]
struct Skipped {}
