//! Days a forwarder has not finished are held (docs/forwarding.md), in both modes,
//! and released once its position reaches the file's size.

use std::fs;

use time::macros::date;

use super::super::*;
use crate::forward::position::{self, Positions};
use crate::schema::Tenant;

const TODAY: Date = date!(2025 - 06 - 15);

/// Through the configuration, so settings added later get their defaults.
fn settings(root: &Path, mode: Mode) -> Settings {
    let env: std::collections::HashMap<String, String> = [
        ("LOGOPS_SINK_DIR", root.join("ingest").display().to_string()),
        (
            "LOGOPS_ARCHIVE_DIR",
            root.join("archive").display().to_string(),
        ),
        ("LOGOPS_RETENTION_DAYS", "1".to_string()),
        ("LOGOPS_ARCHIVE_MODE", mode.as_str().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    crate::config::Config::from_map(&env)
        .unwrap()
        .housekeeping
        .settings
}

#[test]
fn unforwarded_days_are_held_until_the_position_reaches_their_size() {
    for mode in [Mode::Delete, Mode::Zip] {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path(), mode);
        let acme = Tenant::new("acme").unwrap();
        fs::create_dir_all(s.sink_dir.join("acme")).unwrap();
        let old = date!(2025 - 06 - 01);
        let default_file = dayfile::path(&s.sink_dir, &Tenant::default(), old);
        let acme_file = dayfile::path(&s.sink_dir, &acme, old);
        fs::write(&default_file, b"{\"n\":1}\n{\"n\":2}\n").unwrap();
        fs::write(&acme_file, b"{\"n\":1}\n").unwrap();
        let pos_file = position::file(&s.sink_dir, "clickhouse");
        let mut p = Positions::default();
        p.set(&Tenant::default(), old, 8);
        p.save(&pos_file, "clickhouse").unwrap();

        let r = run(&s, TODAY, false);
        assert_eq!(r.count(ActionKind::Held), 2, "{mode}: {r:?}");
        assert!(default_file.exists() && acme_file.exists());
        let line = r.actions[0].to_string();
        assert!(
            line.starts_with("held ") && line.contains("clickhouse (8 of 16 bytes sent)"),
            "{line}"
        );
        assert_eq!(ActionKind::Held.metric_label(), Some("held_for_forwarding"));
        // A dry run says the same.
        assert_eq!(run(&s, TODAY, true).count(ActionKind::Held), 2);

        p.set(&Tenant::default(), old, 16);
        p.set(&acme, old, 8);
        p.save(&pos_file, "clickhouse").unwrap();
        let r = run(&s, TODAY, false);
        assert_eq!(r.count(ActionKind::Held), 0, "{mode}: {r:?}");
        assert_eq!(r.failed(), 0, "{r:?}");
        assert!(!default_file.exists() && !acme_file.exists());
        // The position files themselves are never touched.
        assert!(pos_file.exists());
    }
}

#[test]
fn an_unreadable_position_file_holds_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), Mode::Delete);
    fs::create_dir_all(s.sink_dir.join(position::DIR)).unwrap();
    let f = dayfile::path(&s.sink_dir, &Tenant::default(), date!(2025 - 06 - 01));
    fs::write(&f, b"{}\n").unwrap();
    fs::write(position::file(&s.sink_dir, "clickhouse"), b"not json").unwrap();
    let r = run(&s, TODAY, false);
    assert_eq!(r.count(ActionKind::Held), 1, "{r:?}");
    assert!(f.exists());
}
