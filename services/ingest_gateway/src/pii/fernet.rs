//! Fernet (<https://github.com/fernet/spec>) composed from RustCrypto primitives,
//! built for the ingest hot path.
//!
//! Token = base64url(`0x80` ‖ timestamp u64 BE ‖ IV 16 ‖ AES-128-CBC-PKCS7(plain)
//! ‖ HMAC-SHA256(signing key, everything before)); key = base64url(signing key 16
//! ‖ encryption key 16). What makes it fast, compared with a textbook
//! implementation:
//! - the AES key schedules and the HMAC inner/outer states are computed once per
//!   key ([`FernetKey`]); a token clones the 2-block HMAC state instead of
//!   hashing the padded key twice;
//! - `aes` picks AES-NI at run time and `sha2` SHA-NI (via `cpufeatures`), so
//!   the same binary is fast where the CPU has them and correct where not;
//! - the token is streamed: header, ciphertext and tag pass through a stack
//!   buffer in chunks that are whole AES blocks, are MACed in order, and are
//!   base64-encoded straight into the caller's `String` (which is reserved to
//!   the exact length once). No heap allocation per token, whatever its size;
//! - the IV comes from the caller (see `crypt.rs`: a per-thread ChaCha20
//!   CSPRNG), so there is no system call per token, and tests can pin it.
//!
//! Decryption decodes the token once, checks version, length and timestamp,
//! verifies the HMAC in constant time for each key in turn (rotation), and only
//! then decrypts in place and strips the PKCS#7 padding.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use aes::{Aes128Dec, Aes128Enc};
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Decoded key length: signing key 16 ‖ encryption key 16.
pub(crate) const KEY_LEN: usize = 32;
/// Token version byte.
const VERSION: u8 = 0x80;
/// Version 1 + timestamp 8 + IV 16.
const HEADER: usize = 25;
/// AES block size.
const BLOCK: usize = 16;
/// HMAC-SHA256 tag.
const TAG: usize = 32;
/// Tokens stamped further than this in the future are refused (as in the spec
/// and the `fernet` crate this replaces).
pub(crate) const MAX_CLOCK_SKEW: u64 = 60;
/// Plaintext bytes encrypted per round trip through the stack buffer: whole
/// AES blocks. The buffer also holds the header (first round) or the 0–2 bytes
/// left over from base64's 3-byte groups, and the tag (last round).
/// Small, because the buffer is zeroed per token and most fields are short;
/// longer values just take more rounds.
const CHUNK: usize = 8 * BLOCK;

/// One Fernet key, expanded: AES-128 encryption and decryption schedules and
/// the keyed HMAC-SHA256 state. Never printed.
#[derive(Clone)]
pub(crate) struct FernetKey {
    mac: HmacSha256,
    enc: Aes128Enc,
    dec: Aes128Dec,
}

impl std::fmt::Debug for FernetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FernetKey(..)")
    }
}

/// Length in base64 characters of the token for a `plain_len`-byte plaintext.
pub(crate) fn token_len(plain_len: usize) -> usize {
    let raw = HEADER + (plain_len / BLOCK + 1) * BLOCK + TAG;
    raw.div_ceil(3) * 4
}

impl FernetKey {
    /// Parses a URL-safe base64 key (trailing `=` optional). `None` unless it
    /// decodes to exactly 32 bytes.
    pub(crate) fn from_base64(key: &str) -> Option<Self> {
        // A few spare bytes: `decode_slice` wants room for its own estimate.
        let mut raw = [0u8; KEY_LEN + 3];
        let n = URL_SAFE_NO_PAD
            .decode_slice(key.trim_end_matches('='), &mut raw)
            .ok()?;
        if n != KEY_LEN {
            return None;
        }
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(&raw[..KEY_LEN]);
        Some(Self::from_bytes(&bytes))
    }

    /// Expands raw key bytes (signing key ‖ encryption key).
    pub(crate) fn from_bytes(key: &[u8; KEY_LEN]) -> Self {
        let (sign, encrypt) = key.split_at(KEY_LEN / 2);
        let encrypt = GenericArray::from_slice(encrypt);
        Self {
            // HMAC takes keys of any length: this cannot fail.
            mac: <HmacSha256 as Mac>::new_from_slice(sign)
                .unwrap_or_else(|_| unreachable!("HMAC accepts any key length")),
            enc: Aes128Enc::new(encrypt),
            dec: Aes128Dec::new(encrypt),
        }
    }

    /// Appends the token for `plain`, stamped `now` (Unix seconds) with `iv`,
    /// to `out`. `iv` must be fresh and unpredictable for every token.
    pub(crate) fn encrypt_into_at(&self, plain: &[u8], now: u64, iv: &[u8; 16], out: &mut String) {
        out.reserve(token_len(plain.len()));
        let mut mac = self.mac.clone();
        let mut cbc = cbc::Encryptor::<&Aes128Enc>::inner_iv_init(&self.enc, iv.into());
        let mut buf = [0u8; HEADER + CHUNK + TAG];
        buf[0] = VERSION;
        buf[1..9].copy_from_slice(&now.to_be_bytes());
        buf[9..HEADER].copy_from_slice(iv);
        let mut fill = HEADER;
        let mut rest = plain;
        // Whole chunks: encrypt, then MAC and encode the part that is whole
        // base64 groups (so the pieces concatenate to the encoding of the
        // whole token), keeping the 0–2 remaining bytes for the next round.
        while rest.len() >= CHUNK {
            let (head, later) = rest.split_at(CHUNK);
            let chunk = &mut buf[fill..fill + CHUNK];
            chunk.copy_from_slice(head);
            encrypt_blocks(&mut cbc, chunk);
            fill += CHUNK;
            let whole = fill - fill % 3;
            mac.update(&buf[..whole]);
            URL_SAFE.encode_string(&buf[..whole], out);
            buf.copy_within(whole..fill, 0);
            fill -= whole;
            rest = later;
        }
        // Last (possibly empty) partial chunk with PKCS#7 padding (1–16 bytes
        // of the pad length: a full block when the length is a multiple of 16).
        let pad = BLOCK - rest.len() % BLOCK;
        let end = fill + rest.len() + pad;
        buf[fill..fill + rest.len()].copy_from_slice(rest);
        buf[fill + rest.len()..end].fill(pad as u8);
        encrypt_blocks(&mut cbc, &mut buf[fill..end]);
        mac.update(&buf[..end]);
        buf[end..end + TAG].copy_from_slice(&mac.finalize().into_bytes());
        URL_SAFE.encode_string(&buf[..end + TAG], out);
    }

    /// Verifies `tag` over `signed` in constant time.
    fn verifies(&self, signed: &[u8], tag: &[u8]) -> bool {
        self.mac
            .clone()
            .chain_update(signed)
            .verify_slice(tag)
            .is_ok()
    }
}

/// CBC-encrypts `data` (whole blocks) in place, continuing the chain. One call
/// for all blocks: the AES backend is selected and its round keys loaded once,
/// not per block.
fn encrypt_blocks(cbc: &mut cbc::Encryptor<&Aes128Enc>, data: &mut [u8]) {
    let (blocks, tail) = InOutBuf::from(data).into_chunks::<U16>();
    debug_assert!(tail.is_empty(), "CBC input must be whole blocks");
    cbc.encrypt_blocks_inout_mut(blocks);
}

/// Decrypts `token` with the first of `keys` whose HMAC matches. `now` is Unix
/// seconds; with `ttl` (seconds), tokens older than that are refused too.
/// `None` for anything wrong: encoding, version, length, timestamp, MAC,
/// padding — the caller reports one opaque error.
pub(crate) fn decrypt_at(
    keys: &[FernetKey],
    token: &str,
    now: u64,
    ttl: Option<u64>,
) -> Option<Vec<u8>> {
    let mut data = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let len = data.len();
    if len < HEADER + BLOCK + TAG
        || !(len - HEADER - TAG).is_multiple_of(BLOCK)
        || data[0] != VERSION
    {
        return None;
    }
    let mut stamp = [0u8; 8];
    stamp.copy_from_slice(&data[1..9]);
    let stamp = u64::from_be_bytes(stamp);
    if stamp > now.saturating_add(MAX_CLOCK_SKEW) {
        return None;
    }
    if ttl.is_some_and(|ttl| stamp.saturating_add(ttl) < now) {
        return None;
    }
    let (signed, tag) = data.split_at_mut(len - TAG);
    let key = keys.iter().find(|k| k.verifies(signed, tag))?;
    let (header, ciphertext) = signed.split_at_mut(HEADER);
    let iv = GenericArray::from_slice(&header[9..HEADER]);
    let plain_len = cbc::Decryptor::<&Aes128Dec>::inner_iv_init(&key.dec, iv)
        .decrypt_padded_mut::<Pkcs7>(ciphertext)
        .ok()?
        .len();
    data.copy_within(HEADER..HEADER + plain_len, 0);
    data.truncate(plain_len);
    Some(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::KeyIvInit;

    /// The spec's vectors (fernet/spec generate.json, verify.json, invalid.json
    /// at 20dead475f53f11d20592baf29ad697163afc0cd).
    const SPEC_SECRET: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    const SPEC_TOKEN: &str = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
    /// 1985-10-26T01:20:00-07:00.
    const SPEC_NOW: u64 = 499_162_800;
    const SPEC_IV: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    fn spec_key() -> FernetKey {
        FernetKey::from_base64(SPEC_SECRET).expect("spec key")
    }

    #[test]
    fn spec_now_is_the_documented_instant() {
        let t = time::OffsetDateTime::parse(
            "1985-10-26T01:20:00-07:00",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(t.unix_timestamp(), SPEC_NOW as i64);
    }

    #[test]
    fn spec_generate_vector() {
        let mut out = String::from("prefix:");
        spec_key().encrypt_into_at(b"hello", SPEC_NOW, &SPEC_IV, &mut out);
        assert_eq!(out, format!("prefix:{SPEC_TOKEN}"));
        assert_eq!(out.len() - "prefix:".len(), token_len(5));
    }

    #[test]
    fn spec_verify_vector() {
        let plain = decrypt_at(&[spec_key()], SPEC_TOKEN, SPEC_NOW + 1, Some(60));
        assert_eq!(plain.as_deref(), Some(&b"hello"[..]));
    }

    #[test]
    fn spec_invalid_vectors() {
        let now = SPEC_NOW + 1;
        let cases: [(&str, &str, u64); 8] = [
            ("incorrect mac", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==", now),
            ("too short", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==", now),
            ("invalid base64", "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==", now),
            ("payload size not multiple of block size", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm", now),
            ("payload padding error", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==", now),
            ("far-future TS (unacceptable clock skew)", "gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==", now),
            // 1985-10-26T01:21:31-07:00
            ("expired TTL", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==", SPEC_NOW + 91),
            ("incorrect IV (causes padding error)", "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==", now),
        ];
        for (desc, token, now) in cases {
            assert_eq!(
                decrypt_at(&[spec_key()], token, now, Some(60)),
                None,
                "{desc}"
            );
        }
        // The one that is only expired decrypts without a TTL (LogOps sets none).
        assert!(decrypt_at(&[spec_key()], cases[6].1, SPEC_NOW + 91, None).is_some());
    }

    /// The textbook construction, one buffer at a time, to check the streaming
    /// encoder against.
    fn reference_token(key: &[u8; KEY_LEN], plain: &[u8], now: u64, iv: &[u8; 16]) -> String {
        let mut raw = vec![VERSION];
        raw.extend_from_slice(&now.to_be_bytes());
        raw.extend_from_slice(iv);
        let start = raw.len();
        let padded = (plain.len() / BLOCK + 1) * BLOCK;
        raw.resize(start + padded, 0);
        let ct_len = cbc::Encryptor::<aes::Aes128>::new(key[16..].into(), iv.into())
            .encrypt_padded_b2b_mut::<Pkcs7>(plain, &mut raw[start..])
            .unwrap()
            .len();
        assert_eq!(ct_len, padded);
        let tag = <HmacSha256 as Mac>::new_from_slice(&key[..16])
            .unwrap()
            .chain_update(&raw)
            .finalize()
            .into_bytes();
        raw.extend_from_slice(&tag);
        URL_SAFE.encode(raw)
    }

    #[test]
    fn streaming_matches_the_reference_at_every_chunk_boundary() {
        let key_bytes: [u8; KEY_LEN] = std::array::from_fn(|i| (i * 7 + 3) as u8);
        let key = FernetKey::from_bytes(&key_bytes);
        let iv: [u8; 16] = std::array::from_fn(|i| (255 - i) as u8);
        let plain: Vec<u8> = (0..5 * CHUNK + 40).map(|i| (i * 31 % 251) as u8).collect();
        let lens = (0..=40)
            .chain((1..=4).flat_map(|k| k * CHUNK - 20..k * CHUNK + 20))
            .chain([5 * CHUNK + 40]);
        let mut out = String::new();
        for len in lens {
            out.clear();
            key.encrypt_into_at(&plain[..len], 1_700_000_000, &iv, &mut out);
            assert_eq!(
                out,
                reference_token(&key_bytes, &plain[..len], 1_700_000_000, &iv),
                "len {len}"
            );
            assert_eq!(out.len(), token_len(len), "len {len}");
            let back = decrypt_at(std::slice::from_ref(&key), &out, 1_700_000_000, None);
            assert_eq!(back.as_deref(), Some(&plain[..len]), "len {len}");
        }
    }

    #[test]
    fn rejects_structurally_bad_tokens() {
        let key = spec_key();
        let keys = std::slice::from_ref(&key);
        let now = SPEC_NOW + 1;
        assert!(decrypt_at(keys, SPEC_TOKEN, now, None).is_some());
        // Padding is optional on input (as before), but the base64 must be canonical.
        assert!(decrypt_at(keys, SPEC_TOKEN.trim_end_matches('='), now, None).is_some());
        let raw = URL_SAFE.decode(SPEC_TOKEN).unwrap();
        let mut bad_version = raw.clone();
        bad_version[0] = 0x81;
        let mut flipped = raw.clone();
        flipped[30] ^= 1;
        let mut truncated = raw.clone();
        truncated.truncate(raw.len() - 1);
        let short = raw[..HEADER + TAG].to_vec();
        for (what, bytes) in [
            ("version", bad_version),
            ("flipped ciphertext bit", flipped),
            ("one byte short", truncated),
            ("no ciphertext", short),
            ("empty", Vec::new()),
        ] {
            assert_eq!(
                decrypt_at(keys, &URL_SAFE.encode(&bytes), now, None),
                None,
                "{what}"
            );
        }
        for token in [
            "",
            "=",
            "gA",
            "not base64!",
            "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEw+GM4",
        ] {
            assert_eq!(decrypt_at(keys, token, now, None), None, "{token:?}");
        }
        // A token from another key, and the far future even without a TTL.
        let other = FernetKey::from_bytes(&[9; KEY_LEN]);
        assert_eq!(
            decrypt_at(std::slice::from_ref(&other), SPEC_TOKEN, now, None),
            None
        );
        assert_eq!(
            decrypt_at(keys, SPEC_TOKEN, SPEC_NOW - MAX_CLOCK_SKEW - 1, None),
            None
        );
        assert!(decrypt_at(keys, SPEC_TOKEN, SPEC_NOW - MAX_CLOCK_SKEW, None).is_some());
    }

    #[test]
    fn parses_keys_strictly() {
        assert!(FernetKey::from_base64(SPEC_SECRET).is_some());
        assert!(FernetKey::from_base64(SPEC_SECRET.trim_end_matches('=')).is_some());
        for bad in [
            "",
            "abc",
            "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e=",
            "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4e4=",
            "cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4=",
        ] {
            assert!(FernetKey::from_base64(bad).is_none(), "{bad:?}");
        }
        assert_eq!(format!("{:?}", spec_key()), "FernetKey(..)");
    }
}
