//! Fernet encryption of sensitive fields, with key rotation.
//!
//! `LOGOPS_SECRET_KEY` holds one key or a comma-separated list: the first key
//! encrypts, every key decrypts. Tokens are standard Fernet, so an operator can
//! recover a field with `logops-decrypt` or Python's `cryptography.fernet`.
//! Keys never appear in `Debug` output or error messages.
//!
//! The construction itself is in `pii/fernet.rs`; this file adds the key
//! list, the clock and the IVs. IVs come from a per-thread ChaCha20 CSPRNG
//! (`rand_chacha::ChaCha20Rng`, seeded once per thread from the OS): Fernet
//! needs a fresh unpredictable IV per token, and a CSPRNG gives that without a
//! `getrandom` system call per token. We use it rather than `rand`'s
//! `ThreadRng` (ChaCha12, reseeded every 64 KiB) because ChaCha20 is the
//! conservative choice for key-like material and reseeding buys nothing here:
//! an attacker who can read the generator's state can read the Fernet keys in
//! the same process memory. The gateway never forks, so no two processes share
//! a generator state.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use rand_chacha::rand_core::{OsRng, RngCore, SeedableRng, TryRngCore};
use rand_chacha::ChaCha20Rng;

use super::fernet::{self, FernetKey, KEY_LEN};

thread_local! {
    /// This thread's IV generator, seeded from the OS on first use.
    static IV_RNG: RefCell<ChaCha20Rng> = RefCell::new(ChaCha20Rng::from_os_rng());
}

/// A fresh random IV from this thread's CSPRNG.
fn fresh_iv() -> [u8; 16] {
    let mut iv = [0u8; 16];
    IV_RNG.with_borrow_mut(|rng| rng.fill_bytes(&mut iv));
    iv
}

/// Unix seconds now (0 if the clock is before 1970).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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
    /// Never empty; `keys[0]` encrypts.
    keys: Vec<FernetKey>,
}

impl std::fmt::Debug for Crypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypt")
            .field("keys", &self.keys.len())
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
        let keys = list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .enumerate()
            .map(|(i, key)| {
                FernetKey::from_base64(key).ok_or(CryptError::InvalidKey { index: i + 1 })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(CryptError::NoKey);
        }
        Ok(Self { keys })
    }

    /// Number of configured keys.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Encrypts `plain` with the primary key, returning the Fernet token.
    pub fn encrypt(&self, plain: &[u8]) -> String {
        let mut out = String::with_capacity(fernet::token_len(plain.len()));
        self.encrypt_into(plain, &mut out);
        out
    }

    /// Appends the Fernet token for `plain` (primary key, current time, fresh
    /// random IV) to `out`: no allocation beyond growing `out`.
    pub fn encrypt_into(&self, plain: &[u8], out: &mut String) {
        self.keys[0].encrypt_into_at(plain, unix_now(), &fresh_iv(), out);
    }

    /// Length of the token [`Crypt::encrypt`] makes for `plain_len` bytes.
    pub fn token_len(plain_len: usize) -> usize {
        fernet::token_len(plain_len)
    }

    /// Decrypts a token with any configured key.
    ///
    /// # Errors
    /// [`CryptError::BadToken`] if no key accepts the token (bad encoding,
    /// version, length, MAC or padding, or stamped more than a minute in the
    /// future).
    pub fn decrypt(&self, token: &str) -> Result<Vec<u8>, CryptError> {
        fernet::decrypt_at(&self.keys, token, unix_now(), None).ok_or(CryptError::BadToken)
    }

    /// Generates a new random Fernet key (URL-safe base64), straight from the OS
    /// random number generator.
    ///
    /// # Panics
    /// If the OS has no random numbers to give (not a state a running Linux
    /// system gets into).
    pub fn generate_key() -> String {
        let mut key = [0u8; KEY_LEN];
        OsRng
            .try_fill_bytes(&mut key)
            .expect("the OS random number generator failed");
        URL_SAFE.encode(key)
    }
}

#[cfg(test)]
mod tests {

    /// A missing Python is a failure in CI (scripts/test installs it), a note elsewhere.
    fn missing(what: &str) {
        let ci =
            std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0" | "no"));
        assert!(!ci, "{what} is required in CI (scripts/test installs it)");
        eprintln!("NOT RUN: {what} is not available here");
    }
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

    /// Made by Python's `cryptography` 48.0.0:
    /// `k = Fernet.generate_key(); Fernet(k).encrypt(b'alice@example.com')`.
    const PY_KEY: &str = "TriYpkWBYDITwrIttotRTHNurd_hNM10idcBWmHGJGg=";
    const PY_TOKEN: &str = "gAAAAABrDpnzSPCLB88uDiwfjEM7cCdkySCuebViDkpLx4AQ5i0x0xwV4C4MciEHUOlDsRQ4CWLzprY1_rhjN1QT00N8gEDLJ952B9pBcxFQftU56z2qX3s=";

    #[test]
    fn decrypts_a_token_made_by_python() {
        let crypt = Crypt::from_key_list(PY_KEY).unwrap();
        assert_eq!(crypt.decrypt(PY_TOKEN).unwrap(), b"alice@example.com");
        // As a second (rotated-out) key too.
        let rotated = Crypt::from_key_list(&format!("{},{PY_KEY}", Crypt::generate_key())).unwrap();
        assert_eq!(rotated.decrypt(PY_TOKEN).unwrap(), b"alice@example.com");
        let other = Crypt::from_key_list(&Crypt::generate_key()).unwrap();
        assert!(matches!(other.decrypt(PY_TOKEN), Err(CryptError::BadToken)));
    }

    #[test]
    fn encrypt_into_appends_and_tokens_differ() {
        let crypt = Crypt::from_key_list(&Crypt::generate_key()).unwrap();
        let mut out = String::from("{\"msg_enc\":\"");
        crypt.encrypt_into(b"bob@example.org", &mut out);
        let token = &out["{\"msg_enc\":\"".len()..];
        assert_eq!(token.len(), Crypt::token_len(15));
        assert_eq!(crypt.decrypt(token).unwrap(), b"bob@example.org");
        // Fresh IV per token: the same plaintext never gives the same token.
        let a = crypt.encrypt(b"same");
        let b = crypt.encrypt(b"same");
        assert_ne!(a, b);
        assert_ne!(a[34..], b[34..]);
        // IVs differ across threads too (each seeds its own generator).
        let from_thread =
            std::thread::scope(|s| s.spawn(|| crypt.encrypt(b"same")).join().unwrap());
        assert_ne!(from_thread[34..], a[34..]);
        assert_eq!(crypt.decrypt(&from_thread).unwrap(), b"same");
    }

    /// Python's `cryptography` decrypts our tokens of every length class that the
    /// streaming encoder treats differently (skipped when it is not installed;
    /// `tests/tests/pii.rs` checks the gateway's output the same way).
    #[test]
    fn python_decrypts_tokens_across_chunk_boundaries() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let script = "import sys\nfrom cryptography.fernet import Fernet\n\
            lines = sys.stdin.read().split()\nf = Fernet(lines[0].encode())\n\
            print(' '.join(str(len(f.decrypt(t.encode()))) for t in lines[1:]))\n";
        let Ok(mut child) = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            missing("python3");
            return;
        };
        let key = Crypt::generate_key();
        let crypt = Crypt::from_key_list(&key).unwrap();
        let lens = [0, 1, 15, 16, 17, 100, 511, 512, 513, 1023, 1024, 1025, 5000];
        let mut input = key.clone();
        for len in lens {
            input.push(' ');
            crypt.encrypt_into(&vec![b'x'; len], &mut input);
        }
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No module named") {
            missing("python3 with `cryptography`");
            return;
        }
        assert!(out.status.success(), "python: {stderr}");
        let want: Vec<String> = lens.iter().map(usize::to_string).collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want.join(" "));
    }

    #[test]
    fn key_lists_and_debug() {
        let (a, b) = (Crypt::generate_key(), Crypt::generate_key());
        assert_eq!(a.len(), 44);
        assert_ne!(a, b);
        let crypt = Crypt::from_key_list(&format!(" {a} ,, {b},")).unwrap();
        assert_eq!(crypt.key_count(), 2);
        let debug = format!("{crypt:?}");
        assert!(
            !debug.contains(&a[..20]) && !debug.contains(&b[..20]),
            "{debug}"
        );
        assert_eq!(debug, "Crypt { keys: 2, .. }");
        assert!(matches!(Crypt::from_key_list(""), Err(CryptError::NoKey)));
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
