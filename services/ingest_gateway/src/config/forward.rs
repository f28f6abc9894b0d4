//! The forwarding section: `LOGOPS_FORWARD` and the `LOGOPS_CLICKHOUSE_*`,
//! `LOGOPS_FORWARD_*` keys, validated into a [`ForwardConfig`].

use std::time::Duration;

use super::parse::Reader;
use super::ConfigError;
use crate::forward::{self, ClickHouseConfig, Compression, ForwardConfig, Target};
use crate::secret::Secret;

/// Reads the section; with `LOGOPS_FORWARD` unset (or `none`) only the batch
/// keys are checked.
pub(super) fn section(p: &Reader<'_>, sink_enabled: bool) -> Result<ForwardConfig, ConfigError> {
    let on = p.choice(
        "LOGOPS_FORWARD",
        false,
        &[("none", false), ("clickhouse", true)],
        "none or clickhouse",
    )?;
    let ms = |key: &'static str, default: u64| -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(
            p.positive(key, default as usize)? as u64
        ))
    };
    let mut cfg = ForwardConfig {
        target: None,
        batch_rows: p.positive("LOGOPS_FORWARD_BATCH_ROWS", forward::DEFAULT_BATCH_ROWS)?,
        batch_bytes: p.positive("LOGOPS_FORWARD_BATCH_BYTES", forward::DEFAULT_BATCH_BYTES)?,
        batch_wait: ms("LOGOPS_FORWARD_BATCH_MS", forward::DEFAULT_BATCH_MS)?,
        backoff_max: ms(
            "LOGOPS_FORWARD_BACKOFF_MAX_MS",
            forward::DEFAULT_BACKOFF_MAX_MS,
        )?,
        timeout: ms("LOGOPS_FORWARD_TIMEOUT_MS", forward::DEFAULT_TIMEOUT_MS)?,
        nice: nice(p)?,
    };
    if !on {
        return Ok(cfg);
    }
    if !sink_enabled {
        return Err(ConfigError::Invalid {
            key: "LOGOPS_FORWARD",
            value: "clickhouse".into(),
            expected: "none while LOGOPS_SINK_FILE=false (the day files are what is forwarded)",
        });
    }
    let raw_url = p
        .get("LOGOPS_CLICKHOUSE_URL")
        .unwrap_or(forward::DEFAULT_CLICKHOUSE_URL);
    let bad_url = || {
        ConfigError::Invalid {
        key: "LOGOPS_CLICKHOUSE_URL",
        value: raw_url.to_string(),
        expected: "the HTTP interface as http://host:port (no credentials: use LOGOPS_CLICKHOUSE_USER/_PASSWORD)",
    }
    };
    let url: http::Uri = raw_url.parse().map_err(|_| bad_url())?;
    let plain = url.scheme_str() == Some("http")
        && url.authority().is_some_and(|a| !a.as_str().contains('@'))
        && url.query().is_none();
    if !plain {
        return Err(bad_url());
    }
    let ident = |key: &'static str, default: &str| -> Result<String, ConfigError> {
        let v = p.get(key).unwrap_or(default);
        let ok = v
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(v.to_string())
        } else {
            Err(ConfigError::Invalid {
                key,
                value: v.to_string(),
                expected: "a ClickHouse identifier: [A-Za-z_][A-Za-z0-9_]*",
            })
        }
    };
    cfg.target = Some(Target::ClickHouse(ClickHouseConfig {
        url,
        database: ident("LOGOPS_CLICKHOUSE_DATABASE", forward::DEFAULT_DATABASE)?,
        table: ident("LOGOPS_CLICKHOUSE_TABLE", forward::DEFAULT_TABLE)?,
        user: p
            .get("LOGOPS_CLICKHOUSE_USER")
            .unwrap_or(forward::DEFAULT_USER)
            .to_string(),
        password: p
            .secret("LOGOPS_CLICKHOUSE_PASSWORD")
            .unwrap_or_else(|| Secret::new("")),
        compression: p.choice(
            "LOGOPS_CLICKHOUSE_COMPRESSION",
            Compression::Gzip,
            &[("gzip", Compression::Gzip), ("none", Compression::Plain)],
            "gzip or none",
        )?,
    }));
    Ok(cfg)
}

/// `LOGOPS_FORWARD_NICE`: 0 (ingest's priority) to 19 (only idle CPU).
fn nice(p: &Reader<'_>) -> Result<u8, ConfigError> {
    let n = p.number("LOGOPS_FORWARD_NICE", usize::from(forward::DEFAULT_NICE))?;
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= 19)
        .ok_or_else(|| ConfigError::Invalid {
            key: "LOGOPS_FORWARD_NICE",
            value: n.to_string(),
            expected: "a nice increment from 0 to 19",
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::Config;
    use crate::forward::Target;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_map(&m).map_err(|e| e.to_string())
    }

    #[test]
    fn off_by_default_and_clickhouse_with_defaults() {
        assert!(load(&[]).unwrap().forward.target.is_none());
        let c = load(&[("LOGOPS_FORWARD", "clickhouse")]).unwrap();
        let Some(Target::ClickHouse(ch)) = c.forward.target else {
            panic!()
        };
        assert_eq!(ch.url.to_string(), "http://127.0.0.1:8123/");
        assert_eq!(
            (ch.database.as_str(), ch.table.as_str(), ch.user.as_str()),
            ("default", "logs", "default")
        );
        assert_eq!(c.forward.batch_rows, 100_000);
        assert_eq!(ch.compression, crate::forward::Compression::Gzip);
        assert_eq!(c.forward.nice, 10);
        let c = load(&[
            ("LOGOPS_FORWARD", "clickhouse"),
            ("LOGOPS_CLICKHOUSE_COMPRESSION", "none"),
            ("LOGOPS_FORWARD_NICE", "0"),
        ])
        .unwrap();
        let Some(Target::ClickHouse(ch)) = c.forward.target else {
            panic!()
        };
        assert_eq!(ch.compression, crate::forward::Compression::Plain);
        assert_eq!(c.forward.nice, 0);
    }

    #[test]
    fn bad_values_name_the_key_and_never_the_password() {
        for (k, v) in [
            ("LOGOPS_FORWARD", "kafka"),
            ("LOGOPS_CLICKHOUSE_URL", "https://ch:8443"),
            ("LOGOPS_CLICKHOUSE_URL", "http://u:p@ch:8123"),
            ("LOGOPS_CLICKHOUSE_TABLE", "logs; DROP TABLE x"),
            ("LOGOPS_CLICKHOUSE_DATABASE", "1db"),
            ("LOGOPS_FORWARD_BATCH_ROWS", "0"),
            ("LOGOPS_CLICKHOUSE_COMPRESSION", "zstd"),
            ("LOGOPS_FORWARD_NICE", "20"),
        ] {
            let e = load(&[("LOGOPS_FORWARD", "clickhouse"), (k, v)]).unwrap_err();
            assert!(e.contains(k), "{k}={v}: {e}");
        }
        let e = load(&[
            ("LOGOPS_FORWARD", "clickhouse"),
            ("LOGOPS_SINK_FILE", "false"),
        ])
        .unwrap_err();
        assert!(e.contains("LOGOPS_FORWARD"), "{e}");
        let c = load(&[
            ("LOGOPS_FORWARD", "clickhouse"),
            ("LOGOPS_CLICKHOUSE_PASSWORD", "pa55-w0rd-xyz"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("pa55-w0rd-xyz"));
    }
}
