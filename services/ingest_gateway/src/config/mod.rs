//! One typed, validated [`Config`], loaded once at start-up.
//!
//! Sources, in order of precedence: the process environment, then `.env` in the
//! working directory (or the file named by `LOGOPS_ENV_FILE`). A UTF-8 BOM in
//! `.env` is ignored. Unknown `LOGOPS_*` keys produce a warning naming the
//! closest known key; an invalid value stops start-up with a [`ConfigError`]
//! naming the key and what it accepts. Secrets are never echoed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{self, AuthConfig, AuthMode, KeysError};
use crate::forward::ForwardConfig;
use crate::housekeeping::{self, HousekeepingConfig, Settings};
use crate::http::tls::{Tls, TlsError, TlsFiles};
use crate::http::{self, ServerConfig};
use crate::ingest::{self, Limits};
use crate::pii::{self, Crypt, PiiConfig};
use crate::read::{self, ReadConfig};
use crate::schema::Tenant;
use crate::sink::{self, FsyncPolicy, SinkConfig};
use crate::syslog::{self, SyslogConfig};

mod forward;
mod keys;
mod parse;

pub use keys::{unknown_key_warnings, KNOWN_KEYS};

/// Default `LOGOPS_MAX_LABEL_VALUES`.
pub const DEFAULT_MAX_LABEL_VALUES: usize = 200;

/// Log output format for `tracing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The logging section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `LOGOPS_LOG_FORMAT`.
    pub format: LogFormat,
    /// `LOGOPS_LOG_LEVEL`: a `tracing` filter directive such as `info` or `debug`.
    pub level: String,
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
    /// The chain is on but its signing key is missing or invalid.
    #[error("LOGOPS_CHAIN_SIGNING_KEY: {0} (required because LOGOPS_CHAIN=true; make one with logops-keygen --chain)")]
    ChainKey(String),
    /// A TLS file is missing or invalid.
    #[error("TLS (LOGOPS_TLS_CERT / LOGOPS_TLS_KEY / LOGOPS_TLS_CLIENT_CA): {0}")]
    Tls(#[from] TlsError),
    /// The keys file is missing or invalid (names the file and line).
    #[error("LOGOPS_KEYS_FILE: {0}")]
    Keys(#[from] KeysError),
    /// The `.env` file exists but cannot be read.
    #[error("cannot read env file {path}: {source}")]
    EnvFile {
        /// Path of the env file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// The gateway's whole configuration, one section per stage, each section
/// owned (typed and defaulted) by its stage. Built by [`Config::load`] or
/// [`Config::from_map`]; `Debug` never shows key material.
#[derive(Debug, Clone)]
pub struct Config {
    /// Logging.
    pub log: LogConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Access control.
    pub auth: AuthConfig,
    /// HTTPS, validated at load (`None`: plain HTTP).
    pub tls: Option<Arc<Tls>>,
    /// Syslog listeners.
    pub syslog: SyslogConfig,
    /// Body, batch and in-flight limits.
    pub limits: Limits,
    /// Masking and encryption.
    pub pii: PiiConfig,
    /// The sink.
    pub sink: SinkConfig,
    /// Retention.
    pub housekeeping: HousekeepingConfig,
    /// Read limits.
    pub read: ReadConfig,
    /// Forwarding to a shared store.
    pub forward: ForwardConfig,
    /// `LOGOPS_MAX_LABEL_VALUES`: distinct values per metric label before `_other`.
    pub max_label_values: usize,
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
        let sink_dir = PathBuf::from(p.get("LOGOPS_SINK_DIR").unwrap_or(sink::DEFAULT_DIR));
        Ok(Config {
            log: LogConfig {
                format: p.choice(
                    "LOGOPS_LOG_FORMAT",
                    LogFormat::Text,
                    &[("text", LogFormat::Text), ("json", LogFormat::Json)],
                    "text or json",
                )?,
                level: p.log_level("LOGOPS_LOG_LEVEL", "info")?,
            },
            server: ServerConfig {
                listen: p.listen_addr("LOGOPS_LISTEN", http::DEFAULT_LISTEN)?,
                max_connections: p
                    .positive("LOGOPS_MAX_CONNECTIONS", http::DEFAULT_MAX_CONNECTIONS)?,
                read_timeout: Duration::from_millis(p.positive(
                    "LOGOPS_READ_TIMEOUT_MS",
                    http::DEFAULT_READ_TIMEOUT_MS as usize,
                )? as u64),
                shutdown_timeout: Duration::from_secs(p.number(
                    "LOGOPS_SHUTDOWN_TIMEOUT_SEC",
                    http::DEFAULT_SHUTDOWN_TIMEOUT_SEC as usize,
                )? as u64),
                ui: p.bool("LOGOPS_UI", true)?,
            },
            auth: auth_section(&p)?,
            tls: tls_section(&p)?,
            syslog: syslog_section(&p)?,
            read: ReadConfig {
                max_bytes: p.positive(
                    "LOGOPS_QUERY_MAX_BYTES",
                    read::DEFAULT_QUERY_MAX_BYTES as usize,
                )? as u64,
                max_limit: p.positive("LOGOPS_QUERY_MAX_LIMIT", read::DEFAULT_QUERY_MAX_LIMIT)?,
                max_tails: p.positive("LOGOPS_MAX_TAILS", read::DEFAULT_MAX_TAILS)?,
            },
            limits: Limits {
                max_body_bytes: p
                    .positive("LOGOPS_MAX_BODY_BYTES", ingest::DEFAULT_MAX_BODY_BYTES)?,
                max_records: p.positive("LOGOPS_MAX_RECORDS", ingest::DEFAULT_MAX_RECORDS)?,
                max_inflight: p.positive("LOGOPS_MAX_INFLIGHT", ingest::DEFAULT_MAX_INFLIGHT)?,
                debug_sample: if p.bool("LOGOPS_DEBUG_SAMPLE", false)? {
                    p.number(
                        "LOGOPS_DEBUG_SAMPLE_SIZE",
                        ingest::DEFAULT_DEBUG_SAMPLE_SIZE,
                    )?
                } else {
                    0
                },
            },
            pii: pii_section(&p)?,
            sink: SinkConfig {
                enabled: p.bool("LOGOPS_SINK_FILE", true)?,
                dir: sink_dir.clone(),
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
                fsync_interval: Duration::from_millis(p.positive(
                    "LOGOPS_FSYNC_INTERVAL_MS",
                    sink::DEFAULT_FSYNC_INTERVAL_MS as usize,
                )? as u64),
                queue_bytes: p.positive("LOGOPS_SINK_QUEUE_BYTES", sink::DEFAULT_QUEUE_BYTES)?,
                chain: chain_signer(&p)?,
            },
            housekeeping: HousekeepingConfig {
                settings: Settings {
                    sink_dir,
                    archive_dir: PathBuf::from(
                        p.get("LOGOPS_ARCHIVE_DIR")
                            .unwrap_or(housekeeping::DEFAULT_ARCHIVE_DIR),
                    ),
                    retention_days: p.days(
                        "LOGOPS_RETENTION_DAYS",
                        housekeeping::DEFAULT_RETENTION_DAYS,
                    )?,
                    mode: p.parsed("LOGOPS_ARCHIVE_MODE", "delete", "delete or zip")?,
                    chain: chain_signer(&p)?,
                },
                autorun: p.bool("LOGOPS_HOUSEKEEP_AUTORUN", false)?,
                interval: Duration::from_secs(p.number("LOGOPS_HOUSEKEEP_INTERVAL_SEC", 0)? as u64),
            },
            forward: forward::section(&p, p.bool("LOGOPS_SINK_FILE", true)?)?,
            max_label_values: p.positive("LOGOPS_MAX_LABEL_VALUES", DEFAULT_MAX_LABEL_VALUES)?,
        })
    }
}

/// `LOGOPS_CHAIN=true`: the signing key, loaded and checked here, once.
fn chain_signer(p: &parse::Reader<'_>) -> Result<Option<crate::chain::Signer>, ConfigError> {
    if !p.bool("LOGOPS_CHAIN", false)? {
        return Ok(None);
    }
    let path = p
        .get("LOGOPS_CHAIN_SIGNING_KEY")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ConfigError::ChainKey("not set".into()))?;
    let key = crate::chain::checkpoint::load_signing_key(std::path::Path::new(path))
        .map_err(|e| ConfigError::ChainKey(e.to_string()))?;
    let archive = p
        .get("LOGOPS_ARCHIVE_DIR")
        .unwrap_or(housekeeping::DEFAULT_ARCHIVE_DIR);
    Ok(Some(crate::chain::Signer::new(key, PathBuf::from(archive))))
}

/// The syslog listeners (off unless an address is given).
fn syslog_section(p: &parse::Reader<'_>) -> Result<SyslogConfig, ConfigError> {
    let addr = |key: &'static str| -> Result<Option<std::net::SocketAddr>, ConfigError> {
        match p.get(key) {
            None => Ok(None),
            Some(_) => p.listen_addr(key, "").map(Some),
        }
    };
    let tenant = match p.get("LOGOPS_SYSLOG_TENANT") {
        None => Tenant::default(),
        Some(t) => Tenant::new(t).map_err(|_| ConfigError::Invalid {
            key: "LOGOPS_SYSLOG_TENANT",
            value: t.to_string(),
            expected: "a tenant name: [a-z0-9][a-z0-9_-]{0,62}",
        })?,
    };
    Ok(SyslogConfig {
        tcp: addr("LOGOPS_SYSLOG_TCP")?,
        udp: addr("LOGOPS_SYSLOG_UDP")?,
        max_message: p.positive("LOGOPS_SYSLOG_MAX_MESSAGE", syslog::DEFAULT_MAX_MESSAGE)?,
        batch: p.positive("LOGOPS_SYSLOG_BATCH", syslog::DEFAULT_BATCH)?,
        flush: Duration::from_millis(
            p.positive("LOGOPS_SYSLOG_FLUSH_MS", syslog::DEFAULT_FLUSH_MS as usize)? as u64,
        ),
        tenant,
        max_connections: p.positive(
            "LOGOPS_SYSLOG_MAX_CONNECTIONS",
            syslog::DEFAULT_MAX_CONNECTIONS,
        )?,
        idle_timeout: Duration::from_secs(p.positive(
            "LOGOPS_SYSLOG_IDLE_TIMEOUT_SEC",
            syslog::DEFAULT_IDLE_TIMEOUT_SEC as usize,
        )? as u64),
    })
}

/// `LOGOPS_TLS_CERT` + `LOGOPS_TLS_KEY` (both or neither), `LOGOPS_TLS_CLIENT_CA`.
fn tls_section(p: &parse::Reader<'_>) -> Result<Option<Arc<Tls>>, ConfigError> {
    let (cert, key) = (p.get("LOGOPS_TLS_CERT"), p.get("LOGOPS_TLS_KEY"));
    let client_ca = p.get("LOGOPS_TLS_CLIENT_CA").map(PathBuf::from);
    match (cert, key) {
        (None, None) if client_ca.is_none() => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(Arc::new(Tls::new(TlsFiles {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
            client_ca,
        })?))),
        (_, None) => Err(ConfigError::Invalid {
            key: "LOGOPS_TLS_KEY",
            value: String::new(),
            expected: "the PEM private key (required with LOGOPS_TLS_CERT or LOGOPS_TLS_CLIENT_CA)",
        }),
        (None, _) => Err(ConfigError::Invalid {
            key: "LOGOPS_TLS_CERT",
            value: p.get("LOGOPS_TLS_CERT").unwrap_or("").to_string(),
            expected: "the PEM certificate chain (required with LOGOPS_TLS_KEY)",
        }),
    }
}

/// The access-control section; the keys file is read and validated here, once.
fn auth_section(p: &parse::Reader<'_>) -> Result<AuthConfig, ConfigError> {
    let mode = p.choice(
        "LOGOPS_AUTH",
        AuthMode::None,
        &[
            ("none", AuthMode::None),
            ("key", AuthMode::Key),
            ("hmac", AuthMode::Hmac),
        ],
        "none, key or hmac",
    )?;
    let keys_file = p.get("LOGOPS_KEYS_FILE").map(PathBuf::from);
    let keys = match (&keys_file, mode) {
        (_, AuthMode::None) => Arc::default(),
        (None, _) => {
            return Err(ConfigError::Invalid {
                key: "LOGOPS_KEYS_FILE",
                value: String::new(),
                expected: "the path of the keys file (required with LOGOPS_AUTH=key or hmac)",
            })
        }
        (Some(path), _) => Arc::new(auth::keys::load(path)?),
    };
    Ok(AuthConfig {
        mode,
        keys_file,
        skew: Duration::from_secs(
            p.positive("LOGOPS_AUTH_SKEW_SEC", auth::DEFAULT_SKEW_SEC as usize)? as u64,
        ),
        nonce_cache: p.positive("LOGOPS_AUTH_NONCE_CACHE", auth::DEFAULT_NONCE_CACHE)?,
        metrics_auth: p.bool("LOGOPS_METRICS_AUTH", false)?,
        keys,
    })
}

/// The PII section; with encryption on, the key list is parsed here, once.
fn pii_section(p: &parse::Reader<'_>) -> Result<PiiConfig, ConfigError> {
    let crypt = if p.bool("LOGOPS_ENCRYPT_PII", false)? {
        let keys = p.secret("LOGOPS_SECRET_KEY").ok_or_else(|| {
            let hint = keys::look_alikes(p.0.keys(), "LOGOPS_SECRET_KEY")
                .iter()
                .map(|k| format!("; {k} is set but is not a known key (a typo?)"))
                .collect::<String>();
            ConfigError::SecretKey(format!("missing{hint}"))
        })?;
        let crypt = Crypt::from_key_list(keys.expose())
            .map_err(|e| ConfigError::SecretKey(e.to_string()))?;
        Some(Arc::new(crypt))
    } else {
        None
    };
    Ok(PiiConfig {
        mask: p.bool("LOGOPS_MASK_PII", true)?,
        crypt,
        encrypt_fields: p.list("LOGOPS_ENCRYPT_FIELDS", pii::DEFAULT_ENCRYPT_FIELDS),
    })
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
        assert_eq!(c.server, ServerConfig::default());
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.sink, SinkConfig::default());
        assert_eq!(c.pii.encrypt_fields, vec!["user_email", "client_ip"]);
        assert!(c.pii.mask && c.pii.crypt.is_none());
        assert_eq!(c.housekeeping.settings.retention_days, 7);
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

    #[test]
    fn a_missing_key_names_its_look_alike() {
        let e = Config::from_map(&map(&[
            ("LOGOPS_ENCRYPT_PII", "true"),
            ("LOGOPS_SECRETKEY", "x"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("missing") && e.contains("LOGOPS_SECRETKEY"),
            "{e}"
        );
    }

    #[test]
    fn log_levels_and_listen_names() {
        for ok in ["info", "DEBUG", "warn,hyper=error", "logops_gateway=trace"] {
            assert!(
                Config::from_map(&map(&[("LOGOPS_LOG_LEVEL", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in ["verbose", "info,hyper=loud", "=info"] {
            let e = Config::from_map(&map(&[("LOGOPS_LOG_LEVEL", bad)])).unwrap_err();
            assert!(e.to_string().contains("LOGOPS_LOG_LEVEL"), "{e}");
        }
        let c = Config::from_map(&map(&[("LOGOPS_LISTEN", "localhost:8080")])).unwrap();
        assert_eq!(c.server.listen.port(), 8080);
        assert!(c.server.listen.ip().is_loopback());
        assert!(Config::from_map(&map(&[("LOGOPS_LISTEN", "8080")])).is_err());
    }

    #[test]
    fn debug_output_holds_no_key_material() {
        let key = Crypt::generate_key();
        let c = Config::from_map(&map(&[
            ("LOGOPS_ENCRYPT_PII", "true"),
            ("LOGOPS_SECRET_KEY", &key),
        ]))
        .unwrap();
        let debug = format!("{c:?} {c:#?}");
        assert!(c.pii.crypt.is_some());
        assert!(!debug.contains(&key), "{debug}");
        // Not even a recognisable piece of it.
        assert!(!debug.contains(&key[..12]), "{debug}");
    }
}
