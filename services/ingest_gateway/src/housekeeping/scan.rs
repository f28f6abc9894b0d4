//! Finding the expired day files of the sink directory.
//!
//! Only regular files named exactly `YYYYMMDD.ndjson` (a real calendar date)
//! are candidates; everything else in the directory (other names, directories,
//! symlinks, archives, temporary files) is never looked at again.

use std::io;
use std::path::Path;

use time::{Date, Duration};

use crate::dayfile::{self, Entry};

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
) -> io::Result<Vec<Entry>> {
    let Some(first_kept) = first_kept_day(today, retention_days) else {
        return Ok(Vec::new());
    };
    let mut files = dayfile::list(dir)?;
    files.retain(|f| f.day < first_kept && f.day < today);
    Ok(files)
}
