//! The tools' view of configuration: the process environment over the `.env`
//! file, exactly as the gateway reads it (SPEC §6): `.env` in the working
//! directory, or the file named by `LOGOPS_ENV_FILE`; the environment wins; a
//! UTF-8 byte-order mark is ignored. Values are never printed.

use std::collections::HashMap;
use std::path::PathBuf;

pub use logops_gateway::config::ConfigError as EnvError;

/// Merged configuration variables.
#[derive(Debug, Clone, Default)]
pub struct EnvMap {
    vars: HashMap<String, String>,
    /// The env file that was read, if any.
    pub file: Option<PathBuf>,
}

impl EnvMap {
    /// The process environment over `.env` (or `$LOGOPS_ENV_FILE`).
    ///
    /// # Errors
    /// The env file exists but cannot be read or parsed, or `LOGOPS_ENV_FILE`
    /// names a file that does not exist.
    pub fn load() -> Result<Self, EnvError> {
        Self::from_parts(std::env::vars().collect())
    }

    /// Like [`EnvMap::load`], with `env` standing for the process environment.
    /// The merge is the gateway's own ([`logops_gateway::config::merge_env_file`]).
    ///
    /// # Errors
    /// As [`EnvMap::load`].
    pub fn from_parts(env: HashMap<String, String>) -> Result<Self, EnvError> {
        let (vars, file) = logops_gateway::config::merge_env_file(env)?;
        Ok(Self { vars, file })
    }

    /// The value of `key`, trimmed; `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// One warning per unknown `LOGOPS_*` key, naming the closest known one
    /// (the gateway's own check, so a typo is caught by every binary).
    pub fn warnings(&self) -> Vec<String> {
        logops_gateway::config::unknown_key_warnings(self.vars.keys())
    }

    /// [`EnvMap::load`], printing its warnings to stderr as `<tool>: warning: …`.
    ///
    /// # Errors
    /// As [`EnvMap::load`].
    pub fn load_warning(tool: &str) -> Result<Self, EnvError> {
        let env = Self::load()?;
        for w in env.warnings() {
            eprintln!("{tool}: warning: {w}");
        }
        Ok(env)
    }

    /// The raw variables (for the gateway's `Config::from_map`).
    pub fn vars(&self) -> &HashMap<String, String> {
        &self.vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_the_file_and_bom_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("custom.env");
        std::fs::write(&file, "\u{feff}LOGOPS_A=from-file\nLOGOPS_B=file-only\n").unwrap();
        let env = HashMap::from([
            ("LOGOPS_ENV_FILE".to_string(), file.display().to_string()),
            ("LOGOPS_A".to_string(), "from-env".to_string()),
        ]);
        let m = EnvMap::from_parts(env).unwrap();
        assert_eq!(m.get("LOGOPS_A"), Some("from-env"));
        assert_eq!(m.get("LOGOPS_B"), Some("file-only"));
        assert_eq!(m.file.as_deref(), Some(file.as_path()));
    }

    #[test]
    fn a_named_env_file_must_exist() {
        let env = HashMap::from([(
            "LOGOPS_ENV_FILE".to_string(),
            "/nonexistent/logops.env".to_string(),
        )]);
        let err = EnvMap::from_parts(env).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/logops.env"), "{err}");
    }
}
