//! Typed readers over the raw key → string map, each producing a
//! [`ConfigError::Invalid`] that names the key and what it accepts.

use std::collections::HashMap;
use std::str::FromStr;

use super::ConfigError;
use crate::secret::Secret;

/// Borrowed view of the merged environment.
pub(super) struct Reader<'a>(pub &'a HashMap<String, String>);

impl Reader<'_> {
    /// The trimmed value, `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A secret value, `None` when absent or blank.
    pub fn secret(&self, key: &str) -> Option<Secret> {
        self.get(key).map(Secret::new)
    }

    fn invalid(&self, key: &'static str, expected: &'static str) -> ConfigError {
        let value = if key.contains("SECRET") {
            "<redacted>".into()
        } else {
            self.get(key).unwrap_or("").to_string()
        };
        ConfigError::Invalid {
            key,
            value,
            expected,
        }
    }

    pub fn bool(&self, key: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(_) => Err(self.invalid(key, "true or false (also 1/0, yes/no, on/off)")),
        }
    }

    pub fn number(&self, key: &'static str, default: usize) -> Result<usize, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| self.invalid(key, "a non-negative integer")),
        }
    }

    pub fn days(&self, key: &'static str, default: u32) -> Result<u32, ConfigError> {
        let n = self.number(key, default as usize)?;
        u32::try_from(n)
            .ok()
            .filter(|d| *d <= 36_500)
            .ok_or_else(|| self.invalid(key, "a number of days from 0 to 36500"))
    }

    pub fn positive(&self, key: &'static str, default: usize) -> Result<usize, ConfigError> {
        match self.number(key, default) {
            Ok(0) | Err(_) => Err(self.invalid(key, "a positive integer")),
            Ok(n) => Ok(n),
        }
    }

    pub fn parsed<T: FromStr>(
        &self,
        key: &'static str,
        default: &str,
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        self.get(key)
            .unwrap_or(default)
            .parse()
            .map_err(|_| self.invalid(key, expected))
    }

    pub fn choice<T: Copy>(
        &self,
        key: &'static str,
        default: T,
        options: &[(&str, T)],
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(v))
            .map(|(_, t)| *t)
            .ok_or_else(|| self.invalid(key, expected))
    }

    /// A `tracing` filter of known levels: `trace|debug|info|warn|error|off`,
    /// or comma-separated `target=level` directives (`info,hyper=warn`).
    /// Anything else (`verbose`, which `tracing` would take as a target name
    /// and then log nothing) is refused.
    pub fn log_level(&self, key: &'static str, default: &str) -> Result<String, ConfigError> {
        const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
        let value = self.get(key).unwrap_or(default);
        let ok = value.split(',').map(str::trim).all(|d| {
            let level = d.rsplit_once('=').map_or(d, |(target, level)| {
                if target.is_empty()
                    || !target
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_:-".contains(&b))
                {
                    ""
                } else {
                    level
                }
            });
            LEVELS.iter().any(|l| l.eq_ignore_ascii_case(level))
        });
        if ok {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(self.invalid(
                key,
                "trace, debug, info, warn, error or off, or directives such as info,hyper=warn",
            ))
        }
    }

    /// A `host:port` listen address; a host name (`localhost:8080`) is
    /// resolved now, preferring its first IPv4 address.
    pub fn listen_addr(
        &self,
        key: &'static str,
        default: &str,
    ) -> Result<std::net::SocketAddr, ConfigError> {
        use std::net::ToSocketAddrs;
        let value = self.get(key).unwrap_or(default);
        let addrs: Vec<std::net::SocketAddr> = value
            .to_socket_addrs()
            .map_err(|_| self.invalid(key, "host:port, e.g. 0.0.0.0:8080 or localhost:8080"))?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| self.invalid(key, "host:port, e.g. 0.0.0.0:8080 or localhost:8080"))
    }

    pub fn list(&self, key: &str, default: &str) -> Vec<String> {
        let raw = self.0.get(key).map(String::as_str).unwrap_or(default);
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}
