//! PII handling: [`mask`] replaces emails and IP addresses with partial forms for
//! analytics; [`crypt`] keeps a recoverable Fernet token of the original values.

pub mod crypt;
pub mod mask;

pub use crypt::{Crypt, CryptError};
pub use mask::mask_str;
