//! `--protocol`: the same generated records, shipped the way an agent would
//! (issue #13): OTLP/HTTP JSON or protobuf, Loki push JSON or protobuf+snappy,
//! Elasticsearch bulk, Splunk HEC — so the gateway's protocol front ends can be
//! load-tested and benchmarked against the native JSON path with identical data.
//!
//! Each generated batch (a JSON array or NDJSON body) is parsed back into its
//! records and re-encoded ([`Reencode`], encoders in `encode`); the request
//! goes to the protocol's path (it replaces the path of `--url`) with its
//! `Content-Type`, and the accepted records are counted from the protocol's
//! own answer ([`Protocol::accepted`]): OTLP — every record of a `200` unless
//! `partialSuccess` names rejected ones; Loki — a `2xx` (`204`) accepts all;
//! Elasticsearch — the items answered `2xx`; HEC — `{"code":0}` accepts all.
//!
//! What the gateway should count (`Expect`) stays that of the native body,
//! except for Loki: every Loki entry carries a timestamp, which the gateway
//! uses for a line without its own, so such records are not `missing_ts` there.

mod encode;
mod pb;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::gen::{Batch, Generator};

/// How the emitter ships its records (`--protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// The generator's own body to `--url` (JSON, NDJSON, text or CSV).
    #[default]
    Native,
    /// OTLP/HTTP JSON `ExportLogsServiceRequest` to `/v1/logs`.
    OtlpJson,
    /// OTLP/HTTP protobuf `ExportLogsServiceRequest` to `/v1/logs`.
    OtlpProto,
    /// Loki push JSON to `/loki/api/v1/push`.
    LokiJson,
    /// Loki push, snappy-compressed protobuf `PushRequest`, to `/loki/api/v1/push`.
    LokiProto,
    /// Elasticsearch bulk (`create` actions) to `/_bulk`.
    EsBulk,
    /// Splunk HEC events to `/services/collector/event`.
    Hec,
}

/// The timestamp aliases the gateway reads (SPEC §2.2, its `schema::TS_KEYS`).
const TS_KEYS: [&str; 7] = [
    "ts",
    "timestamp",
    "time",
    "@timestamp",
    "isodate",
    "date",
    "created",
];

impl Protocol {
    /// The path the protocol posts to (`None`: the path of `--url`).
    pub fn path(self) -> Option<&'static str> {
        match self {
            Protocol::Native => None,
            Protocol::OtlpJson | Protocol::OtlpProto => Some("/v1/logs"),
            Protocol::LokiJson | Protocol::LokiProto => Some("/loki/api/v1/push"),
            Protocol::EsBulk => Some("/_bulk"),
            Protocol::Hec => Some("/services/collector/event"),
        }
    }

    /// The `Content-Type` of the bodies, given the generator's own.
    pub fn content_type(self, native: &'static str) -> &'static str {
        match self {
            Protocol::Native => native,
            Protocol::OtlpJson | Protocol::LokiJson | Protocol::Hec => "application/json",
            Protocol::OtlpProto | Protocol::LokiProto => "application/x-protobuf",
            Protocol::EsBulk => "application/x-ndjson",
        }
    }

    /// Can bodies of this content type be re-encoded (their records read back)?
    pub fn accepts_body(self, native: &str) -> bool {
        self == Protocol::Native || matches!(native, "application/json" | "application/x-ndjson")
    }

    /// How many of a batch's `records` the answer accepts, read the protocol's way.
    pub fn accepted(self, status: u16, body: &[u8], records: u64) -> u64 {
        if !(200..300).contains(&status) {
            return 0;
        }
        match self {
            Protocol::Native | Protocol::LokiJson | Protocol::LokiProto => records,
            Protocol::OtlpJson => {
                let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let rejected = &v["partialSuccess"]["rejectedLogRecords"];
                let n = rejected
                    .as_u64()
                    .or_else(|| rejected.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(0);
                records.saturating_sub(n)
            }
            Protocol::OtlpProto => records.saturating_sub(pb::rejected_log_records(body)),
            Protocol::EsBulk => {
                let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let items = v["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                let ok = items
                    .iter()
                    .filter_map(Value::as_object)
                    .flat_map(|m| m.values())
                    .filter(|item| item["status"].as_u64().is_some_and(|s| s / 100 == 2))
                    .count();
                (ok as u64).min(records)
            }
            Protocol::Hec => {
                let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                if v["code"].as_u64() == Some(0) {
                    records
                } else {
                    0
                }
            }
        }
    }
}

/// A generator whose batches are re-encoded for a protocol (the identity for
/// [`Protocol::Native`]).
pub(crate) struct Reencode<G> {
    inner: G,
    protocol: Protocol,
}

impl<G: Generator> Reencode<G> {
    /// Wraps `inner`; `Err` names the generator's content type when its bodies
    /// cannot be read back as records (text, CSV).
    pub(crate) fn new(inner: G, protocol: Protocol) -> Result<Self, String> {
        let native = inner.content_type();
        if !protocol.accepts_body(native) {
            return Err(format!(
                "--protocol {protocol:?} re-encodes JSON records; this emitter sends {native}"
            ));
        }
        Ok(Reencode { inner, protocol })
    }
}

impl<G: Generator> Generator for Reencode<G> {
    fn content_type(&self) -> &'static str {
        self.protocol.content_type(self.inner.content_type())
    }

    fn batch(&mut self, n: usize) -> Batch {
        let batch = self.inner.batch(n);
        if self.protocol == Protocol::Native {
            return batch;
        }
        let records = records_of(&batch.body);
        let mut expect = batch.expect;
        let body = match self.protocol {
            Protocol::Native => batch.body,
            Protocol::OtlpJson => encode::otlp_json(&records),
            Protocol::OtlpProto => pb::otlp(&records),
            Protocol::LokiJson | Protocol::LokiProto => {
                let filled = records.iter().filter(|r| !has_ts(r)).count() as u64;
                expect.missing_ts = expect.missing_ts.saturating_sub(filled);
                let streams = encode::loki_streams(&records);
                if self.protocol == Protocol::LokiJson {
                    encode::loki_json(&streams)
                } else {
                    pb::loki(&streams)
                }
            }
            Protocol::EsBulk => encode::es_bulk(&records),
            Protocol::Hec => encode::hec(&records),
        };
        Batch { body, expect }
    }
}

/// The records of a JSON array, object or NDJSON body (a non-object element
/// becomes the `message` of a record of its own).
fn records_of(body: &Bytes) -> Vec<Map<String, Value>> {
    let as_record = |v: Value| match v {
        Value::Object(m) => m,
        other => Map::from_iter([("message".to_string(), other)]),
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items.into_iter().map(as_record).collect(),
        Ok(v) => vec![as_record(v)],
        Err(_) => body
            .split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
            .map(as_record)
            .collect(),
    }
}

/// Does the record carry a (non-null) timestamp under one of the gateway's aliases?
fn has_ts(rec: &Map<String, Value>) -> bool {
    rec.iter()
        .any(|(k, v)| !v.is_null() && TS_KEYS.iter().any(|t| k.eq_ignore_ascii_case(t)))
}

/// The `ts` of a record as nanoseconds since the epoch, when it is an RFC 3339
/// string with a zone (other spellings stay in the record for the gateway to read).
fn ts_nanos(rec: &Map<String, Value>) -> Option<u64> {
    let text = rec.get("ts")?.as_str()?;
    let dt =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(dt.unix_timestamp_nanos()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{Clock, GenConfig, JsonGenerator, SEEDED_START_US};

    fn gen(ndjson: bool) -> JsonGenerator {
        let cfg = GenConfig {
            seed: 3,
            clock: Clock::Fixed(SEEDED_START_US),
        };
        JsonGenerator::new(&cfg, 0.3, ndjson)
    }

    #[test]
    fn json_and_ndjson_bodies_read_back_as_the_same_records() {
        let array = records_of(&gen(false).batch(20).body);
        let lines = records_of(&gen(true).batch(20).body);
        assert_eq!(array.len(), 20);
        assert_eq!(array, lines);
    }

    #[test]
    fn text_bodies_are_refused_and_native_is_the_identity() {
        let cfg = GenConfig {
            seed: 1,
            clock: Clock::Wall,
        };
        let syslog = crate::gen::SyslogGenerator::new(&cfg, 0.0);
        assert!(Reencode::new(syslog, Protocol::Hec).is_err());
        let mut native = Reencode::new(gen(false), Protocol::Native).unwrap();
        assert_eq!(native.batch(5).body, gen(false).batch(5).body);
    }

    #[test]
    fn loki_fills_missing_timestamps() {
        let plain = gen(false).batch(50).expect;
        assert!(plain.missing_ts > 0, "the seed makes partial records");
        let mut loki = Reencode::new(gen(false), Protocol::LokiJson).unwrap();
        let b = loki.batch(50);
        assert_eq!(b.expect.missing_ts, 0);
        assert_eq!(b.expect.records, 50);
        let mut otlp = Reencode::new(gen(false), Protocol::OtlpJson).unwrap();
        assert_eq!(otlp.batch(50).expect, plain);
    }

    #[test]
    fn answers_are_counted_the_protocols_way() {
        assert_eq!(Protocol::LokiProto.accepted(204, b"", 10), 10);
        assert_eq!(Protocol::LokiJson.accepted(400, b"bad", 10), 0);
        assert_eq!(Protocol::OtlpJson.accepted(200, b"{}", 10), 10);
        let partial = br#"{"partialSuccess":{"rejectedLogRecords":"3"}}"#;
        assert_eq!(Protocol::OtlpJson.accepted(200, partial, 10), 7);
        assert_eq!(Protocol::OtlpProto.accepted(200, b"", 10), 10);
        assert_eq!(Protocol::OtlpProto.accepted(200, &pb::response(4), 10), 6);
        let bulk =
            br#"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400}}]}"#;
        assert_eq!(Protocol::EsBulk.accepted(200, bulk, 2), 1);
        assert_eq!(
            Protocol::Hec.accepted(200, br#"{"text":"Success","code":0}"#, 5),
            5
        );
        assert_eq!(Protocol::Hec.accepted(200, br#"{"code":6}"#, 5), 0);
    }

    #[test]
    fn ts_is_read_from_rfc3339_only() {
        let rec = |v: Value| Map::from_iter([("ts".to_string(), v)]);
        assert_eq!(
            ts_nanos(&rec(Value::from("2026-01-01T00:00:01.5Z"))),
            Some(1_767_225_601_500_000_000)
        );
        assert_eq!(ts_nanos(&rec(Value::from("2026-01-01 00:00:01"))), None);
        assert_eq!(ts_nanos(&rec(Value::from(1_767_225_601u64))), None);
    }
}
