//! PII handling: [`mask`] replaces emails and IP addresses with partial forms for
//! analytics; [`crypt`] keeps a recoverable Fernet token of the original values.

pub mod crypt;
pub(crate) mod fernet;
pub mod mask;

use std::sync::Arc;

pub use crypt::{Crypt, CryptError};
pub use mask::mask_str;

/// Default `LOGOPS_ENCRYPT_FIELDS`.
pub const DEFAULT_ENCRYPT_FIELDS: &str = "user_email,client_ip";

/// The PII section of the configuration, validated at load: with encryption
/// on, the key list has already been parsed into `crypt`.
#[derive(Debug, Clone)]
pub struct PiiConfig {
    /// `LOGOPS_MASK_PII`.
    pub mask: bool,
    /// `LOGOPS_ENCRYPT_PII` + `LOGOPS_SECRET_KEY`: the keys, when encryption is on.
    pub crypt: Option<Arc<Crypt>>,
    /// `LOGOPS_ENCRYPT_FIELDS`: fields that get a `<name>_enc` token and are masked.
    pub encrypt_fields: Vec<String>,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            mask: true,
            crypt: None,
            encrypt_fields: DEFAULT_ENCRYPT_FIELDS
                .split(',')
                .map(str::to_string)
                .collect(),
        }
    }
}
