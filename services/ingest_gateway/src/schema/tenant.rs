//! [`Tenant`]: whose records these are. Validated once, so a tenant name can be
//! used as a directory name without further checks (no `/`, no `..`).

use std::fmt;

/// A tenant name: `[a-z0-9][a-z0-9_-]{0,62}`. `default` is the tenant of
/// unauthenticated deployments; its files stay at the sink directory's top.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant(String);

/// A tenant name that does not match `[a-z0-9][a-z0-9_-]{0,62}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant name {0:?}: expected [a-z0-9][a-z0-9_-]{{0,62}}")]
pub struct InvalidTenant(pub String);

impl Tenant {
    /// The name of the default tenant.
    pub const DEFAULT_NAME: &'static str = "default";

    /// The default tenant.
    pub fn default_tenant() -> Self {
        Tenant(Self::DEFAULT_NAME.to_string())
    }

    /// Validates `name`.
    ///
    /// # Errors
    /// [`InvalidTenant`] when it does not match the pattern.
    pub fn new(name: &str) -> Result<Self, InvalidTenant> {
        let b = name.as_bytes();
        let first_ok = b
            .first()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = b[1.min(b.len())..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if first_ok && rest_ok && b.len() <= 63 {
            Ok(Tenant(name.to_string()))
        } else {
            Err(InvalidTenant(name.to_string()))
        }
    }

    /// Is this the default tenant?
    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT_NAME
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Tenant {
    fn default() -> Self {
        Self::default_tenant()
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["default", "acme", "a", "team-1_x", &"a".repeat(63)] {
            assert!(Tenant::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_a",
            "A",
            "a/b",
            "..",
            "a.b",
            &"a".repeat(64),
            "é",
        ] {
            assert!(Tenant::new(bad).is_err(), "{bad}");
        }
        assert!(Tenant::default().is_default());
    }
}
