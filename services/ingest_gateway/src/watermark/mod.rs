//! How far each day file is acknowledged: the sink records the length of a
//! file after every committed group (and when it opens one), readers read
//! no further, and live tails wake up on every change.
//!
//! This is what makes reads see exactly what was acknowledged: bytes of a
//! batch being written (or about to be rolled back after a failed sync) lie
//! beyond the mark. A file the running sink has not touched has no mark;
//! readers then stop at its last complete line.
//!
//! Live tails also get the committed bytes themselves ([`Appended`], while
//! anyone listens; see [`shared`]): a tail at the head of a file then reads
//! nothing from disk, however many tails there are. A tail that misses one
//! (it lagged, or the group was too big to share) reads that part from the
//! file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

mod shared;

pub use shared::{Appended, Listener, Recv, Spans, MAX_SHARED_BYTES};

/// The committed length of every day file the sink has written.
#[derive(Debug)]
pub struct Watermarks {
    marks: Mutex<HashMap<PathBuf, u64>>,
    /// Bumped on every advance; readers wait on it.
    generation: watch::Sender<u64>,
    /// The acknowledged batches, for live tails.
    appended: Arc<shared::Ring>,
}

impl Default for Watermarks {
    fn default() -> Self {
        Watermarks {
            marks: Mutex::new(HashMap::new()),
            generation: watch::channel(0).0,
            appended: Arc::default(),
        }
    }
}

impl Watermarks {
    /// The committed length of `path`, if the sink has written it.
    pub fn committed(&self, path: &Path) -> Option<u64> {
        self.marks.lock().ok()?.get(path).copied()
    }

    /// `path` is committed up to `len` bytes (a replaced file may go back).
    pub fn advance(&self, path: &Path, len: u64) {
        if let Ok(mut m) = self.marks.lock() {
            match m.get_mut(path) {
                Some(v) => *v = len,
                None => {
                    // Bounded: the sink opens a few files per tenant and day.
                    if m.len() >= 4096 {
                        m.clear();
                    }
                    m.insert(path.to_path_buf(), len);
                }
            }
        }
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Is any tail listening for [`Appended`] batches?
    pub fn has_listeners(&self) -> bool {
        self.appended.has_listeners()
    }

    /// Shares an acknowledged batch with the live tails (call before
    /// [`Watermarks::advance`] wakes them).
    pub fn share(&self, batch: Appended) {
        self.appended.push(batch);
    }

    /// The acknowledged batches from now on.
    pub fn listen(&self) -> Listener {
        shared::Ring::listen(&self.appended)
    }

    /// A receiver that changes whenever any file advances.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }
}
