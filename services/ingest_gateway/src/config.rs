//! One typed, validated [`Config`], loaded once at start-up.
//!
//! Sources, in order of precedence: the process environment, then `.env` in the
//! working directory (or the file named by `LOGOPS_ENV_FILE`). A UTF-8 BOM in
//! `.env` is ignored. Unknown `LOGOPS_*` keys produce a warning naming the
//! closest known key; an invalid value stops start-up with a [`ConfigError`]
//! naming the key and what it accepts. Secrets are never echoed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::housekeeping::Mode as ArchiveMode;

mod keys;
mod parse;

pub use keys::KNOWN_KEYS;

/// When the sink makes appended data durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` before answering 2xx (shared by every batch of a group commit).
    Always,
    /// Sync every [`Config::fsync_interval`]; answer after the write.
    Interval,
    /// Leave syncing to the OS.
    Never,
}

/// Log output format for `tracing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Why configuration could not be loaded. Names the key; never the secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value does not parse.
    #[error("{key}: invalid value {value:?}: expected {expected}")]
    Invalid {
        /// The offending key.
        key: &'static str,
        /// The value given (redacted for secrets).
        value: String,
        /// What the key accepts.
        expected: &'static str,
    },
    /// Encryption is on but the key is missing or invalid.
    #[error("LOGOPS_SECRET_KEY: {0} (required because LOGOPS_ENCRYPT_PII=true; generate one with logops-keygen)")]
    SecretKey(String),
    /// The `.env` file exists but cannot be read.
    #[error("cannot read env file {path}: {source}")]
    EnvFile {
        /// Path of the env file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// The gateway's whole configuration. Built by [`Config::load`] or [`Config::from_map`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `LOGOPS_LISTEN`: address to bind.
    pub listen: SocketAddr,
    /// `LOGOPS_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `LOGOPS_LOG_LEVEL`: a `tracing` filter directive such as `info` or `debug`.
    pub log_level: String,
    /// `LOGOPS_MAX_BODY_BYTES`: raw and decompressed body limit.
    pub max_body_bytes: usize,
    /// `LOGOPS_MAX_RECORDS`: records per batch.
    pub max_records: usize,
    /// `LOGOPS_DEBUG_SAMPLE`: include stored records in the response.
    pub debug_sample: bool,
    /// `LOGOPS_DEBUG_SAMPLE_SIZE`: how many.
    pub debug_sample_size: usize,
    /// `LOGOPS_MASK_PII`.
    pub mask_pii: bool,
    /// `LOGOPS_ENCRYPT_PII`.
    pub encrypt_pii: bool,
    /// `LOGOPS_SECRET_KEY` (validated when encryption is on). Never logged.
    pub secret_key: Option<String>,
    /// `LOGOPS_ENCRYPT_FIELDS`: fields that get a `<name>_enc` token and are masked.
    pub encrypt_fields: Vec<String>,
    /// `LOGOPS_SINK_FILE`: write to daily files at all.
    pub sink_file: bool,
    /// `LOGOPS_SINK_DIR`.
    pub sink_dir: PathBuf,
    /// `LOGOPS_FSYNC`.
    pub fsync: FsyncPolicy,
    /// `LOGOPS_FSYNC_INTERVAL_MS`.
    pub fsync_interval: Duration,
    /// `LOGOPS_SINK_QUEUE_BYTES`: bytes of encoded batches waiting for the writer; beyond → 503.
    pub sink_queue_bytes: usize,
    /// `LOGOPS_MAX_LABEL_VALUES`: distinct values per metric label before `_other`.
    pub max_label_values: usize,
    /// `LOGOPS_MAX_CONNECTIONS`: concurrent connections accepted.
    pub max_connections: usize,
    /// `LOGOPS_MAX_INFLIGHT`: ingest requests processed at once; beyond → 503 `overloaded`.
    pub max_inflight: usize,
    /// `LOGOPS_READ_TIMEOUT_MS`: header and body read timeout.
    pub read_timeout: Duration,
    /// `LOGOPS_SHUTDOWN_TIMEOUT_SEC`: how long graceful shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// `LOGOPS_RETENTION_DAYS`.
    pub retention_days: u32,
    /// `LOGOPS_ARCHIVE_MODE`.
    pub archive_mode: ArchiveMode,
    /// `LOGOPS_ARCHIVE_DIR`.
    pub archive_dir: PathBuf,
    /// `LOGOPS_HOUSEKEEP_AUTORUN`.
    pub housekeep_autorun: bool,
    /// `LOGOPS_HOUSEKEEP_INTERVAL_SEC` (zero = only at start).
    pub housekeep_interval: Duration,
}

/// What [`Config::load`] returns besides the config: warnings to log once logging is up.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Human-readable warnings (unknown keys with suggestions).
    pub warnings: Vec<String>,
    /// The env file that was read, if any.
    pub env_file: Option<PathBuf>,
}

impl Config {
    /// Loads from the process environment and the `.env` file (environment wins).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key.
    pub fn load() -> Result<(Config, Loaded), ConfigError> {
        let (merged, env_file) = merge_env_file(std::env::vars().collect())?;
        let mut loaded = Loaded {
            env_file,
            ..Loaded::default()
        };
        loaded.warnings = keys::unknown_key_warnings(merged.keys());
        Ok((Self::from_map(&merged)?, loaded))
    }

    /// Builds from a key → value map (environment semantics; absent = default).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first invalid key.
    pub fn from_map(m: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let p = parse::Reader(m);
        let encrypt_pii = p.bool("LOGOPS_ENCRYPT_PII", false)?;
        let secret_key = p.get("LOGOPS_SECRET_KEY").map(str::to_string);
        if encrypt_pii {
            let key = secret_key
                .as_deref()
                .ok_or_else(|| ConfigError::SecretKey("missing".into()))?;
            crate::pii::Crypt::from_key_list(key)
                .map_err(|e| ConfigError::SecretKey(e.to_string()))?;
        }
        Ok(Config {
            listen: p.parsed(
                "LOGOPS_LISTEN",
                "127.0.0.1:8080",
                "host:port, e.g. 0.0.0.0:8080",
            )?,
            log_format: p.choice(
                "LOGOPS_LOG_FORMAT",
                LogFormat::Text,
                &[("text", LogFormat::Text), ("json", LogFormat::Json)],
                "text or json",
            )?,
            log_level: p.get("LOGOPS_LOG_LEVEL").unwrap_or("info").to_string(),
            max_body_bytes: p.positive("LOGOPS_MAX_BODY_BYTES", 16 * 1024 * 1024)?,
            max_records: p.positive("LOGOPS_MAX_RECORDS", 100_000)?,
            debug_sample: p.bool("LOGOPS_DEBUG_SAMPLE", false)?,
            debug_sample_size: p.number("LOGOPS_DEBUG_SAMPLE_SIZE", 5)?,
            mask_pii: p.bool("LOGOPS_MASK_PII", true)?,
            encrypt_pii,
            secret_key,
            encrypt_fields: p.list("LOGOPS_ENCRYPT_FIELDS", "user_email,client_ip"),
            sink_file: p.bool("LOGOPS_SINK_FILE", true)?,
            sink_dir: PathBuf::from(p.get("LOGOPS_SINK_DIR").unwrap_or("./data/ingest")),
            fsync: p.choice(
                "LOGOPS_FSYNC",
                FsyncPolicy::Always,
                &[
                    ("always", FsyncPolicy::Always),
                    ("interval", FsyncPolicy::Interval),
                    ("never", FsyncPolicy::Never),
                ],
                "always, interval or never",
            )?,
            fsync_interval: Duration::from_millis(
                p.positive("LOGOPS_FSYNC_INTERVAL_MS", 1000)? as u64
            ),
            sink_queue_bytes: p.positive("LOGOPS_SINK_QUEUE_BYTES", 64 * 1024 * 1024)?,
            max_label_values: p.positive("LOGOPS_MAX_LABEL_VALUES", 200)?,
            max_connections: p.positive("LOGOPS_MAX_CONNECTIONS", 1024)?,
            max_inflight: p.positive("LOGOPS_MAX_INFLIGHT", 64)?,
            read_timeout: Duration::from_millis(
                p.positive("LOGOPS_READ_TIMEOUT_MS", 30_000)? as u64
            ),
            shutdown_timeout: Duration::from_secs(
                p.number("LOGOPS_SHUTDOWN_TIMEOUT_SEC", 10)? as u64
            ),
            retention_days: p.days("LOGOPS_RETENTION_DAYS", 7)?,
            archive_mode: p.parsed("LOGOPS_ARCHIVE_MODE", "delete", "delete or zip")?,
            archive_dir: PathBuf::from(p.get("LOGOPS_ARCHIVE_DIR").unwrap_or("./data/archive")),
            housekeep_autorun: p.bool("LOGOPS_HOUSEKEEP_AUTORUN", false)?,
            housekeep_interval: Duration::from_secs(
                p.number("LOGOPS_HOUSEKEEP_INTERVAL_SEC", 0)? as u64
            ),
        })
    }
}

/// `env` (the process environment) over the env file: `.env` in the working
/// directory, or the file named by `LOGOPS_ENV_FILE` (which must then exist).
/// Returns the merged raw variables and the env file read, if any. Shared with
/// the operator tools so they read configuration exactly as the gateway does.
///
/// # Errors
/// [`ConfigError::EnvFile`] when the file exists (or is named) but cannot be read or parsed.
#[allow(clippy::type_complexity)]
pub fn merge_env_file(
    env: HashMap<String, String>,
) -> Result<(HashMap<String, String>, Option<PathBuf>), ConfigError> {
    let named = env
        .get("LOGOPS_ENV_FILE")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty());
    let path = PathBuf::from(named.unwrap_or(".env"));
    let mut merged = read_env_file(&path, named.is_some())?;
    let env_file = (!merged.is_empty() || path.exists()).then_some(path);
    merged.extend(env);
    Ok((merged, env_file))
}

/// Reads `KEY=VALUE` lines from an env file; a missing default `.env` is fine.
fn read_env_file(path: &PathBuf, explicit: bool) -> Result<HashMap<String, String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(HashMap::new())
        }
        Err(source) => {
            return Err(ConfigError::EnvFile {
                path: path.clone(),
                source,
            })
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut out = HashMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((k, v)) => {
                out.insert(k, v);
            }
            Err(e) => {
                return Err(ConfigError::EnvFile {
                    path: path.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::from_map(&HashMap::new()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.max_body_bytes, 16 * 1024 * 1024);
        assert_eq!(c.fsync, FsyncPolicy::Always);
        assert_eq!(c.encrypt_fields, vec!["user_email", "client_ip"]);
        assert!(c.mask_pii && !c.encrypt_pii && c.sink_file);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let e = Config::from_map(&map(&[("LOGOPS_FSYNC", "sometimes")])).unwrap_err();
        assert!(e.to_string().contains("LOGOPS_FSYNC"), "{e}");
        let e = Config::from_map(&map(&[("LOGOPS_MASK_PII", "maybe")])).unwrap_err();
        assert!(e.to_string().contains("LOGOPS_MASK_PII"), "{e}");
    }

    #[test]
    fn encryption_requires_a_valid_key_and_never_echoes_it() {
        let e = Config::from_map(&map(&[("LOGOPS_ENCRYPT_PII", "true")])).unwrap_err();
        assert!(e.to_string().contains("LOGOPS_SECRET_KEY"));
        let e = Config::from_map(&map(&[
            ("LOGOPS_ENCRYPT_PII", "true"),
            ("LOGOPS_SECRET_KEY", "supersecretbutinvalid"),
        ]))
        .unwrap_err();
        assert!(!e.to_string().contains("supersecretbutinvalid"));
    }
}
