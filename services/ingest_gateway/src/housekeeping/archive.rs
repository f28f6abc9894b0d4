//! Zip mode: moving one expired day file into `<archive>/<YYYYMMDD>.zip`
//! without ever losing data.
//!
//! # Steps and what a crash at each one leaves
//! 1. A new archive is built in a temporary file `.<YYYYMMDD>.zip.<pid>.tmp` in
//!    the archive directory: the entries of an existing archive are copied
//!    (compressed data as is), then the day file is added (deflate), its size
//!    and CRC-32 counted while it is read. *Crash: the temporary file is left
//!    over, the source and the old archive are intact; the next run removes
//!    the leftover and starts again.*
//! 2. The temporary file is synced, renamed over the archive, and the directory
//!    synced. *Crash: the archive holds the day, the source is still there; the
//!    next run finds an entry with the source's size and CRC and only removes
//!    the source (no second copy).*
//! 3. The archive is re-opened and the entry read back in full; only if its
//!    size and CRC-32 (both as recorded and as computed from the data) equal
//!    the source's is the source removed and its directory synced.
//!
//! An archive that already holds an entry of the same name but other content
//! (the day file came back after it was archived) keeps that entry; the new
//! content goes in as `<YYYYMMDD>.<n>.ndjson`. Entry names are never duplicated.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{io_err, sync_dir, HousekeepingError};

/// Sources at least this large are written with ZIP64 headers.
const LARGE_FILE: u64 = 0xF000_0000;

/// What [`archive_day`] did with the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The source was added to the archive as `entry`, then removed.
    Written {
        /// The archive written.
        archive: PathBuf,
        /// Name of the entry holding the source.
        entry: String,
        /// Bytes archived.
        size: u64,
    },
    /// The archive already held the source's exact content (an earlier run was
    /// interrupted before removing it): the source was only removed.
    AlreadyHeld {
        /// The archive holding the source.
        archive: PathBuf,
        /// Name of the entry with the same content.
        entry: String,
    },
}

/// One entry of an archive, as listed by [`archive_entries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    /// Entry name, e.g. `20250101.ndjson`.
    pub name: String,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// CRC-32 of the uncompressed content.
    pub crc32: u32,
}

/// Archives `src` (the day file `<stem>.ndjson`) into `<archive_dir>/<stem>.zip`
/// and removes it once the archive reads back right. See the module docs.
///
/// # Errors
/// Any failed step; the source is then still in place.
pub(crate) fn archive_day(
    src: &Path,
    stem: &str,
    archive_dir: &Path,
) -> Result<Outcome, HousekeepingError> {
    fs::create_dir_all(archive_dir).map_err(io_err("cannot create", archive_dir))?;
    let archive = archive_dir.join(format!("{stem}.zip"));
    let src_len = fs::metadata(src).map_err(io_err("cannot stat", src))?.len();
    let mut existing = open_existing(&archive)?;

    if let Some(old) = existing.as_mut() {
        if let Some(entry) = entry_holding(old, &archive, src, stem, src_len)? {
            remove_source(src, src_len)?;
            return Ok(Outcome::AlreadyHeld { archive, entry });
        }
    }
    let taken: HashSet<String> = match &existing {
        Some(old) => old
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect(),
        None => HashSet::new(),
    };
    let entry = free_entry_name(stem, &taken);

    remove_leftovers(archive_dir, stem);
    let temp = archive_dir.join(format!(".{stem}.zip.{}.tmp", std::process::id()));
    let guard = TempGuard(Some(temp.clone()));
    let (size, crc) = write_temp(&temp, existing.as_mut(), &archive, src, &entry, src_len)?;
    // A day file that grew while it was read (still being written) is left for a later run.
    check_unchanged(src, size)?;
    fs::rename(&temp, &archive).map_err(io_err("cannot rename into", &archive))?;
    guard.disarm();
    sync_dir(archive_dir)?;

    let (got_size, got_crc) = read_back(&archive, &entry)?;
    if (got_size, got_crc) != (size, crc) {
        return Err(HousekeepingError::Verify {
            archive,
            entry,
            want_size: size,
            want_crc: crc,
            got_size,
            got_crc,
        });
    }
    remove_source(src, size)?;
    Ok(Outcome::Written {
        archive,
        entry,
        size,
    })
}

/// Adds the chain sidecar `src` of a day just archived in `archive` as
/// entry `entry` (`<day entry>.chain`), then removes it, with the same
/// steps and read-back as the day file. An entry of that name already
/// holding the same bytes (an interrupted run) only removes the source.
///
/// # Errors
/// Any failed step; the sidecar is then still in place.
pub(crate) fn archive_sidecar(
    src: &Path,
    entry: &str,
    archive: &Path,
) -> Result<(), HousekeepingError> {
    let src_len = fs::metadata(src).map_err(io_err("cannot stat", src))?.len();
    let mut existing = open_existing(archive)?;
    if let Some(old) = existing.as_mut() {
        if old.index_for_name(entry).is_some() {
            let held = read_back(archive, entry)?;
            let file = File::open(src).map_err(io_err("cannot open", src))?;
            let mut reader = CrcReader::new(BufReader::new(file));
            io::copy(&mut reader, &mut io::sink()).map_err(io_err("cannot read", src))?;
            if held == (reader.count, reader.hasher.finalize()) {
                return remove_source(src, src_len);
            }
            return Err(HousekeepingError::SourceChanged {
                path: src.to_path_buf(),
            });
        }
    }
    let dir = archive.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(".{entry}.zip.{}.tmp", std::process::id()));
    let guard = TempGuard(Some(temp.clone()));
    let (size, crc) = write_temp(&temp, existing.as_mut(), archive, src, entry, src_len)?;
    check_unchanged(src, size)?;
    fs::rename(&temp, archive).map_err(io_err("cannot rename into", archive))?;
    guard.disarm();
    sync_dir(dir)?;
    let (got_size, got_crc) = read_back(archive, entry)?;
    if (got_size, got_crc) != (size, crc) {
        return Err(HousekeepingError::Verify {
            archive: archive.to_path_buf(),
            entry: entry.to_string(),
            want_size: size,
            want_crc: crc,
            got_size,
            got_crc,
        });
    }
    remove_source(src, size)
}

/// Every entry of the archive at `path`, in archive order.
///
/// # Errors
/// The archive cannot be opened or is not a valid zip file.
pub fn archive_entries(path: &Path) -> Result<Vec<ArchiveEntry>, HousekeepingError> {
    let mut zip = open_zip(path)?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(zip_err(path))?;
        let name = f.name().map_err(zip_err(path))?.into_owned();
        out.push(ArchiveEntry {
            name,
            size: f.size(),
            crc32: f.crc32(),
        });
    }
    Ok(out)
}

/// The uncompressed content of entry `name` of the archive at `path`.
///
/// # Errors
/// The archive cannot be read, has no such entry, or the entry is corrupt.
pub fn read_entry(path: &Path, name: &str) -> Result<Vec<u8>, HousekeepingError> {
    let mut zip = open_zip(path)?;
    let mut f = zip.by_name(name).map_err(zip_err(path))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)
        .map_err(io_err("cannot read", path))?;
    Ok(out)
}

/// The archive at `path` if there is one.
fn open_existing(path: &Path) -> Result<Option<ZipArchive<File>>, HousekeepingError> {
    match File::open(path) {
        Ok(f) => ZipArchive::new(f).map(Some).map_err(zip_err(path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("cannot open", path)(e)),
    }
}

fn open_zip(path: &Path) -> Result<ZipArchive<File>, HousekeepingError> {
    let f = File::open(path).map_err(io_err("cannot open", path))?;
    ZipArchive::new(f).map_err(zip_err(path))
}

/// The entry of `old` (named after `stem`) whose content equals `src`, verified
/// by reading it back.
fn entry_holding(
    old: &mut ZipArchive<File>,
    archive: &Path,
    src: &Path,
    stem: &str,
    src_len: u64,
) -> Result<Option<String>, HousekeepingError> {
    let mut candidates = Vec::new();
    for i in 0..old.len() {
        let f = old.by_index_raw(i).map_err(zip_err(archive))?;
        let name = f.name().map_err(zip_err(archive))?;
        if f.size() == src_len && is_day_entry(&name, stem) {
            candidates.push((name.into_owned(), f.crc32()));
        }
    }
    if candidates.is_empty() {
        return Ok(None);
    }
    let file = File::open(src).map_err(io_err("cannot open", src))?;
    let mut reader = CrcReader::new(BufReader::new(file));
    io::copy(&mut reader, &mut io::sink()).map_err(io_err("cannot read", src))?;
    let src_sum = (reader.count, reader.hasher.clone().finalize());
    for (name, crc) in candidates {
        // An entry that does not read back right does not count: the source
        // then goes in under a new name, and the damaged entry is kept as is.
        if (src_len, crc) == src_sum && read_back(archive, &name).ok() == Some(src_sum) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// `<stem>.ndjson` or `<stem>.<n>.ndjson`.
fn is_day_entry(name: &str, stem: &str) -> bool {
    let Some(rest) = name
        .strip_prefix(stem)
        .and_then(|r| r.strip_suffix(".ndjson"))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix('.')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `<stem>.ndjson`, or the first `<stem>.<n>.ndjson` not in `taken`.
fn free_entry_name(stem: &str, taken: &HashSet<String>) -> String {
    let first = format!("{stem}.ndjson");
    if !taken.contains(&first) {
        return first;
    }
    (1u64..)
        .map(|n| format!("{stem}.{n}.ndjson"))
        .find(|name| !taken.contains(name))
        .expect("an unused entry name exists")
}

/// Removes temporary archives of `stem` left by interrupted runs. A concurrent
/// run whose temporary file disappears fails its rename and keeps its source.
fn remove_leftovers(archive_dir: &Path, stem: &str) {
    let prefix = format!(".{stem}.zip.");
    let Ok(entries) = fs::read_dir(archive_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            // Best effort: a leftover that cannot be removed harms nothing.
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes the new archive to `temp` and syncs it; returns the source's
/// (size, CRC-32) as read.
fn write_temp(
    temp: &Path,
    existing: Option<&mut ZipArchive<File>>,
    archive: &Path,
    src: &Path,
    entry: &str,
    src_len: u64,
) -> Result<(u64, u32), HousekeepingError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(temp)
        .map_err(io_err("cannot create", temp))?;
    let mut writer = ZipWriter::new(file);
    if let Some(old) = existing {
        for i in 0..old.len() {
            let f = old.by_index_raw(i).map_err(zip_err(archive))?;
            writer.raw_copy_file(f).map_err(zip_err(temp))?;
        }
    }
    let src_file = File::open(src).map_err(io_err("cannot open", src))?;
    let mut options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644)
        .large_file(src_len >= LARGE_FILE);
    if let Some(mtime) = src_file.metadata().ok().and_then(|m| m.modified().ok()) {
        options = options.last_modified_time(zip_time(mtime));
    }
    writer.start_file(entry, options).map_err(zip_err(temp))?;
    let mut reader = CrcReader::new(BufReader::new(src_file));
    io::copy(&mut reader, &mut writer).map_err(io_err("cannot archive", src))?;
    let file = writer.finish().map_err(zip_err(temp))?;
    file.sync_all().map_err(io_err("cannot sync", temp))?;
    Ok((reader.count, reader.hasher.finalize()))
}

/// Reads entry `name` back in full: (size, CRC-32) of its data, after checking
/// they match what the archive records for it.
fn read_back(archive: &Path, name: &str) -> Result<(u64, u32), HousekeepingError> {
    let mut zip = open_zip(archive)?;
    let f = zip.by_name(name).map_err(zip_err(archive))?;
    let recorded = (f.size(), f.crc32());
    let mut reader = CrcReader::new(f);
    io::copy(&mut reader, &mut io::sink()).map_err(io_err("cannot read back", archive))?;
    let actual = (reader.count, reader.hasher.finalize());
    if actual != recorded {
        return Err(HousekeepingError::Verify {
            archive: archive.to_path_buf(),
            entry: name.to_string(),
            want_size: recorded.0,
            want_crc: recorded.1,
            got_size: actual.0,
            got_crc: actual.1,
        });
    }
    Ok(actual)
}

/// Fails if `src` no longer has the `len` bytes that were archived.
fn check_unchanged(src: &Path, len: u64) -> Result<(), HousekeepingError> {
    let now = fs::metadata(src).map_err(io_err("cannot stat", src))?.len();
    if now == len {
        Ok(())
    } else {
        Err(HousekeepingError::SourceChanged {
            path: src.to_path_buf(),
        })
    }
}

/// Removes the archived source (after a last size check) and syncs its directory.
fn remove_source(src: &Path, len: u64) -> Result<(), HousekeepingError> {
    check_unchanged(src, len)?;
    fs::remove_file(src).map_err(io_err("cannot remove", src))?;
    match src.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
        _ => Ok(()),
    }
}

/// A file modification time as a zip timestamp (UTC; 1980-01-01 if out of range).
fn zip_time(t: std::time::SystemTime) -> zip::DateTime {
    let t = time::OffsetDateTime::from(t);
    u16::try_from(t.year())
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}

fn zip_err(path: &Path) -> impl FnOnce(zip::result::ZipError) -> HousekeepingError + '_ {
    move |source| HousekeepingError::Zip {
        path: path.to_path_buf(),
        source,
    }
}

/// Removes the temporary archive on every early return.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A reader that counts the bytes and CRC-32 of what passes through it.
struct CrcReader<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    count: u64,
}

impl<R> CrcReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: crc32fast::Hasher::new(),
            count: 0,
        }
    }
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}
