//! What `logops-verify` checks: each day file against its checkpoints
//! ([`verify_day`]), then each tenant's days against each other
//! ([`verify_links`]). Where the tool finds the files (directories, zip
//! archives) is its business; this works on bytes.
//!
//! A checkpoint pins the first `size` lines: where the file stops matching
//! is found to the group of lines between two checkpoints (one commit,
//! usually a few batches), classified from the sizes: lines missing at the
//! end (truncated), fewer or more bytes before a checkpoint (removed or
//! inserted), or the same bytes with another root (edited or reordered).

use ed25519_dalek::VerifyingKey;

use super::checkpoint::{Checkpoint, CheckpointError, GENESIS};
use super::merkle::{Frontier, Hash};

/// What is wrong with a day (the first problem found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A sidecar line is not a checkpoint, or its signature fails.
    BadCheckpoint {
        /// 1-based line of the sidecar.
        number: usize,
        /// Why.
        reason: CheckpointError,
    },
    /// The file ends before a checkpoint's last line.
    Truncated {
        /// Lines the file holds.
        lines: u64,
        /// Lines the checkpoint covers.
        sealed: u64,
    },
    /// Lines `from..=to` (1-based) do not match the checkpoint covering them.
    Mismatch {
        /// First line of the group.
        from: u64,
        /// Last line of the group.
        to: u64,
        /// What the sizes say happened.
        kind: &'static str,
    },
    /// A day file without a sidecar.
    NoChain,
    /// A sidecar says lines were stored, and there is no day file.
    NoFile,
    /// A checkpoint covers fewer lines than one before it.
    GoesBack {
        /// 1-based line of the sidecar.
        number: usize,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::BadCheckpoint { number, reason } => {
                write!(f, "checkpoint {number} of the sidecar: {reason}")
            }
            Problem::Truncated { lines, sealed } => write!(
                f,
                "truncated: the file holds {lines} lines, a checkpoint sealed {sealed}"
            ),
            Problem::Mismatch { from, to, kind } => {
                write!(f, "lines {from}–{to} were {kind}")
            }
            Problem::NoChain => f.write_str("no chain sidecar for this day file"),
            Problem::NoFile => f.write_str("the day file is missing (its chain seals lines)"),
            Problem::GoesBack { number } => {
                write!(
                    f,
                    "checkpoint {number} covers fewer lines than one before it"
                )
            }
        }
    }
}

/// One day's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayReport {
    /// Lines in the file.
    pub lines: u64,
    /// Lines sealed by the last checkpoint.
    pub sealed: u64,
    /// Lines after the last checkpoint.
    pub unsealed: u64,
    /// Checkpoints read.
    pub checkpoints: usize,
    /// The root of the last checkpoint (what the next day links to).
    pub last_root: Option<Hash>,
    /// Every root this day's checkpoints named.
    pub roots: Vec<Hash>,
    /// `prev` of each checkpoint, in order.
    pub prevs: Vec<Hash>,
    /// Retention tombstones recorded in this chain: (day, root).
    pub tombstones: Vec<(String, Hash)>,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

/// Checks a day file's bytes (`None`: no file) against its sidecar's
/// (`None`: no sidecar) with `key`.
pub fn verify_day(file: Option<&[u8]>, sidecar: Option<&[u8]>, key: &VerifyingKey) -> DayReport {
    let mut r = DayReport::default();
    let Some(sidecar) = sidecar else {
        r.problem = Some(Problem::NoChain);
        return r;
    };
    let mut cps = Vec::new();
    for (i, line) in sidecar.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match Checkpoint::parse(line, Some(key)) {
            Ok(c) => cps.push((i + 1, c)),
            Err(reason) => {
                r.problem = Some(Problem::BadCheckpoint {
                    number: i + 1,
                    reason,
                });
                return r;
            }
        }
    }
    r.checkpoints = cps.len();
    let Some(file) = file else {
        if cps.iter().any(|(_, c)| c.size > 0) {
            r.problem = Some(Problem::NoFile);
        }
        collect(&mut r, &cps);
        return r;
    };
    let mut tree = Frontier::default();
    let mut offset = 0usize;
    let mut seen: Vec<(u64, Hash)> = vec![(0, tree.root())];
    let mut prev_size = 0u64;
    for (number, c) in &cps {
        if c.deleted.is_some() && c.size <= tree.size() {
            // A tombstone copies a state already checked (or checks it now).
            if !seen.contains(&(c.size, c.root)) && c.size == tree.size() && tree.root() != c.root {
                r.problem = Some(mismatch(prev_size, c.size, offset as u64, c.bytes));
                return r;
            }
            continue;
        }
        if c.size < prev_size {
            r.problem = Some(Problem::GoesBack { number: *number });
            return r;
        }
        while tree.size() < c.size {
            let Some(i) = memchr::memchr(b'\n', &file[offset..]) else {
                r.problem = Some(Problem::Truncated {
                    lines: tree.size(),
                    sealed: c.size,
                });
                return r;
            };
            tree.push_line(&file[offset..offset + i]);
            offset += i + 1;
        }
        if offset as u64 != c.bytes || tree.root() != c.root {
            r.problem = Some(mismatch(prev_size, c.size, offset as u64, c.bytes));
            return r;
        }
        seen.push((c.size, c.root));
        prev_size = c.size;
    }
    r.sealed = tree.size();
    r.lines = tree.size() + memchr::memchr_iter(b'\n', &file[offset..]).count() as u64;
    // A last line without `\n` (torn) counts as unsealed too.
    if file.len() > offset && file.last() != Some(&b'\n') {
        r.lines += 1;
    }
    r.unsealed = r.lines - r.sealed;
    collect(&mut r, &cps);
    r
}

fn mismatch(from_size: u64, to_size: u64, got_bytes: u64, want_bytes: u64) -> Problem {
    let kind = match got_bytes.cmp(&want_bytes) {
        std::cmp::Ordering::Less => "removed or shortened (fewer bytes than sealed)",
        std::cmp::Ordering::Greater => "inserted or lengthened (more bytes than sealed)",
        std::cmp::Ordering::Equal => "edited or reordered (same bytes, another tree hash)",
    };
    Problem::Mismatch {
        from: from_size + 1,
        to: to_size,
        kind,
    }
}

fn collect(r: &mut DayReport, cps: &[(usize, Checkpoint)]) {
    for (_, c) in cps {
        if let Some(d) = &c.deleted {
            r.tombstones.push((d.day.clone(), d.root));
        } else {
            r.roots.push(c.root);
        }
        r.prevs.push(c.prev);
    }
    r.last_root = cps
        .iter()
        .filter(|(_, c)| c.deleted.is_none())
        .max_by_key(|(_, c)| c.size)
        .map(|(_, c)| c.root);
}

/// How a day links to the one before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The tenant's first day.
    Genesis,
    /// To the day before it (given).
    Linked,
    /// To a day retention removed (a signed tombstone names it).
    Retired(String),
    /// The oldest day given links to an earlier day that was not given.
    NotGiven,
    /// Broken: the day(s) before it are missing or changed, and no
    /// tombstone explains it.
    Broken,
}

/// The link of each day (oldest first; `(stem, report)`) to the previous one.
pub fn verify_links(days: &[(String, DayReport)]) -> Vec<Link> {
    let tombstones: Vec<&(String, Hash)> = days.iter().flat_map(|(_, r)| &r.tombstones).collect();
    let retired = |prev: &Hash, after: Option<&str>, before: &str| {
        tombstones
            .iter()
            .find(|(d, root)| {
                root == prev && d.as_str() < before && after.is_none_or(|a| d.as_str() > a)
            })
            .map(|(d, _)| d.clone())
    };
    let mut out = Vec::with_capacity(days.len());
    for (i, (stem, r)) in days.iter().enumerate() {
        let Some(last_prev) = r.prevs.last() else {
            out.push(Link::Broken);
            continue;
        };
        if i == 0 {
            out.push(if *last_prev == GENESIS {
                Link::Genesis
            } else if let Some(d) = retired(last_prev, None, stem) {
                Link::Retired(d)
            } else {
                Link::NotGiven
            });
            continue;
        }
        let (pstem, p) = &days[i - 1];
        let linked =
            p.last_root.as_ref() == Some(last_prev) && r.prevs.iter().all(|x| p.roots.contains(x));
        out.push(if linked {
            Link::Linked
        } else if let Some(d) = retired(last_prev, Some(pstem), stem) {
            Link::Retired(d)
        } else {
            Link::Broken
        });
    }
    out
}
