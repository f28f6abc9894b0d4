//! Sealing one day file as the sink writes it: the tree of its lines (a
//! [`Frontier`]) and its `D.ndjson.chain` sidecar, appended one signed
//! checkpoint per committed group.
//!
//! Opening rebuilds the tree from the file's lines (the sidecar is not
//! trusted for it) and repairs the sidecar's torn last line. When the file
//! holds lines no checkpoint covers (a crash between the data sync and the
//! checkpoint, or a power loss that took the last unsynced checkpoints) a
//! new checkpoint reseals them, with a warning; when the file no longer
//! matches its last checkpoint (edited or truncated while the gateway was
//! down) that is logged as an error, and the next checkpoints cover what
//! the file now holds — the old checkpoints stay, so a verifier still
//! reports the difference.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;

use super::checkpoint::Checkpoint;
use super::merkle::{Frontier, Hash};
use super::sidecar_path;

/// The sidecar is synced at most this often (and when closed).
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// What opening a day's chain found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Opened {
    /// Lines the last checkpoint did not cover, now resealed.
    pub resealed: u64,
    /// The file did not match its last checkpoint (logged as an error).
    pub mismatch: bool,
    /// The sidecar's torn last line was cut off.
    pub torn: bool,
}

/// The chain of one open day file.
#[derive(Debug)]
pub struct DayChain {
    path: PathBuf,
    sidecar: File,
    key: Arc<SigningKey>,
    tree: Frontier,
    bytes: u64,
    /// The previous day's last root, as known when opened.
    pub prev: Hash,
    dirty: bool,
    last_sync: Instant,
    /// Reused for each checkpoint line.
    line: String,
    /// Leaves written but not yet synced (bounded by the fsync interval).
    staged: Vec<Hash>,
    staged_bytes: u64,
}

impl DayChain {
    /// Opens the chain of the day file at `day_path`, whose first `len`
    /// bytes are committed; `prev` is the previous day's last root.
    ///
    /// # Errors
    /// The file or the sidecar cannot be read or written.
    pub fn open(
        day_path: &Path,
        len: u64,
        prev: Hash,
        key: Arc<SigningKey>,
    ) -> io::Result<(DayChain, Opened)> {
        let path = sidecar_path(day_path);
        let mut sidecar = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let mut text = Vec::new();
        sidecar.read_to_end(&mut text)?;
        let mut opened = Opened::default();
        let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if whole < text.len() {
            tracing::warn!(path = %path.display(), cut = text.len() - whole, "chain sidecar ends in a torn line; cutting it off");
            sidecar.set_len(whole as u64)?;
            text.truncate(whole);
            opened.torn = true;
        }
        let last = text[..whole]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| Checkpoint::parse(l, None).ok())
            .filter(|c| c.deleted.is_none())
            .max_by_key(|c| c.size);
        // Resume from the saved tree when it matches a signed checkpoint:
        // only the lines after it are hashed again.
        let (mut tree, mut bytes) = resume(&path, &text[..whole], len).unwrap_or_default();
        let mut root_at_last = last
            .as_ref()
            .filter(|c| c.size == tree.size())
            .map(|_| tree.root());
        let mut f = File::open(day_path)?;
        f.seek(SeekFrom::Start(bytes))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut carry: Vec<u8> = Vec::new();
        let mut left = len - bytes;
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = f.read(&mut buf[..want])?;
            if n == 0 {
                break;
            }
            left -= n as u64;
            let mut chunk = &buf[..n];
            while let Some(i) = memchr::memchr(b'\n', chunk) {
                let line: &[u8] = if carry.is_empty() {
                    &chunk[..i]
                } else {
                    carry.extend_from_slice(&chunk[..i]);
                    &carry
                };
                tree.push_line(line);
                bytes += line.len() as u64 + 1;
                carry.clear();
                chunk = &chunk[i + 1..];
                if last.as_ref().is_some_and(|c| c.size == tree.size()) {
                    root_at_last = Some(tree.root());
                }
            }
            carry.extend_from_slice(chunk);
        }
        let mut chain = DayChain {
            path,
            sidecar,
            key,
            tree,
            bytes,
            prev,
            dirty: false,
            last_sync: Instant::now(),
            line: String::new(),
            staged: Vec::new(),
            staged_bytes: 0,
        };
        match &last {
            Some(c) if root_at_last == Some(c.root) && c.bytes <= bytes => {
                if c.size < chain.tree.size() {
                    opened.resealed = chain.tree.size() - c.size;
                }
            }
            Some(c) => {
                tracing::error!(path = %day_path.display(), checkpoint_lines = c.size, file_lines = chain.tree.size(),
                    "day file does not match its last checkpoint (edited or truncated while the gateway was down); new checkpoints cover it as it is now, a verifier reports the difference");
                opened.mismatch = true;
            }
            None => opened.resealed = chain.tree.size(),
        }
        if opened.resealed > 0 || opened.mismatch || last.is_none() {
            if opened.resealed > 0 {
                tracing::warn!(path = %day_path.display(), lines = opened.resealed, "lines after the last checkpoint (a crash before it was written); resealed");
            }
            chain.checkpoint(None)?;
        }
        Ok((chain, opened))
    }

    /// Hashes the written `parts` (whole lines, each ending in `\n`); they
    /// are sealed by the next [`DayChain::seal`], once synced.
    pub fn stage(&mut self, parts: &[&[u8]]) {
        for part in parts {
            let mut rest: &[u8] = part;
            while let Some(i) = memchr::memchr(b'\n', rest) {
                self.staged.push(super::merkle::leaf_hash(&rest[..i]));
                rest = &rest[i + 1..];
            }
            self.staged_bytes += part.len() as u64;
        }
    }

    /// Whether lines were staged since the last seal.
    pub fn has_staged(&self) -> bool {
        self.staged_bytes > 0
    }

    /// Appends the checkpoint of everything staged (call once it is
    /// synced); `prev` is the previous day's root now.
    ///
    /// # Errors
    /// The sidecar cannot be written.
    pub fn seal(&mut self, prev: Hash) -> io::Result<()> {
        if self.staged_bytes == 0 && prev == self.prev {
            return Ok(());
        }
        for leaf in self.staged.drain(..) {
            self.tree.push(leaf);
        }
        self.bytes += std::mem::take(&mut self.staged_bytes);
        self.prev = prev;
        self.checkpoint(None)?;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// The sealed root (the last checkpoint's).
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The sealed lines and bytes.
    pub fn sealed(&self) -> (u64, u64) {
        (self.tree.size(), self.bytes)
    }

    /// Appends a checkpoint of the tree as it is (`deleted`: a tombstone).
    ///
    /// # Errors
    /// The sidecar cannot be written.
    pub fn checkpoint(&mut self, deleted: Option<super::checkpoint::Deleted>) -> io::Result<()> {
        let c = Checkpoint {
            size: self.tree.size(),
            bytes: self.bytes,
            root: self.tree.root(),
            prev: self.prev,
            at: super::now_rfc3339(),
            deleted,
        };
        self.line.clear();
        self.line.push_str(&c.to_line(&self.key));
        // One write of the whole line (O_APPEND): a tombstone written by the
        // housekeeping CLI at the same time cannot interleave inside it.
        self.sidecar.write_all(self.line.as_bytes())?;
        self.dirty = true;
        Ok(())
    }

    /// `fdatasync` of the sidecar, if anything was appended since, and
    /// the tree saved beside it (so a restart hashes only what follows).
    ///
    /// # Errors
    /// The sync failed.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            self.sidecar.sync_data()?;
            self.dirty = false;
            self.save_state();
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Writes `<sidecar>.state` (temp + rename; an optimisation only: a
    /// missing or stale one means hashing the file again at open).
    fn save_state(&self) {
        let state = serde_json::json!({
            "size": self.tree.size(),
            "bytes": self.bytes,
            "nodes": self.tree.nodes().iter().map(|n| B64.encode(n)).collect::<Vec<_>>(),
        });
        let path = state_path(&self.path);
        let tmp = path.with_extension("state.tmp");
        let done =
            std::fs::write(&tmp, state.to_string()).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = done {
            tracing::debug!(path = %path.display(), error = %e, "cannot save the chain state");
        }
    }

    /// The sidecar's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `D.ndjson.chain` → `D.ndjson.chain.state`.
pub fn state_path(sidecar: &Path) -> PathBuf {
    let mut s = sidecar.as_os_str().to_owned();
    s.push(".state");
    PathBuf::from(s)
}

/// The saved tree of `sidecar`, if it matches one of its checkpoints and
/// the file still has the bytes it covers: (tree, bytes covered).
fn resume(sidecar: &Path, text: &[u8], len: u64) -> Option<(Frontier, u64)> {
    #[derive(serde::Deserialize)]
    struct State {
        size: u64,
        bytes: u64,
        nodes: Vec<String>,
    }
    let raw = std::fs::read(state_path(sidecar)).ok()?;
    let st: State = serde_json::from_slice(&raw).ok()?;
    let nodes: Vec<Hash> = st
        .nodes
        .iter()
        .map(|n| B64.decode(n).ok()?.try_into().ok())
        .collect::<Option<_>>()?;
    let tree = Frontier::from_parts(st.size, nodes)?;
    let root = tree.root();
    let signed = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| Checkpoint::parse(l, None).ok())
        .any(|c| c.size == st.size && c.bytes == st.bytes && c.root == root);
    (signed && st.bytes <= len).then_some((tree, st.bytes))
}

impl Drop for DayChain {
    fn drop(&mut self) {
        if let Err(e) = self.sync() {
            tracing::error!(path = %self.path.display(), error = %e, "chain sidecar sync on close failed");
        }
    }
}
