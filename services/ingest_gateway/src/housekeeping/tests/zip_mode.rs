//! Zip mode: archives, existing archives, crashes and damaged entries.

use std::fs;

use time::macros::date;

use super::{lines, names, populate, settings, TODAY};
use crate::housekeeping::*;

#[test]
fn zip_moves_each_expired_day_into_its_archive() {
    let tmp = tempfile::tempdir().unwrap();
    populate(&tmp.path().join("ingest"));
    let s = settings(tmp.path(), 1, Mode::Zip);
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    assert_eq!(report.count(ActionKind::Archived), 3);
    assert_eq!(metric_action(&report.actions[0]), Some("archived"));
    assert_eq!(
        names(&s.archive_dir),
        ["20240229.zip", "20250601.zip", "20250613.zip"]
    );
    for day in ["20240229", "20250601", "20250613"] {
        let archive = s.archive_dir.join(format!("{day}.zip"));
        let entries = archive_entries(&archive).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, format!("{day}.ndjson"));
        assert_eq!(entries[0].crc32, crc32fast::hash(&lines(day, 50)));
        assert_eq!(
            read_entry(&archive, &entries[0].name).unwrap(),
            lines(day, 50)
        );
        assert!(!s.sink_dir.join(format!("{day}.ndjson")).exists());
    }
    let line = report.actions[2].to_string();
    let size = lines("20250613", 50).len();
    assert_eq!(
        line,
        format!(
            "archived {} -> {} (20250613.ndjson, {size} bytes)",
            s.sink_dir.join("20250613.ndjson").display(),
            s.archive_dir.join("20250613.zip").display()
        )
    );
    // A second run has nothing left to do.
    assert_eq!(run(&s, TODAY, false).actions, []);
}

#[test]
fn existing_archive_keeps_its_entries_and_names_stay_unique() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    fs::create_dir_all(&s.sink_dir).unwrap();
    let src = s.sink_dir.join("20250610.ndjson");

    fs::write(&src, lines("first", 10)).unwrap();
    run(&s, TODAY, false);
    // The day file comes back with other content (late data), twice.
    fs::write(&src, lines("second", 20)).unwrap();
    let r2 = run(&s, TODAY, false);
    assert_eq!(r2.count(ActionKind::Archived), 1, "{r2:?}");
    fs::write(&src, lines("third", 30)).unwrap();
    run(&s, TODAY, false);

    let archive = s.archive_dir.join("20250610.zip");
    let entries = archive_entries(&archive).unwrap();
    let got: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        got,
        ["20250610.ndjson", "20250610.1.ndjson", "20250610.2.ndjson"]
    );
    assert_eq!(
        read_entry(&archive, "20250610.ndjson").unwrap(),
        lines("first", 10)
    );
    assert_eq!(
        read_entry(&archive, "20250610.1.ndjson").unwrap(),
        lines("second", 20)
    );
    assert_eq!(
        read_entry(&archive, "20250610.2.ndjson").unwrap(),
        lines("third", 30)
    );
    assert!(!src.exists());
}

#[test]
fn foreign_entries_of_an_existing_archive_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    fs::create_dir_all(&s.sink_dir).unwrap();
    fs::create_dir_all(&s.archive_dir).unwrap();
    let archive = s.archive_dir.join("20250610.zip");
    {
        let mut w = zip::ZipWriter::new(fs::File::create(&archive).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("README.txt", opts).unwrap();
        std::io::Write::write_all(&mut w, b"operator notes").unwrap();
        w.finish().unwrap();
    }
    fs::write(s.sink_dir.join("20250610.ndjson"), lines("x", 5)).unwrap();
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    let got: Vec<String> = archive_entries(&archive)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(got, ["README.txt", "20250610.ndjson"]);
    assert_eq!(
        read_entry(&archive, "README.txt").unwrap(),
        b"operator notes"
    );
    assert_eq!(
        read_entry(&archive, "20250610.ndjson").unwrap(),
        lines("x", 5)
    );
}

#[test]
fn crash_after_archive_rename_is_finished_by_a_rerun_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    fs::create_dir_all(&s.sink_dir).unwrap();
    let src = s.sink_dir.join("20250610.ndjson");
    let content = lines("crash", 40);
    fs::write(&src, &content).unwrap();
    // The archive is written and renamed, then the process dies before the
    // source is removed: exactly the state of this step's outcome plus the source.
    let stem = day_stem(date!(2025 - 06 - 10));
    crate::housekeeping::archive::archive_day(&src, &stem, &s.archive_dir).unwrap();
    fs::write(&src, &content).unwrap();

    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    assert_eq!(report.actions[0].kind, ActionKind::Archived);
    assert!(report.actions[0]
        .detail
        .contains("already held as 20250610.ndjson"));
    assert!(!src.exists());
    let archive = s.archive_dir.join("20250610.zip");
    let entries = archive_entries(&archive).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(read_entry(&archive, "20250610.ndjson").unwrap(), content);
}

#[test]
fn a_damaged_entry_with_the_same_size_and_crc_is_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    fs::create_dir_all(&s.sink_dir).unwrap();
    fs::create_dir_all(&s.archive_dir).unwrap();
    let content = lines("damaged", 5);
    let archive = s.archive_dir.join("20250610.zip");
    {
        let mut w = zip::ZipWriter::new(fs::File::create(&archive).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("20250610.ndjson", opts).unwrap();
        std::io::Write::write_all(&mut w, &content).unwrap();
        w.finish().unwrap();
    }
    // Flip one stored byte: the recorded size and CRC still match the source.
    let mut bytes = fs::read(&archive).unwrap();
    let at = bytes
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .unwrap();
    bytes[at + 10] ^= 0x20;
    fs::write(&archive, &bytes).unwrap();
    fs::write(s.sink_dir.join("20250610.ndjson"), &content).unwrap();

    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    assert!(
        report.actions[0].detail.contains("(20250610.1.ndjson, "),
        "{report:?}"
    );
    let got: Vec<String> = archive_entries(&archive)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(got, ["20250610.ndjson", "20250610.1.ndjson"]);
    assert_eq!(read_entry(&archive, "20250610.1.ndjson").unwrap(), content);
}

#[test]
fn crash_before_rename_leaves_a_leftover_that_the_rerun_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    fs::create_dir_all(&s.sink_dir).unwrap();
    fs::create_dir_all(&s.archive_dir).unwrap();
    let src = s.sink_dir.join("20250610.ndjson");
    fs::write(&src, lines("a", 3)).unwrap();
    let leftover = s.archive_dir.join(".20250610.zip.424242.tmp");
    fs::write(&leftover, b"half a zip").unwrap();
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 0, "{report:?}");
    assert_eq!(names(&s.archive_dir), ["20250610.zip"]);
    assert_eq!(
        read_entry(&s.archive_dir.join("20250610.zip"), "20250610.ndjson").unwrap(),
        lines("a", 3)
    );
}

#[test]
fn unreadable_archive_fails_that_day_only_and_keeps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path(), 1, Mode::Zip);
    fs::create_dir_all(&s.sink_dir).unwrap();
    fs::create_dir_all(&s.archive_dir).unwrap();
    fs::write(s.archive_dir.join("20250610.zip"), b"not a zip").unwrap();
    fs::write(s.sink_dir.join("20250610.ndjson"), lines("a", 3)).unwrap();
    fs::write(s.sink_dir.join("20250611.ndjson"), lines("b", 3)).unwrap();
    let report = run(&s, TODAY, false);
    assert_eq!(report.failed(), 1, "{report:?}");
    assert_eq!(report.actions[0].kind, ActionKind::Failed);
    assert_eq!(metric_action(&report.actions[0]), Some("failed"));
    let line = report.actions[0].to_string();
    assert!(
        line.starts_with(&format!(
            "failed {}: zip archive ",
            s.sink_dir.join("20250610.ndjson").display()
        )),
        "{line}"
    );
    assert_eq!(report.actions[1].kind, ActionKind::Archived);
    assert_eq!(
        fs::read(s.sink_dir.join("20250610.ndjson")).unwrap(),
        lines("a", 3)
    );
    assert_eq!(
        fs::read(s.archive_dir.join("20250610.zip")).unwrap(),
        b"not a zip"
    );
    assert_eq!(names(&s.archive_dir), ["20250610.zip", "20250611.zip"]);
}
