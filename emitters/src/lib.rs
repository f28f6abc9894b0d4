//! LogOps emitters: realistic log traffic for smoke tests, dashboards and load
//! tests of the ingest gateway (SPEC §7).
//!
//! # Brief overview
//! Five binaries (`emit_json`, `emit_minimal`, `emit_syslog`, `emit_csv`,
//! `emit_noise`) share this library. Each is a thin `clap` main that builds
//! its [`Generator`] and hands it to [`main_with`], which runs one of three
//! modes:
//! - **single batch** (`-n N`): one request, prints `status:` and `body:`;
//! - **paced** (`--eps E --duration D`): a steady records/s stream;
//! - **flood** (`--concurrency C --duration D`): `C` requests in flight over
//!   keep-alive connections, bodies pre-generated, as fast as the gateway answers.
//!
//! Every mode can authenticate ([`Credentials`] from `--api-key`, `--secret`,
//! `--auth key|hmac`, SPEC §8; HMAC signatures as in [`signature`]), speaks
//! https with a private CA (`--ca`), and answers `429` by waiting
//! `Retry-After` and resending the batch, re-signed (`--max-retries`).
//! `--protocol` ships the same records the way an agent would ([`Protocol`]:
//! OTLP JSON or protobuf, Loki push JSON or protobuf+snappy, Elasticsearch
//! bulk, Splunk HEC), counting them from that protocol's answers.
//!
//! Paced and flood runs end with one JSON summary line (see [`Stats::summary`]).
//! Every generator knows what the gateway should count for each body
//! ([`Expect`]), which `--report` and the summary expose for tests.
//!
//! # Example
//! ```
//! use logops_emitters::{Clock, GenConfig, Generator, JsonGenerator};
//! let cfg = GenConfig { seed: 7, clock: Clock::Fixed(logops_emitters::SEEDED_START_US) };
//! let batch = JsonGenerator::new(&cfg, 0.5, false).batch(20);
//! assert_eq!(batch.expect.records, 20);
//! assert_eq!(batch.body, JsonGenerator::new(&cfg, 0.5, false).batch(20).body);
//! ```
//!
//! # Layout
//! - `cli`: shared flags, their parsers, and mode selection.
//! - `auth`: credentials, key-mode headers and HMAC request signing.
//! - `gen`: the five generators and their vocabulary.
//! - `client`: the keep-alive HTTP client and its target.
//! - `protocol`: `--protocol`, the batches re-encoded as OTLP, Loki, ES bulk or HEC.
//! - `tls`: the `--ca` trust store and the TLS connector.
//! - `run`: single, paced and flood modes, 429 retries, progress line.
//! - `stats`: counters, latency histogram, summary.
//! - `wire`: `emit_syslog --transport tcp|udp`, raw syslog to a socket.

#![deny(missing_docs)]

mod auth;
mod cli;
mod client;
mod gen;
mod protocol;
mod run;
mod stats;
mod tls;
mod wire;

pub use auth::{
    body_digest, nonce, signature, timestamp, AuthError, AuthMode, BodyDigest, Credentials, Secret,
};
pub use cli::{
    parse_duration, parse_ratio, CommonArgs, Mode, Plan, StartTime, UsageError, DEFAULT_URL,
};
pub use client::{
    parse_retry_after, root_cause, Payload, Reply, SendError, Sender, Target, TargetError,
    MAX_RETRY_AFTER_SECS,
};
pub use gen::{
    Batch, Clock, CsvGenerator, Expect, GenConfig, Generator, JsonGenerator, MinimalGenerator,
    NoiseGenerator, SyslogForm, SyslogGenerator, SEEDED_START_US,
};
pub use protocol::Protocol;
pub use run::main_with;
pub use stats::{reported_counts, Histogram, Stats};
pub use tls::TlsError;
pub use wire::{syslog_main, Framing, Transport, WireArgs};
