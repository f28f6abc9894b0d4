//! Housekeeping over temporary sink directories with a pinned "today":
//! fixtures, delete mode, retention, dry runs, parsing and the autorun loop.
//! Zip mode is in `zip_mode`.

mod forward_hold;
mod zip_mode;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use time::macros::date;

use super::*;

const TODAY: Date = date!(2025 - 06 - 15);

/// Day files (past, today, future) and things that must never be touched.
fn populate(sink: &Path) {
    fs::create_dir_all(sink).unwrap();
    for day in [
        "20240229", "20250601", "20250613", "20250614", "20250615", "20250616",
    ] {
        fs::write(sink.join(format!("{day}.ndjson")), lines(day, 50)).unwrap();
    }
    for bad in [
        "2025061.ndjson",
        "20250230.ndjson",
        "20250101.ndjson.bak",
        "20250101.NDJSON",
        "x20250101.ndjson",
        "notes.txt",
    ] {
        fs::write(sink.join(bad), b"keep me\n").unwrap();
    }
    fs::create_dir(sink.join("20250102.ndjson")).unwrap();
    let target = sink.parent().unwrap().join("elsewhere.ndjson");
    fs::write(&target, b"target\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, sink.join("20250103.ndjson")).unwrap();
}

fn lines(day: &str, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{{\"ts\":\"{day}\",\"level\":\"INFO\",\"msg\":\"line {i}\"}}\n"))
        .collect::<String>()
        .into_bytes()
}

/// Every file under `dir` (recursively) with its content, for before/after comparisons.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = path.strip_prefix(dir).unwrap().display().to_string();
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            for (k, v) in snapshot(&path) {
                out.insert(format!("{name}/{k}"), v);
            }
        } else if ft.is_symlink() {
            out.insert(
                name,
                fs::read_link(&path)
                    .unwrap()
                    .display()
                    .to_string()
                    .into_bytes(),
            );
        } else {
            out.insert(name, fs::read(&path).unwrap());
        }
    }
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn settings(root: &Path, retention_days: u32, mode: Mode) -> Settings {
    Settings {
        sink_dir: root.join("ingest"),
        archive_dir: root.join("archive"),
        retention_days,
        mode,
        chain: None,
    }
}

fn acted_days(report: &Report) -> Vec<String> {
    report
        .actions
        .iter()
        .map(|a| a.file.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

const UNTOUCHABLE: [&str; 11] = [
    "20250102.ndjson",
    "20250103.ndjson",
    "20250101.NDJSON",
    "20250101.ndjson.bak",
    "20250230.ndjson",
    "2025061.ndjson",
    "20250615.ndjson",
    "20250616.ndjson",
    "notes.txt",
    "x20250101.ndjson",
    "20250614.ndjson",
];

#[test]
fn delete_with_retention_one_keeps_yesterday_today_future_and_odd_names() {
    let tmp = tempfile::tempdir().unwrap();
    populate(&tmp.path().join("ingest"));
    let s = settings(tmp.path(), 1, Mode::Delete);
    let before = snapshot(&s.sink_dir);
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    assert_eq!(
        acted_days(&report),
        ["20240229.ndjson", "20250601.ndjson", "20250613.ndjson"]
    );
    assert!(report.actions.iter().all(|a| a.kind == ActionKind::Deleted));
    let after = snapshot(&s.sink_dir);
    for name in UNTOUCHABLE {
        assert_eq!(after.get(name), before.get(name), "{name} changed");
    }
    assert_eq!(after.len(), before.len() - 3);
    assert!(
        !s.archive_dir.exists(),
        "delete mode created the archive dir"
    );
    assert_eq!(
        fs::read(tmp.path().join("elsewhere.ndjson")).unwrap(),
        b"target\n"
    );
}

#[test]
fn retention_zero_deletes_yesterday_but_never_today() {
    let tmp = tempfile::tempdir().unwrap();
    populate(&tmp.path().join("ingest"));
    let s = settings(tmp.path(), 0, Mode::Delete);
    let report = run(&s, TODAY, false);
    assert_eq!(
        acted_days(&report),
        [
            "20240229.ndjson",
            "20250601.ndjson",
            "20250613.ndjson",
            "20250614.ndjson"
        ]
    );
    let left = names(&s.sink_dir);
    assert!(left.contains(&"20250615.ndjson".to_string()));
    assert!(left.contains(&"20250616.ndjson".to_string()));
    assert_eq!(
        fs::read(s.sink_dir.join("20250615.ndjson")).unwrap(),
        lines("20250615", 50)
    );
}

#[test]
fn retention_n_counts_whole_days() {
    let tmp = tempfile::tempdir().unwrap();
    populate(&tmp.path().join("ingest"));
    // First kept day is 2025-06-01: that file stays, older ones go.
    let s = settings(tmp.path(), 14, Mode::Delete);
    assert_eq!(first_kept_day(TODAY, 14), Some(date!(2025 - 06 - 01)));
    assert_eq!(acted_days(&run(&s, TODAY, false)), ["20240229.ndjson"]);
    assert!(s.sink_dir.join("20250601.ndjson").exists());
    // A retention beyond the calendar expires nothing.
    assert_eq!(
        run(&settings(tmp.path(), u32::MAX, Mode::Delete), TODAY, false).actions,
        []
    );
}

#[test]
fn dry_run_changes_nothing_in_either_mode() {
    for mode in [Mode::Delete, Mode::Zip] {
        let tmp = tempfile::tempdir().unwrap();
        populate(&tmp.path().join("ingest"));
        let s = settings(tmp.path(), 1, mode);
        let before = snapshot(tmp.path());
        let report = run(&s, TODAY, true);
        assert_eq!(snapshot(tmp.path()), before, "{mode} dry run changed files");
        let want = match mode {
            Mode::Delete => ActionKind::WouldDelete,
            Mode::Zip => ActionKind::WouldArchive,
        };
        assert_eq!(report.actions.len(), 3);
        assert!(report
            .actions
            .iter()
            .all(|a| a.kind == want && metric_action(a).is_none()));
        let line = report.actions[2].to_string();
        match mode {
            Mode::Delete => assert_eq!(
                line,
                format!(
                    "would delete {}",
                    s.sink_dir.join("20250613.ndjson").display()
                )
            ),
            Mode::Zip => assert_eq!(
                line,
                format!(
                    "would archive {} -> {}",
                    s.sink_dir.join("20250613.ndjson").display(),
                    s.archive_dir.join("20250613.zip").display()
                )
            ),
        }
    }
}

#[test]
fn missing_sink_dir_is_one_failed_action() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Delete);
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 1);
    assert_eq!(report.actions[0].file, s.sink_dir);
    assert!(report.actions[0]
        .detail
        .starts_with("cannot read sink directory"));
}

#[test]
fn names_modes_and_days_parse_strictly() {
    assert_eq!("zip".parse::<Mode>(), Ok(Mode::Zip));
    assert_eq!(" Delete ".parse::<Mode>(), Ok(Mode::Delete));
    let err = "archive".parse::<Mode>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid archive mode `archive`: expected `delete` or `zip`"
    );
    assert_eq!(Mode::Zip.to_string(), "zip");
    assert_eq!(
        parse_day_file_name("20240229.ndjson"),
        Some(date!(2024 - 02 - 29))
    );
    for bad in [
        "20230229.ndjson",
        "2024022.ndjson",
        "2024-02-29.ndjson",
        "20240229.json",
        "+2024022.ndjson",
    ] {
        assert_eq!(parse_day_file_name(bad), None, "{bad}");
    }
    assert_eq!(day_stem(date!(2025 - 01 - 05)), "20250105");
}

#[tokio::test]
async fn autorun_runs_at_start_then_every_interval_until_shutdown() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 0, Mode::Delete);
    fs::create_dir_all(&s.sink_dir).unwrap();
    fs::write(s.sink_dir.join("20000101.ndjson"), b"old\n").unwrap();

    // Interval zero: one run at start, then return without waiting for shutdown.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    autorun(
        s.clone(),
        Duration::ZERO,
        move |r: &Report| tx.send(r.clone()).unwrap(),
        std::future::pending(),
    )
    .await;
    let first = rx.recv().await.unwrap();
    assert_eq!(acted_days(&first), ["20000101.ndjson"]);
    assert!(rx.recv().await.is_none(), "ran more than once");

    // With an interval: a second run picks up a file that appeared meanwhile.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(autorun(
        s.clone(),
        Duration::from_millis(10),
        move |r: &Report| {
            let _ = tx.send(r.clone());
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    assert_eq!(rx.recv().await.unwrap().actions, []);
    fs::write(s.sink_dir.join("20000102.ndjson"), b"old\n").unwrap();
    loop {
        let r = rx.recv().await.unwrap();
        if !r.actions.is_empty() {
            assert_eq!(acted_days(&r), ["20000102.ndjson"]);
            break;
        }
    }
    stop_tx.send(()).unwrap();
    task.await.unwrap();
    assert!(names(&s.sink_dir).is_empty());
}

#[test]
fn every_tenant_directory_is_kept_to_the_retention_and_archived_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = tmp.path().join("ingest");
    populate(&sink);
    let acme = sink.join("acme");
    fs::create_dir_all(&acme).unwrap();
    fs::write(acme.join("20250601.ndjson"), lines("acme-old", 3)).unwrap();
    fs::write(acme.join("20250615.ndjson"), lines("acme-today", 3)).unwrap();
    // Not a tenant name: never looked into.
    fs::create_dir_all(sink.join("Not_A_Tenant")).unwrap();
    fs::write(sink.join("Not_A_Tenant/20250601.ndjson"), b"keep\n").unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    assert!(!acme.join("20250601.ndjson").exists());
    assert!(acme.join("20250615.ndjson").exists(), "today's file stays");
    let entries = archive_entries(&s.archive_dir.join("acme/20250601.zip")).unwrap();
    assert_eq!(entries.len(), 1, "the tenant's archive is its own");
    assert!(
        s.archive_dir.join("20250601.zip").exists(),
        "the default tenant's archive"
    );
    assert!(sink.join("Not_A_Tenant/20250601.ndjson").exists());
}
