//! Where reads come from: a tenant's day files in the sink directory and its
//! zip archives, read up to what was acknowledged, line by line, with a
//! sparse index ([`super::index`]) that lets a narrow time range skip most of
//! a big file. Archives are read whole.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::Date;

use super::index::{self, Builder, Index};
use super::line::ts_nanos;
use super::lines::{each_line, CHUNK};
use crate::dayfile;
use crate::schema::Tenant;
use crate::watermark::Watermarks;

/// One day of a tenant's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The day (from the file name: the UTC day the batches were received).
    pub day: Date,
    /// Where it is.
    pub place: Place,
}

/// A live day file or an archived one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `<sink>/[T/]YYYYMMDD.ndjson`.
    Live(PathBuf),
    /// `<archive>/[T/]YYYYMMDD.zip`, entry `YYYYMMDD.ndjson`.
    Archive(PathBuf),
}

/// One line as the scanner hands it on.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The stored bytes, without the `\n`.
    pub bytes: &'a [u8],
    /// Byte offset of the line in its day file (in the archive entry for archives).
    pub offset: u64,
    /// Its `ts` in Unix nanoseconds (`i64::MIN` if it has none).
    pub ts: i64,
}

/// Counters of one scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Sources opened.
    pub files: u64,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// Lines looked at.
    pub lines_scanned: u64,
    /// Where the last source read ended (the next unread byte).
    pub last_end: u64,
}

/// Whether a visitor wants more lines.
pub type Continue = bool;

/// The stored data of a gateway (or of a directory, for the CLI).
#[derive(Debug)]
pub struct Store {
    sink_dir: PathBuf,
    archive_dir: PathBuf,
    marks: Option<Arc<Watermarks>>,
    index: Index,
}

impl Store {
    /// A store over `sink_dir` and `archive_dir`; `marks` when a sink in this
    /// process writes there (reads then stop at what it acknowledged).
    pub fn new(sink_dir: PathBuf, archive_dir: PathBuf, marks: Option<Arc<Watermarks>>) -> Self {
        Store {
            sink_dir,
            archive_dir,
            marks,
            index: Index::default(),
        }
    }

    /// The sink and archive directories.
    pub fn dirs(&self) -> (&std::path::Path, &std::path::Path) {
        (&self.sink_dir, &self.archive_dir)
    }

    /// The watermarks this store follows, if any.
    pub fn marks(&self) -> Option<&Arc<Watermarks>> {
        self.marks.as_ref()
    }

    /// Every day of `tenant`, oldest first; a day both archived and live
    /// (mid-archiving) is read from its live file.
    ///
    /// # Errors
    /// A directory exists but cannot be read.
    pub fn sources(&self, tenant: &Tenant) -> io::Result<Vec<Source>> {
        let mut out: Vec<Source> = Vec::new();
        let live_dir = dayfile::tenant_dir(&self.sink_dir, tenant);
        for e in list_or_empty(&live_dir, dayfile::list)? {
            out.push(Source {
                day: e.day,
                place: Place::Live(e.path),
            });
        }
        let archive_dir = dayfile::tenant_dir(&self.archive_dir, tenant);
        for (day, path) in list_or_empty(&archive_dir, list_archives)? {
            if !out.iter().any(|s| s.day == day) {
                out.push(Source {
                    day,
                    place: Place::Archive(path),
                });
            }
        }
        out.sort_by_key(|s| s.day);
        Ok(out)
    }

    /// How far `path` (of length `len`) may be read: its watermark, or its last complete line.
    fn readable(&self, path: &Path, file: &File, len: u64) -> io::Result<u64> {
        if let Some(m) = self.marks.as_ref().and_then(|m| m.committed(path)) {
            return Ok(m.min(len));
        }
        last_line_end(file, len)
    }

    /// Calls `visit` for every line of `src` from byte `from` whose `ts` is
    /// in `[lo, hi)`, in file order, until it returns false. A live file is
    /// read up to what is acknowledged, skipping index blocks outside the range.
    ///
    /// # Errors
    /// The source cannot be read (a file removed before it was opened is
    /// looked for in the archives first).
    pub fn scan(
        &self,
        src: &Source,
        from: u64,
        (lo, hi): (i64, i64),
        stats: &mut ScanStats,
        visit: &mut dyn FnMut(Line<'_>) -> Continue,
    ) -> io::Result<Continue> {
        stats.files += 1;
        match &src.place {
            Place::Live(path) => match File::open(path) {
                Ok(file) => self.scan_live(path, &file, from, (lo, hi), stats, visit),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Archived (or deleted) since it was listed.
                    let stem = dayfile::stem(src.day);
                    let zip = path.parent().map(|p| {
                        let rel = p.strip_prefix(&self.sink_dir).unwrap_or(Path::new(""));
                        self.archive_dir.join(rel).join(format!("{stem}.zip"))
                    });
                    match zip.filter(|z| z.is_file()) {
                        Some(z) => scan_archive(&z, src.day, from, (lo, hi), stats, visit),
                        None => Ok(true),
                    }
                }
                Err(e) => Err(e),
            },
            Place::Archive(zip) => scan_archive(zip, src.day, from, (lo, hi), stats, visit),
        }
    }

    /// Hands the acknowledged bytes of a live `src` from `from` on to
    /// `visit` in chunks of whole lines (chunk, offset of its first byte),
    /// read into `buf` (the caller keeps it from call to call), until it
    /// returns false. `Ok(None)` for an archive (use [`Store::scan`]);
    /// otherwise where reading stopped (the next unread byte).
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn chunks(
        &self,
        src: &Source,
        from: u64,
        buf: &mut Vec<u8>,
        visit: &mut dyn FnMut(&[u8], u64) -> Continue,
    ) -> io::Result<Option<u64>> {
        let Place::Live(path) = &src.place else {
            return Ok(None);
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let limit = self.readable(path, &file, file.metadata()?.len())?;
        let mut pos = from;
        while pos < limit {
            // The buffer grows to what is new (up to a chunk), once per tail.
            let need = ((limit - pos) as usize).min(CHUNK);
            if buf.len() < need {
                buf.resize(need, 0);
            }
            let want = ((limit - pos) as usize).min(buf.len());
            let n = file.read_at(&mut buf[..want], pos)?;
            if n == 0 {
                break;
            }
            let Some(last) = memchr::memrchr(b'\n', &buf[..n]) else {
                // A line longer than the buffer.
                buf.resize(buf.len() * 2, 0);
                continue;
            };
            if !visit(&buf[..=last], pos) {
                return Ok(Some(pos));
            }
            pos += last as u64 + 1;
        }
        Ok(Some(pos))
    }

    fn scan_live(
        &self,
        path: &Path,
        file: &File,
        from: u64,
        range: (i64, i64),
        stats: &mut ScanStats,
        visit: &mut dyn FnMut(Line<'_>) -> Continue,
    ) -> io::Result<Continue> {
        let meta = file.metadata()?;
        let id = (meta.dev(), meta.ino());
        let limit = self.readable(path, file, meta.len())?;
        let (blocks, covered) = self.index.snapshot(path, id, limit);
        let mut buf = Vec::new();
        // Indexed part: only the blocks that can hold the range.
        for (s, e) in index::ranges(&blocks, from, range) {
            if !read_range(file, (s, e), &mut buf, range, stats, visit, None)? {
                return Ok(false);
            }
        }
        // The rest, indexed as it is read (only when read from its start).
        let start = covered.max(from);
        let mut builder = (start == covered).then(|| Builder::new(covered));
        stats.last_end = limit;
        let more = read_range(
            file,
            (start, limit),
            &mut buf,
            range,
            stats,
            visit,
            builder.as_mut(),
        )?;
        if let Some(b) = builder {
            self.index.extend(path, id, covered, b.finish());
        }
        Ok(more)
    }
}

/// Reads `[start, end)` of `file` line by line (`start` is a line start),
/// handing on the lines with `ts` in `[lo, hi)`.
fn read_range(
    file: &File,
    (start, end): (u64, u64),
    buf: &mut Vec<u8>,
    (lo, hi): (i64, i64),
    stats: &mut ScanStats,
    visit: &mut dyn FnMut(Line<'_>) -> Continue,
    mut builder: Option<&mut Builder>,
) -> io::Result<Continue> {
    let mut cursor = start;
    let mut read = |b: &mut [u8]| {
        let want = (end.saturating_sub(cursor) as usize).min(b.len());
        if want == 0 {
            return Ok(0);
        }
        let n = file.read_at(&mut b[..want], cursor)?;
        cursor += n as u64;
        Ok(n)
    };
    let mut on_line = |line: &[u8], offset: u64| {
        let ts = ts_nanos(line).unwrap_or(i64::MIN);
        if let Some(b) = builder.as_deref_mut() {
            b.line(ts, offset + line.len() as u64 + 1);
        }
        !(ts >= lo && ts < hi)
            || visit(Line {
                bytes: line,
                offset,
                ts,
            })
    };
    Ok(each_line(&mut read, start, buf, stats, &mut on_line)?.0)
}

fn scan_archive(
    zip: &Path,
    day: Date,
    from: u64,
    (lo, hi): (i64, i64),
    stats: &mut ScanStats,
    visit: &mut dyn FnMut(Line<'_>) -> Continue,
) -> io::Result<Continue> {
    let file = File::open(zip)?;
    let mut archive = zip::ZipArchive::new(file).map_err(io::Error::other)?;
    let name = dayfile::file_name(day);
    let mut entry = match archive.by_name(&name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => return Ok(true),
        Err(e) => return Err(io::Error::other(e)),
    };
    let mut read = |b: &mut [u8]| entry.read(b);
    let mut on_line = |line: &[u8], offset: u64| {
        let ts = ts_nanos(line).unwrap_or(i64::MIN);
        offset < from
            || !(ts >= lo && ts < hi)
            || visit(Line {
                bytes: line,
                offset,
                ts,
            })
    };
    let (done, end) = each_line(&mut read, 0, &mut Vec::new(), stats, &mut on_line)?;
    if done {
        stats.last_end = end;
    }
    Ok(done)
}

/// The end of the last complete line of a file of `len` bytes.
fn last_line_end(file: &File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        file.read_exact_at(&mut buf[..n], start)?;
        if let Some(i) = memchr::memrchr(b'\n', &buf[..n]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

fn list_or_empty<T>(dir: &Path, list: fn(&Path) -> io::Result<Vec<T>>) -> io::Result<Vec<T>> {
    match list(dir) {
        Ok(v) => Ok(v),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// `YYYYMMDD.zip` regular files of `dir`.
fn list_archives(dir: &Path) -> io::Result<Vec<(Date, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(day) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".zip"))
            .and_then(dayfile::parse_stem)
        else {
            continue;
        };
        if entry.file_type()?.is_file() {
            out.push((day, entry.path()));
        }
    }
    Ok(out)
}
