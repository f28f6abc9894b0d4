//! Where the sink's data lives on disk: one `YYYYMMDD.ndjson` per UTC day, per
//! tenant. The single definition of the naming and the directory layout, used
//! by the writer, start-up repair, housekeeping and the operator tools.
//!
//! Layout (SPEC §4, §8): the `default` tenant's files are at the sink
//! directory's top (`<sink>/<YYYYMMDD>.ndjson`, unchanged for existing
//! deployments); tenant `T` writes `<sink>/T/<YYYYMMDD>.ndjson`. A tenant name
//! is validated ([`Tenant`]) so it is always one safe path component.

use std::io;
use std::path::{Path, PathBuf};

use time::{Date, Month};

use crate::schema::Tenant;

/// Suffix of a day file.
pub const SUFFIX: &str = ".ndjson";

/// `YYYYMMDD` of `day`, the stem shared by day files and their archives.
pub fn stem(day: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// `YYYYMMDD.ndjson`.
pub fn file_name(day: Date) -> String {
    let mut name = stem(day);
    name.push_str(SUFFIX);
    name
}

/// The day of a stem `YYYYMMDD`; `None` for anything else, impossible dates
/// (`20250230`) included.
pub fn parse_stem(stem: &str) -> Option<Date> {
    if stem.len() != 8 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = stem[0..4].parse().ok()?;
    let month: u8 = stem[4..6].parse().ok()?;
    let day: u8 = stem[6..8].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The day of a file name `YYYYMMDD.ndjson`; `None` for any other name.
pub fn parse_file_name(name: &str) -> Option<Date> {
    parse_stem(name.strip_suffix(SUFFIX)?)
}

/// The directory holding `tenant`'s day files under the sink directory `root`.
pub fn tenant_dir(root: &Path, tenant: &Tenant) -> PathBuf {
    if tenant.is_default() {
        root.to_path_buf()
    } else {
        root.join(tenant.as_str())
    }
}

/// The tenants with a directory under the sink directory `root`: the default
/// tenant (`root` itself) first, then every subdirectory named like a tenant
/// (other names, and symlinks, are never followed).
///
/// # Errors
/// The I/O error of reading `root`.
pub fn tenant_dirs(root: &Path) -> io::Result<Vec<(Tenant, PathBuf)>> {
    let mut out = vec![(Tenant::default(), root.to_path_buf())];
    let mut named = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let Some(tenant) = entry.file_name().to_str().and_then(|n| Tenant::new(n).ok()) else {
            continue;
        };
        if !tenant.is_default() && entry.file_type()?.is_dir() {
            named.push((tenant, entry.path()));
        }
    }
    named.sort();
    out.extend(named);
    Ok(out)
}

/// The path of `tenant`'s file of `day`.
pub fn path(root: &Path, tenant: &Tenant, day: Date) -> PathBuf {
    tenant_dir(root, tenant).join(file_name(day))
}

/// The lock file of a sink directory. A running gateway holds an exclusive
/// lock on it for its whole life; a tool that rewrites a day file in place
/// (`logops-decrypt --rotate --include-today`) takes it too, so the two never
/// work on the same files at once.
pub const LOCK_FILE: &str = ".logops.lock";

/// Takes the exclusive lock of the sink directory `root` (creating the lock
/// file). `Ok(None)` when another process holds it. The lock lasts as long
/// as the returned file is open.
///
/// # Errors
/// The lock file cannot be created or locked for another reason.
pub fn try_lock(root: &Path) -> io::Result<Option<std::fs::File>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A day file found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The UTC day the file holds (from its name).
    pub day: Date,
    /// Full path of the file.
    pub path: PathBuf,
}

/// The day files of `dir` (regular files named `YYYYMMDD.ndjson`; symlinks,
/// directories and other names are never listed), oldest first.
///
/// # Errors
/// The I/O error of reading the directory or one of its entries.
pub fn list(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(day) = entry.file_name().to_str().and_then(parse_file_name) else {
            continue;
        };
        // `DirEntry::file_type` does not follow symlinks: a link is not a day file.
        if entry.file_type()?.is_file() {
            files.push(Entry {
                day,
                path: entry.path(),
            });
        }
    }
    files.sort_by_key(|f| f.day);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn names_round_trip() {
        assert_eq!(file_name(date!(2025 - 01 - 05)), "20250105.ndjson");
        assert_eq!(
            parse_file_name("20240229.ndjson"),
            Some(date!(2024 - 02 - 29))
        );
        for bad in [
            "20250230.ndjson",
            "2025010.ndjson",
            "20250105.ndjson.tmp",
            "x.ndjson",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn tenant_layout() {
        let root = Path::new("/sink");
        let day = date!(2026 - 11 - 22);
        assert_eq!(
            path(root, &Tenant::default(), day),
            Path::new("/sink/20261122.ndjson")
        );
        let acme = Tenant::new("acme").unwrap();
        assert_eq!(
            path(root, &acme, day),
            Path::new("/sink/acme/20261122.ndjson")
        );
    }
}
