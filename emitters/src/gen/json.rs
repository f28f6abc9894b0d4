//! `emit_json`: server-style structured records, as a JSON array or NDJSON.
//!
//! Each record has a timestamp in one of many accepted spellings, a level word,
//! a message with emails/IPs, service/env/host, a request id, the user's email
//! and client IP, and nested `attrs`. `partial_ratio` of the records lack their
//! timestamp, their level, or both.

use serde_json::{json, Map, Value};

use super::{
    json_array, ndjson, timefmt, vocab, Batch, Expect, GenConfig, Generator, Partial, Source,
    TsKind,
};

/// Generator of server-style JSON records.
pub struct JsonGenerator {
    src: Source,
    partial_ratio: f64,
    ndjson: bool,
    compact: bool,
}

impl JsonGenerator {
    /// A generator where `partial_ratio` (0..=1) of the records lack ts and/or
    /// level; `ndjson` selects `application/x-ndjson` bodies instead of arrays.
    pub fn new(cfg: &GenConfig, partial_ratio: f64, ndjson: bool) -> Self {
        JsonGenerator {
            src: Source::new(cfg),
            partial_ratio,
            ndjson,
            compact: false,
        }
    }

    /// Compact records (~140 bytes: ts, level, message with PII, service, host),
    /// the benchmark workload of docs/benchmarks.md.
    pub fn compact(mut self, on: bool) -> Self {
        self.compact = on;
        self
    }

    fn record(&mut self, expect: &mut Expect) -> Value {
        let compact = self.compact;
        let src = &mut self.src;
        let partial = Partial::roll(src, self.partial_ratio);
        let us = src.next_us();
        let level = vocab::level(src);
        let mut rec = Map::new();
        if !partial.drop_ts {
            rec.insert("ts".into(), timefmt::random_json_ts(src, us));
        }
        if !partial.drop_level {
            rec.insert("level".into(), vocab::level_word(src, level).into());
        }
        rec.insert("message".into(), vocab::message(src, level).into());
        rec.insert("service".into(), src.pick(&vocab::SERVICES).into());
        rec.insert("env".into(), src.pick(&vocab::ENVS).into());
        rec.insert("host".into(), vocab::host(src).into());
        if !compact {
            server_fields(src, level, &mut rec);
        }
        let ts = if partial.drop_ts {
            TsKind::Missing
        } else {
            TsKind::Valid
        };
        expect.count(ts, partial.drop_level);
        Value::Object(rec)
    }
}

/// The fields beyond the compact core: request id, user email, client IP, attrs.
fn server_fields(src: &mut Source, level: vocab::Level, rec: &mut Map<String, Value>) {
    rec.insert("request_id".into(), vocab::request_id(src).into());
    if src.chance(0.85) {
        rec.insert("user_email".into(), vocab::email(src).into());
    }
    let ip = if src.chance(0.1) {
        vocab::ipv6(src)
    } else {
        vocab::ipv4(src)
    };
    rec.insert("client_ip".into(), ip.into());
    let (method, path) = vocab::request(src);
    let mut attrs = json!({
        "http": {"method": method, "path": path, "status": vocab::status(src, level)},
        "duration_ms": src.int(1, 250_000) as f64 / 100.0,
        "region": src.pick(&vocab::REGIONS),
        "version": format!("1.{}.{}", src.int(0, 9), src.int(0, 20)),
    });
    if src.chance(0.2) {
        attrs["tags"] = json!(["canary", src.pick(&vocab::REGIONS)]);
    }
    if src.chance(0.1) {
        attrs["upstream"] = json!({"addr": vocab::ipv4(src), "retries": src.int(0, 4)});
    }
    rec.insert("attrs".into(), attrs);
}

impl Generator for JsonGenerator {
    fn content_type(&self) -> &'static str {
        if self.ndjson {
            "application/x-ndjson"
        } else {
            "application/json"
        }
    }

    fn batch(&mut self, n: usize) -> Batch {
        let mut expect = Expect::default();
        let records: Vec<Value> = (0..n).map(|_| self.record(&mut expect)).collect();
        let body = if self.ndjson {
            ndjson(&records)
        } else {
            json_array(&records)
        };
        Batch { body, expect }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Clock, SEEDED_START_US};
    use super::*;

    fn gen(seed: u64, ratio: f64, nd: bool) -> JsonGenerator {
        let cfg = GenConfig {
            seed,
            clock: Clock::Fixed(SEEDED_START_US),
        };
        JsonGenerator::new(&cfg, ratio, nd)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_differs() {
        let a = gen(42, 0.3, false).batch(200);
        let b = gen(42, 0.3, false).batch(200);
        let c = gen(43, 0.3, false).batch(200);
        assert_eq!(a.body, b.body);
        assert_ne!(a.body, c.body);
    }

    #[test]
    fn partial_ratio_is_honoured_and_counted() {
        let batch = gen(9, 0.25, false).batch(4000);
        let recs: Vec<Value> = serde_json::from_slice(&batch.body).unwrap();
        assert_eq!(recs.len(), 4000);
        let no_ts = recs.iter().filter(|r| r.get("ts").is_none()).count() as u64;
        let no_level = recs.iter().filter(|r| r.get("level").is_none()).count() as u64;
        let partial = recs
            .iter()
            .filter(|r| r.get("ts").is_none() || r.get("level").is_none())
            .count();
        assert_eq!(batch.expect.missing_ts, no_ts);
        assert_eq!(batch.expect.missing_level, no_level);
        assert_eq!(batch.expect.invalid_ts, 0);
        // 25% of 4000 = 1000; a 4-sigma band is about ±110.
        assert!((890..=1110).contains(&partial), "partial = {partial}");
    }

    #[test]
    fn records_carry_the_server_fields() {
        let batch = gen(1, 0.0, true).batch(50);
        let text = std::str::from_utf8(&batch.body).unwrap();
        assert_eq!(text.lines().count(), 50);
        for line in text.lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            for key in [
                "ts",
                "level",
                "message",
                "service",
                "env",
                "host",
                "request_id",
                "client_ip",
            ] {
                assert!(r.get(key).is_some(), "{key} missing in {r}");
            }
            assert!(r["attrs"]["http"]["status"].is_i64());
        }
        assert_eq!(batch.expect.missing_ts + batch.expect.missing_level, 0);
    }
}
