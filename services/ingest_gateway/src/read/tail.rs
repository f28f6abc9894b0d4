//! Following a tenant's files as they grow: the engine of `/v1/tail` and
//! Loki's `/loki/api/v1/tail`. A [`Tail`] is a position in the files — per
//! day, the next unread byte — so a client that reconnects with the id of
//! the last line it got resumes exactly after it (no gap, no duplicate), and
//! a consumer that stops reading simply stops the tail from advancing: it
//! falls behind and catches up from disk, nothing is dropped.
//!
//! The two newest days are followed at once: a batch received just before
//! midnight may be appended to yesterday's file after today's has begun.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use time::Date;

use super::filter::Filter;
use super::source::{Line, ScanStats, Store};
use crate::dayfile;
use crate::schema::Tenant;

/// The id of a line: `YYYYMMDD:<byte offset of the line>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineId {
    /// Its day file.
    pub day: Date,
    /// The byte offset where the line starts.
    pub offset: u64,
}

impl std::fmt::Display for LineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", dayfile::stem(self.day), self.offset)
    }
}

impl std::str::FromStr for LineId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid event id {:?}: expected YYYYMMDD:<offset>",
                s.chars().take(40).collect::<String>()
            )
        };
        let (day, offset) = s.split_once(':').ok_or_else(bad)?;
        Ok(LineId {
            day: dayfile::parse_stem(day).ok_or_else(bad)?,
            offset: offset.parse().map_err(|_| bad())?,
        })
    }
}

/// Where a tail begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Only lines stored from now on.
    Now,
    /// Every stored line with `ts` ≥ this (Unix ns), then what follows.
    Since(i64),
    /// Right after this line (a resumed stream).
    After(LineId),
}

/// A live position in a tenant's files.
#[derive(Debug)]
pub struct Tail {
    store: Arc<Store>,
    tenant: Tenant,
    filter: Filter,
    min_ts: i64,
    /// Next unread byte per followed day.
    next: BTreeMap<Date, u64>,
    /// Days before this are not followed.
    floor: Option<Date>,
    /// Lines at or before this are skipped (resume).
    after: Option<LineId>,
}

/// Days followed at once.
const FOLLOWED_DAYS: usize = 2;

impl Tail {
    /// A tail of `tenant`'s lines matching `filter`, from `start`.
    ///
    /// # Errors
    /// The store cannot be listed.
    pub fn new(
        store: Arc<Store>,
        tenant: Tenant,
        filter: Filter,
        start: Start,
    ) -> io::Result<Tail> {
        let mut t = Tail {
            store,
            tenant,
            filter,
            min_ts: i64::MIN,
            next: BTreeMap::new(),
            floor: None,
            after: None,
        };
        match start {
            Start::Now => {
                // Begin at the current end of the newest days.
                let sources = t.store.sources(&t.tenant)?;
                for src in sources.iter().rev().take(FOLLOWED_DAYS) {
                    let mut stats = ScanStats::default();
                    t.store
                        .scan(src, u64::MAX, (i64::MAX, i64::MAX), &mut stats, &mut |_| {
                            false
                        })?;
                    t.next.insert(src.day, stats.last_end);
                }
                t.floor = sources.last().map(|s| s.day);
            }
            Start::Since(ts) => t.min_ts = ts,
            Start::After(id) => {
                t.floor = Some(id.day);
                t.after = Some(id);
                t.next.insert(id.day, id.offset);
            }
        }
        Ok(t)
    }

    /// Reads what is new, handing each matching line to `emit` with its id,
    /// at most `max_lines` of them (the position stays right after the last
    /// one handed on). Returns the lines handed on.
    ///
    /// # Errors
    /// A file cannot be read.
    pub fn poll(
        &mut self,
        max_lines: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> io::Result<usize> {
        let sources = self.store.sources(&self.tenant)?;
        let mut sent = 0usize;
        for src in sources {
            if self.floor.is_some_and(|f| src.day < f) {
                continue;
            }
            if self.next.len() >= FOLLOWED_DAYS
                && self.next.keys().next().is_some_and(|d| src.day < *d)
            {
                continue;
            }
            let from = self.next.get(&src.day).copied().unwrap_or(0);
            let mut pos = from;
            let mut stats = ScanStats::default();
            let (filter, min_ts, after) = (&self.filter, self.min_ts, self.after);
            let mut visit = |l: Line<'_>| {
                pos = l.offset + l.bytes.len() as u64 + 1;
                let id = LineId {
                    day: src.day,
                    offset: l.offset,
                };
                if after.is_some_and(|a| id <= a) || l.ts < min_ts || !filter.matches(l.bytes) {
                    return true;
                }
                emit(id, l);
                sent += 1;
                sent < max_lines
            };
            let done = self
                .store
                .scan(&src, from, (i64::MIN, i64::MAX), &mut stats, &mut visit)?;
            if done && stats.last_end > pos {
                pos = stats.last_end;
            }
            self.next.insert(src.day, pos);
            while self.next.len() > FOLLOWED_DAYS {
                self.next.pop_first();
            }
            if !done {
                break;
            }
        }
        Ok(sent)
    }
}
