//! One signed checkpoint: a line of a `D.ndjson.chain` sidecar, and the
//! Ed25519 keys that sign and check it.
//!
//! The line is `{"size":…,"bytes":…,"root":"…","prev":"…","at":"…","sig":"…"}`
//! (a retention tombstone adds `"deleted":{"day":"YYYYMMDD","size":…,"root":"…"}`
//! before `sig`). `sig` signs the line's own canonical form without `sig`:
//! the same members in this order, compact JSON — so a verifier rebuilds it
//! from the parsed fields and nothing outside the signed bytes can change
//! what a checkpoint says. Hashes are standard base64.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::Deserialize;

use super::merkle::Hash;

/// `prev` of a tenant's first day: no earlier day.
pub const GENESIS: Hash = [0u8; 32];

/// What a tombstone records: a day retention removed, as its chain ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The removed day, `YYYYMMDD`.
    pub day: String,
    /// Its lines.
    pub size: u64,
    /// Its last root.
    pub root: Hash,
}

/// A checkpoint: the tree over the first `size` lines (`bytes` bytes) of a
/// day file has hash `root`; the tenant's previous day ended with `prev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Lines covered.
    pub size: u64,
    /// Bytes covered (the offset just after line `size`).
    pub bytes: u64,
    /// RFC 6962 tree hash of those lines.
    pub root: Hash,
    /// The last root of the tenant's previous day ([`GENESIS`] if none).
    pub prev: Hash,
    /// When it was sealed (RFC 3339, UTC).
    pub at: String,
    /// Set on a retention tombstone.
    pub deleted: Option<Deleted>,
}

/// Why a sidecar line is not a valid checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Not the checkpoint shape.
    #[error("not a checkpoint: {0}")]
    Malformed(String),
    /// The signature does not verify with the given key.
    #[error("bad signature (forged, altered, or signed by another key)")]
    BadSignature,
}

impl Checkpoint {
    /// The signed bytes: the canonical line without `sig`.
    pub fn message(&self) -> String {
        let mut s = format!(
            r#"{{"size":{},"bytes":{},"root":"{}","prev":"{}","at":{}"#,
            self.size,
            self.bytes,
            B64.encode(self.root),
            B64.encode(self.prev),
            serde_json::Value::String(self.at.clone()),
        );
        if let Some(d) = &self.deleted {
            s.push_str(&format!(
                r#","deleted":{{"day":{},"size":{},"root":"{}"}}"#,
                serde_json::Value::String(d.day.clone()),
                d.size,
                B64.encode(d.root)
            ));
        }
        s.push('}');
        s
    }

    /// The sidecar line (with `\n`), signed by `key`.
    pub fn to_line(&self, key: &SigningKey) -> String {
        let mut m = self.message();
        let sig = key.sign(m.as_bytes());
        m.pop();
        m.push_str(&format!(r#","sig":"{}"}}"#, B64.encode(sig.to_bytes())));
        m.push('\n');
        m
    }

    /// Parses a sidecar line (without `\n`) and checks its signature with
    /// `key` (`None`: parse only).
    ///
    /// # Errors
    /// The line is not a checkpoint, or its signature fails.
    pub fn parse(line: &[u8], key: Option<&VerifyingKey>) -> Result<Checkpoint, CheckpointError> {
        let (c, sig) = Checkpoint::parse_signed(line)?;
        if let Some(key) = key {
            key.verify(c.message().as_bytes(), &sig)
                .map_err(|_| CheckpointError::BadSignature)?;
        }
        Ok(c)
    }

    /// Parses a sidecar line into the checkpoint and its signature, not
    /// yet checked (a verifier checks many at once: [`verify_all`]).
    ///
    /// # Errors
    /// The line is not a checkpoint.
    pub fn parse_signed(line: &[u8]) -> Result<(Checkpoint, Signature), CheckpointError> {
        let raw: Raw =
            serde_json::from_slice(line).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let hash = |name: &str, s: &str| -> Result<Hash, CheckpointError> {
            B64.decode(s)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    CheckpointError::Malformed(format!("{name} is not a base64 SHA-256"))
                })
        };
        let c = Checkpoint {
            size: raw.size,
            bytes: raw.bytes,
            root: hash("root", &raw.root)?,
            prev: hash("prev", &raw.prev)?,
            at: raw.at,
            deleted: match raw.deleted {
                Some(d) => Some(Deleted {
                    root: hash("deleted.root", &d.root)?,
                    day: d.day,
                    size: d.size,
                }),
                None => None,
            },
        };
        let sig: [u8; 64] = B64
            .decode(&raw.sig)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                CheckpointError::Malformed("sig is not a base64 Ed25519 signature".into())
            })?;
        Ok((c, Signature::from_bytes(&sig)))
    }
}

/// Checks every signature with `key` (one batch verification, about twice
/// as fast as one by one): `Err(i)` names the first that fails.
pub fn verify_all(
    checkpoints: &[(Checkpoint, Signature)],
    key: &VerifyingKey,
) -> Result<(), usize> {
    let messages: Vec<String> = checkpoints.iter().map(|(c, _)| c.message()).collect();
    let refs: Vec<&[u8]> = messages.iter().map(|m| m.as_bytes()).collect();
    let sigs: Vec<Signature> = checkpoints.iter().map(|(_, s)| *s).collect();
    let keys = vec![*key; checkpoints.len()];
    if checkpoints.is_empty() || ed25519_dalek::verify_batch(&refs, &sigs, &keys).is_ok() {
        return Ok(());
    }
    match (0..checkpoints.len()).find(|&i| key.verify(refs[i], &sigs[i]).is_err()) {
        Some(i) => Err(i),
        // The batch check is stricter than single checks for some crafted
        // signatures; the single check is the standard.
        None => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    size: u64,
    bytes: u64,
    root: String,
    prev: String,
    at: String,
    #[serde(default)]
    deleted: Option<RawDeleted>,
    sig: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeleted {
    day: String,
    size: u64,
    root: String,
}

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The key file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// Not a key of the expected kind (the content is never echoed).
    #[error("{0}")]
    Invalid(String),
}

/// Loads the signing key: a PKCS#8 PEM Ed25519 private key (as written by
/// `logops-keygen --chain` or `openssl genpkey -algorithm ed25519`).
///
/// # Errors
/// Unreadable file, or not such a key.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| KeyError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    SigningKey::from_pkcs8_pem(&text).map_err(|_| {
        KeyError::Invalid(format!(
            "{} is not a PKCS#8 PEM Ed25519 private key",
            path.display()
        ))
    })
}

/// A new random signing key, as PKCS#8 PEM, and its public key in base64.
///
/// # Errors
/// Encoding failed (not expected).
pub fn generate_signing_key() -> Result<(String, String), KeyError> {
    let mut seed = [0u8; 32];
    rand_chacha::rand_core::TryRngCore::try_fill_bytes(
        &mut rand_chacha::rand_core::OsRng,
        &mut seed,
    )
    .map_err(|e| KeyError::Invalid(format!("the OS random number generator failed: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    // PKCS#8 v1 (the private key alone, RFC 8410): what `openssl genpkey
    // -algorithm ed25519` writes and every OpenSSL 3 reads.
    let pair = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: seed,
        public_key: None,
    };
    seed.fill(0);
    let pem = pair
        .to_pkcs8_pem(Default::default())
        .map_err(|e| KeyError::Invalid(format!("cannot encode the key: {e}")))?;
    Ok((pem.to_string(), public_key_text(&key.verifying_key())))
}

/// The public key as printed by `logops-keygen --chain`: base64 of its 32 bytes.
pub fn public_key_text(key: &VerifyingKey) -> String {
    B64.encode(key.to_bytes())
}

/// Parses a public key: base64 of 32 bytes, or a PEM `PUBLIC KEY` (SPKI).
///
/// # Errors
/// Neither form.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text)
            .map_err(|_| KeyError::Invalid("not a PEM Ed25519 public key".into()));
    }
    let bytes: [u8; 32] = B64
        .decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| KeyError::Invalid("not a base64 Ed25519 public key (32 bytes)".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| KeyError::Invalid("not a valid Ed25519 public key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn sample() -> Checkpoint {
        Checkpoint {
            size: 3,
            bytes: 120,
            root: [1u8; 32],
            prev: GENESIS,
            at: "2026-12-01T10:00:00Z".into(),
            deleted: None,
        }
    }

    #[test]
    fn a_line_round_trips_and_verifies() {
        let line = sample().to_line(&key());
        assert!(line.ends_with("\"}\n"));
        let body = line.trim_end().as_bytes();
        let back = Checkpoint::parse(body, Some(&key().verifying_key())).unwrap();
        assert_eq!(back, sample());
        let mut t = sample();
        t.deleted = Some(Deleted {
            day: "20261101".into(),
            size: 9,
            root: [2u8; 32],
        });
        let line = t.to_line(&key());
        let back = Checkpoint::parse(line.trim_end().as_bytes(), Some(&key().verifying_key()));
        assert_eq!(back.unwrap(), t);
    }

    #[test]
    fn an_edited_field_or_another_key_fails() {
        let line = sample().to_line(&key());
        let edited = line.replace("\"size\":3", "\"size\":4");
        let err = Checkpoint::parse(edited.trim_end().as_bytes(), Some(&key().verifying_key()));
        assert_eq!(err, Err(CheckpointError::BadSignature));
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        let err = Checkpoint::parse(line.trim_end().as_bytes(), Some(&other));
        assert_eq!(err, Err(CheckpointError::BadSignature));
        let extra = line.replace("{\"size\"", "{\"x\":1,\"size\"");
        assert!(matches!(
            Checkpoint::parse(extra.trim_end().as_bytes(), None),
            Err(CheckpointError::Malformed(_))
        ));
    }

    #[test]
    fn keys_round_trip_through_their_text_forms() {
        let (pem, public) = generate_signing_key().unwrap();
        let dir = std::env::temp_dir().join(format!("logops-key-{}", std::process::id()));
        std::fs::write(&dir, &pem).unwrap();
        let key = load_signing_key(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(parse_public_key(&public).unwrap(), key.verifying_key());
        assert!(parse_public_key("bm90IGEga2V5").is_err());
        std::fs::write(&dir, "garbage").unwrap();
        let err = load_signing_key(&dir).unwrap_err().to_string();
        std::fs::remove_file(&dir).unwrap();
        assert!(
            err.contains("not a PKCS#8") && !err.contains("garbage"),
            "{err}"
        );
    }
}
