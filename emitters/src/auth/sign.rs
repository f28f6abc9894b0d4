//! HMAC request signing, wire-compatible with the Python LogOps AuthGW:
//! `X-Signature` = standard padded base64 of HMAC-SHA256(secret,
//! `METHOD\nPATH\nsha256hex(body)\nX-Timestamp\nX-Nonce`), PATH without the
//! query string; `X-Timestamp` is RFC 3339 UTC with milliseconds and `Z`;
//! `X-Nonce` is 32 lowercase hex chars from 16 random bytes;
//! `X-Content-SHA256` is the lowercase hex SHA-256 of the body as sent.
//!
//! The pieces are separate so the per-request cost stays small: a body is
//! hashed once ([`body_digest`]), the keyed HMAC state is built once
//! (`keyed`) and cloned per request (`finish`).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use hyper::header::HeaderValue;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Lowercase hex SHA-256 of a body, ready as the `X-Content-SHA256` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyDigest(pub(super) HeaderValue);

impl BodyDigest {
    /// The hex digest.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// Hashes a body exactly as it will be sent.
pub fn body_digest(body: &[u8]) -> BodyDigest {
    let hex = hex(&Sha256::digest(body));
    BodyDigest(HeaderValue::from_str(&hex).unwrap_or_else(|_| HeaderValue::from_static("")))
}

/// HMAC-SHA256 state keyed with `secret`, cloned for each message.
pub(super) fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// Signs `prefix` (`METHOD\nPATH\n`) + `sha\nts\nnonce` with a keyed state.
pub(super) fn finish(
    mut mac: Hmac<Sha256>,
    prefix: &[u8],
    sha: &str,
    ts: &str,
    nonce: &str,
) -> String {
    mac.update(prefix);
    mac.update(sha.as_bytes());
    mac.update(b"\n");
    mac.update(ts.as_bytes());
    mac.update(b"\n");
    mac.update(nonce.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `X-Signature` for those inputs: base64 (padded) of
/// HMAC-SHA256(`secret`, `METHOD\nPATH\nbody_sha256_hex\ntimestamp\nnonce`).
pub fn signature(
    secret: &[u8],
    method: &str,
    path: &str,
    body_sha256_hex: &str,
    timestamp: &str,
    nonce: &str,
) -> String {
    let prefix = format!("{method}\n{path}\n");
    finish(
        keyed(secret),
        prefix.as_bytes(),
        body_sha256_hex,
        timestamp,
        nonce,
    )
}

/// `X-Timestamp` form: `2026-12-01T09:00:00.123Z` (UTC, milliseconds).
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A fresh `X-Nonce`: 16 random bytes as 32 lowercase hex chars.
pub fn nonce() -> String {
    hex(&rand::random::<[u8; 16]>())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn signature_matches_python_vector() {
        let sha = body_digest(b"{}");
        assert_eq!(sha.as_str(), PY_SHA256_OF_BRACES);
        let sig = signature(b"demo-priv-1", "POST", "/v1/logs", sha.as_str(), TS, NONCE);
        assert_eq!(sig, PY_SIGNATURE);
    }

    #[test]
    fn timestamp_and_nonce_shapes() {
        let t = time::macros::datetime!(2026-12-01 10:00:00.123456 +01:00);
        assert_eq!(timestamp(t), "2026-12-01T09:00:00.123Z");
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }
}
