//! The headers each credentials mode adds to a request: made once per target
//! where they never change (`X-Api-Key`, the bearer token, the keyed HMAC
//! state and the `POST\nPATH\n` prefix), so per request only `X-Timestamp`,
//! `X-Nonce` and `X-Signature` are built (HMAC mode).

use std::fmt;

use hmac::Hmac;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use sha2::Sha256;
use time::OffsetDateTime;

use super::sign::{body_digest, finish, keyed, nonce, timestamp, BodyDigest};
use super::{AuthError, Credentials};

/// The method every emitter request uses (part of the signed message).
const METHOD: &str = "POST";

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_TIMESTAMP: HeaderName = HeaderName::from_static("x-timestamp");
const X_NONCE: HeaderName = HeaderName::from_static("x-nonce");
const X_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-content-sha256");
const X_SIGNATURE: HeaderName = HeaderName::from_static("x-signature");

/// The header-adding half of [`Credentials`], built once per target.
#[derive(Clone)]
pub(crate) enum Signer {
    None,
    Key {
        api_key: HeaderValue,
        bearer: HeaderValue,
    },
    Hmac {
        api_key: HeaderValue,
        /// HMAC state already keyed with the secret.
        mac: Hmac<Sha256>,
        /// `POST\n<path>\n`.
        prefix: Box<[u8]>,
    },
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::None => f.write_str("Signer::None"),
            Signer::Key { api_key, .. } => write!(f, "Signer::Key({api_key:?})"),
            Signer::Hmac { api_key, .. } => write!(f, "Signer::Hmac({api_key:?})"),
        }
    }
}

impl Signer {
    /// Prepares the headers for requests to `path` (no query string).
    pub(crate) fn new(creds: &Credentials, path: &str) -> Result<Self, AuthError> {
        let key_id = |id: &str| HeaderValue::from_str(id).map_err(|_| AuthError::KeyId(id.into()));
        Ok(match creds {
            Credentials::None => Signer::None,
            Credentials::Key { id, secret } => {
                let mut bearer = HeaderValue::from_str(&format!("Bearer {}", secret.expose()))
                    .map_err(|_| AuthError::SecretChars)?;
                bearer.set_sensitive(true);
                Signer::Key {
                    api_key: key_id(id)?,
                    bearer,
                }
            }
            Credentials::Hmac { id, secret } => Signer::Hmac {
                api_key: key_id(id)?,
                mac: keyed(secret.expose().as_bytes()),
                prefix: format!("{METHOD}\n{path}\n").into_bytes().into(),
            },
        })
    }

    /// True when requests need the body's digest.
    pub(crate) fn signs(&self) -> bool {
        matches!(self, Signer::Hmac { .. })
    }

    /// Adds this mode's headers to one request; `digest` is the body's (HMAC
    /// mode signs with a fresh timestamp and nonce on every call).
    pub(crate) fn apply(&self, headers: &mut HeaderMap, digest: Option<&BodyDigest>) {
        match self {
            Signer::None => {}
            Signer::Key { api_key, bearer } => {
                headers.insert(X_API_KEY, api_key.clone());
                headers.insert(AUTHORIZATION, bearer.clone());
            }
            Signer::Hmac {
                api_key,
                mac,
                prefix,
            } => {
                let owned;
                let digest = match digest {
                    Some(d) => d,
                    None => {
                        owned = body_digest(b"");
                        &owned
                    }
                };
                let ts = timestamp(OffsetDateTime::now_utc());
                let nonce = nonce();
                let sig = finish(mac.clone(), prefix, digest.as_str(), &ts, &nonce);
                headers.insert(X_API_KEY, api_key.clone());
                headers.insert(X_CONTENT_SHA256, digest.0.clone());
                for (name, value) in [(X_TIMESTAMP, ts), (X_NONCE, nonce), (X_SIGNATURE, sig)] {
                    if let Ok(v) = HeaderValue::try_from(value) {
                        headers.insert(name, v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sign::signature;
    use crate::auth::{AuthMode, Secret};

    /// Computed independently with Python's standard library:
    /// python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'demo-priv-1',
    ///   b'POST\n/v1/logs\n'+hashlib.sha256(b'{}').hexdigest().encode()+
    ///   b'\n2026-12-01T09:00:00.000Z\n00112233445566778899aabbccddeeff',
    ///   hashlib.sha256).digest()).decode())"
    const PY_SIGNATURE: &str = "PjUaTyRVOdwuO6GGs7RaXqDMJbLZ5oB0WDbuk08Ny24=";
    /// python3 -c "import hashlib;print(hashlib.sha256(b'{}').hexdigest())"
    const PY_SHA256_OF_BRACES: &str =
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    const TS: &str = "2026-12-01T09:00:00.000Z";
    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn creds(mode: AuthMode) -> Credentials {
        let secret = Secret::new("demo-priv-1");
        Credentials::resolve(Some(mode), Some("demo-pub-1"), Some(&secret)).unwrap()
    }

    #[test]
    fn precomputed_state_signs_like_python() {
        let Signer::Hmac { mac, prefix, .. } =
            Signer::new(&creds(AuthMode::Hmac), "/v1/logs").unwrap()
        else {
            panic!("hmac signer expected");
        };
        let sig = finish(mac, &prefix, PY_SHA256_OF_BRACES, TS, NONCE);
        assert_eq!(sig, PY_SIGNATURE);
    }

    #[test]
    fn secret_is_redacted_everywhere() {
        let c = creds(AuthMode::Key);
        let shown = format!("{c:?} {:?}", Signer::new(&c, "/v1/logs").unwrap());
        assert!(!shown.contains("demo-priv-1"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        let hm = format!("{:?}", Signer::new(&creds(AuthMode::Hmac), "/").unwrap());
        assert!(!hm.contains("demo-priv-1"), "{hm}");
        let bad = Credentials::Key {
            id: "k".into(),
            secret: Secret::new("top\nsecret"),
        };
        let e = Signer::new(&bad, "/").unwrap_err().to_string();
        assert!(!e.contains("top") && e.contains("--secret"), "{e}");
    }

    #[test]
    fn headers_per_mode() {
        let mut h = HeaderMap::new();
        Signer::new(&Credentials::None, "/v1/logs")
            .unwrap()
            .apply(&mut h, None);
        assert!(h.is_empty());

        let key = Signer::new(&creds(AuthMode::Key), "/v1/logs").unwrap();
        assert!(!key.signs());
        key.apply(&mut h, None);
        assert_eq!(h["x-api-key"], "demo-pub-1");
        assert_eq!(h["authorization"], "Bearer demo-priv-1");
        assert!(h["authorization"].is_sensitive());
        assert_eq!(h.len(), 2);

        let hmac = Signer::new(&creds(AuthMode::Hmac), "/v1/logs").unwrap();
        assert!(hmac.signs());
        let digest = body_digest(b"{}");
        let mut h = HeaderMap::new();
        hmac.apply(&mut h, Some(&digest));
        let get = |k: &str| h[k].to_str().unwrap().to_string();
        assert_eq!(get("x-api-key"), "demo-pub-1");
        assert_eq!(get("x-content-sha256"), PY_SHA256_OF_BRACES);
        assert!(h.get("authorization").is_none());
        let (ts, nonce) = (get("x-timestamp"), get("x-nonce"));
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
        assert!(
            time::OffsetDateTime::parse(&ts, &time::format_description::well_known::Rfc3339)
                .is_ok()
        );
        let expect = signature(
            b"demo-priv-1",
            "POST",
            "/v1/logs",
            PY_SHA256_OF_BRACES,
            &ts,
            &nonce,
        );
        assert_eq!(get("x-signature"), expect);

        // Every call re-signs with a fresh nonce.
        let mut again = HeaderMap::new();
        hmac.apply(&mut again, Some(&digest));
        assert_ne!(again["x-nonce"], h["x-nonce"]);
        assert_ne!(again["x-signature"], h["x-signature"]);
    }
}
