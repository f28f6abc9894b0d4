//! The list of known `LOGOPS_*` keys and the "did you mean" warning for the rest.

/// Every key the gateway, emitters and tools read (`.env.example` documents each).
pub const KNOWN_KEYS: &[&str] = &[
    "LOGOPS_LISTEN",
    "LOGOPS_LOG_FORMAT",
    "LOGOPS_LOG_LEVEL",
    "LOGOPS_ENV_FILE",
    "LOGOPS_MAX_BODY_BYTES",
    "LOGOPS_MAX_RECORDS",
    "LOGOPS_DEBUG_SAMPLE",
    "LOGOPS_DEBUG_SAMPLE_SIZE",
    "LOGOPS_MASK_PII",
    "LOGOPS_ENCRYPT_PII",
    "LOGOPS_SECRET_KEY",
    "LOGOPS_CHAIN",
    "LOGOPS_CHAIN_SIGNING_KEY",
    "LOGOPS_ENCRYPT_FIELDS",
    "LOGOPS_SINK_FILE",
    "LOGOPS_SINK_DIR",
    "LOGOPS_FSYNC",
    "LOGOPS_FSYNC_INTERVAL_MS",
    "LOGOPS_SINK_QUEUE_BYTES",
    "LOGOPS_MAX_LABEL_VALUES",
    "LOGOPS_MAX_CONNECTIONS",
    "LOGOPS_MAX_INFLIGHT",
    "LOGOPS_READ_TIMEOUT_MS",
    "LOGOPS_SHUTDOWN_TIMEOUT_SEC",
    "LOGOPS_RETENTION_DAYS",
    "LOGOPS_ARCHIVE_MODE",
    "LOGOPS_ARCHIVE_DIR",
    "LOGOPS_HOUSEKEEP_AUTORUN",
    "LOGOPS_HOUSEKEEP_INTERVAL_SEC",
    "LOGOPS_URL",
    "LOGOPS_AUTH",
    "LOGOPS_KEYS_FILE",
    "LOGOPS_AUTH_SKEW_SEC",
    "LOGOPS_AUTH_NONCE_CACHE",
    "LOGOPS_METRICS_AUTH",
    "LOGOPS_SYSLOG_TCP",
    "LOGOPS_SYSLOG_UDP",
    "LOGOPS_SYSLOG_MAX_MESSAGE",
    "LOGOPS_SYSLOG_BATCH",
    "LOGOPS_SYSLOG_FLUSH_MS",
    "LOGOPS_SYSLOG_TENANT",
    "LOGOPS_SYSLOG_MAX_CONNECTIONS",
    "LOGOPS_SYSLOG_IDLE_TIMEOUT_SEC",
    "LOGOPS_QUERY_MAX_BYTES",
    "LOGOPS_QUERY_MAX_LIMIT",
    "LOGOPS_MAX_TAILS",
    "LOGOPS_UI",
    "LOGOPS_TLS_CERT",
    "LOGOPS_TLS_KEY",
    "LOGOPS_TLS_CLIENT_CA",
    "LOGOPS_API_KEY",
    "LOGOPS_SECRET",
    "LOGOPS_FORWARD",
    "LOGOPS_CLICKHOUSE_URL",
    "LOGOPS_CLICKHOUSE_DATABASE",
    "LOGOPS_CLICKHOUSE_TABLE",
    "LOGOPS_CLICKHOUSE_USER",
    "LOGOPS_CLICKHOUSE_PASSWORD",
    "LOGOPS_CLICKHOUSE_COMPRESSION",
    "LOGOPS_FORWARD_BATCH_ROWS",
    "LOGOPS_FORWARD_BATCH_BYTES",
    "LOGOPS_FORWARD_BATCH_MS",
    "LOGOPS_FORWARD_BACKOFF_MAX_MS",
    "LOGOPS_FORWARD_TIMEOUT_MS",
    "LOGOPS_FORWARD_NICE",
];

/// One warning per unknown `LOGOPS_*` key, naming the closest known key.
pub fn unknown_key_warnings<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut unknown: Vec<&String> = keys
        .filter(|k| k.starts_with("LOGOPS_") && !KNOWN_KEYS.contains(&k.as_str()))
        .collect();
    unknown.sort();
    unknown
        .into_iter()
        .map(|k| {
            format!(
                "unknown configuration key {k}; did you mean {}?",
                closest(k)
            )
        })
        .collect()
}

/// Unknown `LOGOPS_*` keys of `keys` that look like `wanted` (at most three
/// edits away): named when `wanted` is missing, since a typo is the usual cause.
pub fn look_alikes<'a>(keys: impl Iterator<Item = &'a String>, wanted: &str) -> Vec<String> {
    let mut out: Vec<String> = keys
        .filter(|k| k.starts_with("LOGOPS_") && !KNOWN_KEYS.contains(&k.as_str()))
        .filter(|k| edit_distance(k, wanted) <= 3)
        .cloned()
        .collect();
    out.sort();
    out
}

/// Words that name the listen address in other tools' settings.
const LISTEN_WORDS: [&str; 5] = ["PORT", "HOST", "ADDR", "BIND", "ADDRESS"];

fn closest(key: &str) -> &'static str {
    let rest = key.trim_start_matches("LOGOPS_");
    if rest.split('_').any(|w| LISTEN_WORDS.contains(&w)) {
        return "LOGOPS_LISTEN";
    }
    KNOWN_KEYS
        .iter()
        .copied()
        .min_by_key(|known| edit_distance(key, known))
        .unwrap_or("LOGOPS_LISTEN")
}

/// Levenshtein distance over bytes (keys are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_key() {
        let keys = [
            "LOGOPS_FSNYC".to_string(),
            "LOGOPS_LISTEN".to_string(),
            "PATH".to_string(),
        ];
        let w = unknown_key_warnings(keys.iter());
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("LOGOPS_FSNYC") && w[0].contains("did you mean LOGOPS_FSYNC"),
            "{w:?}"
        );
        let w = unknown_key_warnings(["LOGOPS_PORT".to_string()].iter());
        assert!(w[0].contains("did you mean LOGOPS_LISTEN"), "{w:?}");
    }

    #[test]
    fn env_example_lists_every_key() {
        let example = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.example"));
        for key in KNOWN_KEYS {
            assert!(
                example.contains(&format!("{key}=")),
                "{key} missing from .env.example"
            );
        }
    }
}
