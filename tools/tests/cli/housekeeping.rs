//! `housekeeping` over sink directories with files of many dates.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{cmd, lines, names, run, stem, zip_entries};

const EXE: &str = env!("CARGO_BIN_EXE_housekeeping");

/// A working directory with `ingest/` holding day files at the given offsets
/// from today, plus names and entries that must never be touched.
fn setup(offsets: &[i64]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let sink = tmp.path().join("ingest");
    fs::create_dir(&sink).unwrap();
    for &off in offsets {
        fs::write(
            sink.join(format!("{}.ndjson", stem(off))),
            lines(&stem(off), 20),
        )
        .unwrap();
    }
    for odd in [
        "notes.txt",
        "2020010.ndjson",
        "20200101.ndjson.gz",
        "20201340.ndjson",
    ] {
        fs::write(sink.join(odd), "keep\n").unwrap();
    }
    fs::create_dir(sink.join("20200102.ndjson")).unwrap();
    (tmp, sink)
}

fn day_file(sink: &Path, off: i64) -> PathBuf {
    sink.join(format!("{}.ndjson", stem(off)))
}

#[test]
fn dry_run_then_zip_then_nothing_left_to_do() {
    let (tmp, sink) = setup(&[-30, -3, -1, 0, 1]);
    let archive = tmp.path().join("archive");
    let before = names(&sink);
    let base = [
        "--mode",
        "zip",
        "--retention-days",
        "1",
        "--sink-dir",
        "ingest",
        "--archive-dir",
        "archive",
    ];

    let dry = run(cmd(EXE, tmp.path()).args(base).arg("--dry-run"), b"");
    assert_eq!(dry.code, 0, "{dry:?}");
    let want: Vec<String> = [-30, -3]
        .iter()
        .map(|&o| {
            format!(
                "would archive ingest/{}.ndjson -> archive/{}.zip",
                stem(o),
                stem(o)
            )
        })
        .collect();
    assert_eq!(dry.stdout.lines().collect::<Vec<_>>(), want);
    assert_eq!(names(&sink), before);
    assert!(!archive.exists());

    let real = run(cmd(EXE, tmp.path()).args(base), b"");
    assert_eq!(real.code, 0, "{real:?}");
    let got: Vec<&str> = real.stdout.lines().collect();
    assert_eq!(got.len(), 2, "{got:?}");
    for (line, off) in got.iter().zip([-30, -3]) {
        assert!(
            line.starts_with(&format!(
                "archived ingest/{0}.ndjson -> archive/{0}.zip ({0}.ndjson, ",
                stem(off)
            )),
            "{line}"
        );
        let entries = zip_entries(&archive.join(format!("{}.zip", stem(off))));
        assert_eq!(
            entries,
            [(format!("{}.ndjson", stem(off)), lines(&stem(off), 20))]
        );
        assert!(!day_file(&sink, off).exists());
    }
    for off in [-1, 0, 1] {
        assert_eq!(
            fs::read_to_string(day_file(&sink, off)).unwrap(),
            lines(&stem(off), 20)
        );
    }
    assert_eq!(
        fs::read_to_string(sink.join("20201340.ndjson")).unwrap(),
        "keep\n"
    );
    assert!(sink.join("20200102.ndjson").is_dir());

    let again = run(cmd(EXE, tmp.path()).args(base), b"");
    assert_eq!((again.code, again.stdout.as_str()), (0, ""));
    assert!(again.stderr.starts_with("nothing to do"), "{again:?}");
}

#[test]
fn retention_zero_deletes_everything_but_today_and_later() {
    let (tmp, sink) = setup(&[-2, -1, 0, 1]);
    let out = run(
        cmd(EXE, tmp.path())
            .args(["--retention-days", "0", "--sink-dir"])
            .arg(&sink),
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("deleted "))
            .count(),
        2,
        "{out:?}"
    );
    assert!(!day_file(&sink, -1).exists() && !day_file(&sink, -2).exists());
    assert!(day_file(&sink, 0).exists() && day_file(&sink, 1).exists());
}

#[test]
fn settings_come_from_env_file_and_environment_wins() {
    let (tmp, sink) = setup(&[-9, -5, -2]);
    // .env: delete everything older than 1 day; the environment narrows it to 6.
    fs::write(
        tmp.path().join(".env"),
        "\u{feff}LOGOPS_SINK_DIR=ingest\nLOGOPS_RETENTION_DAYS=1\nLOGOPS_ARCHIVE_MODE=delete\n",
    )
    .unwrap();
    let out = run(
        cmd(EXE, tmp.path())
            .env("LOGOPS_RETENTION_DAYS", "6")
            .arg("--dry-run"),
        b"",
    );
    assert_eq!(
        out.stdout,
        format!("would delete ingest/{}.ndjson\n", stem(-9)),
        "{out:?}"
    );
    // LOGOPS_ENV_FILE names another file.
    let other = tmp.path().join("other.env");
    fs::write(
        &other,
        format!(
            "LOGOPS_SINK_DIR={}\nLOGOPS_RETENTION_DAYS=3\n",
            sink.display()
        ),
    )
    .unwrap();
    let out = run(cmd(EXE, tmp.path()).env("LOGOPS_ENV_FILE", &other), b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 2, "{out:?}");
    assert_eq!(
        names(&sink)
            .iter()
            .filter(|n| n.starts_with(&stem(-2)))
            .count(),
        1
    );
}

#[test]
fn invalid_configuration_is_refused_naming_the_key() {
    let (tmp, sink) = setup(&[-9]);
    let out = run(
        cmd(EXE, tmp.path()).env("LOGOPS_RETENTION_DAYS", "a week"),
        b"",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("LOGOPS_RETENTION_DAYS"), "{out:?}");
    let out = run(cmd(EXE, tmp.path()).args(["--mode", "tar"]), b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("expected `delete` or `zip`"), "{out:?}");
    assert!(day_file(&sink, -9).exists());
}

#[test]
fn a_failed_action_exits_1_and_the_others_still_run() {
    let (tmp, sink) = setup(&[-9, -8]);
    let archive = tmp.path().join("archive");
    fs::create_dir(&archive).unwrap();
    fs::write(archive.join(format!("{}.zip", stem(-9))), "not a zip").unwrap();
    let out = run(
        cmd(EXE, tmp.path()).args([
            "--mode",
            "zip",
            "--sink-dir",
            "ingest",
            "--archive-dir",
            "archive",
        ]),
        b"",
    );
    assert_eq!(out.code, 1, "{out:?}");
    let got: Vec<&str> = out.stdout.lines().collect();
    assert!(
        got[0].starts_with(&format!("failed ingest/{}.ndjson: zip archive", stem(-9))),
        "{got:?}"
    );
    assert!(
        got[1].starts_with(&format!("archived ingest/{}.ndjson", stem(-8))),
        "{got:?}"
    );
    assert!(day_file(&sink, -9).exists());
    assert_eq!(
        fs::read_to_string(archive.join(format!("{}.zip", stem(-9)))).unwrap(),
        "not a zip"
    );
}

#[test]
fn rerun_after_a_crash_between_archive_and_removal_finishes_without_duplicates() {
    let (tmp, sink) = setup(&[-9]);
    let archive = tmp.path().join("archive");
    let args = [
        "--mode",
        "zip",
        "--sink-dir",
        "ingest",
        "--archive-dir",
        "archive",
    ];
    let content = fs::read_to_string(day_file(&sink, -9)).unwrap();
    assert_eq!(run(cmd(EXE, tmp.path()).args(args), b"").code, 0);
    // The state a crash right after the archive's rename leaves: archive and source both there.
    fs::write(day_file(&sink, -9), &content).unwrap();
    let out = run(cmd(EXE, tmp.path()).args(args), b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("(already held as {}.ndjson)", stem(-9))),
        "{out:?}"
    );
    assert!(!day_file(&sink, -9).exists());
    let zip = archive.join(format!("{}.zip", stem(-9)));
    assert_eq!(
        zip_entries(&zip),
        [(format!("{}.ndjson", stem(-9)), content.clone())]
    );
    // New data for the same day later on joins the archive under its own name.
    fs::write(day_file(&sink, -9), "late\n").unwrap();
    assert_eq!(run(cmd(EXE, tmp.path()).args(args), b"").code, 0);
    assert_eq!(
        zip_entries(&zip),
        [
            (format!("{}.ndjson", stem(-9)), content),
            (format!("{}.1.ndjson", stem(-9)), "late\n".to_string())
        ]
    );
}
