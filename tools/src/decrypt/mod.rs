//! Recovering and rotating the encrypted fields of stored records.
//!
//! The gateway (with `LOGOPS_ENCRYPT_PII=true`) stores, next to each masked
//! field `<name>`, a Fernet token `<name>_enc` of the original value: `msg_enc`
//! for the message, one per `LOGOPS_ENCRYPT_FIELDS` entry. Decryption puts the
//! original back into `<name>` and drops `<name>_enc`; rotation re-encrypts each
//! token with the first key of the list so older keys can be retired.
//!
//! # Types of restored values
//! The gateway encrypts strings as they are and other values as compact JSON.
//! Masking keeps a field's type, so the stored `<name>` tells which it was: if
//! it is a string (or absent), the decrypted text is put back as a string;
//! otherwise the text is parsed back as JSON (kept as a string if it does not
//! parse). `msg` is always a string.
//!
//! # Layout
//! - this module: one record at a time ([`decrypt_record`], [`rotate_record`]).
//! - [`stream`]: NDJSON line by line, with `file:line` failure reports.
//! - [`rewrite`]: rotating a file in place, atomically.
//! - [`run`]: the CLI over its inputs (key loading, files and stdin).

pub mod rewrite;
pub mod run;
pub mod stream;

use std::collections::HashMap;

use logops_gateway::pii::Crypt;
use serde_json::{Map, Value};

/// Suffix of the token fields.
pub const ENC_SUFFIX: &str = "_enc";

/// A token field that could not be handled; the record keeps it unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// No configured key decrypts the token (wrong key, or a damaged token).
    #[error("field {field}: cannot decrypt")]
    BadToken {
        /// The token field, e.g. `user_email_enc`.
        field: String,
    },
    /// The field's value is not a string, so it cannot be a token.
    #[error("field {field}: token is not a string")]
    NotString {
        /// The token field.
        field: String,
    },
}

/// What happened to one record's token fields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Tokens decrypted (or re-encrypted).
    pub done: usize,
    /// Tokens left as they were.
    pub failed: Vec<FieldError>,
}

/// The field name a token field belongs to: `msg_enc` → `msg`.
pub fn token_target(key: &str) -> Option<&str> {
    key.strip_suffix(ENC_SUFFIX).filter(|name| !name.is_empty())
}

/// Whether `record` has any token field.
pub fn has_tokens(record: &Map<String, Value>) -> bool {
    record.keys().any(|k| token_target(k).is_some())
}

fn open_token(key: &str, value: &Value, crypt: &Crypt) -> Result<Vec<u8>, FieldError> {
    let Value::String(token) = value else {
        return Err(FieldError::NotString {
            field: key.to_string(),
        });
    };
    crypt.decrypt(token).map_err(|_| FieldError::BadToken {
        field: key.to_string(),
    })
}

/// The original value from its decrypted text, typed after the stored field.
fn restore(current: Option<&Value>, plain: Vec<u8>) -> Value {
    let text = match String::from_utf8(plain) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    match current {
        Some(v) if !v.is_string() => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        _ => Value::String(text),
    }
}

/// `record` with every decryptable `<name>_enc` put back into `<name>` (in
/// `<name>`'s place, or the token's place if `<name>` is absent) and dropped.
/// Other keys keep their order; failed tokens stay as they are.
pub fn decrypt_record(record: &Map<String, Value>, crypt: &Crypt) -> (Map<String, Value>, Outcome) {
    let mut outcome = Outcome::default();
    let mut restored: HashMap<&str, Value> = HashMap::new();
    let mut opened: Vec<&str> = Vec::new();
    for (key, value) in record {
        let Some(name) = token_target(key) else {
            continue;
        };
        match open_token(key, value, crypt) {
            Ok(plain) => {
                restored.insert(name, restore(record.get(name), plain));
                opened.push(key);
                outcome.done += 1;
            }
            Err(e) => outcome.failed.push(e),
        }
    }
    let mut out = Map::with_capacity(record.len());
    for (key, value) in record {
        if opened.contains(&key.as_str()) {
            let name = token_target(key).unwrap_or_default();
            if !record.contains_key(name) {
                if let Some(v) = restored.remove(name) {
                    out.insert(name.to_string(), v);
                }
            }
        } else if let Some(v) = restored.remove(key.as_str()) {
            out.insert(key.clone(), v);
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    (out, outcome)
}

/// Re-encrypts every token of `record` in place with the first key of `crypt`.
/// Tokens no key opens stay as they are.
pub fn rotate_record(record: &mut Map<String, Value>, crypt: &Crypt) -> Outcome {
    let mut outcome = Outcome::default();
    for (key, value) in record.iter_mut() {
        if token_target(key).is_none() {
            continue;
        }
        match open_token(key, value, crypt) {
            Ok(plain) => {
                *value = Value::String(crypt.encrypt(&plain));
                outcome.done += 1;
            }
            Err(e) => outcome.failed.push(e),
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test records are objects"),
        }
    }

    #[test]
    fn decrypt_restores_values_in_place_and_types_follow_the_stored_field() {
        let crypt = Crypt::from_key_list(&Crypt::generate_key()).unwrap();
        let rec = obj(json!({
            "ts": "2025-01-01T00:00:00Z", "level": "INFO", "msg": "login a***@example.com",
            "user_email": "a***@example.com", "client_ip": "10.1.x.x", "attempts": 3,
            "msg_enc": crypt.encrypt(b"login alice@example.com"),
            "user_email_enc": crypt.encrypt(b"alice@example.com"),
            "client_ip_enc": crypt.encrypt(b"10.1.2.3"),
            "attempts_enc": crypt.encrypt(b"3"),
            "card_enc": crypt.encrypt(b"{\"last4\":\"1234\"}"),
        }));
        let (out, outcome) = decrypt_record(&rec, &crypt);
        assert_eq!(
            outcome,
            Outcome {
                done: 5,
                failed: vec![]
            }
        );
        let keys: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ts",
                "level",
                "msg",
                "user_email",
                "client_ip",
                "attempts",
                "card"
            ]
        );
        assert_eq!(out["msg"], "login alice@example.com");
        assert_eq!(out["user_email"], "alice@example.com");
        assert_eq!(out["client_ip"], "10.1.2.3");
        assert_eq!(out["attempts"], json!(3));
        // No stored field to take the type from: the text stays a string.
        assert_eq!(out["card"], "{\"last4\":\"1234\"}");
    }

    #[test]
    fn failed_tokens_are_reported_and_kept() {
        let crypt = Crypt::from_key_list(&Crypt::generate_key()).unwrap();
        let other = Crypt::from_key_list(&Crypt::generate_key()).unwrap();
        let foreign = other.encrypt(b"secret");
        let rec = obj(json!({"msg": "m", "msg_enc": foreign, "n_enc": 5, "_enc": "x"}));
        let (out, outcome) = decrypt_record(&rec, &crypt);
        assert_eq!(out, rec);
        assert_eq!(
            outcome.failed,
            [
                FieldError::BadToken {
                    field: "msg_enc".into()
                },
                FieldError::NotString {
                    field: "n_enc".into()
                }
            ]
        );
        assert_eq!(
            outcome.failed[0].to_string(),
            "field msg_enc: cannot decrypt"
        );
    }

    #[test]
    fn rotation_reencrypts_with_the_first_key_only() {
        let (old, new) = (Crypt::generate_key(), Crypt::generate_key());
        let old_only = Crypt::from_key_list(&old).unwrap();
        let both = Crypt::from_key_list(&format!("{new},{old}")).unwrap();
        let new_only = Crypt::from_key_list(&new).unwrap();
        let mut rec = obj(json!({"msg": "x", "msg_enc": old_only.encrypt(b"hello"), "k": 1}));
        let outcome = rotate_record(&mut rec, &both);
        assert_eq!(outcome.done, 1);
        let token = rec["msg_enc"].as_str().unwrap();
        assert_eq!(new_only.decrypt(token).unwrap(), b"hello");
        assert!(old_only.decrypt(token).is_err());
        assert_eq!(rec.keys().collect::<Vec<_>>(), ["msg", "msg_enc", "k"]);
    }
}
