//! The keys file (`LOGOPS_KEYS_FILE`, TOML; SPEC §8): who may send, as which
//! tenant, with which roles and limits. Parsed and validated as a whole; any
//! problem is refused with the file and the line, so a bad file never
//! replaces a good one.
//!
//! ```toml
//! [[key]]
//! id = "demo-pub-1"
//! secret = "demo-priv-1"
//! tenant = "acme"
//! roles = ["ingest"]
//! emitter = "json"
//! rate = { records_per_sec = 20000, burst = 100000, bytes_per_sec = 16777216 }
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::quota;
use crate::schema::Tenant;
use crate::secret::Secret;

/// Largest keys file read (a bigger one is refused, not truncated).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most keys in one file.
pub const MAX_KEYS: usize = 10_000;

/// What a key may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    /// Write batches (`ingest`).
    pub ingest: bool,
    /// Read its own tenant's records (`read`).
    pub read: bool,
    /// Read and write every tenant (`admin`).
    pub admin: bool,
}

impl Roles {
    /// May it write?
    pub fn can_ingest(self) -> bool {
        self.ingest || self.admin
    }

    /// May it read?
    pub fn can_read(self) -> bool {
        self.read || self.admin
    }

    /// Every role (`LOGOPS_AUTH=none`).
    pub fn all() -> Self {
        Roles {
            ingest: true,
            read: true,
            admin: true,
        }
    }
}

/// One configured key.
#[derive(Debug)]
pub struct ApiKey {
    /// What the client sends (`X-Api-Key`, the user of Basic, …).
    pub id: String,
    /// The HMAC secret, or in key mode the bearer token itself.
    pub secret: Secret,
    /// Whose records its batches are.
    pub tenant: Tenant,
    /// What it may do.
    pub roles: Roles,
    /// Forced emitter label of what it sends, if set.
    pub emitter: Option<String>,
    /// Its rate limits, if any.
    pub rate: Option<quota::Limits>,
}

/// A whole keys file, by id.
#[derive(Debug, Default)]
pub struct KeySet {
    /// Keys by id.
    pub by_id: HashMap<String, Arc<ApiKey>>,
}

/// Why a keys file was refused. Names the file and, where known, the line;
/// never a secret.
#[derive(Debug, thiserror::Error)]
#[error("keys file {}{}: {msg}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct KeysError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub msg: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    key: Vec<toml::Spanned<RawKey>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    id: String,
    secret: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    emitter: Option<String>,
    #[serde(default)]
    rate: Option<RawRate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRate {
    records_per_sec: f64,
    #[serde(default)]
    burst: Option<f64>,
    #[serde(default)]
    bytes_per_sec: Option<f64>,
}

/// Reads and validates `path`.
///
/// # Errors
/// [`KeysError`] for an unreadable, oversized or invalid file.
pub fn load(path: &Path) -> Result<KeySet, KeysError> {
    let err = |line: Option<usize>, msg: String| KeysError {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(
            None,
            format!("is {} bytes; the limit is {MAX_FILE_BYTES}", meta.len()),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    parse(&text).map_err(|(line, msg)| err(line, msg))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

/// Parses the text of a keys file: `Err((line, message))`.
fn parse(text: &str) -> Result<KeySet, (Option<usize>, String)> {
    let doc: Doc = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        (line, e.message().to_string())
    })?;
    if doc.key.len() > MAX_KEYS {
        return Err((
            None,
            format!("{} keys; the limit is {MAX_KEYS}", doc.key.len()),
        ));
    }
    let mut set = KeySet::default();
    for spanned in doc.key {
        let line = Some(line_of(text, spanned.span().start));
        let raw = spanned.into_inner();
        let fail = |msg: String| (line, msg);
        if !valid_id(&raw.id) {
            return Err(fail(format!(
                "key id {:?}: expected 1-128 of A-Z a-z 0-9 . _ - @",
                raw.id
            )));
        }
        if raw.secret.is_empty() || raw.secret.chars().any(char::is_control) {
            return Err(fail(format!(
                "key {}: the secret is empty or has control characters",
                raw.id
            )));
        }
        let tenant = match raw.tenant.as_deref() {
            None => Tenant::default(),
            Some(t) => Tenant::new(t).map_err(|e| fail(format!("key {}: {e}", raw.id)))?,
        };
        let mut roles = Roles::default();
        for r in raw.roles.unwrap_or_else(|| vec!["ingest".into()]) {
            match r.as_str() {
                "ingest" => roles.ingest = true,
                "read" => roles.read = true,
                "admin" => roles.admin = true,
                other => {
                    return Err(fail(format!(
                        "key {}: unknown role {other:?}: expected ingest, read or admin",
                        raw.id
                    )))
                }
            }
        }
        let rate = match raw.rate {
            None => None,
            Some(r) => {
                let burst = r.burst.unwrap_or(r.records_per_sec);
                let positive = |v: f64| v.is_finite() && v > 0.0;
                if !positive(r.records_per_sec)
                    || !positive(burst)
                    || r.bytes_per_sec.is_some_and(|b| !positive(b))
                {
                    return Err(fail(format!(
                        "key {}: rate values must be positive numbers",
                        raw.id
                    )));
                }
                Some(quota::Limits {
                    records_per_sec: r.records_per_sec,
                    burst,
                    bytes_per_sec: r.bytes_per_sec,
                })
            }
        };
        if let Some(e) = &raw.emitter {
            if e.is_empty() || e.chars().any(char::is_control) {
                return Err(fail(format!(
                    "key {}: emitter must be a non-empty label",
                    raw.id
                )));
            }
        }
        let key = ApiKey {
            id: raw.id.clone(),
            secret: Secret::new(raw.secret),
            tenant,
            roles,
            emitter: raw.emitter,
            rate,
        };
        if set.by_id.insert(raw.id.clone(), Arc::new(key)).is_some() {
            return Err(fail(format!("duplicate key id {:?}", raw.id)));
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[key]]
id = "demo-pub-1"
secret = "demo-priv-1"
tenant = "acme"
roles = ["ingest", "read"]
emitter = "json"
rate = { records_per_sec = 20000, burst = 100000, bytes_per_sec = 16777216 }

[[key]]
id = "ops"
secret = "s3cret"
roles = ["admin"]
"#;

    #[test]
    fn a_good_file() {
        let set = parse(GOOD).unwrap();
        let k = &set.by_id["demo-pub-1"];
        assert_eq!(k.tenant.as_str(), "acme");
        assert!(k.roles.can_ingest() && k.roles.can_read() && !k.roles.admin);
        assert_eq!(k.rate.unwrap().burst, 100000.0);
        assert!(set.by_id["ops"].tenant.is_default());
        assert!(
            !format!("{set:?}").contains("demo-priv-1"),
            "secrets stay out of Debug"
        );
    }

    #[test]
    fn problems_name_their_line() {
        let dup = format!("{GOOD}\n[[key]]\nid = \"ops\"\nsecret = \"x\"\n");
        assert_eq!(
            parse(&dup).unwrap_err(),
            (Some(15), "duplicate key id \"ops\"".into())
        );
        let bad_tenant = "[[key]]\nid = \"a\"\nsecret = \"b\"\ntenant = \"../etc\"\n";
        let (line, msg) = parse(bad_tenant).unwrap_err();
        assert_eq!(line, Some(1));
        assert!(msg.contains("invalid tenant"), "{msg}");
        let syntax = "[[key]]\nid = \"a\"\nsecret = \n";
        assert_eq!(parse(syntax).unwrap_err().0, Some(3));
        let unknown = "[[key]]\nid = \"a\"\nsecret = \"b\"\ncolour = 1\n";
        assert!(parse(unknown).unwrap_err().1.contains("colour"));
        let role = "[[key]]\nid = \"a\"\nsecret = \"b\"\nroles = [\"root\"]\n";
        assert!(parse(role).unwrap_err().1.contains("unknown role"));
        assert!(parse("[[key]]\nid = \"a:b\"\nsecret = \"b\"\n").is_err());
    }
}
