//! Access control (SPEC §8): who sent a request, as which tenant, with which
//! roles and rate limits. Decided from the request head alone, before the
//! body is read, so a refused request costs a header parse (and one HMAC).
//!
//! - `none`: every request is the `default` tenant with every role.
//! - `key`: `X-Api-Key: id` + `Authorization: Bearer secret`, `Bearer
//!   id:secret`, `Splunk id:secret` or HTTP Basic; secrets compared in
//!   constant time.
//! - `hmac`: the Python AuthGW's signed headers ([`hmac`]), a timestamp
//!   window and a bounded nonce replay cache ([`nonce`]).
//!
//! The keys file ([`keys`]) is swapped whole on reload; a bad new file is
//! refused and the old keys stay. Rate-limit buckets ([`crate::quota`]) live
//! per key id across reloads.

pub mod hmac;
pub mod keys;
pub mod nonce;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine as _;
use http::HeaderMap;
use subtle::ConstantTimeEq;

pub use keys::{ApiKey, KeySet, KeysError, Roles};

use crate::quota::Quota;
use crate::schema::Tenant;

/// Default `LOGOPS_AUTH_SKEW_SEC`.
pub const DEFAULT_SKEW_SEC: u64 = 300;
/// Default `LOGOPS_AUTH_NONCE_CACHE` (nonces remembered per key).
pub const DEFAULT_NONCE_CACHE: usize = 100_000;

/// `LOGOPS_AUTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No authentication.
    None,
    /// Bearer-style keys.
    Key,
    /// Signed requests.
    Hmac,
}

/// The access-control section of the configuration.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `LOGOPS_AUTH`.
    pub mode: AuthMode,
    /// `LOGOPS_KEYS_FILE` (required unless the mode is `none`).
    pub keys_file: Option<PathBuf>,
    /// `LOGOPS_AUTH_SKEW_SEC`: accepted |now − X-Timestamp|.
    pub skew: Duration,
    /// `LOGOPS_AUTH_NONCE_CACHE`: nonces remembered per key.
    pub nonce_cache: usize,
    /// `LOGOPS_METRICS_AUTH`: `/metrics` needs a read key.
    pub metrics_auth: bool,
    /// The keys file as validated at load (reloads read the file again).
    pub keys: Arc<KeySet>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::None,
            keys_file: None,
            skew: Duration::from_secs(DEFAULT_SKEW_SEC),
            nonce_cache: DEFAULT_NONCE_CACHE,
            metrics_auth: false,
            keys: Arc::default(),
        }
    }
}

/// Why a request was not authenticated or not allowed. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// 401 with this `reason`.
    #[error("authentication failed: {}", .0.as_str())]
    Unauthorized(Reason),
    /// 403: authenticated, but the key's roles do not allow this.
    #[error("forbidden: key {key} has no {role} role")]
    Forbidden {
        /// The key id.
        key: String,
        /// The role it lacks.
        role: &'static str,
    },
    /// The key's nonce cache is full of live nonces (answered 429).
    #[error("too many signed requests of this key within the replay window; retry in {retry_after_secs} s")]
    NonceCacheFull {
        /// Seconds until a slot frees.
        retry_after_secs: u64,
    },
}

/// The `reason` of a 401 (also the label of `logops_auth_failures_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No credentials at all.
    MissingKey,
    /// Unknown key id or wrong secret.
    InvalidKey,
    /// HMAC mode: a signature header is missing.
    MissingSignature,
    /// `X-Timestamp` does not parse.
    BadTimestamp,
    /// `X-Timestamp` outside the skew window.
    TimestampSkew,
    /// The nonce was used before.
    NonceReplay,
    /// The signature does not verify.
    BadSignature,
}

impl Reason {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingKey => "missing_key",
            Reason::InvalidKey => "invalid_key",
            Reason::MissingSignature => "missing_signature",
            Reason::BadTimestamp => "bad_timestamp",
            Reason::TimestampSkew => "timestamp_skew",
            Reason::NonceReplay => "nonce_replay",
            Reason::BadSignature => "bad_signature",
        }
    }
}

/// Who a request is, once authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key id (`None` with `LOGOPS_AUTH=none`).
    pub key_id: Option<String>,
    /// The tenant its records belong to.
    pub tenant: Tenant,
    /// What it may do.
    pub roles: Roles,
    /// The emitter label the key forces, if any.
    pub emitter: Option<String>,
    /// Its rate-limit buckets, if it has limits.
    pub quota: Option<Arc<Quota>>,
    /// HMAC mode: the body's SHA-256 the signature covers, checked once the body is read.
    pub body_sha256: Option<String>,
}

impl Principal {
    fn anonymous() -> Self {
        Principal {
            key_id: None,
            tenant: Tenant::default(),
            roles: Roles::all(),
            emitter: None,
            quota: None,
            body_sha256: None,
        }
    }
}

/// The request head as authentication sees it.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// `POST`, `GET`, …
    pub method: &'a str,
    /// The path, without the query string.
    pub path: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The subject CN of the client's TLS certificate (verified against
    /// `LOGOPS_TLS_CLIENT_CA`), if it presented one.
    pub peer_cn: Option<&'a str>,
}

/// The authenticator: the keys in force, the buckets, the nonce cache.
#[derive(Debug)]
pub struct Auth {
    config: AuthConfig,
    keys: RwLock<Arc<KeySet>>,
    quotas: Mutex<HashMap<String, Arc<Quota>>>,
    nonces: nonce::NonceCache,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl Auth {
    /// Puts the keys validated with the configuration in force.
    pub fn new(config: AuthConfig) -> Auth {
        let auth = Auth {
            nonces: nonce::NonceCache::new(config.skew, config.nonce_cache),
            keys: RwLock::new(Arc::new(KeySet::default())),
            quotas: Mutex::new(HashMap::new()),
            config,
        };
        auth.install(Arc::clone(&auth.config.keys));
        auth
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Is authentication on?
    pub fn enabled(&self) -> bool {
        self.config.mode != AuthMode::None
    }

    /// Re-reads the keys file. On error the keys in force stay. Buckets of
    /// keys that remain keep their tokens (with the new limits).
    ///
    /// # Errors
    /// [`KeysError`]; nothing changed.
    pub fn reload(&self) -> Result<usize, KeysError> {
        let Some(path) = &self.config.keys_file else {
            return Ok(0);
        };
        let set = Arc::new(keys::load(path)?);
        let n = set.by_id.len();
        self.install(set);
        Ok(n)
    }

    /// Swaps in `set`, keeping the buckets of the keys that remain.
    fn install(&self, set: Arc<KeySet>) {
        {
            let mut quotas = self.quotas.lock().unwrap_or_else(|p| p.into_inner());
            quotas.retain(|id, _| set.by_id.get(id).is_some_and(|k| k.rate.is_some()));
            for key in set.by_id.values() {
                if let Some(limits) = key.rate {
                    match quotas.get(&key.id) {
                        Some(q) if q.limits() != limits => q.set_limits(limits),
                        Some(_) => {}
                        None => {
                            quotas.insert(key.id.clone(), Arc::new(Quota::new(limits)));
                        }
                    }
                }
            }
        }
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = set;
    }

    /// The tenants of the keys in force (for metrics and housekeeping).
    pub fn tenants(&self) -> Vec<Tenant> {
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(|p| p.into_inner()));
        let mut t: Vec<Tenant> = keys.by_id.values().map(|k| k.tenant.clone()).collect();
        t.sort();
        t.dedup();
        t
    }

    /// Authenticates `head`. With `allow_key_headers`, key-mode credentials
    /// are accepted even in HMAC mode (read endpoints: browsers cannot sign).
    ///
    /// # Errors
    /// [`AuthError`].
    pub fn authenticate(
        &self,
        head: Head<'_>,
        allow_key_headers: bool,
    ) -> Result<Principal, AuthError> {
        let mode = self.config.mode;
        if mode == AuthMode::None {
            return Ok(Principal::anonymous());
        }
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(|p| p.into_inner()));
        let signed = head.headers.contains_key("x-signature");
        let by_cert = head.peer_cn.and_then(|cn| keys.by_id.get(cn)).cloned();
        let (key, body_sha256) = if let Some(key) = by_cert {
            // A client certificate the CA signed, naming a key id: that key.
            (key, None)
        } else if mode == AuthMode::Hmac && (signed || !allow_key_headers) {
            self.verify_hmac(head, &keys)?
        } else {
            (verify_key(head.headers, &keys)?, None)
        };
        let quota = key.rate.and_then(|_| {
            self.quotas
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key.id)
                .cloned()
        });
        Ok(Principal {
            key_id: Some(key.id.clone()),
            tenant: key.tenant.clone(),
            roles: key.roles,
            emitter: key.emitter.clone(),
            quota,
            body_sha256,
        })
    }

    fn verify_hmac(
        &self,
        head: Head<'_>,
        keys: &KeySet,
    ) -> Result<(Arc<ApiKey>, Option<String>), AuthError> {
        use Reason::*;
        let fail = |r| AuthError::Unauthorized(r);
        let id = header(head.headers, "x-api-key").ok_or(fail(MissingKey))?;
        let (Some(ts), Some(nonce), Some(sha), Some(sig)) = (
            header(head.headers, "x-timestamp"),
            header(head.headers, "x-nonce"),
            header(head.headers, "x-content-sha256"),
            header(head.headers, "x-signature"),
        ) else {
            return Err(fail(MissingSignature));
        };
        let key = keys.by_id.get(id).cloned().ok_or(fail(InvalidKey))?;
        let at = hmac::parse_timestamp(ts).ok_or(fail(BadTimestamp))?;
        if hmac::skew_secs(at) > self.config.skew.as_secs() {
            return Err(fail(TimestampSkew));
        }
        if !hmac::is_sha256_hex(sha) || nonce.len() > 256 {
            return Err(fail(BadSignature));
        }
        let canonical = hmac::canonical(head.method, head.path, sha, ts, nonce);
        if !hmac::verify(key.secret.expose().as_bytes(), &canonical, sig) {
            return Err(fail(BadSignature));
        }
        match self.nonces.check(&key.id, nonce) {
            Ok(nonce::Seen::New) => Ok((key, Some(sha.to_ascii_lowercase()))),
            Ok(nonce::Seen::Replay) => Err(fail(NonceReplay)),
            Err(full) => Err(AuthError::NonceCacheFull {
                retry_after_secs: full.retry_after_secs,
            }),
        }
    }
}

/// Key mode: the credentials in any of the four accepted forms.
fn verify_key(headers: &HeaderMap, keys: &KeySet) -> Result<Arc<ApiKey>, AuthError> {
    let (id, secret) = credentials(headers).ok_or(AuthError::Unauthorized(Reason::MissingKey))?;
    let invalid = AuthError::Unauthorized(Reason::InvalidKey);
    let key = keys.by_id.get(&id).ok_or(invalid.clone())?;
    let ok: bool = key
        .secret
        .expose()
        .as_bytes()
        .ct_eq(secret.as_bytes())
        .into();
    if ok {
        Ok(Arc::clone(key))
    } else {
        Err(invalid)
    }
}

/// (id, secret) from `X-Api-Key` + `Bearer secret`, `Bearer id:secret`,
/// `Splunk id:secret` or `Basic base64(id:secret)`.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let authz = header(headers, "authorization");
    let api_key = header(headers, "x-api-key");
    let (scheme, value) = authz
        .and_then(|a| a.split_once(' '))
        .map(|(s, v)| (s, v.trim()))?;
    let pair = |s: &str| {
        s.split_once(':')
            .map(|(i, k)| (i.to_string(), k.to_string()))
    };
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?;
        return pair(std::str::from_utf8(&decoded).ok()?);
    }
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("splunk")) {
        return None;
    }
    match api_key {
        Some(id) => Some((id.to_string(), value.to_string())),
        None => pair(value),
    }
}

#[cfg(test)]
mod tests;
