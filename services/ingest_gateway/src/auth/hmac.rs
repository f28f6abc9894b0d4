//! HMAC request signatures, wire-compatible with the Python gateway's AuthGW
//! (SPEC §8): `X-Signature` = base64 (padded) of HMAC-SHA256(secret,
//! `METHOD\nPATH\nX-Content-SHA256\nX-Timestamp\nX-Nonce`), PATH without the
//! query string and X-Timestamp verbatim. The body hash in the signature is
//! the client's `X-Content-SHA256`, so a request is authenticated before its
//! body is read; the body is then checked against that hash as sent.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::schema::datetime::scan_iso;

type HmacSha256 = Hmac<Sha256>;

/// The string the client signed.
pub fn canonical(
    method: &str,
    path: &str,
    body_sha256: &str,
    timestamp: &str,
    nonce: &str,
) -> String {
    format!("{method}\n{path}\n{body_sha256}\n{timestamp}\n{nonce}")
}

/// `X-Signature` for that string (what a client sends; used by tests and
/// benchmarks to sign like the Python gateway's emitters).
pub fn sign(secret: &[u8], canonical: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Does `signature` (base64) sign `canonical` with `secret`? Constant time.
pub fn verify(secret: &[u8], canonical: &str, signature: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(canonical.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// Lower-case hex SHA-256 of `body`.
pub fn sha256_hex(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// Is `s` 64 hex digits (either case)?
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `X-Timestamp` as a Unix time: ISO 8601 with `T` or space, `Z` or an
/// offset, or none (= UTC, as Python's `datetime.utcnow().isoformat()`).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let p = scan_iso(s.as_bytes())?;
    if p.len != s.len() {
        return None;
    }
    let month = time::Month::try_from(p.month).ok()?;
    let date = time::Date::from_calendar_date(p.year, month, p.day).ok()?;
    let t = time::Time::from_hms(p.hour, p.minute, p.second).ok()?;
    let offset = time::UtcOffset::from_whole_seconds(i32::from(p.offset_minutes) * 60).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

/// Seconds between `ts` and now (absolute).
pub fn skew_secs(ts: i64) -> u64 {
    (OffsetDateTime::now_utc().unix_timestamp() - ts).unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_authgw_vector() {
        // python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'demo-priv-1',
        //   b'POST\n/v1/logs\n'+hashlib.sha256(b'{}').hexdigest().encode()
        //   +b'\n2026-12-01T09:00:00.000Z\n00112233445566778899aabbccddeeff', hashlib.sha256).digest()).decode())"
        let c = canonical(
            "POST",
            "/v1/logs",
            &sha256_hex(b"{}"),
            "2026-12-01T09:00:00.000Z",
            "00112233445566778899aabbccddeeff",
        );
        let sig = sign(b"demo-priv-1", &c);
        assert_eq!(sig, PYTHON_SIG);
        assert!(verify(b"demo-priv-1", &c, &sig));
        assert!(!verify(b"demo-priv-2", &c, &sig));
        assert!(!verify(b"demo-priv-1", &c.replace("POST", "PUT"), &sig));
        assert!(!verify(b"demo-priv-1", &c, "not base64!"));
    }

    /// What the Python command above prints.
    const PYTHON_SIG: &str = "PjUaTyRVOdwuO6GGs7RaXqDMJbLZ5oB0WDbuk08Ny24=";

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("2026-12-01T09:00:00Z"), Some(1_796_115_600));
        assert_eq!(
            parse_timestamp("2026-12-01T10:00:00+01:00"),
            Some(1_796_115_600)
        );
        assert_eq!(
            parse_timestamp("2026-12-01T09:00:00.123456"),
            Some(1_796_115_600)
        );
        assert_eq!(parse_timestamp("2026-12-01 09:00:00"), Some(1_796_115_600));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2026-13-01T09:00:00Z"), None);
    }
}
