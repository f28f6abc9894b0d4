//! Fernet encryption of sensitive fields, with key rotation.
//!
//! `LOGOPS_SECRET_KEY` holds one key or a comma-separated list: the first key
//! encrypts, every key decrypts. Tokens are standard Fernet, so an operator can
//! recover a field with `logops-decrypt` or Python's `cryptography.fernet`.
//! Keys never appear in `Debug` output or error messages.

use fernet::{Fernet, MultiFernet};

/// Why a key list or a token was refused. Never contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// The key list was empty.
    #[error("no key given: expected one or more comma-separated Fernet keys")]
    NoKey,
    /// Key number `index` (1-based) is not a 32-byte URL-safe base64 Fernet key.
    #[error("key #{index} is not a valid Fernet key (32 bytes, URL-safe base64)")]
    InvalidKey {
        /// 1-based position in the comma-separated list.
        index: usize,
    },
    /// The token is malformed, was made with another key, or was tampered with.
    #[error("token cannot be decrypted with any configured key")]
    BadToken,
}

/// Encrypts with the first configured key and decrypts with any of them.
pub struct Crypt {
    primary: Fernet,
    all: MultiFernet,
    keys: usize,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Crypt {
    /// Builds from a comma-separated key list (blank entries ignored).
    ///
    /// # Errors
    /// [`CryptError::NoKey`] for an empty list, [`CryptError::InvalidKey`] naming
    /// the position of the first invalid key.
    pub fn from_key_list(list: &str) -> Result<Self, CryptError> {
        let mut fernets = Vec::new();
        for (i, key) in list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .enumerate()
        {
            let f = Fernet::new(key).ok_or(CryptError::InvalidKey { index: i + 1 })?;
            fernets.push(f);
        }
        let keys = fernets.len();
        let primary_key = list
            .split(',')
            .map(str::trim)
            .find(|k| !k.is_empty())
            .ok_or(CryptError::NoKey)?;
        let primary = Fernet::new(primary_key).ok_or(CryptError::InvalidKey { index: 1 })?;
        Ok(Self {
            primary,
            all: MultiFernet::new(fernets),
            keys,
        })
    }

    /// Number of configured keys.
    pub fn key_count(&self) -> usize {
        self.keys
    }

    /// Encrypts `plain` with the primary key, returning the Fernet token.
    pub fn encrypt(&self, plain: &[u8]) -> String {
        self.primary.encrypt(plain)
    }

    /// Decrypts a token with any configured key.
    ///
    /// # Errors
    /// [`CryptError::BadToken`] if no key accepts the token.
    pub fn decrypt(&self, token: &str) -> Result<Vec<u8>, CryptError> {
        self.all.decrypt(token).map_err(|_| CryptError::BadToken)
    }

    /// Generates a new random Fernet key (URL-safe base64).
    pub fn generate_key() -> String {
        Fernet::generate_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rotation() {
        let old = Crypt::generate_key();
        let new = Crypt::generate_key();
        let c_old = Crypt::from_key_list(&old).unwrap();
        let token = c_old.encrypt(b"alice@example.com");
        let rotated = Crypt::from_key_list(&format!("{new}, {old}")).unwrap();
        assert_eq!(rotated.decrypt(&token).unwrap(), b"alice@example.com");
        let t2 = rotated.encrypt(b"x");
        assert!(c_old.decrypt(&t2).is_err());
        assert_eq!(rotated.key_count(), 2);
    }

    #[test]
    fn refuses_bad_keys_without_echoing_them() {
        assert!(matches!(
            Crypt::from_key_list(" , "),
            Err(CryptError::NoKey)
        ));
        let good = Crypt::generate_key();
        let err = Crypt::from_key_list(&format!("{good},not-a-key")).unwrap_err();
        assert!(matches!(err, CryptError::InvalidKey { index: 2 }));
        assert!(!err.to_string().contains("not-a-key"));
    }
}
