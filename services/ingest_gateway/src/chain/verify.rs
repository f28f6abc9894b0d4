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

use std::io::{self, Read};

use ed25519_dalek::VerifyingKey;

use super::checkpoint::{verify_all, Checkpoint, CheckpointError, GENESIS};
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

/// Checks a day file (`None`: no file), read once in chunks, against its
/// sidecar's text (`None`: no sidecar) with `key`.
///
/// # Errors
/// The file cannot be read.
pub fn verify_day(
    file: Option<&mut dyn Read>,
    sidecar: Option<&[u8]>,
    key: &VerifyingKey,
) -> io::Result<DayReport> {
    let mut r = DayReport::default();
    let Some(sidecar) = sidecar else {
        r.problem = Some(Problem::NoChain);
        return Ok(r);
    };
    let mut parsed = Vec::new();
    let mut numbers = Vec::new();
    for (i, line) in sidecar.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match Checkpoint::parse_signed(line) {
            Ok(c) => {
                parsed.push(c);
                numbers.push(i + 1);
            }
            Err(reason) => {
                r.problem = Some(Problem::BadCheckpoint {
                    number: i + 1,
                    reason,
                });
                return Ok(r);
            }
        }
    }
    if let Err(i) = verify_all(&parsed, key) {
        r.problem = Some(Problem::BadCheckpoint {
            number: numbers[i],
            reason: CheckpointError::BadSignature,
        });
        return Ok(r);
    }
    let cps: Vec<(usize, Checkpoint)> = numbers
        .into_iter()
        .zip(parsed.into_iter().map(|(c, _)| c))
        .collect();
    r.checkpoints = cps.len();
    collect(&mut r, &cps);
    let Some(file) = file else {
        if cps.iter().any(|(_, c)| c.size > 0) {
            r.problem = Some(Problem::NoFile);
        }
        return Ok(r);
    };
    // The checkpoints in order (a tombstone copies a state and is checked against those).
    let mut sealed: Vec<&(usize, Checkpoint)> = Vec::new();
    for cp in cps.iter().filter(|(_, c)| c.deleted.is_none()) {
        if sealed.last().is_some_and(|(_, l)| cp.1.size < l.size) {
            r.problem = Some(Problem::GoesBack { number: cp.0 });
            return Ok(r);
        }
        sealed.push(cp);
    }
    let mut tree = Frontier::default();
    let mut offset = 0u64;
    let mut seen: Vec<(u64, Hash)> = vec![(0, super::merkle::EMPTY_ROOT)];
    let mut next = 0usize;
    let mut prev_size = 0u64;
    let mut problem = None;
    let mut check = |tree: &Frontier, offset: u64, next: &mut usize, prev_size: &mut u64| {
        while let Some((_, c)) = sealed.get(*next).map(|x| &**x) {
            if c.size != tree.size() {
                return true;
            }
            if offset != c.bytes || tree.root() != c.root {
                problem = Some(mismatch(*prev_size, c.size, offset, c.bytes));
                return false;
            }
            seen.push((c.size, c.root));
            *prev_size = c.size;
            *next += 1;
        }
        true
    };
    let mut going = check(&tree, offset, &mut next, &mut prev_size);
    let mut torn = false;
    if going {
        let mut buf = vec![0u8; 1 << 20];
        let mut carry: Vec<u8> = Vec::new();
        'read: loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                torn = !carry.is_empty();
                break;
            }
            let mut chunk = &buf[..n];
            while let Some(i) = memchr::memchr(b'\n', chunk) {
                if carry.is_empty() {
                    tree.push_line(&chunk[..i]);
                    offset += i as u64 + 1;
                } else {
                    carry.extend_from_slice(&chunk[..i]);
                    tree.push_line(&carry);
                    offset += carry.len() as u64 + 1;
                    carry.clear();
                }
                chunk = &chunk[i + 1..];
                if !check(&tree, offset, &mut next, &mut prev_size) {
                    going = false;
                    break 'read;
                }
            }
            carry.extend_from_slice(chunk);
        }
    }
    if let Some(p) = problem {
        r.problem = Some(p);
        return Ok(r);
    }
    if going {
        if let Some((_, c)) = sealed.get(next).map(|x| &**x) {
            r.problem = Some(Problem::Truncated {
                lines: tree.size(),
                sealed: c.size,
            });
            return Ok(r);
        }
        for (_, c) in cps.iter().filter(|(_, c)| c.deleted.is_some()) {
            if !seen.contains(&(c.size, c.root)) {
                r.problem = Some(mismatch(0, c.size, c.bytes, c.bytes));
                return Ok(r);
            }
        }
    }
    r.lines = tree.size() + u64::from(torn);
    r.sealed = prev_size;
    r.unsealed = r.lines - r.sealed;
    Ok(r)
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

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// Hands out a few bytes per read, so lines straddle reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn day(lines: usize, key: &SigningKey) -> (String, String) {
        let file: String = (0..lines)
            .map(|i| format!("{{\"msg\":\"line {i}\"}}\n"))
            .collect();
        let mut tree = Frontier::default();
        let mut sidecar = String::new();
        let mut bytes = 0;
        for (i, l) in file.lines().enumerate() {
            tree.push_line(l.as_bytes());
            bytes += l.len() as u64 + 1;
            if i % 3 == 2 || i + 1 == lines {
                let c = Checkpoint {
                    size: tree.size(),
                    bytes,
                    root: tree.root(),
                    prev: GENESIS,
                    at: "2026-12-01T00:00:00Z".into(),
                    deleted: None,
                };
                sidecar.push_str(&c.to_line(key));
            }
        }
        (file, sidecar)
    }

    #[test]
    fn lines_split_across_reads_verify_and_an_edit_is_placed_in_its_group() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let (file, sidecar) = day(10, &key);
        let vk = key.verifying_key();
        let r = verify_day(
            Some(&mut Trickle(file.as_bytes())),
            Some(sidecar.as_bytes()),
            &vk,
        )
        .unwrap();
        assert_eq!(r.problem, None);
        assert_eq!(
            (r.lines, r.sealed, r.unsealed, r.checkpoints),
            (10, 10, 0, 4)
        );
        let edited = file.replace("line 4", "line X");
        let r = verify_day(
            Some(&mut Trickle(edited.as_bytes())),
            Some(sidecar.as_bytes()),
            &vk,
        )
        .unwrap();
        assert!(
            matches!(r.problem, Some(Problem::Mismatch { from: 4, to: 6, .. })),
            "{:?}",
            r.problem
        );
        let torn = format!("{file}{{\"msg\":\"half");
        let r = verify_day(Some(&mut torn.as_bytes()), Some(sidecar.as_bytes()), &vk).unwrap();
        assert_eq!((r.problem, r.unsealed), (None, 1));
    }
}
