//! Unit tests of [`Auth::authenticate`] in both modes.

use std::io::Write;

use http::HeaderValue;

use super::*;

const KEYS: &str = r#"
[[key]]
id = "pub-1"
secret = "priv-1"
tenant = "acme"

[[key]]
id = "reader"
secret = "r-secret"
roles = ["read"]
"#;

fn auth(mode: AuthMode) -> (Auth, tempfile::NamedTempFile) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(KEYS.as_bytes()).unwrap();
    let config = AuthConfig {
        mode,
        keys_file: Some(f.path().to_path_buf()),
        keys: Arc::new(keys::load(f.path()).unwrap()),
        ..AuthConfig::default()
    };
    (Auth::new(config), f)
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn head(h: &HeaderMap) -> Head<'_> {
    Head {
        method: "POST",
        path: "/v1/logs",
        headers: h,
        peer_cn: None,
    }
}

fn reason(r: Result<Principal, AuthError>) -> &'static str {
    match r {
        Err(AuthError::Unauthorized(r)) => r.as_str(),
        other => panic!("expected a 401, got {other:?}"),
    }
}

#[test]
fn key_mode_accepts_the_four_forms() {
    let (a, _f) = auth(AuthMode::Key);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("pub-1:priv-1")
    );
    for h in [
        headers(&[("x-api-key", "pub-1"), ("authorization", "Bearer priv-1")]),
        headers(&[("authorization", "Bearer pub-1:priv-1")]),
        headers(&[("authorization", "Splunk pub-1:priv-1")]),
        headers(&[("authorization", &basic)]),
    ] {
        let p = a.authenticate(head(&h), false).unwrap();
        assert_eq!(p.tenant.as_str(), "acme");
        assert!(p.roles.can_ingest());
    }
    assert_eq!(
        reason(a.authenticate(head(&headers(&[])), false)),
        "missing_key"
    );
    let wrong = headers(&[("authorization", "Bearer pub-1:priv-2")]);
    assert_eq!(reason(a.authenticate(head(&wrong), false)), "invalid_key");
    let unknown = headers(&[("authorization", "Bearer nobody:priv-1")]);
    assert_eq!(reason(a.authenticate(head(&unknown), false)), "invalid_key");
}

fn signed(secret: &str, ts: &str, nonce: &str, path: &str) -> HeaderMap {
    let sha = hmac::sha256_hex(b"[]");
    let sig = hmac::sign(
        secret.as_bytes(),
        &hmac::canonical("POST", path, &sha, ts, nonce),
    );
    headers(&[
        ("x-api-key", "pub-1"),
        ("x-timestamp", ts),
        ("x-nonce", nonce),
        ("x-content-sha256", &sha),
        ("x-signature", &sig),
    ])
}

#[test]
fn hmac_mode_checks_signature_time_and_nonce() {
    let (a, _f) = auth(AuthMode::Hmac);
    let now = time::OffsetDateTime::now_utc();
    let ts = crate::normalize::timestamp::format_millis(now);
    let h = signed("priv-1", &ts, "n1", "/v1/logs");
    let p = a.authenticate(head(&h), false).unwrap();
    assert_eq!(
        p.body_sha256.as_deref(),
        Some(hmac::sha256_hex(b"[]").as_str())
    );
    assert_eq!(reason(a.authenticate(head(&h), false)), "nonce_replay");
    let other_path = signed("priv-1", &ts, "n2", "/ingest");
    assert_eq!(
        reason(a.authenticate(head(&other_path), false)),
        "bad_signature"
    );
    let wrong_secret = signed("priv-2", &ts, "n3", "/v1/logs");
    assert_eq!(
        reason(a.authenticate(head(&wrong_secret), false)),
        "bad_signature"
    );
    let old = crate::normalize::timestamp::format_millis(now - time::Duration::hours(1));
    assert_eq!(
        reason(a.authenticate(head(&signed("priv-1", &old, "n4", "/v1/logs")), false)),
        "timestamp_skew"
    );
    assert_eq!(
        reason(a.authenticate(head(&signed("priv-1", "soon", "n5", "/v1/logs")), false)),
        "bad_timestamp"
    );
    let unsigned = headers(&[("x-api-key", "pub-1")]);
    assert_eq!(
        reason(a.authenticate(head(&unsigned), false)),
        "missing_signature"
    );
    // Read endpoints may use key headers in HMAC mode.
    let reader = headers(&[("authorization", "Bearer reader:r-secret")]);
    assert!(a
        .authenticate(head(&reader), true)
        .unwrap()
        .roles
        .can_read());
    assert_eq!(reason(a.authenticate(head(&reader), false)), "missing_key");
}

#[test]
fn a_bad_reload_keeps_the_old_keys() {
    let (a, f) = auth(AuthMode::Key);
    std::fs::write(f.path(), "[[key]]\nid = \"x\"\n").unwrap();
    let e = a.reload().unwrap_err();
    assert!(e.to_string().contains("line"), "{e}");
    let h = headers(&[("authorization", "Bearer pub-1:priv-1")]);
    assert!(a.authenticate(head(&h), false).is_ok());
}
