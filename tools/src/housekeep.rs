//! The `housekeeping` CLI's logic: resolve settings (flags over env/.env over
//! defaults, validated by the gateway's own config code), run the gateway's
//! housekeeping library, print one line per action.

use std::io::Write;
use std::path::PathBuf;

use logops_gateway::config::{Config, ConfigError};
use logops_gateway::housekeeping::{self, first_kept_day, Mode, Report, Settings};
use time::Date;

use crate::env::EnvMap;

/// The configuration keys housekeeping reads (SPEC §4).
pub const KEYS: [&str; 4] = [
    "LOGOPS_RETENTION_DAYS",
    "LOGOPS_ARCHIVE_MODE",
    "LOGOPS_SINK_DIR",
    "LOGOPS_ARCHIVE_DIR",
];

/// Values given on the command line; `None` falls back to env/.env, then the default.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--retention-days`.
    pub retention_days: Option<u32>,
    /// `--mode`.
    pub mode: Option<Mode>,
    /// `--sink-dir`.
    pub sink_dir: Option<PathBuf>,
    /// `--archive-dir`.
    pub archive_dir: Option<PathBuf>,
}

/// The settings for one run.
///
/// Only the housekeeping keys of `env` are read, so a problem with an unrelated
/// key (say, the listen address) does not stop a cleanup.
///
/// # Errors
/// A housekeeping key of `env` that is not used by a flag has an invalid value;
/// the error names the key and what it accepts.
pub fn settings(env: &EnvMap, overrides: Overrides) -> Result<Settings, ConfigError> {
    let mut own = std::collections::HashMap::new();
    for key in KEYS {
        let overridden = match key {
            "LOGOPS_RETENTION_DAYS" => overrides.retention_days.is_some(),
            "LOGOPS_ARCHIVE_MODE" => overrides.mode.is_some(),
            "LOGOPS_SINK_DIR" => overrides.sink_dir.is_some(),
            _ => overrides.archive_dir.is_some(),
        };
        if let (false, Some(v)) = (overridden, env.vars().get(key)) {
            own.insert(key.to_string(), v.clone());
        }
    }
    let config = Config::from_map(&own)?.housekeeping.settings;
    Ok(Settings {
        sink_dir: overrides.sink_dir.unwrap_or(config.sink_dir),
        archive_dir: overrides.archive_dir.unwrap_or(config.archive_dir),
        retention_days: overrides.retention_days.unwrap_or(config.retention_days),
        mode: overrides.mode.unwrap_or(config.mode),
        chain: config.chain,
    })
}

/// Runs housekeeping as of `today`, printing each action's line to `out` and a
/// note to `note` when there was nothing to do. Returns the report.
///
/// # Errors
/// Writing to `out` or `note` failed.
pub fn run_and_print(
    settings: &Settings,
    today: Date,
    dry_run: bool,
    out: &mut impl Write,
    note: &mut impl Write,
) -> std::io::Result<Report> {
    let report = housekeeping::run(settings, today, dry_run);
    for action in &report.actions {
        writeln!(out, "{action}")?;
    }
    out.flush()?;
    if report.actions.is_empty() {
        match first_kept_day(today, settings.retention_days) {
            Some(day) => writeln!(
                note,
                "nothing to do: no day file before {day} in {}",
                settings.sink_dir.display()
            )?,
            None => writeln!(note, "nothing to do: retention reaches beyond the calendar")?,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        let mut vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // An env file that cannot exist keeps a stray `.env` in the cwd out of the test.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("empty.env");
        std::fs::write(&file, "").unwrap();
        vars.insert("LOGOPS_ENV_FILE".into(), file.display().to_string());
        EnvMap::from_parts(vars).unwrap()
    }

    #[test]
    fn defaults_then_env_then_flags() {
        let s = settings(&env(&[]), Overrides::default()).unwrap();
        assert_eq!(
            s,
            Settings {
                sink_dir: "./data/ingest".into(),
                archive_dir: "./data/archive".into(),
                retention_days: 7,
                mode: Mode::Delete,
                chain: None,
            }
        );
        let e = env(&[
            ("LOGOPS_RETENTION_DAYS", "3"),
            ("LOGOPS_ARCHIVE_MODE", "zip"),
            ("LOGOPS_SINK_DIR", "/var/logops"),
        ]);
        let s = settings(&e, Overrides::default()).unwrap();
        assert_eq!((s.retention_days, s.mode), (3, Mode::Zip));
        assert_eq!(s.sink_dir, PathBuf::from("/var/logops"));
        let flags = Overrides {
            retention_days: Some(0),
            mode: Some(Mode::Delete),
            sink_dir: None,
            archive_dir: Some("/a".into()),
        };
        let s = settings(&e, flags).unwrap();
        assert_eq!((s.retention_days, s.mode), (0, Mode::Delete));
        assert_eq!(s.archive_dir, PathBuf::from("/a"));
    }

    #[test]
    fn invalid_env_values_name_the_key_unless_a_flag_replaces_them() {
        let e = env(&[
            ("LOGOPS_ARCHIVE_MODE", "tar"),
            ("LOGOPS_LISTEN", "nonsense"),
        ]);
        let err = settings(&e, Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("LOGOPS_ARCHIVE_MODE"), "{err}");
        let flags = Overrides {
            mode: Some(Mode::Zip),
            ..Overrides::default()
        };
        assert_eq!(settings(&e, flags).unwrap().mode, Mode::Zip);
    }
}
