//! Record generators: one per emitter, all driven by a seeded RNG so that the
//! same seed gives byte-identical bodies.
//!
//! A [`Generator`] turns "give me `n` records" into a request body plus an
//! [`Expect`]: what the gateway should count for that body (records,
//! `missing_ts`, `missing_level`, `invalid_ts`, following SPEC §2). The
//! expectation is computed while the records are built, from the choices the
//! generator made, never by parsing its own output.
//!
//! # Layout
//! - `vocab`: word lists and realistic values (emails, IPs, messages).
//! - `timefmt`: timestamp spellings (RFC 3339 zone forms, epoch, syslog).
//! - `json`, `minimal`, `syslog`, `csv`, `noise`: the five generators.

mod csv;
mod json;
mod minimal;
mod noise;
mod syslog;
mod timefmt;
mod vocab;

pub use self::csv::CsvGenerator;
pub use self::json::JsonGenerator;
pub use self::minimal::MinimalGenerator;
pub use self::noise::NoiseGenerator;
pub use self::syslog::{SyslogForm, SyslogGenerator};

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Start of the synthetic clock when `--seed` is given without `--start-time`:
/// 2026-01-01T00:00:00Z, in microseconds since the epoch.
pub const SEEDED_START_US: i64 = 1_767_225_600_000_000;

/// What the gateway should report for a body (SPEC §1 response keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expect {
    /// Records in the body.
    pub records: u64,
    /// Records with no usable timestamp key (absent, null or blank).
    pub missing_ts: u64,
    /// Records with no level key.
    pub missing_level: u64,
    /// Records whose timestamp is present but cannot be parsed.
    pub invalid_ts: u64,
}

impl Expect {
    /// Adds another expectation to this one.
    pub fn add(&mut self, other: &Expect) {
        self.records += other.records;
        self.missing_ts += other.missing_ts;
        self.missing_level += other.missing_level;
        self.invalid_ts += other.invalid_ts;
    }

    /// Counts one record with that timestamp outcome and level presence.
    pub(crate) fn count(&mut self, ts: TsKind, level_missing: bool) {
        self.records += 1;
        match ts {
            TsKind::Valid => {}
            TsKind::Missing => self.missing_ts += 1,
            TsKind::Invalid => self.invalid_ts += 1,
        }
        if level_missing {
            self.missing_level += 1;
        }
    }

    /// The expectation as a JSON object (`records`, `missing_ts`, `missing_level`, `invalid_ts`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "records": self.records,
            "missing_ts": self.missing_ts,
            "missing_level": self.missing_level,
            "invalid_ts": self.invalid_ts,
        })
    }
}

/// How the gateway will see a record's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsKind {
    /// Present and parseable.
    Valid,
    /// Absent (or null / blank): counted `missing_ts`.
    Missing,
    /// Present but unparseable: counted `invalid_ts`.
    Invalid,
}

/// One request body and what it should produce.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The encoded body, ready to send (cheap to clone).
    pub body: Bytes,
    /// Counts the gateway should report for it.
    pub expect: Expect,
}

/// A source of request bodies for one emitter.
pub trait Generator: Send {
    /// `Content-Type` of the bodies.
    fn content_type(&self) -> &'static str;

    /// Builds the next body of `n` records.
    fn batch(&mut self, n: usize) -> Batch;
}

/// Where record timestamps come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The wall clock at generation time (realistic, not reproducible).
    Wall,
    /// A synthetic clock starting at this many microseconds since the epoch and
    /// advancing by a few random milliseconds per record (reproducible).
    Fixed(i64),
}

/// Settings shared by every generator.
#[derive(Debug, Clone, Copy)]
pub struct GenConfig {
    /// RNG seed: the same seed (and clock) gives the same bodies.
    pub seed: u64,
    /// Timestamp source.
    pub clock: Clock,
}

/// The RNG and clock a generator draws from.
pub(crate) struct Source {
    pub(crate) rng: ChaCha8Rng,
    clock: Clock,
}

impl Source {
    pub(crate) fn new(cfg: &GenConfig) -> Self {
        Source {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            clock: cfg.clock,
        }
    }

    /// Timestamp of the next record, in microseconds since the epoch.
    pub(crate) fn next_us(&mut self) -> i64 {
        match &mut self.clock {
            Clock::Wall => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0),
            Clock::Fixed(next) => {
                let t = *next;
                *next += self.rng.random_range(100..50_000);
                t
            }
        }
    }

    /// True with probability `p` (clamped to 0..=1).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// A uniformly chosen element of a non-empty slice.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    /// An integer in `lo..hi`.
    pub(crate) fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..hi)
    }
}

/// Which of ts / level a partial record drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Partial {
    pub(crate) drop_ts: bool,
    pub(crate) drop_level: bool,
}

impl Partial {
    /// With probability `ratio` a record is partial: it lacks its timestamp, its
    /// level, or both (one third each). Otherwise it keeps both.
    pub(crate) fn roll(src: &mut Source, ratio: f64) -> Partial {
        if !src.chance(ratio) {
            return Partial {
                drop_ts: false,
                drop_level: false,
            };
        }
        match src.int(0, 3) {
            0 => Partial {
                drop_ts: true,
                drop_level: false,
            },
            1 => Partial {
                drop_ts: false,
                drop_level: true,
            },
            _ => Partial {
                drop_ts: true,
                drop_level: true,
            },
        }
    }

    /// True if the record lacks anything.
    #[cfg(test)]
    pub(crate) fn any(self) -> bool {
        self.drop_ts || self.drop_level
    }
}

/// Encodes records as a JSON array body.
pub(crate) fn json_array(records: &[serde_json::Value]) -> Bytes {
    Bytes::from(serde_json::to_vec(records).expect("JSON values always serialize"))
}

/// Encodes records as NDJSON (one object per line).
pub(crate) fn ndjson(records: &[serde_json::Value]) -> Bytes {
    let mut out = Vec::with_capacity(records.len() * 256);
    for r in records {
        serde_json::to_writer(&mut out, r).expect("JSON values always serialize");
        out.push(b'\n');
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> GenConfig {
        GenConfig {
            seed,
            clock: Clock::Fixed(SEEDED_START_US),
        }
    }

    #[test]
    fn fixed_clock_advances_and_wall_clock_is_now() {
        let mut s = Source::new(&cfg(1));
        let a = s.next_us();
        let b = s.next_us();
        assert_eq!(a, SEEDED_START_US);
        assert!(b > a && b - a < 50_000);
        let mut w = Source::new(&GenConfig {
            seed: 1,
            clock: Clock::Wall,
        });
        assert!(w.next_us() > SEEDED_START_US - 366 * 86_400 * 1_000_000);
    }

    #[test]
    fn partial_roll_honours_extremes() {
        let mut s = Source::new(&cfg(7));
        assert!((0..1000).all(|_| !Partial::roll(&mut s, 0.0).any()));
        assert!((0..1000).all(|_| Partial::roll(&mut s, 1.0).any()));
    }

    #[test]
    fn expect_counts_and_adds() {
        let mut e = Expect::default();
        e.count(TsKind::Valid, false);
        e.count(TsKind::Missing, true);
        e.count(TsKind::Invalid, false);
        let mut total = e;
        total.add(&e);
        assert_eq!(
            total,
            Expect {
                records: 6,
                missing_ts: 2,
                missing_level: 2,
                invalid_ts: 2
            }
        );
        assert_eq!(e.to_json()["invalid_ts"], 1);
    }
}
