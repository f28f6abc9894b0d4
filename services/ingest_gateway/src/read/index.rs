//! The sparse index of live day files: for every file read, one summary per
//! ~64 KiB block of lines (byte range, minimum and maximum `ts`), so a
//! narrow time range reads only the blocks that can hold it.
//!
//! Built in memory while a file is scanned (the first query over a file
//! pays one sequential pass) and extended past its end by later scans — day
//! files only grow, so a block once summarized stays true. Dropped when the
//! file's inode changes (rotation, rewrite) or the file becomes shorter than
//! the index (truncation). Not persisted: a restarted gateway rebuilds it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bytes per block (a block ends at the first line end past this).
const BLOCK_BYTES: u64 = 64 * 1024;
/// Files whose index is kept.
const MAX_INDEXED_FILES: usize = 1024;

/// One block of lines.
#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    start: u64,
    end: u64,
    min_ts: i64,
    max_ts: i64,
}

#[derive(Debug, Default)]
struct FileIndex {
    id: (u64, u64),
    blocks: Vec<Block>,
    covered: u64,
}

/// The indexes of the files read so far.
#[derive(Debug, Default)]
pub(super) struct Index {
    files: Mutex<HashMap<PathBuf, FileIndex>>,
}

impl Index {
    /// The blocks of `path` (file `id`, readable up to `limit`) and how far
    /// they cover it; nothing when the index is stale (then forgotten).
    pub(super) fn snapshot(&self, path: &Path, id: (u64, u64), limit: u64) -> (Vec<Block>, u64) {
        let Ok(mut files) = self.files.lock() else {
            return (Vec::new(), 0);
        };
        match files.get(path) {
            Some(fi) if fi.id == id && fi.covered <= limit => (fi.blocks.clone(), fi.covered),
            _ => {
                files.remove(path);
                (Vec::new(), 0)
            }
        }
    }

    /// Appends the blocks built from `covered` on.
    pub(super) fn extend(&self, path: &Path, id: (u64, u64), covered: u64, new: Vec<Block>) {
        let Some(last) = new.last().copied() else {
            return;
        };
        let Ok(mut files) = self.files.lock() else {
            return;
        };
        if files.len() >= MAX_INDEXED_FILES && !files.contains_key(path) {
            files.clear();
        }
        let fi = files.entry(path.to_path_buf()).or_default();
        if fi.id != id || fi.covered != covered {
            if covered != 0 {
                return;
            }
            *fi = FileIndex {
                id,
                ..FileIndex::default()
            };
        }
        fi.blocks.extend(new);
        fi.covered = last.end;
    }
}

/// The byte ranges (from `from` on) of the blocks whose `ts` span meets
/// `[lo, hi)`, adjacent blocks merged.
pub(super) fn ranges(blocks: &[Block], from: u64, (lo, hi): (i64, i64)) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for b in blocks
        .iter()
        .filter(|b| b.end > from && b.max_ts >= lo && b.min_ts < hi)
    {
        match out.last_mut() {
            Some((_, end)) if *end == b.start => *end = b.end,
            _ => out.push((b.start.max(from), b.end)),
        }
    }
    out
}

/// Summarizes lines, as they are read, into blocks.
pub(super) struct Builder {
    blocks: Vec<Block>,
    cur: Block,
}

impl Builder {
    /// Blocks from byte `start` (a line start) on.
    pub(super) fn new(start: u64) -> Self {
        Builder {
            blocks: Vec::new(),
            cur: Self::empty(start),
        }
    }

    fn empty(start: u64) -> Block {
        Block {
            start,
            end: start,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
        }
    }

    /// A line with this `ts` ends (its `\n` included) at byte `end`.
    pub(super) fn line(&mut self, ts: i64, end: u64) {
        self.cur.min_ts = self.cur.min_ts.min(ts);
        self.cur.max_ts = self.cur.max_ts.max(ts);
        self.cur.end = end;
        if end - self.cur.start >= BLOCK_BYTES {
            self.blocks.push(self.cur);
            self.cur = Self::empty(end);
        }
    }

    /// The complete blocks (the partial last one is read again next time).
    pub(super) fn finish(self) -> Vec<Block> {
        self.blocks
    }
}
