//! Command-line flags shared by every emitter (SPEC §7, §8), and the
//! validation that turns them into a [`Plan`]: which mode to run, with what
//! numbers, and which seed and clock the generator uses (value parsers in
//! `parse`). Credentials (`--api-key`, `--secret`, `--auth`) resolve through
//! [`CommonArgs::credentials`]; the secret is never shown, not even as the
//! `[env: ...]` value in `--help`.
//!
//! Mode selection: `--eps` → paced; otherwise `--concurrency` → flood;
//! otherwise a single batch of `-n` records. In paced and flood modes `-n` caps
//! the total number of records, and at least one of `--duration` / `-n` is
//! required so every run ends by itself.

mod parse;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::auth::{AuthError, AuthMode, Credentials, Secret};
use crate::gen::{Clock, GenConfig, SEEDED_START_US};
use crate::protocol::Protocol;

pub use self::parse::{parse_duration, parse_ratio};
use self::parse::{parse_eps, parse_jitter, parse_positive, parse_start_time};

/// Default `--url`.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080/v1/logs";
/// Records in the single batch when `-n` is not given.
pub const DEFAULT_COUNT: usize = 10;
/// Batch size in flood mode when `--batch-size` is not given.
pub const DEFAULT_FLOOD_BATCH: usize = 100;
/// Requests in flight at most in paced mode when `--concurrency` is not given.
pub const DEFAULT_PACED_IN_FLIGHT: usize = 8;

/// Flags every emitter takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Gateway ingest URL: http://, or https:// with --ca.
    #[arg(long, env = "LOGOPS_URL", default_value = DEFAULT_URL)]
    pub url: String,

    /// API key id, sent as `X-Api-Key` (with --auth key or hmac).
    #[arg(long, env = "LOGOPS_API_KEY", value_name = "ID")]
    pub api_key: Option<String>,

    /// The key's secret: the bearer token (--auth key) or the HMAC key (--auth
    /// hmac). Never printed.
    #[arg(
        long,
        env = "LOGOPS_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub secret: Option<Secret>,

    /// How requests authenticate [default: hmac when --api-key and --secret
    /// are both given, else none].
    #[arg(long, env = "LOGOPS_AUTH", value_enum, value_name = "MODE")]
    pub auth: Option<AuthMode>,

    /// How the records are shipped: native (the emitter's own body to --url),
    /// or re-encoded the way an agent sends them, to that protocol's path
    /// (which replaces the path of --url): otlp-json, otlp-proto (/v1/logs),
    /// loki-json, loki-proto (/loki/api/v1/push, protobuf+snappy), es-bulk
    /// (/_bulk), hec (/services/collector/event). JSON emitters only.
    #[arg(long, value_enum, default_value_t = Protocol::Native, value_name = "P")]
    pub protocol: Protocol,

    /// Times one batch is sent again after `429` (waiting `Retry-After`)
    /// before it counts as rejected.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_retries: u32,

    /// PEM file of the CA certificate(s) to trust for an https:// --url
    /// (only these: no system roots are used).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Records in the single batch; in paced/flood modes, stop after this many records.
    #[arg(short = 'n', long = "count", value_name = "N")]
    pub count: Option<u64>,

    /// Records per request in paced/flood modes [default: 100 in flood, eps/10 (1..=100) in paced].
    #[arg(long, value_name = "B", value_parser = parse_positive)]
    pub batch_size: Option<usize>,

    /// Paced mode: records per second to send.
    #[arg(long, value_name = "E", value_parser = parse_eps)]
    pub eps: Option<f64>,

    /// Paced/flood run time: `10s`, `500ms`, `2m`, `1h` or plain seconds.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Flood mode: requests kept in flight (one keep-alive connection each); in
    /// paced mode, the most requests in flight [default: 8].
    #[arg(long, value_name = "C", value_parser = parse_positive)]
    pub concurrency: Option<usize>,

    /// RNG seed: the same seed gives byte-identical bodies (timestamps then start
    /// at 2026-01-01T00:00:00Z unless --start-time is given).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Paced mode: randomize each gap between requests by up to ±this fraction (0..1).
    #[arg(long, value_name = "F", value_parser = parse_jitter)]
    pub jitter: Option<f64>,

    /// `X-Emitter` header [default: the program name].
    #[arg(long)]
    pub emitter: Option<String>,

    /// `X-Scenario-Id` header.
    #[arg(long, value_name = "ID")]
    pub scenario_id: Option<String>,

    /// First record timestamp: RFC 3339 (`2026-03-01T12:00:00Z`) or `now` (wall clock).
    #[arg(long, value_name = "T", value_parser = parse_start_time)]
    pub start_time: Option<StartTime>,

    /// Per-request timeout (same syntax as --duration).
    #[arg(long, value_name = "D", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Runtime worker threads: 1 (the default) uses a single-threaded runtime,
    /// which leaves the other cores to the gateway.
    #[arg(long, default_value_t = 1, value_parser = parse_positive)]
    pub threads: usize,

    /// Print the single batch's body on stdout instead of sending it.
    #[arg(long)]
    pub dry_run: bool,

    /// Print `report: {records, missing_ts, missing_level, invalid_ts}` — what the
    /// gateway should count for the sent batch — on stderr (single-batch mode).
    #[arg(long)]
    pub report: bool,

    /// No progress line on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--start-time` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTime {
    /// The wall clock.
    Now,
    /// A fixed start, microseconds since the epoch.
    At(i64),
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// One batch of that many records.
    Single {
        /// Records in the batch.
        count: usize,
    },
    /// Steady records/s.
    Paced {
        /// Records per second.
        eps: f64,
        /// Records per request.
        batch: usize,
        /// Most requests in flight.
        in_flight: usize,
        /// Gap randomization (0 = none).
        jitter: f64,
        /// Stop after this long.
        duration: Option<Duration>,
        /// Stop after this many records.
        limit: Option<u64>,
    },
    /// As fast as the gateway accepts.
    Flood {
        /// Requests kept in flight.
        concurrency: usize,
        /// Records per request.
        batch: usize,
        /// Stop after this long.
        duration: Option<Duration>,
        /// Stop after this many records.
        limit: Option<u64>,
    },
}

/// A validated run: mode plus generator settings.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The mode and its numbers.
    pub mode: Mode,
    /// Seed and clock for the generator.
    pub gen: GenConfig,
}

/// A flag combination that makes no sense.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl CommonArgs {
    /// The credentials `--auth`, `--api-key` and `--secret` (or their
    /// environment keys) ask for.
    ///
    /// # Errors
    /// [`AuthError`] when a mode lacks its key or secret, or only one is given.
    pub fn credentials(&self) -> Result<Credentials, AuthError> {
        Credentials::resolve(self.auth, self.api_key.as_deref(), self.secret.as_ref())
    }

    /// Validates the flags and picks the mode.
    ///
    /// # Errors
    /// [`UsageError`] naming the conflicting or missing flag.
    pub fn plan(&self) -> Result<Plan, UsageError> {
        let usage = |m: &str| Err(UsageError(m.to_string()));
        let timed = self.eps.is_some() || self.concurrency.is_some();
        if self.dry_run && timed {
            return usage(
                "--dry-run prints one batch; it cannot be combined with --eps or --concurrency",
            );
        }
        if self.jitter.is_some() && self.eps.is_none() {
            return usage("--jitter only applies to paced mode (--eps)");
        }
        if timed && self.duration.is_none() && self.count.is_none() {
            return usage("paced and flood modes need --duration or -n to know when to stop");
        }
        let mode = if let Some(eps) = self.eps {
            let batch = self
                .batch_size
                .unwrap_or_else(|| ((eps / 10.0).ceil() as usize).clamp(1, 100));
            Mode::Paced {
                eps,
                batch,
                in_flight: self.concurrency.unwrap_or(DEFAULT_PACED_IN_FLIGHT),
                jitter: self.jitter.unwrap_or(0.0),
                duration: self.duration,
                limit: self.count,
            }
        } else if let Some(concurrency) = self.concurrency {
            Mode::Flood {
                concurrency,
                batch: self.batch_size.unwrap_or(DEFAULT_FLOOD_BATCH),
                duration: self.duration,
                limit: self.count,
            }
        } else {
            if self.duration.is_some() || self.batch_size.is_some() {
                return usage("--duration and --batch-size need --eps (paced mode) or --concurrency (flood mode)");
            }
            let count = self.count.map_or(DEFAULT_COUNT, |n| n as usize);
            Mode::Single { count }
        };
        let seed = self.seed.unwrap_or_else(rand::random);
        let clock = match (self.start_time, self.seed) {
            (Some(StartTime::Now), _) | (None, None) => Clock::Wall,
            (Some(StartTime::At(us)), _) => Clock::Fixed(us),
            (None, Some(_)) => Clock::Fixed(SEEDED_START_US),
        };
        Ok(Plan {
            mode,
            gen: GenConfig { seed, clock },
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: CommonArgs,
    }

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let mut v = vec!["emit_test"];
        v.extend_from_slice(args);
        let t = T::try_parse_from(v).map_err(|e| e.to_string())?;
        t.c.plan().map_err(|e| e.to_string())
    }

    #[test]
    fn modes() {
        assert_eq!(plan(&[]).unwrap().mode, Mode::Single { count: 10 });
        assert_eq!(plan(&["-n", "3"]).unwrap().mode, Mode::Single { count: 3 });
        match plan(&["--eps", "50", "--duration", "2s"]).unwrap().mode {
            Mode::Paced {
                batch, in_flight, ..
            } => assert_eq!((batch, in_flight), (5, 8)),
            m => panic!("{m:?}"),
        }
        match plan(&["--concurrency", "4", "-n", "1000"]).unwrap().mode {
            Mode::Flood {
                concurrency,
                batch,
                limit,
                duration,
            } => {
                assert_eq!(
                    (concurrency, batch, limit, duration),
                    (4, 100, Some(1000), None)
                )
            }
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn bad_combinations_are_explained() {
        assert!(plan(&["--concurrency", "4"])
            .unwrap_err()
            .contains("--duration or -n"));
        assert!(plan(&["--duration", "3s"]).unwrap_err().contains("--eps"));
        assert!(plan(&["--jitter", "0.1", "-n", "3"])
            .unwrap_err()
            .contains("paced"));
        assert!(plan(&["--dry-run", "--concurrency", "2", "-n", "5"])
            .unwrap_err()
            .contains("--dry-run"));
        assert!(plan(&["--eps", "0", "--duration", "1s"]).is_err());
        assert!(plan(&["--concurrency", "0", "-n", "5"]).is_err());
        assert!(plan(&["--jitter", "1.5", "--eps", "5", "-n", "5"]).is_err());
    }

    fn args(v: &[&str]) -> CommonArgs {
        let mut all = vec!["emit_test"];
        all.extend_from_slice(v);
        T::try_parse_from(all).unwrap().c
    }

    #[test]
    fn auth_flags() {
        let a = args(&["--api-key", "demo-pub-1", "--secret", "demo-priv-1"]);
        assert!(matches!(a.credentials().unwrap(), Credentials::Hmac { .. }));
        assert!(!format!("{a:?}").contains("demo-priv-1"));
        let a = args(&["--api-key", "k", "--secret", "s", "--auth", "key"]);
        assert!(matches!(a.credentials().unwrap(), Credentials::Key { .. }));
        assert_eq!(args(&[]).max_retries, 5);
        assert!(args(&["--auth", "hmac"]).credentials().is_err());
        assert!(T::try_parse_from(["emit_test", "--auth", "bearer"]).is_err());
    }

    #[test]
    fn seed_fixes_the_clock_unless_told_otherwise() {
        assert_eq!(
            plan(&["--seed", "1"]).unwrap().gen.clock,
            Clock::Fixed(SEEDED_START_US)
        );
        assert_eq!(
            plan(&["--seed", "1", "--start-time", "now"])
                .unwrap()
                .gen
                .clock,
            Clock::Wall
        );
        assert_eq!(
            plan(&["--start-time", "2026-01-01T00:00:01Z"])
                .unwrap()
                .gen
                .clock,
            Clock::Fixed(SEEDED_START_US + 1_000_000)
        );
        assert_eq!(plan(&[]).unwrap().gen.clock, Clock::Wall);
        assert!(plan(&["--start-time", "tomorrow"]).is_err());
    }
}
