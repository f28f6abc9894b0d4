//! Retention for the sink directory: expired day files are deleted, or moved
//! into one zip archive per day. Shared by the gateway's background task
//! ([`autorun`]) and the `housekeeping` CLI (which calls [`run`]).
//!
//! # Rules (SPEC §4)
//! - Only regular files named `YYYYMMDD.ndjson` in the sink directory are
//!   considered. One is expired when its day < today − `retention_days`, so
//!   today's file (and any future one) is never touched, retention 0 included.
//! - `delete` removes the file. `zip` moves it into `<archive>/<YYYYMMDD>.zip`
//!   as entry `<YYYYMMDD>.ndjson`, in steps that make a crash at any point
//!   lose nothing (below).
//! - A dry run reports what would happen and changes nothing.
//! - A day a forwarder has not finished (its position in
//!   `<sink>/.forward/*.json` is short of the file's size) is held: reported
//!   as `held`, counted as `held_for_forwarding`, retried on the next run.
//!
//! # Zip mode
//! The archive is built in a temporary file, synced, renamed over
//! `<YYYYMMDD>.zip`; the source is removed only after the entry reads back with
//! the source's size and CRC-32. An existing archive keeps its entries; if it
//! already holds the same content (an interrupted earlier run), the source is
//! only removed; other content for the same day becomes `<YYYYMMDD>.<n>.ndjson`.
//!
//! # Layout
//! - `scan`: which files are expired.
//! - `archive`: the zip steps (each with what a crash there leaves) and the
//!   archive read-back.

mod archive;
mod scan;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use time::Date;

use crate::dayfile;
pub use crate::dayfile::{parse_file_name as parse_day_file_name, stem as day_stem};
pub use archive::{archive_entries, read_entry, ArchiveEntry};
pub use scan::first_kept_day;

/// What happens to an expired day file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Remove it.
    #[default]
    Delete,
    /// Move it into `<archive>/<YYYYMMDD>.zip`.
    Zip,
}

impl Mode {
    /// The configuration spelling: `delete` or `zip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Delete => "delete",
            Mode::Zip => "zip",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode spelled neither `delete` nor `zip`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid archive mode `{0}`: expected `delete` or `zip`")]
pub struct ParseModeError(pub String);

impl FromStr for Mode {
    type Err = ParseModeError;

    /// Accepts `delete` and `zip`, case-insensitive, surrounding blanks ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "delete" => Ok(Mode::Delete),
            "zip" => Ok(Mode::Zip),
            _ => Err(ParseModeError(s.to_string())),
        }
    }
}

/// Where and how housekeeping works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The gateway's sink directory holding `YYYYMMDD.ndjson` files.
    pub sink_dir: PathBuf,
    /// Where `zip` mode writes `YYYYMMDD.zip` (created when needed).
    pub archive_dir: PathBuf,
    /// Days kept before today: a file is expired when its day < today − this.
    pub retention_days: u32,
    /// Delete or zip expired files.
    pub mode: Mode,
    /// `LOGOPS_CHAIN`: sidecars go with their day (into its zip), and a
    /// delete is recorded as a signed tombstone in today's chain.
    pub chain: Option<crate::chain::Signer>,
}

/// Default `LOGOPS_RETENTION_DAYS`.
pub const DEFAULT_RETENTION_DAYS: u32 = 7;
/// Default `LOGOPS_ARCHIVE_DIR`.
pub const DEFAULT_ARCHIVE_DIR: &str = "./data/archive";

/// The housekeeping section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HousekeepingConfig {
    /// Where and how (`LOGOPS_SINK_DIR`, `LOGOPS_ARCHIVE_DIR`,
    /// `LOGOPS_RETENTION_DAYS`, `LOGOPS_ARCHIVE_MODE`).
    pub settings: Settings,
    /// `LOGOPS_HOUSEKEEP_AUTORUN`: run inside the gateway.
    pub autorun: bool,
    /// `LOGOPS_HOUSEKEEP_INTERVAL_SEC` (zero = only at start).
    pub interval: Duration,
}

/// Why one housekeeping step failed. Every variant leaves the source in place.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HousekeepingError {
    /// A file-system call failed (`op` says which, e.g. "cannot remove").
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// An archive could not be read or written as zip.
    #[error("zip archive {}: {source}", path.display())]
    Zip {
        /// The archive (or temporary archive).
        path: PathBuf,
        /// The zip library's error.
        source: zip::result::ZipError,
    },
    /// The archived entry does not read back as what was written.
    #[error(
        "archive {} entry {entry} reads back as {got_size} bytes (crc32 {got_crc:08x}), \
         expected {want_size} bytes (crc32 {want_crc:08x})",
        archive.display()
    )]
    Verify {
        /// The archive.
        archive: PathBuf,
        /// The entry checked.
        entry: String,
        /// Expected size.
        want_size: u64,
        /// Expected CRC-32.
        want_crc: u32,
        /// Size read back.
        got_size: u64,
        /// CRC-32 read back.
        got_crc: u32,
    },
    /// The day file changed size while it was archived (still being written).
    #[error("{} changed while it was archived; left in place for a later run", path.display())]
    SourceChanged {
        /// The day file.
        path: PathBuf,
    },
}

/// Builds a `map_err` closure for an I/O error on `path`.
pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> HousekeepingError + 'a {
    move |source| HousekeepingError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Makes renames and removals in `dir` durable (a no-op where directories
/// cannot be opened, i.e. not on Unix).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), HousekeepingError> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("cannot sync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// What was (or, in a dry run, would be) done to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// The file was deleted.
    Deleted,
    /// The file was moved into its day's archive.
    Archived,
    /// Dry run: the file would be deleted.
    WouldDelete,
    /// Dry run: the file would be archived.
    WouldArchive,
    /// The step failed; the file is still in place.
    Failed,
    /// Expired, but a forwarder has not sent all of it yet: kept for now.
    Held,
}

impl ActionKind {
    /// Label for `logops_housekeeping_files_total{action}`; `None` for dry-run kinds.
    pub fn metric_label(self) -> Option<&'static str> {
        match self {
            ActionKind::Deleted => Some("deleted"),
            ActionKind::Archived => Some("archived"),
            ActionKind::Failed => Some("failed"),
            ActionKind::Held => Some("held_for_forwarding"),
            ActionKind::WouldDelete | ActionKind::WouldArchive => None,
        }
    }

    /// The word starting the action's line.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Deleted => "deleted",
            ActionKind::Archived => "archived",
            ActionKind::WouldDelete => "would delete",
            ActionKind::WouldArchive => "would archive",
            ActionKind::Failed => "failed",
            ActionKind::Held => "held",
        }
    }
}

/// One action on one file. `Display` gives its one-line report, e.g.
/// `archived data/ingest/20250101.ndjson -> data/archive/20250101.zip (20250101.ndjson, 5120 bytes)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The day file (or, for a failed scan, the sink directory).
    pub file: PathBuf,
    /// What happened.
    pub kind: ActionKind,
    /// Where it went for archive kinds; the error for [`ActionKind::Failed`]; else empty.
    pub detail: String,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.file.display())?;
        match (self.kind, self.detail.is_empty()) {
            (_, true) => Ok(()),
            (ActionKind::Failed | ActionKind::Held, false) => write!(f, ": {}", self.detail),
            (_, false) => write!(f, " {}", self.detail),
        }
    }
}

/// Metric label of an action (see [`ActionKind::metric_label`]).
pub fn metric_action(action: &Action) -> Option<&'static str> {
    action.kind.metric_label()
}

/// Everything one run did, in the order it was done (oldest day first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per file acted on.
    pub actions: Vec<Action>,
}

impl Report {
    /// Number of failed actions.
    pub fn failed(&self) -> usize {
        self.count(ActionKind::Failed)
    }

    /// Number of actions of `kind`.
    pub fn count(&self, kind: ActionKind) -> usize {
        self.actions.iter().filter(|a| a.kind == kind).count()
    }
}

/// Runs housekeeping once over `settings.sink_dir`, as of UTC day `today`.
///
/// Synchronous file I/O: from async code call it through
/// `tokio::task::spawn_blocking` (as [`autorun`] does). Never panics on I/O
/// errors: each failure is a [`ActionKind::Failed`] action and the run goes on
/// with the next file; an unreadable sink directory is one failed action.
///
/// Every tenant (SPEC §8): the default tenant's files at the sink directory's
/// top, tenant `T`'s in `<sink>/T/`, archived to `<archive>/T/`.
pub fn run(settings: &Settings, today: Date, dry_run: bool) -> Report {
    let tenants = match dayfile::tenant_dirs(&settings.sink_dir) {
        Ok(t) => t,
        Err(e) => {
            return Report {
                actions: vec![Action {
                    file: settings.sink_dir.clone(),
                    kind: ActionKind::Failed,
                    detail: format!("cannot read sink directory: {e}"),
                }],
            }
        }
    };
    let holds = crate::forward::position::Holds::load(&settings.sink_dir)
        .map_err(|e| format!("cannot read the forwarding positions: {e}"));
    let mut actions = Vec::new();
    for (tenant, dir) in tenants {
        let own = Settings {
            sink_dir: dir.clone(),
            archive_dir: dayfile::tenant_dir(&settings.archive_dir, &tenant),
            ..settings.clone()
        };
        let expired = scan::expired_files(&dir, today, settings.retention_days)
            .map(|files| hold_back(&holds, &tenant, files, &mut actions));
        match expired {
            Ok(files) => actions.extend(
                files
                    .into_iter()
                    .map(|f| act(&own, &f.path, f.day, today, dry_run)),
            ),
            Err(e) => actions.push(Action {
                file: dir,
                kind: ActionKind::Failed,
                detail: format!("cannot read tenant directory: {e}"),
            }),
        }
    }
    Report { actions }
}

/// The `files` a forwarder has finished; each other one becomes a
/// [`ActionKind::Held`] action in `actions`.
fn hold_back(
    holds: &Result<crate::forward::position::Holds, String>,
    tenant: &crate::schema::Tenant,
    files: Vec<dayfile::Entry>,
    actions: &mut Vec<Action>,
) -> Vec<dayfile::Entry> {
    let mut free = Vec::with_capacity(files.len());
    for f in files {
        match held(holds, tenant, &f) {
            Some(detail) => actions.push(Action {
                file: f.path,
                kind: ActionKind::Held,
                detail,
            }),
            None => free.push(f),
        }
    }
    free
}

/// Why `file` must stay for a forwarder, if it must.
fn held(
    holds: &Result<crate::forward::position::Holds, String>,
    tenant: &crate::schema::Tenant,
    file: &dayfile::Entry,
) -> Option<String> {
    let holds = match holds {
        Ok(h) => h,
        Err(e) => return Some(e.clone()),
    };
    let size = match std::fs::metadata(&file.path) {
        Ok(m) => m.len(),
        Err(e) => return Some(format!("cannot read its size: {e}")),
    };
    holds
        .pending(tenant, file.day, size)
        .map(|(target, offset)| {
            format!(
                "not yet forwarded to {target} ({offset} of {size} bytes sent); kept until it is"
            )
        })
}

/// Deletes or archives one expired file (or says it would).
fn act(settings: &Settings, path: &Path, day: Date, today: Date, dry_run: bool) -> Action {
    let stem = day_stem(day);
    let (kind, result) = match (settings.mode, dry_run) {
        (Mode::Delete, true) => (ActionKind::WouldDelete, Ok(String::new())),
        (Mode::Zip, true) => {
            let archive = settings.archive_dir.join(format!("{stem}.zip"));
            (
                ActionKind::WouldArchive,
                Ok(format!("-> {}", archive.display())),
            )
        }
        (Mode::Delete, false) => (
            ActionKind::Deleted,
            match &settings.chain {
                Some(signer) => delete_chained(settings, signer, path, day, today),
                None => delete(path),
            },
        ),
        (Mode::Zip, false) => (
            ActionKind::Archived,
            archive::archive_day(path, &stem, &settings.archive_dir).and_then(|o| {
                let (archive, entry, detail) = match o {
                    archive::Outcome::Written {
                        archive,
                        entry,
                        size,
                    } => {
                        let d = format!("-> {} ({entry}, {size} bytes)", archive.display());
                        (archive, entry, d)
                    }
                    archive::Outcome::AlreadyHeld { archive, entry } => {
                        let d = format!("-> {} (already held as {entry})", archive.display());
                        (archive, entry, d)
                    }
                };
                let side = crate::chain::sidecar_path(path);
                if side.exists() {
                    let name = format!("{entry}{}", crate::chain::SIDECAR_SUFFIX);
                    archive::archive_sidecar(&side, &name, &archive)?;
                    return Ok(format!("{detail} with its chain"));
                }
                Ok(detail)
            }),
        ),
    };
    if result.is_ok() && !dry_run {
        // The chain's saved tree (an optimisation for the writer) goes with its day.
        let state = crate::chain::seal::state_path(&crate::chain::sidecar_path(path));
        let _ = std::fs::remove_file(state);
    }
    match result {
        Ok(detail) => Action {
            file: path.to_path_buf(),
            kind,
            detail,
        },
        Err(e) => Action {
            file: path.to_path_buf(),
            kind: ActionKind::Failed,
            detail: e.to_string(),
        },
    }
}

fn delete(path: &Path) -> Result<String, HousekeepingError> {
    std::fs::remove_file(path).map_err(io_err("cannot remove", path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        sync_dir(dir)?;
    }
    Ok(String::new())
}

/// Deletes a chained day: its sidecar's last state goes into a signed
/// tombstone in today's chain first, then the file and the sidecar go.
fn delete_chained(
    settings: &Settings,
    signer: &crate::chain::Signer,
    path: &Path,
    day: Date,
    today: Date,
) -> Result<String, HousekeepingError> {
    let side = crate::chain::sidecar_path(path);
    let text = std::fs::read(&side).unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::chain::tombstone(
        dir,
        Some(&settings.archive_dir),
        today,
        day,
        &text,
        signer.key(),
    )
    .map_err(io_err("cannot record the retention tombstone in", dir))?;
    delete(path)?;
    if side.exists() {
        delete(&side)?;
    }
    Ok("tombstone recorded".into())
}

/// The gateway's background task: runs [`run`] (on the blocking pool, so the
/// async workers and ingest latency are unaffected) at start, then every
/// `interval` until `shutdown` completes. `Duration::ZERO` runs once at start.
///
/// `on_report` receives every run's report (to log and count it). A run in
/// progress when `shutdown` fires is finished first: every step is safe to
/// interrupt, but finishing is tidier. Today is the UTC date at each run.
pub async fn autorun<F, S>(settings: Settings, interval: Duration, on_report: F, shutdown: S)
where
    F: Fn(&Report) + Send + 'static,
    S: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    loop {
        let s = settings.clone();
        let job = tokio::task::spawn_blocking(move || {
            run(&s, time::OffsetDateTime::now_utc().date(), false)
        });
        let report = job.await.unwrap_or_else(|e| Report {
            actions: vec![Action {
                file: settings.sink_dir.clone(),
                kind: ActionKind::Failed,
                detail: format!("housekeeping run did not complete: {e}"),
            }],
        });
        on_report(&report);
        if interval.is_zero() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = &mut shutdown => return,
        }
    }
}
