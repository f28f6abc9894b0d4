//! Tamper evidence (`LOGOPS_CHAIN`): every day file gets a sidecar
//! `D.ndjson.chain` of Ed25519-signed checkpoints, one per committed group,
//! each the RFC 6962 Merkle tree hash of the exact stored lines so far and
//! the last root of the tenant's previous day. Whoever holds the public key
//! can check that a day file is exactly what the gateway acknowledged, that
//! no day between two others went missing, and that a line is in a file
//! (an inclusion proof), without being able to forge any of it.
//!
//! - [`merkle`]: the tree, its compact range and inclusion proofs.
//! - [`checkpoint`]: the signed line and the keys.
//! - [`seal`]: one open day's tree and sidecar.
//! - [`sealer`]: the thread the sink's writer hands written and synced
//!   lines to, which hashes and signs off the writer's path.
//! - [`verify`]: the checks of `logops-verify` (a day, then the links).
//! - [`proof`]: `GET /v1/proof`'s inclusion proof, built in one pass.
//! - this module: configuration, finding the previous day's root, and
//!   retention tombstones.

pub mod checkpoint;
pub mod merkle;
pub mod proof;
pub mod seal;
pub mod sealer;
pub mod verify;

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use time::Date;

use crate::dayfile;
pub use checkpoint::{Checkpoint, Deleted, GENESIS};
pub use merkle::Hash;

/// Suffix of a day file's sidecar.
pub const SIDECAR_SUFFIX: &str = ".chain";

/// The chain section of the configuration: `LOGOPS_CHAIN=true` loads and
/// checks `LOGOPS_CHAIN_SIGNING_KEY` once, at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainConfig {
    /// The key checkpoints are signed with (`None`: chain off).
    pub signer: Option<Signer>,
}

/// The signing key, shared; `Debug` shows only the public key.
#[derive(Clone)]
pub struct Signer {
    key: std::sync::Arc<SigningKey>,
    /// Where housekeeping archives each tenant's days (`LOGOPS_ARCHIVE_DIR`),
    /// to find the previous day's root of an archived day.
    pub archive_dir: PathBuf,
}

impl Signer {
    /// A signer with `key`.
    pub fn new(key: SigningKey, archive_dir: PathBuf) -> Signer {
        Signer {
            key: std::sync::Arc::new(key),
            archive_dir,
        }
    }

    /// The key.
    pub fn key(&self) -> &std::sync::Arc<SigningKey> {
        &self.key
    }

    /// The public key, base64.
    pub fn public_key(&self) -> String {
        checkpoint::public_key_text(&self.key.verifying_key())
    }
}

impl PartialEq for Signer {
    fn eq(&self, other: &Signer) -> bool {
        self.key.verifying_key() == other.key.verifying_key()
            && self.archive_dir == other.archive_dir
    }
}

impl Eq for Signer {}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// `D.ndjson` → `D.ndjson.chain`.
pub fn sidecar_path(day_path: &Path) -> PathBuf {
    let mut s = day_path.as_os_str().to_owned();
    s.push(SIDECAR_SUFFIX);
    PathBuf::from(s)
}

/// Now, RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The last root of a sidecar's text: the checkpoint covering the most
/// lines (a tombstone copies an earlier one; it is not a new state).
pub fn last_root(sidecar: &[u8]) -> Option<(u64, u64, Hash)> {
    sidecar
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| Checkpoint::parse(l, None).ok())
        .filter(|c| c.deleted.is_none())
        .max_by_key(|c| c.size)
        .map(|c| (c.size, c.bytes, c.root))
}

/// The last root of the newest day before `day` in the tenant directory
/// `dir` (or, when it is archived, in `<archive_dir>/<stem>.zip`), or
/// [`GENESIS`] when there is none.
///
/// # Errors
/// A sidecar exists but cannot be read.
pub fn previous_root(dir: &Path, archive_dir: Option<&Path>, day: Date) -> io::Result<Hash> {
    let mut best: Option<(Date, Hash)> = None;
    // Every sidecar (also of days with no file: a tombstone-only day), newest
    // first; only the newest with a checkpoint is read.
    let mut days: Vec<(Date, PathBuf)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let stem = name.to_str()?.strip_suffix(".ndjson.chain")?;
                Some((dayfile::parse_stem(stem)?, e.path()))
            })
            .filter(|(d, _)| *d < day)
            .collect(),
        Err(_) => Vec::new(),
    };
    days.sort();
    for (d, path) in days.into_iter().rev() {
        if let Some((_, _, root)) = last_root(&std::fs::read(path)?) {
            best = Some((d, root));
            break;
        }
    }
    if let Some(archive_dir) = archive_dir {
        if let Some(found) = archived_root(archive_dir, day, best.map(|b| b.0))? {
            best = Some(found);
        }
    }
    Ok(best.map_or(GENESIS, |(_, r)| r))
}

/// The newest archived day before `day` (and after `after`) with a sidecar entry.
fn archived_root(
    archive_dir: &Path,
    day: Date,
    after: Option<Date>,
) -> io::Result<Option<(Date, Hash)>> {
    let Ok(rd) = std::fs::read_dir(archive_dir) else {
        return Ok(None);
    };
    let mut days: Vec<(Date, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let stem = name.to_str()?.strip_suffix(".zip")?;
            Some((dayfile::parse_stem(stem)?, e.path()))
        })
        .filter(|(d, _)| *d < day && after.is_none_or(|a| *d > a))
        .collect();
    days.sort();
    for (d, path) in days.into_iter().rev() {
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let Ok(mut zip) = zip::ZipArchive::new(file) else {
            continue;
        };
        let name = format!("{}{SIDECAR_SUFFIX}", dayfile::file_name(d));
        let Ok(mut entry) = zip.by_name(&name) else {
            continue;
        };
        let mut text = Vec::new();
        entry.read_to_end(&mut text)?;
        if let Some((_, _, root)) = last_root(&text) {
            return Ok(Some((d, root)));
        }
    }
    Ok(None)
}

/// Records that retention removed `deleted_day` (whose sidecar text is
/// `deleted_sidecar`): a signed tombstone checkpoint appended to the
/// chain of `today` in the tenant directory `dir`, copying that chain's
/// last state (or the empty tree, linked to the previous day, when today
/// has no file yet). One `write` on an `O_APPEND` file, so the gateway's
/// own checkpoints cannot interleave with it.
///
/// # Errors
/// The sidecars cannot be read or written.
pub fn tombstone(
    dir: &Path,
    archive_dir: Option<&Path>,
    today: Date,
    deleted_day: Date,
    deleted_sidecar: &[u8],
    key: &SigningKey,
) -> io::Result<()> {
    let (size, _, root) = last_root(deleted_sidecar).unwrap_or((0, 0, merkle::EMPTY_ROOT));
    let path = sidecar_path(&dir.join(dayfile::file_name(today)));
    let current = std::fs::read(&path).unwrap_or_default();
    let all: Vec<Checkpoint> = current
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| Checkpoint::parse(l, None).ok())
        .collect();
    let state = all
        .iter()
        .filter(|c| c.deleted.is_none())
        .max_by_key(|c| c.size)
        .or(all.last());
    let (t_size, t_bytes, t_root, prev) = match state {
        Some(c) => (c.size, c.bytes, c.root, c.prev),
        None => (
            0,
            0,
            merkle::EMPTY_ROOT,
            previous_root(dir, archive_dir, today)?,
        ),
    };
    let c = Checkpoint {
        size: t_size,
        bytes: t_bytes,
        root: t_root,
        prev,
        at: now_rfc3339(),
        deleted: Some(Deleted {
            day: dayfile::stem(deleted_day),
            size,
            root,
        }),
    };
    std::fs::create_dir_all(dir)?;
    let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
    f.write_all(c.to_line(key).as_bytes())?;
    f.sync_data()
}
