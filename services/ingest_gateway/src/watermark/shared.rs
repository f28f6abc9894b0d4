//! The committed batches themselves, handed to live tails: a ring bounded
//! by bytes, not by count, so a tail that polls every few tens of
//! milliseconds keeps up whether a commit holds one small batch (fast disks
//! commit thousands of groups a second) or many. A tail too slow for the
//! ring is told it lagged and reads the part it missed from the file.
//!
//! Tails looking for the same literal share the search too: the first one
//! to reach a group records which lines hold it ([`Appended::lines_with`]);
//! the others reuse that, so 32 tails of one query cost about one pass.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use time::Date;

use crate::schema::Tenant;

/// A group bigger than this is not shared: tails read it from the file.
pub const MAX_SHARED_BYTES: usize = 1024 * 1024;
/// Bytes of groups held for the tails (while any listens).
const RING_BYTES: u64 = 16 * 1024 * 1024;
/// Distinct literals whose line lists one group keeps (more are searched
/// by each tail alone).
const MEMO_KEYS: usize = 8;

/// Lines of a group: (part, `start..stop` within it, without the `\n`).
pub type Spans = Arc<[(u32, u32, u32)]>;

/// A literal and (once someone searched) the lines holding it.
type Memo = (Box<[u8]>, Arc<OnceLock<Spans>>);

/// Acknowledged batches stored one after another: their lines and where.
#[derive(Debug)]
pub struct Appended {
    /// Whose.
    pub tenant: Tenant,
    /// Its day file.
    pub day: Date,
    /// Offset of its first byte in the file.
    pub start: u64,
    /// The batches' lines, contiguous in the file (whole lines, each ending in `\n`).
    pub parts: Vec<Bytes>,
    /// Per literal searched for: the lines holding it.
    memo: Mutex<Vec<Memo>>,
}

impl Appended {
    /// `parts` stored from `start` of `tenant`'s file of `day` on.
    pub fn new(tenant: Tenant, day: Date, start: u64, parts: Vec<Bytes>) -> Appended {
        Appended {
            tenant,
            day,
            start,
            parts,
            memo: Mutex::new(Vec::new()),
        }
    }

    /// Bytes in all parts.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.len() as u64).sum()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| p.is_empty())
    }

    /// The lines that contain `key`, found by `find` (given each part in
    /// turn) the first time anyone asks for `key`; later callers, and
    /// callers waiting while it runs, get the same list. `None` when the
    /// group keeps no more keys: search it yourself.
    pub fn lines_with(&self, key: &[u8], find: impl Fn(&[u8]) -> Vec<(u32, u32)>) -> Option<Spans> {
        let cell = {
            let mut memo = self.memo.lock().ok()?;
            match memo.iter().find(|(k, _)| **k == *key) {
                Some((_, cell)) => Arc::clone(cell),
                None if memo.len() < MEMO_KEYS => {
                    let cell = Arc::new(OnceLock::new());
                    memo.push((key.into(), Arc::clone(&cell)));
                    cell
                }
                None => return None,
            }
        };
        let spans = cell.get_or_init(|| {
            let mut all = Vec::new();
            for (i, part) in self.parts.iter().enumerate() {
                all.extend(find(part).into_iter().map(|(a, b)| (i as u32, a, b)));
            }
            all.into()
        });
        Some(Arc::clone(spans))
    }
}

/// The shared groups, oldest first, numbered.
#[derive(Debug, Default)]
pub(super) struct Ring {
    inner: Mutex<Held>,
    listeners: AtomicUsize,
}

#[derive(Debug, Default)]
struct Held {
    groups: VecDeque<Arc<Appended>>,
    /// The number of `groups[0]`.
    first: u64,
    bytes: u64,
}

impl Held {
    fn end(&self) -> u64 {
        self.first + self.groups.len() as u64
    }
}

impl Ring {
    pub(super) fn has_listeners(&self) -> bool {
        self.listeners.load(Ordering::Acquire) > 0
    }

    /// Adds a group (dropping the oldest past [`RING_BYTES`]). A group too
    /// big is left out: a tail sees the gap in the offsets. With nobody
    /// listening nothing is held.
    pub(super) fn push(&self, group: Appended) {
        let len = group.len();
        if len > MAX_SHARED_BYTES as u64 {
            return;
        }
        let Ok(mut held) = self.inner.lock() else {
            return;
        };
        if !self.has_listeners() {
            held.first = held.end();
            held.groups.clear();
            held.bytes = 0;
            return;
        }
        held.groups.push_back(Arc::new(group));
        held.bytes += len;
        while held.bytes > RING_BYTES && held.groups.len() > 1 {
            if let Some(old) = held.groups.pop_front() {
                held.bytes -= old.len();
                held.first += 1;
            }
        }
    }

    /// A listener for the groups shared from now on.
    pub(super) fn listen(ring: &Arc<Ring>) -> Listener {
        ring.listeners.fetch_add(1, Ordering::AcqRel);
        let next = ring.inner.lock().map_or(0, |h| h.end());
        Listener {
            ring: Arc::clone(ring),
            next,
        }
    }
}

/// What [`Listener::try_recv`] found.
#[derive(Debug)]
pub enum Recv {
    /// The next group.
    Group(Arc<Appended>),
    /// Nothing new yet.
    Empty,
    /// Groups were dropped (or not shared) before this listener took them;
    /// it continues with the oldest one held.
    Lagged,
}

/// One tail's place in the shared groups.
#[derive(Debug)]
pub struct Listener {
    ring: Arc<Ring>,
    next: u64,
}

impl Listener {
    /// The next shared group, if any.
    pub fn try_recv(&mut self) -> Recv {
        let Ok(held) = self.ring.inner.lock() else {
            return Recv::Lagged;
        };
        if self.next < held.first {
            self.next = held.first;
            return Recv::Lagged;
        }
        match held.groups.get((self.next - held.first) as usize) {
            Some(g) => {
                self.next += 1;
                Recv::Group(Arc::clone(g))
            }
            None => Recv::Empty,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.ring.listeners.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(start: u64, len: usize) -> Appended {
        let day = Date::from_calendar_date(2026, time::Month::December, 1).unwrap();
        Appended::new(
            Tenant::default(),
            day,
            start,
            vec![Bytes::from(vec![b'x'; len])],
        )
    }

    #[test]
    fn a_listener_gets_groups_from_now_on_in_order() {
        let ring = Arc::new(Ring::default());
        ring.push(group(0, 10)); // nobody listens: not kept
        let mut l = Ring::listen(&ring);
        assert!(matches!(l.try_recv(), Recv::Empty));
        ring.push(group(10, 10));
        ring.push(group(20, 10));
        for start in [10, 20] {
            match l.try_recv() {
                Recv::Group(g) => assert_eq!(g.start, start),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(l.try_recv(), Recv::Empty));
    }

    #[test]
    fn a_slow_listener_is_told_it_lagged_and_resumes_at_the_oldest_held() {
        let ring = Arc::new(Ring::default());
        let mut l = Ring::listen(&ring);
        let size = MAX_SHARED_BYTES;
        let n = (RING_BYTES as usize / size) + 3;
        for i in 0..n {
            ring.push(group((i * size) as u64, size));
        }
        assert!(matches!(l.try_recv(), Recv::Lagged));
        match l.try_recv() {
            Recv::Group(g) => assert_eq!(g.start, 3 * size as u64),
            other => panic!("{other:?}"),
        }
        let held = ring.inner.lock().unwrap();
        assert!(held.bytes <= RING_BYTES);
    }

    #[test]
    fn a_group_too_big_to_share_is_left_out() {
        let ring = Arc::new(Ring::default());
        let mut l = Ring::listen(&ring);
        ring.push(group(0, 10));
        ring.push(group(10, MAX_SHARED_BYTES + 1));
        ring.push(group(MAX_SHARED_BYTES as u64 + 11, 10));
        let starts: Vec<u64> = std::iter::from_fn(|| match l.try_recv() {
            Recv::Group(g) => Some(g.start),
            _ => None,
        })
        .collect();
        assert_eq!(starts, [0, MAX_SHARED_BYTES as u64 + 11]);
        drop(l);
        assert!(!ring.has_listeners());
        ring.push(group(0, 10));
        assert!(ring.inner.lock().unwrap().groups.is_empty());
    }

    #[test]
    fn tails_of_one_literal_search_a_group_once() {
        let g = group(0, 10);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let find = |_: &[u8]| {
            calls.fetch_add(1, Ordering::Relaxed);
            vec![(0, 3)]
        };
        for _ in 0..4 {
            let spans = g.lines_with(b"xx", find).unwrap();
            assert_eq!(&spans[..], &[(0, 0, 3)]);
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        for k in 0..MEMO_KEYS - 1 {
            assert!(g.lines_with(&[k as u8], find).is_some());
        }
        assert!(g.lines_with(b"one too many", find).is_none());
    }
}
