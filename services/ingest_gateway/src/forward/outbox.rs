//! The outbox: every tenant's day files, how far each is complete, and how
//! far the target has them.
//!
//! A file the running sink writes has a committed length ([`Watermarks`]):
//! nothing past it is read (a batch being written, or about to be rolled
//! back). A file it has not touched is complete as it is on disk; only its
//! whole lines are sent. The mark is looked up again after the file's size,
//! so a writer opening the file in between (it sets the mark before
//! writing) is never missed.
//!
//! A saved offset beyond a file's length means the file was replaced (an
//! operator's `rm` and a new file of the same day, a restore from backup):
//! that is reported and the file is forwarded again from its start — at
//! least once, so duplicates rather than a silent gap.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use time::Date;

use super::position::Positions;
use crate::dayfile;
use crate::schema::Tenant;
use crate::watermark::Watermarks;

/// One day file as the forwarder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// Whose.
    pub tenant: Tenant,
    /// Its day.
    pub day: Date,
    /// Its path (as the sink names it, so the watermark lookup matches).
    pub path: PathBuf,
    /// Acknowledged up to here.
    pub offset: u64,
    /// Complete up to here (committed length, or the size on disk).
    pub end: u64,
    /// The running sink writes it (more lines may come soon).
    pub live: bool,
}

impl FileState {
    /// Bytes not yet acknowledged.
    pub fn pending(&self) -> u64 {
        self.end.saturating_sub(self.offset)
    }
}

/// A file whose saved offset lies beyond its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The file.
    pub path: PathBuf,
    /// The saved offset.
    pub offset: u64,
    /// Its length now.
    pub len: u64,
}

/// One look at the outbox.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every day file, oldest day first (then by tenant).
    pub files: Vec<FileState>,
    /// Files found replaced (their offset is now 0).
    pub replaced: Vec<Replaced>,
}

/// How far `path` is complete: (end, live).
///
/// # Errors
/// The file's metadata cannot be read.
pub fn readable_end(marks: &Watermarks, path: &Path) -> io::Result<(u64, u64, bool)> {
    let before = marks.committed(path);
    let len = std::fs::metadata(path)?.len();
    match before.or_else(|| marks.committed(path)) {
        Some(mark) => Ok((mark.min(len), len, true)),
        None => Ok((len, len, false)),
    }
}

/// Lists every tenant's day files under `root` with their offsets from
/// `positions`; resets replaced files to 0 and forgets vanished ones.
///
/// # Errors
/// The sink directory cannot be read.
pub fn scan(root: &Path, marks: &Watermarks, positions: &mut Positions) -> io::Result<Scan> {
    let mut out = Scan::default();
    let mut seen = HashSet::new();
    for (tenant, dir) in dayfile::tenant_dirs(root)? {
        let entries = match dayfile::list(&dir) {
            Ok(e) => e,
            // A tenant directory removed meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = dayfile::path(root, &tenant, entry.day);
            let (end, len, live) = match readable_end(marks, &path) {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let mut offset = positions.get(&tenant, entry.day);
            if offset > len {
                out.replaced.push(Replaced {
                    path: path.clone(),
                    offset,
                    len,
                });
                offset = 0;
                positions.set(&tenant, entry.day, 0);
            }
            seen.insert((tenant.clone(), entry.day));
            out.files.push(FileState {
                tenant: tenant.clone(),
                day: entry.day,
                path,
                offset,
                end,
                live,
            });
        }
    }
    positions.retain(|t, d| seen.contains(&(t.clone(), d)));
    out.files
        .sort_by(|a, b| (a.day, &a.tenant).cmp(&(b.day, &b.tenant)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn lists_every_tenant_oldest_first_up_to_the_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let acme = Tenant::new("acme").unwrap();
        std::fs::create_dir_all(root.join("acme")).unwrap();
        std::fs::create_dir_all(root.join(super::super::position::DIR)).unwrap();
        let d1 = date!(2026 - 11 - 30);
        let d2 = date!(2026 - 12 - 01);
        std::fs::write(dayfile::path(root, &Tenant::default(), d2), b"{}\n{}\n").unwrap();
        std::fs::write(dayfile::path(root, &acme, d1), b"{}\n").unwrap();
        std::fs::write(dayfile::path(root, &acme, d2), b"{}\n{}\n{}\n").unwrap();
        let marks = Watermarks::default();
        // The sink committed 6 of acme's 9 bytes today (a batch in flight).
        marks.advance(&dayfile::path(root, &acme, d2), 6);
        let mut pos = Positions::default();
        pos.set(&Tenant::default(), d2, 3);
        let s = scan(root, &marks, &mut pos).unwrap();
        let got: Vec<_> = s
            .files
            .iter()
            .map(|f| {
                (
                    f.tenant.as_str().to_string(),
                    f.day,
                    f.offset,
                    f.end,
                    f.live,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("acme".into(), d1, 0, 3, false),
                ("acme".into(), d2, 0, 6, true),
                ("default".into(), d2, 3, 6, false),
            ]
        );
        assert!(s.replaced.is_empty());
    }

    #[test]
    fn an_offset_beyond_the_end_is_reported_and_restarts_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let day = date!(2026 - 12 - 01);
        let path = dayfile::path(root, &Tenant::default(), day);
        std::fs::write(&path, b"{}\n").unwrap();
        let mut pos = Positions::default();
        pos.set(&Tenant::default(), day, 300);
        // A vanished file's position is forgotten.
        pos.set(&Tenant::default(), date!(2026 - 01 - 01), 5);
        let s = scan(root, &Watermarks::default(), &mut pos).unwrap();
        assert_eq!(
            s.replaced,
            vec![Replaced {
                path,
                offset: 300,
                len: 3
            }]
        );
        assert_eq!(s.files[0].offset, 0);
        assert_eq!(pos.get(&Tenant::default(), day), 0);
        assert_eq!(pos.len(), 1);
    }
}
