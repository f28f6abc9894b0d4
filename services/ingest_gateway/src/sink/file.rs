//! One daily file: open (repairing a torn last line), append, roll back.

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use time::Date;

use crate::dayfile;
use crate::schema::Tenant;

/// An open `<YYYYMMDD>.ndjson` and its current length.
#[derive(Debug)]
pub(super) struct DayFile {
    pub tenant: Tenant,
    pub day: Date,
    pub path: PathBuf,
    file: File,
    len: u64,
    pub dirty: bool,
    /// (device, inode) of the open file, to notice the path being replaced.
    id: (u64, u64),
}

impl DayFile {
    /// Opens (creating it and its directory) the day file at `path` for
    /// appending. A last line without its `\n` (a write torn by a crash) is
    /// cut off, with a warning.
    pub fn open(path: PathBuf, tenant: Tenant, day: Date) -> std::io::Result<DayFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let len = repair_torn_tail(&mut file, &path)?;
        let id = file_id(&file.metadata()?);
        Ok(DayFile {
            id,
            tenant,
            day,
            path,
            file,
            len,
            dirty: false,
        })
    }

    /// Appends `parts` in order (one `writev` per up to [`IOV_CHUNK`] parts,
    /// no concatenation copy), whole, or truncates back to the previous length
    /// and fails.
    pub fn append(&mut self, parts: &[&[u8]]) -> std::io::Result<()> {
        let total: u64 = parts.iter().map(|p| p.len() as u64).sum();
        match write_all_vectored(&mut self.file, parts) {
            Ok(()) => {
                self.len += total;
                self.dirty = true;
                Ok(())
            }
            Err(e) => {
                self.rollback(self.len);
                Err(e)
            }
        }
    }

    /// Does the path still name this open file? `false` when it was removed,
    /// renamed or replaced since it was opened (an operator's `rm`, a
    /// `logops-decrypt --rotate` rewrite, a removed sink directory): appending
    /// would then write into an unlinked file nobody can see.
    pub fn is_current(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| file_id(&m) == self.id)
    }

    /// Does the open file still have a name anywhere (renamed, not removed)?
    pub fn is_linked(&self) -> bool {
        self.file.metadata().is_ok_and(|m| link_count(&m) > 0)
    }

    /// Current length (what was successfully appended).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Truncates to `len` (best effort: the caller already reports the failure).
    pub fn rollback(&mut self, len: u64) {
        if let Err(e) = self.file.set_len(len) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot truncate after a failed append");
        }
        self.len = len;
    }

    /// `fdatasync`.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(unix)]
fn link_count(m: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.nlink()
}

#[cfg(not(unix))]
fn link_count(_: &std::fs::Metadata) -> u64 {
    1
}

/// Parts per `writev` call (well under Linux's IOV_MAX of 1024).
const IOV_CHUNK: usize = 512;

fn write_all_vectored(file: &mut File, parts: &[&[u8]]) -> std::io::Result<()> {
    for chunk in parts.chunks(IOV_CHUNK) {
        let mut slices: Vec<IoSlice<'_>> = chunk.iter().map(|p| IoSlice::new(p)).collect();
        let mut bufs = &mut slices[..];
        while !bufs.is_empty() {
            match file.write_vectored(bufs) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut bufs, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn repair_torn_tail(file: &mut File, path: &Path) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    let keep = last_newline_end(file, len)?;
    tracing::warn!(path = %path.display(), removed_bytes = len - keep, "torn last line found (crash during a write); truncating it");
    file.set_len(keep)?;
    file.sync_data()?;
    Ok(keep)
}

/// Offset just after the last `\n` before `len` (0 when there is none).
fn last_newline_end(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Repairs the torn tail of every day file of `dir` (the default tenant's)
/// and of every tenant directory below it: run once at start-up, before the
/// first append, so a crash mid-write never leaves a partial line behind
/// (whatever day it happened on).
pub(super) fn repair_dir(dir: &Path) -> std::io::Result<()> {
    for (_, d) in dayfile::tenant_dirs(dir)? {
        for f in dayfile::list(&d)? {
            let mut file = OpenOptions::new().read(true).write(true).open(&f.path)?;
            repair_torn_tail(&mut file, &f.path)?;
        }
    }
    Ok(())
}

/// Can a file be created in `dir`? (Creates and removes a probe file.)
pub(super) fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(".logops-healthz-probe");
    File::create(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path, name: &str) -> DayFile {
        let day = dayfile::parse_file_name(name).unwrap();
        DayFile::open(dir.join(name), Tenant::default(), day).unwrap()
    }

    #[test]
    fn torn_tail_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20261122.ndjson"), b"{\"a\":1}\n{\"b\":").unwrap();
        let mut f = open(dir.path(), "20261122.ndjson");
        assert_eq!(f.len(), 8);
        f.append(&[b"{\"c\":", b"3}\n"]).unwrap();
        let text = std::fs::read_to_string(dir.path().join("20261122.ndjson")).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"c\":3}\n");
    }

    #[test]
    fn a_replaced_or_removed_path_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let f = open(dir.path(), "20261122.ndjson");
        assert!(f.is_current());
        std::fs::write(dir.path().join("x"), b"").unwrap();
        std::fs::rename(dir.path().join("x"), dir.path().join("20261122.ndjson")).unwrap();
        assert!(!f.is_current());
        assert!(
            !f.is_linked(),
            "replaced by a rename over it: its inode has no name left"
        );
        let g = open(dir.path(), "20261122.ndjson");
        std::fs::rename(dir.path().join("20261122.ndjson"), dir.path().join("moved")).unwrap();
        assert!(!g.is_current() && g.is_linked());
        let h = open(dir.path(), "20261122.ndjson");
        std::fs::remove_file(dir.path().join("20261122.ndjson")).unwrap();
        assert!(!h.is_current() && !h.is_linked());
    }

    #[test]
    fn a_file_without_any_newline_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20261122.ndjson"), b"partial").unwrap();
        assert_eq!(open(dir.path(), "20261122.ndjson").len(), 0);
    }
}
