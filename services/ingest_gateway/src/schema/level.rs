//! The level map of SPEC §2.2: words, syslog severities, and what is neither.

use serde_json::Value;

/// The four normalized levels, in severity order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// `trace`, `debug`, severity 7.
    Debug = 0,
    /// `info`, `notice`, …, severities 5–6, and the default.
    Info = 1,
    /// `warn`, `warning`, severity 4.
    Warn = 2,
    /// `error`, `fatal`, `critical`, …, severities 0–3.
    Error = 3,
}

impl Level {
    /// All levels, in index order.
    pub const ALL: [Level; 4] = [Level::Debug, Level::Info, Level::Warn, Level::Error];

    /// The written form: `DEBUG`, `INFO`, `WARN`, `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// Index into per-level counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// A syslog severity 0–7.
    pub fn from_severity(n: u64) -> Option<Level> {
        match n {
            0..=3 => Some(Level::Error),
            4 => Some(Level::Warn),
            5 | 6 => Some(Level::Info),
            7 => Some(Level::Debug),
            _ => None,
        }
    }
}

const WORDS: &[(&str, Level)] = &[
    ("trace", Level::Debug),
    ("debug", Level::Debug),
    ("info", Level::Info),
    ("information", Level::Info),
    ("informational", Level::Info),
    ("notice", Level::Info),
    ("warn", Level::Warn),
    ("warning", Level::Warn),
    ("error", Level::Error),
    ("err", Level::Error),
    ("fatal", Level::Error),
    ("critical", Level::Error),
    ("crit", Level::Error),
    ("alert", Level::Error),
    ("emerg", Level::Error),
    ("emergency", Level::Error),
    ("panic", Level::Error),
];

/// A level word (trimmed, any case) → its level.
pub fn from_word(word: &str) -> Option<Level> {
    let word = word.trim();
    WORDS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(word))
        .map(|(_, l)| *l)
}

/// Is `word` one of the level words of SPEC §2.2 (any case)?
pub fn is_level_word(word: &str) -> bool {
    from_word(word).is_some()
}

/// A present level value → `Some(level)` when recognized, `None` when it must
/// become `INFO` with the original kept as `level_raw`.
pub fn map(value: &Value) -> Option<Level> {
    match value {
        Value::String(s) => {
            from_word(s).or_else(|| s.trim().parse::<u64>().ok().and_then(Level::from_severity))
        }
        Value::Number(n) => n.as_u64().and_then(Level::from_severity),
        _ => None,
    }
}

/// A syslog PRI number (facility × 8 + severity, 0–191), as a number or a
/// numeric string → the level of its severity; `None` for anything else.
pub fn from_pri(value: &Value) -> Option<Level> {
    let pri = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }?;
    (pri <= 191)
        .then(|| Level::from_severity(pri % 8))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pri_numbers() {
        assert_eq!(from_pri(&json!(14)), Some(Level::Info));
        assert_eq!(from_pri(&json!("11")), Some(Level::Error));
        assert_eq!(from_pri(&json!(191)), Some(Level::Debug));
        assert_eq!(from_pri(&json!(192)), None);
        assert_eq!(from_pri(&json!("warn")), None);
    }

    #[test]
    fn level_map_rows() {
        for (input, want) in [
            ("trace", "DEBUG"),
            (" Debug ", "DEBUG"),
            ("INFO", "INFO"),
            ("information", "INFO"),
            ("informational", "INFO"),
            ("notice", "INFO"),
            ("warn", "WARN"),
            ("Warning", "WARN"),
            ("error", "ERROR"),
            ("err", "ERROR"),
            ("fatal", "ERROR"),
            ("critical", "ERROR"),
            ("crit", "ERROR"),
            ("alert", "ERROR"),
            ("emerg", "ERROR"),
            ("emergency", "ERROR"),
            ("PANIC", "ERROR"),
        ] {
            assert_eq!(map(&json!(input)).map(Level::as_str), Some(want), "{input}");
        }
        for (n, want) in [
            (0, "ERROR"),
            (3, "ERROR"),
            (4, "WARN"),
            (5, "INFO"),
            (6, "INFO"),
            (7, "DEBUG"),
        ] {
            assert_eq!(map(&json!(n)).map(Level::as_str), Some(want));
        }
        for unknown in [
            json!("verbose"),
            json!(true),
            json!(8),
            json!(-1),
            json!(2.5),
            json!({"a":1}),
        ] {
            assert_eq!(map(&unknown), None, "{unknown}");
        }
    }
}
