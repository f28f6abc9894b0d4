//! `emit_noise`: the messy records real clients send, as a JSON array.
//!
//! `chaos` (0..=1) is the probability of each kind of deviation from a clean
//! record: timestamps under alias keys, as epoch numbers in four units, null,
//! blank, unparseable or missing; levels under alias keys, as syslog numbers,
//! booleans, unknown words or missing; messages under alias keys, as objects or
//! arrays, as docker-style or syslog-ish `log` lines; nested extras full of PII,
//! `_private` keys (dropped by the gateway), unicode and oversized fields.
//! At chaos 0 every record is clean. The expectation follows SPEC §2.2: a
//! null or blank ts is missing, an unparseable one invalid; numeric levels 0–7
//! map, other numbers and booleans keep `level_raw`, neither is missing.

use serde_json::{json, Map, Value};

use super::timefmt::{self, Epoch};
use super::vocab;
use super::{json_array, Batch, Expect, GenConfig, Generator, Source, TsKind};

/// Strings no timestamp parser accepts.
const BAD_TS: [&str; 6] = [
    "yesterday",
    "not a date",
    "2026-13-45T99:99:99Z",
    "12/25/2026 10:00 PM",
    "??:??:??",
    "soon™",
];
/// Level words the gateway does not know: stored as INFO with `level_raw`.
const ODD_LEVELS: [&str; 4] = ["verbose", "FINEST", "success", "Audit"];

/// Generator of messy JSON records.
pub struct NoiseGenerator {
    src: Source,
    chaos: f64,
}

impl NoiseGenerator {
    /// A generator with that chaos (0..=1).
    pub fn new(cfg: &GenConfig, chaos: f64) -> Self {
        NoiseGenerator {
            src: Source::new(cfg),
            chaos,
        }
    }

    fn roll(&mut self) -> bool {
        self.src.chance(self.chaos)
    }

    /// Inserts the timestamp (or its absence) and says how the gateway sees it.
    fn ts(&mut self, rec: &mut Map<String, Value>, us: i64) -> TsKind {
        let src = &mut self.src;
        if !src.chance(self.chaos) {
            rec.insert("ts".into(), timefmt::random_iso(src, us).into());
            return TsKind::Valid;
        }
        match src.int(0, 9) {
            0 => {
                let key = src.pick(&["timestamp", "time", "@timestamp"]);
                rec.insert(key.into(), timefmt::random_json_ts(src, us));
                TsKind::Valid
            }
            1 => {
                let unit = src.pick(&[Epoch::Seconds, Epoch::Millis, Epoch::Micros, Epoch::Nanos]);
                rec.insert("ts".into(), timefmt::epoch(us, unit).into());
                TsKind::Valid
            }
            2 => {
                rec.insert("time".into(), timefmt::syslog3164(us).into());
                TsKind::Valid
            }
            3 => {
                // A null first alias falls through to the next one.
                rec.insert("ts".into(), Value::Null);
                rec.insert("time".into(), timefmt::random_iso(src, us).into());
                TsKind::Valid
            }
            4 | 5 => {
                let key = src.pick(&["ts", "timestamp"]);
                rec.insert(key.into(), src.pick(&BAD_TS).into());
                TsKind::Invalid
            }
            6 => {
                rec.insert("ts".into(), Value::Null);
                TsKind::Missing
            }
            7 => {
                rec.insert("timestamp".into(), "  ".into());
                TsKind::Missing
            }
            _ => TsKind::Missing,
        }
    }

    /// Inserts the level (or not); returns true if it is missing.
    fn level(&mut self, rec: &mut Map<String, Value>, level: vocab::Level) -> bool {
        let src = &mut self.src;
        let word = vocab::level_word(src, level);
        if !src.chance(self.chaos) {
            rec.insert("level".into(), word.into());
            return false;
        }
        let value: Value = match src.int(0, 7) {
            0 => {
                let key = src.pick(&["lvl", "severity", "loglevel"]);
                rec.insert(key.into(), word.into());
                return false;
            }
            1 | 2 => vocab::severity(src, level).into(),
            3 => src.pick(&[true, false]).into(),
            4 => src.pick(&ODD_LEVELS).into(),
            5 => match src.int(0, 3) {
                0 => json!(42),
                1 => json!(-1),
                _ => json!(3.5),
            },
            _ => return true,
        };
        let key = src.pick(&["level", "severity"]);
        rec.insert(key.into(), value);
        false
    }

    /// Inserts the message under some key, in some shape.
    fn msg(&mut self, rec: &mut Map<String, Value>, us: i64, level: vocab::Level) {
        let src = &mut self.src;
        let text = vocab::message(src, level);
        if !src.chance(self.chaos) {
            rec.insert("message".into(), text.into());
            return;
        }
        match src.int(0, 8) {
            0 => {
                let key = src.pick(&["msg", "log", "raw", "text"]);
                rec.insert(key.into(), text.into());
            }
            1 => {
                let event =
                    json!({"event": "login", "user": vocab::email(src), "ok": src.chance(0.5)});
                rec.insert("message".into(), event);
            }
            2 => {
                let steps = json!(["step", src.int(1, 9), vocab::ipv4(src), null]);
                rec.insert("msg".into(), steps);
            }
            3 => {
                // docker json-file style
                let line = format!(
                    "{} {} {text}\n",
                    timefmt::iso(us, 'T', 6, timefmt::Zone::Z),
                    vocab::level_word(src, level)
                );
                rec.insert("log".into(), line.into());
                rec.insert("stream".into(), src.pick(&["stdout", "stderr"]).into());
            }
            4 => {
                let pri = 8 + vocab::severity(src, level);
                let line = format!(
                    "<{pri}>{} {} app[{}]: {text}",
                    timefmt::syslog3164(us),
                    vocab::host(src),
                    src.int(100, 9999)
                );
                rec.insert("log".into(), line.into());
            }
            5 => {
                rec.insert("message".into(), "".into());
                rec.insert("text".into(), text.into());
            }
            6 => {
                let uni = format!("{text} — ユーザー {} ✅ naïve café", vocab::email(src));
                rec.insert("message".into(), uni.into());
            }
            _ => {}
        }
    }

    /// Adds extra fields: nested PII, private keys, odd scalars, big strings.
    fn extras(&mut self, rec: &mut Map<String, Value>) {
        rec.insert("service".into(), self.src.pick(&vocab::SERVICES).into());
        if self.roll() {
            let src = &mut self.src;
            let ctx = json!({
                "user": {"email": vocab::email(src), "ips": [vocab::ipv4(src), vocab::ipv6(src)]},
                "retry": {"count": src.int(0, 5), "backoff_ms": [100, 200, 400]},
                "flags": {"beta": src.chance(0.5), "cohort": null},
            });
            rec.insert("ctx".into(), ctx);
        }
        if self.roll() {
            rec.insert(
                "_internal".into(),
                json!({"trace": vocab::hex(&mut self.src, 16)}),
            );
        }
        if self.roll() {
            let src = &mut self.src;
            rec.insert("pid".into(), src.int(1, 65_536).into());
            rec.insert("sampled".into(), src.chance(0.5).into());
            rec.insert("ratio".into(), json!(src.int(0, 1000) as f64 / 1000.0));
            rec.insert("parent".into(), Value::Null);
        }
        if self.roll() && self.src.chance(0.2) {
            let size = 256 + (self.chaos * 4096.0) as usize;
            let blob = format!("blob:{}", vocab::hex(&mut self.src, size));
            rec.insert("payload".into(), blob.into());
        }
        if self.roll() && self.src.chance(0.05) {
            // A record's own emitter wins over the X-Emitter header.
            rec.insert("emitter".into(), "sidecar-agent".into());
        }
    }

    fn record(&mut self, expect: &mut Expect) -> Value {
        let us = self.src.next_us();
        let level = vocab::level(&mut self.src);
        let mut rec = Map::new();
        let ts = self.ts(&mut rec, us);
        let missing_level = self.level(&mut rec, level);
        self.msg(&mut rec, us, level);
        self.extras(&mut rec);
        if self.roll() && self.src.chance(0.3) {
            // Shuffle key order: clients do not sort their keys.
            let mut pairs: Vec<(String, Value)> = rec.into_iter().collect();
            pairs.reverse();
            rec = pairs.into_iter().collect();
        }
        expect.count(ts, missing_level);
        Value::Object(rec)
    }
}

impl Generator for NoiseGenerator {
    fn content_type(&self) -> &'static str {
        "application/json"
    }

    fn batch(&mut self, n: usize) -> Batch {
        let mut expect = Expect::default();
        let records: Vec<Value> = (0..n).map(|_| self.record(&mut expect)).collect();
        Batch {
            body: json_array(&records),
            expect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Clock, SEEDED_START_US};
    use super::*;

    fn batch(seed: u64, chaos: f64, n: usize) -> (Batch, Vec<Map<String, Value>>) {
        let cfg = GenConfig {
            seed,
            clock: Clock::Fixed(SEEDED_START_US),
        };
        let b = NoiseGenerator::new(&cfg, chaos).batch(n);
        let recs = serde_json::from_slice(&b.body).unwrap();
        (b, recs)
    }

    #[test]
    fn chaos_zero_is_clean() {
        let (b, recs) = batch(1, 0.0, 500);
        assert!(recs
            .iter()
            .all(|r| r["ts"].is_string() && r["level"].is_string() && r["message"].is_string()));
        assert_eq!(
            (
                b.expect.missing_ts,
                b.expect.missing_level,
                b.expect.invalid_ts
            ),
            (0, 0, 0)
        );
    }

    #[test]
    fn chaos_produces_every_kind_of_mess() {
        let (b, recs) = batch(2, 0.8, 3000);
        let text = String::from_utf8(b.body.to_vec()).unwrap();
        for needle in [
            "\"@timestamp\"",
            "\"lvl\"",
            "\"_internal\"",
            "\"stream\"",
            "yesterday",
            "ユーザー",
        ] {
            assert!(text.contains(needle), "{needle} never generated");
        }
        assert!(recs
            .iter()
            .any(|r| r.get("level").is_some_and(Value::is_boolean)));
        assert!(recs
            .iter()
            .any(|r| r.get("message").is_some_and(Value::is_object)));
        assert!(recs
            .iter()
            .any(|r| r.get("msg").is_some_and(Value::is_array)));
        assert!(b.expect.missing_ts > 0 && b.expect.invalid_ts > 0 && b.expect.missing_level > 0);
        // Cross-check the expectation against the records, following SPEC §2.2.
        let present = |v: Option<&Value>| match v {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        };
        let missing_ts = recs
            .iter()
            .filter(|r| {
                !["ts", "timestamp", "time", "@timestamp"]
                    .iter()
                    .any(|k| present(r.get(*k)))
            })
            .count() as u64;
        let missing_level = recs
            .iter()
            .filter(|r| {
                !["level", "lvl", "severity", "loglevel"]
                    .iter()
                    .any(|k| present(r.get(*k)))
            })
            .count() as u64;
        assert_eq!(missing_ts, b.expect.missing_ts);
        assert_eq!(missing_level, b.expect.missing_level);
    }

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(batch(5, 0.5, 300).0.body, batch(5, 0.5, 300).0.body);
    }
}
