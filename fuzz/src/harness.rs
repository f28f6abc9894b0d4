//! The fuzz harness: one function per fuzz target, each feeding arbitrary bytes
//! to a public entry point of the gateway and checking what comes out.
//!
//! A panic anywhere (the gateway's or an assertion here) is a finding. The
//! checks are the contract of each stage: decoders respect the record limit,
//! body decoding never returns more than its limit and round-trips what it
//! compressed, a parsed timestamp is RFC 3339 UTC and parses to itself, and the
//! whole pipeline only ever produces valid NDJSON (one object per line, the
//! SPEC §2.1 key order, no duplicate key, `msg_enc` decrypting to the message).
//!
//! The agents' protocols (OTLP protobuf, Loki, Elasticsearch bulk, Splunk HEC)
//! have their checks in `harness_agents.rs`, a module of this one.
//!
//! This file is shared: the fuzz crate compiles it as `logops_fuzz::harness`,
//! and the gateway's `tests/fuzz_regressions.rs` includes it by path to replay
//! every saved input through each of [`TARGETS`] in CI.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

use bytes::Bytes;
use logops_gateway::config::Config;
use logops_gateway::decode::{Format, Record};
use logops_gateway::ingest::encoding::{self as body, Encoding};
use logops_gateway::normalize::{timestamp, BatchContext};
use logops_gateway::pii::{mask_str, Crypt};
use logops_gateway::pipeline::Pipeline;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

#[path = "harness_agents.rs"]
mod agents;

pub use self::agents::{decode_es_bulk, decode_hec, decode_loki, decode_otlp_proto};

/// Record limit used by the decoder targets (small, so the limit path is reached).
pub const MAX_RECORDS: usize = 1000;
/// A fixed, valid Fernet key (32 zero bytes) for the encrypting pipeline.
pub const FUZZ_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
/// Receive time given to the pipeline (what missing/invalid timestamps become).
const RECEIVED: &str = "2026-11-22T10:00:00.000Z";

/// A fuzz target: its name (the `fuzz_targets/<name>.rs` binary) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, in the order `fuzz/run.sh` runs them.
pub const TARGETS: &[Target] = &[
    ("decode_json", decode_json),
    ("decode_ndjson", decode_ndjson),
    ("decode_text", decode_text),
    ("decode_csv", decode_csv),
    ("decode_otlp", decode_otlp),
    ("body_decode", body_decode),
    ("timestamp", timestamp_parse),
    ("pipeline", pipeline),
    ("decode_otlp_proto", decode_otlp_proto),
    ("decode_loki", decode_loki),
    ("decode_es_bulk", decode_es_bulk),
    ("decode_hec", decode_hec),
];

fn check_decoded(format: Format, data: &[u8]) -> Option<Vec<Record>> {
    match format.decode(data, MAX_RECORDS) {
        Ok(records) => {
            assert!(
                records.len() <= MAX_RECORDS,
                "{format:?}: {} records over the limit",
                records.len()
            );
            Some(records)
        }
        Err(e) => {
            assert!(!e.to_string().is_empty(), "{format:?}: empty error message");
            None
        }
    }
}

/// `application/json`: an object, an array of objects, or OTLP.
pub fn decode_json(data: &[u8]) {
    if check_decoded(Format::Json, data).is_some() {
        let parsed: Result<Value, _> = serde_json::from_slice(data);
        assert!(
            parsed.is_ok(),
            "JSON decoder accepted a body serde_json rejects"
        );
    }
}

/// `application/x-ndjson`.
pub fn decode_ndjson(data: &[u8]) {
    check_decoded(Format::Ndjson, data);
}

/// `text/plain`: syslog-style lines (decoded lossily: every body is accepted).
pub fn decode_text(data: &[u8]) {
    let records = check_decoded(Format::Text, data);
    // A leading UTF-8 byte-order mark is ignored (SPEC §1).
    let text = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let lines = String::from_utf8_lossy(text)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    match records {
        Some(r) => assert_eq!(r.len(), lines, "text: one record per non-blank line"),
        None => assert!(lines > MAX_RECORDS, "text refused a body of {lines} lines"),
    }
}

/// `text/csv`.
pub fn decode_csv(data: &[u8]) {
    check_decoded(Format::Csv, data);
}

/// OTLP/HTTP JSON: the input as-is, and wrapped as the `resourceLogs` value so
/// the OTLP walker sees every shape of JSON the fuzzer makes.
pub fn decode_otlp(data: &[u8]) {
    check_decoded(Format::Json, data);
    let mut wrapped = Vec::with_capacity(data.len() + 20);
    wrapped.extend_from_slice(b"{\"resourceLogs\":");
    wrapped.extend_from_slice(data);
    wrapped.push(b'}');
    check_decoded(Format::Json, &wrapped);
}

/// The encodings a selector byte stands for.
fn encodings_for(selector: u8) -> &'static [Encoding] {
    match selector % 4 {
        0 => &[Encoding::Gzip],
        1 => &[Encoding::Zstd],
        2 => &[Encoding::Gzip, Encoding::Zstd],
        _ => &[Encoding::Zstd, Encoding::Gzip],
    }
}

/// `Content-Encoding` decoding with an output limit: byte 0 picks the
/// encodings, byte 1 the limit (1 KiB … 128 KiB); the rest is the body. The
/// rest is also compressed for real and must round-trip when it fits.
pub fn body_decode(data: &[u8]) {
    let [selector, limit, rest @ ..] = data else {
        return;
    };
    let encodings = encodings_for(*selector);
    let max = 1usize << (10 + limit % 8);
    if let Ok(out) = body::decode(Bytes::copy_from_slice(rest), encodings, max) {
        assert!(
            out.len() <= max,
            "decoded {} bytes over the limit {max}",
            out.len()
        );
    }
    let mut packed = rest.to_vec();
    for enc in encodings {
        packed = match enc {
            Encoding::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&packed).expect("gzip into a Vec");
                e.finish().expect("gzip into a Vec")
            }
            Encoding::Zstd => zstd::encode_all(&packed[..], 1).expect("zstd into a Vec"),
        };
    }
    match body::decode(Bytes::from(packed), encodings, max) {
        Ok(out) => assert_eq!(&out[..], rest, "round trip changed the body"),
        Err(e) => assert!(
            rest.len() > max,
            "round trip of {} bytes (limit {max}) failed: {e}",
            rest.len()
        ),
    }
}

/// Timestamp parsing: the input as a string, and as a JSON number when it is one.
pub fn timestamp_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut values = vec![Value::String(text.to_string())];
    if let Ok(n @ Value::Number(_)) = serde_json::from_str::<Value>(text) {
        values.push(n);
    }
    for year in [2026, 0, 9999] {
        for v in &values {
            if let Some(ts) = timestamp::parse(v, year) {
                check_rfc3339_utc(&ts);
                let again = timestamp::parse(&Value::String(ts.clone()), year);
                assert_eq!(
                    again.as_deref(),
                    Some(ts.as_str()),
                    "output does not parse to itself"
                );
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.digits]Z`.
fn check_rfc3339_utc(ts: &str) {
    let b = ts.as_bytes();
    let shape = b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[b.len() - 1] == b'Z'
        && (b.len() == 20
            || b[19] == b'.' && b.len() > 21 && b[20..b.len() - 1].iter().all(u8::is_ascii_digit));
    assert!(shape, "not RFC 3339 UTC: {ts:?}");
}

/// The four pipeline configurations byte 0 chooses from.
fn pipelines() -> &'static [(Pipeline, bool, bool); 4] {
    static P: OnceLock<[(Pipeline, bool, bool); 4]> = OnceLock::new();
    P.get_or_init(|| {
        let build = |pairs: &[(&str, &str)]| {
            let mut m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            m.insert("LOGOPS_MAX_RECORDS".into(), MAX_RECORDS.to_string());
            let cfg = Config::from_map(&m).expect("fuzz config");
            Pipeline::new(&cfg.pii, cfg.limits.max_records, cfg.limits.debug_sample)
        };
        [
            (build(&[]), true, false),
            (build(&[("LOGOPS_MASK_PII", "false")]), false, false),
            (
                build(&[
                    ("LOGOPS_ENCRYPT_PII", "true"),
                    ("LOGOPS_SECRET_KEY", FUZZ_KEY),
                ]),
                true,
                true,
            ),
            (
                build(&[
                    ("LOGOPS_MASK_PII", "false"),
                    ("LOGOPS_DEBUG_SAMPLE", "true"),
                ]),
                false,
                false,
            ),
        ]
    })
}

/// The whole batch path: byte 0 picks the format (bits 0–1) and the
/// configuration (bits 2–3); the rest is the body. Every produced line must
/// be valid NDJSON of the common schema.
pub fn pipeline(data: &[u8]) {
    run_pipeline(data);
}

/// [`pipeline`], returning how many records were accepted (`None`: refused).
pub fn run_pipeline(data: &[u8]) -> Option<u64> {
    let [selector, body @ ..] = data else {
        return None;
    };
    let format =
        [Format::Json, Format::Ndjson, Format::Text, Format::Csv][usize::from(selector & 3)];
    run_checked(format, body, usize::from((selector >> 2) & 3))
}

/// `body` through the masking pipeline (configuration 0) with every line
/// checked: how many records were stored (`None`: refused).
fn stored(format: Format, body: &[u8]) -> Option<u64> {
    run_checked(format, body, 0)
}

/// `body` as `format` through pipeline configuration `config`, every line checked.
fn run_checked(format: Format, body: &[u8], config: usize) -> Option<u64> {
    let (pipe, masks, encrypts) = &pipelines()[config];
    let ctx = BatchContext {
        emitter: "fuzz",
        scenario_id: "na",
        received: RECEIVED,
        year: 2026,
        tenant: None,
        defaults: &[],
    };
    let out = pipe.run(format, body, &ctx).ok()?;
    let text = std::str::from_utf8(&out.lines).expect("pipeline output is not UTF-8");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output does not end with a newline"
    );
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(
        lines.len() as u64,
        out.totals.accepted,
        "one line per accepted record"
    );
    let by_source: u64 = out.by_source.iter().map(|s| s.accepted).sum();
    assert_eq!(by_source, out.totals.accepted, "per-source counts add up");
    let crypt = encrypts.then(|| Crypt::from_key_list(FUZZ_KEY).expect("fuzz key"));
    for line in lines {
        check_line(line, *masks, crypt.as_ref());
    }
    Some(out.totals.accepted)
}

/// One output line: a JSON object, SPEC §2.1 key order, no duplicate key;
/// with `crypt`, `msg_enc` decrypts to the (masked when `masks`) `msg`.
pub fn check_line(line: &str, masks: bool, crypt: Option<&Crypt>) {
    let keys: KeyList = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("line is not a JSON object ({e}): {line}"));
    let head: Vec<&str> = keys.0.iter().take(5).map(String::as_str).collect();
    assert_eq!(
        head,
        ["ts", "level", "msg", "emitter", "scenario_id"],
        "key order: {line}"
    );
    let mut sorted = keys.0.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), keys.0.len(), "duplicate key in {line}");
    let Ok(Value::Object(rec)) = serde_json::from_str::<Value>(line) else {
        panic!("not an object: {line}")
    };
    let ts = rec["ts"]
        .as_str()
        .unwrap_or_else(|| panic!("ts not a string: {line}"));
    check_rfc3339_utc(ts);
    let level = rec["level"].as_str().unwrap_or_default();
    assert!(
        ["DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
        "level {level:?}: {line}"
    );
    let msg = rec["msg"]
        .as_str()
        .unwrap_or_else(|| panic!("msg not a string: {line}"));
    for k in ["emitter", "scenario_id"] {
        assert!(
            rec[k].as_str().is_some_and(|s| !s.is_empty()),
            "{k} empty or not a string: {line}"
        );
    }
    // An empty msg gets no token (a record may then carry its own `msg_enc` field).
    if let Some(crypt) = crypt.filter(|_| !msg.is_empty()) {
        let token = rec.get("msg_enc").and_then(Value::as_str);
        let token = token.unwrap_or_else(|| panic!("non-empty msg without msg_enc: {line}"));
        let plain = crypt
            .decrypt(token)
            .unwrap_or_else(|e| panic!("msg_enc does not decrypt ({e}): {line}"));
        let plain = String::from_utf8(plain).expect("msg_enc is UTF-8");
        let expected = if masks {
            mask_str(&plain).into_owned()
        } else {
            plain
        };
        assert_eq!(expected, msg, "msg is not the masked decryption of msg_enc");
    }
}

/// The keys of a JSON object in document order, duplicates kept.
struct KeyList(Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(KeyList(keys))
            }
        }
        d.deserialize_map(V)
    }
}
