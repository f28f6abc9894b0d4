//! Request authentication (SPEC §8): the `--api-key` / `--secret` / `--auth`
//! credentials and what they put on every request.
//!
//! - **key**: `X-Api-Key: <id>` and `Authorization: Bearer <secret>`, both
//!   built once (`headers`).
//! - **hmac**, wire-compatible with the Python LogOps AuthGW (`sign`):
//!   `X-Api-Key`, `X-Timestamp`, `X-Nonce`, `X-Content-SHA256` and
//!   `X-Signature`, signed afresh for every request and every retry.
//!
//! The secret lives in a [`Secret`], whose `Debug` is redacted; no error
//! message of this module quotes it.

mod headers;
mod sign;

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

pub(crate) use self::headers::Signer;
pub use self::sign::{body_digest, nonce, signature, timestamp, BodyDigest};

/// A secret (`--secret`, `LOGOPS_SECRET`): the bearer token or the HMAC key.
/// Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for signing and the bearer header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// `--auth` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// No credentials.
    None,
    /// `X-Api-Key` + `Authorization: Bearer <secret>`.
    Key,
    /// HMAC-signed requests.
    Hmac,
}

/// Credentials a run sends with, resolved from the three flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing is added to requests.
    None,
    /// Key mode.
    Key {
        /// Key id (`X-Api-Key`).
        id: String,
        /// Bearer token.
        secret: Secret,
    },
    /// HMAC mode.
    Hmac {
        /// Key id (`X-Api-Key`).
        id: String,
        /// HMAC key.
        secret: Secret,
    },
}

/// Credentials that are incomplete or cannot go into a header.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `--auth key|hmac` without an api key or secret.
    #[error("--auth {mode} needs --api-key and --secret (or LOGOPS_API_KEY and LOGOPS_SECRET)")]
    Incomplete {
        /// `key` or `hmac`.
        mode: &'static str,
    },
    /// Only one of `--api-key` / `--secret` was given.
    #[error("{given} was given without {missing}; pass both (or --auth none)")]
    Half {
        /// The flag given.
        given: &'static str,
        /// The flag missing.
        missing: &'static str,
    },
    /// The key id is not a valid header value.
    #[error("invalid --api-key value {0:?}: only visible ASCII is allowed in HTTP headers")]
    KeyId(String),
    /// The secret cannot be sent as a bearer token (the value is not shown).
    #[error("invalid --secret: only visible ASCII is allowed in an Authorization header (value not shown)")]
    SecretChars,
}

impl Credentials {
    /// Resolves `--auth`, `--api-key` and `--secret`: without `--auth`, HMAC
    /// when both are given and none when neither is. Empty values count as absent.
    ///
    /// # Errors
    /// [`AuthError`] when a mode lacks what it needs or only half is given.
    pub fn resolve(
        mode: Option<AuthMode>,
        id: Option<&str>,
        secret: Option<&Secret>,
    ) -> Result<Self, AuthError> {
        let id = id.filter(|s| !s.is_empty());
        let secret = secret.filter(|s| !s.0.is_empty());
        let mode = match (mode, id, secret) {
            (Some(m), _, _) => m,
            (None, Some(_), Some(_)) => AuthMode::Hmac,
            (None, None, None) => AuthMode::None,
            (None, Some(_), None) => {
                return Err(AuthError::Half {
                    given: "--api-key",
                    missing: "--secret",
                })
            }
            (None, None, Some(_)) => {
                return Err(AuthError::Half {
                    given: "--secret",
                    missing: "--api-key",
                })
            }
        };
        let pair = |mode| match (id, secret) {
            (Some(i), Some(s)) => Ok((i.to_string(), s.clone())),
            _ => Err(AuthError::Incomplete { mode }),
        };
        Ok(match mode {
            AuthMode::None => Credentials::None,
            AuthMode::Key => {
                let (id, secret) = pair("key")?;
                Credentials::Key { id, secret }
            }
            AuthMode::Hmac => {
                let (id, secret) = pair("hmac")?;
                Credentials::Hmac { id, secret }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_defaults_and_errors() {
        let s = Secret::new("x");
        assert_eq!(
            Credentials::resolve(None, None, None).unwrap(),
            Credentials::None
        );
        assert!(matches!(
            Credentials::resolve(None, Some("id"), Some(&s)).unwrap(),
            Credentials::Hmac { .. }
        ));
        assert!(matches!(
            Credentials::resolve(Some(AuthMode::Key), Some("id"), Some(&s)).unwrap(),
            Credentials::Key { .. }
        ));
        assert_eq!(
            Credentials::resolve(Some(AuthMode::None), Some("id"), Some(&s)).unwrap(),
            Credentials::None
        );
        let e = Credentials::resolve(Some(AuthMode::Hmac), Some("id"), None).unwrap_err();
        assert!(e.to_string().contains("--auth hmac needs"), "{e}");
        let e = Credentials::resolve(None, None, Some(&s)).unwrap_err();
        assert!(e
            .to_string()
            .contains("--secret was given without --api-key"));
        // Empty values (e.g. `LOGOPS_SECRET=`) count as absent.
        let empty = Secret::new("");
        assert_eq!(
            Credentials::resolve(None, Some(""), Some(&empty)).unwrap(),
            Credentials::None
        );
    }

    #[test]
    fn secret_debug_is_redacted() {
        let c =
            Credentials::resolve(None, Some("id"), Some(&"demo-priv-1".parse().unwrap())).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("demo-priv-1") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}
