//! Where the stack's files live and how they are read: every path is relative
//! to `infra/docker/`, YAML is read with `serde_norway` into `serde_json`
//! values so YAML and JSON files are walked the same way.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository root (the parent of the `tests` package).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `infra/docker/<rel>`.
pub fn docker(rel: &str) -> PathBuf {
    root().join("infra/docker").join(rel)
}

/// Text of `infra/docker/<rel>`; panics naming the file.
pub fn read(rel: &str) -> String {
    let path = docker(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `infra/docker/<rel>` parsed as YAML; panics naming the file and the error.
pub fn yaml(rel: &str) -> Value {
    serde_norway::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

/// `infra/docker/<rel>` parsed as JSON; panics naming the file and the error.
pub fn json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid JSON: {e}"))
}

/// A string field, or "" when absent / not a string.
pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}
