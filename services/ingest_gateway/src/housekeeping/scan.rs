//! Finding the expired day files of the sink directory.
//!
//! Only regular files named exactly `YYYYMMDD.ndjson` (a real calendar date)
//! are candidates; everything else in the directory (other names, directories,
//! symlinks, archives, temporary files) is never looked at again.

use std::io;
use std::path::{Path, PathBuf};

use time::{Date, Duration, Month};

/// Suffix of the sink's day files.
const SUFFIX: &str = ".ndjson";

/// A day file of the sink directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DayFile {
    /// The UTC day the file holds (from its name).
    pub day: Date,
    /// Full path of the file.
    pub path: PathBuf,
}

/// `YYYYMMDD` of `day`, the stem shared by day files and archives.
pub fn day_stem(day: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The day of a sink file name `YYYYMMDD.ndjson`; `None` for any other name
/// (wrong length, non-digits, impossible dates such as `20250230`).
pub fn parse_day_file_name(name: &str) -> Option<Date> {
    let stem = name.strip_suffix(SUFFIX)?;
    if stem.len() != 8 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = stem[0..4].parse().ok()?;
    let month: u8 = stem[4..6].parse().ok()?;
    let day: u8 = stem[6..8].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The first day that is kept: files of days strictly before it are expired.
///
/// `today − retention_days`; with retention 0 that is today itself, so today's
/// file (and any future one) is never expired. `None` when the subtraction
/// leaves the calendar's range, meaning nothing is expired.
pub fn first_kept_day(today: Date, retention_days: u32) -> Option<Date> {
    today.checked_sub(Duration::days(i64::from(retention_days)))
}

/// The expired day files of `dir`, oldest first.
///
/// # Errors
/// The I/O error of reading the directory or one of its entries.
pub(crate) fn expired_files(
    dir: &Path,
    today: Date,
    retention_days: u32,
) -> io::Result<Vec<DayFile>> {
    let Some(first_kept) = first_kept_day(today, retention_days) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(day) = entry.file_name().to_str().and_then(parse_day_file_name) else {
            continue;
        };
        // `DirEntry::file_type` does not follow symlinks: a link is not a file here.
        if day >= first_kept || day >= today || !entry.file_type()?.is_file() {
            continue;
        }
        files.push(DayFile {
            day,
            path: entry.path(),
        });
    }
    files.sort_by_key(|f| f.day);
    Ok(files)
}
