//! Rotating a stored file in place, atomically: the rotated copy is written to
//! a temporary file beside it, synced, given the original's permissions and
//! renamed over it, then the directory is synced. A crash leaves either the old
//! file or the new one (plus, at worst, a `.tmp` leftover), never a mix.
//!
//! A file that changes while it is rotated (the gateway still appending to
//! today's file) is left as it was and reported: rotate only closed days, or
//! stop the gateway first.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use logops_gateway::pii::Crypt;

use super::stream::{process, Op, Stats};

/// Why a file was not rotated. The file is unchanged in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RewriteError {
    /// A file-system call failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file changed while it was being rotated.
    #[error("{} changed while it was rotated (still being written?); left unchanged", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> RewriteError + 'a {
    move |source| RewriteError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Re-encrypts every token of `path` with the first key of `crypt`, reporting
/// tokens that no key opens (kept as they are) to `report`. A file without any
/// token is left untouched.
///
/// # Errors
/// The file cannot be read, the rotated copy cannot be written or put in
/// place, or the file changed meanwhile.
pub fn rotate_file(
    path: &Path,
    crypt: &Crypt,
    report: &mut impl Write,
) -> Result<Stats, RewriteError> {
    let src = File::open(path).map_err(io_err("cannot open", path))?;
    let before = fingerprint(&src).map_err(io_err("cannot stat", path))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.rotate.{}.tmp", std::process::id()));
    let guard = TempGuard(Some(temp.clone()));
    let file = File::create(&temp).map_err(io_err("cannot create", &temp))?;
    let mut out = BufWriter::new(file);
    let label = path.display().to_string();
    let stats = process(
        Op::Rotate,
        BufReader::new(&src),
        &label,
        crypt,
        &mut out,
        report,
    )
    .map_err(io_err("cannot rotate", path))?;
    if stats.tokens == 0 {
        return Ok(stats);
    }
    let file = out
        .into_inner()
        .map_err(|e| io_err("cannot write", &temp)(e.into_error()))?;
    file.set_permissions(before.permissions.clone())
        .map_err(io_err("cannot set permissions of", &temp))?;
    file.sync_all().map_err(io_err("cannot sync", &temp))?;
    let now = fs::metadata(path).map_err(io_err("cannot stat", path))?;
    if Fingerprint::of(&now) != before {
        return Err(RewriteError::Changed {
            path: path.to_path_buf(),
        });
    }
    fs::rename(&temp, path).map_err(io_err("cannot replace", path))?;
    guard.disarm();
    #[cfg(unix)]
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("cannot sync directory", &dir))?;
    Ok(stats)
}

/// What tells that a file was not written to meanwhile.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    permissions: fs::Permissions,
}

impl Fingerprint {
    fn of(m: &fs::Metadata) -> Self {
        Self {
            len: m.len(),
            modified: m.modified().ok(),
            permissions: m.permissions(),
        }
    }
}

fn fingerprint(f: &File) -> io::Result<Fingerprint> {
    f.metadata().map(|m| Fingerprint::of(&m))
}

/// Removes the temporary file on every early return.
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
