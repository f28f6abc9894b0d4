//! Log queries over a tenant's store: the lines matching a [`Filter`] in a
//! time range, oldest first (`forward`) or newest first (`backward`), at most
//! `limit` of them and at most `max_bytes` of them in all (then `truncated`).
//!
//! Order is storage order — the order batches were acknowledged, which is
//! `ts` order for live traffic — day by day. Memory is bounded by the result:
//! forward results stream out as they are found; backward keeps only the
//! newest `limit` matches of a day while it reads it forward.

use std::collections::VecDeque;
use std::io;

use time::Date;

use super::filter::Filter;
use super::source::{Line, ScanStats, Source, Store};
use crate::schema::Tenant;

/// Which end of the range comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first (the default, as in Loki).
    Backward,
}

/// What to look for.
#[derive(Debug)]
pub struct LogRequest<'a> {
    /// The compiled query.
    pub filter: &'a Filter,
    /// `[start, end)` in Unix nanoseconds, on the records' `ts`.
    pub range: (i64, i64),
    /// At most this many lines.
    pub limit: usize,
    /// Order.
    pub direction: Direction,
    /// At most this many bytes of lines.
    pub max_bytes: u64,
}

/// One matching line.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// The day file it is in.
    pub day: Date,
    /// Its byte offset there.
    pub offset: u64,
    /// Its `ts` (Unix ns).
    pub ts: i64,
    /// The stored line, without `\n`.
    pub line: &'a [u8],
}

/// Totals of a query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What was read.
    pub scan: ScanStats,
    /// Lines returned.
    pub matched: u64,
    /// Stopped by `limit` or `max_bytes` with more to find, or by the consumer.
    pub truncated: bool,
}

/// Runs a log query, handing each result to `emit` (false: stop).
///
/// # Errors
/// A source cannot be read.
pub fn run(
    store: &Store,
    tenant: &Tenant,
    req: &LogRequest<'_>,
    emit: &mut dyn FnMut(Hit<'_>) -> bool,
) -> io::Result<Outcome> {
    let sources = store.sources(tenant)?;
    let mut out = Outcome::default();
    if req.limit == 0 {
        return Ok(out);
    }
    match req.direction {
        Direction::Forward => forward(store, &sources, req, emit, &mut out)?,
        Direction::Backward => backward(store, &sources, req, emit, &mut out)?,
    }
    Ok(out)
}

fn forward(
    store: &Store,
    sources: &[Source],
    req: &LogRequest<'_>,
    emit: &mut dyn FnMut(Hit<'_>) -> bool,
    out: &mut Outcome,
) -> io::Result<()> {
    let mut bytes = 0u64;
    for src in sources {
        let mut visit = |l: Line<'_>| {
            if !req.filter.matches(l.bytes) {
                return true;
            }
            if out.matched as usize >= req.limit || bytes + l.bytes.len() as u64 > req.max_bytes {
                out.truncated = true;
                return false;
            }
            bytes += l.bytes.len() as u64;
            out.matched += 1;
            let hit = Hit {
                day: src.day,
                offset: l.offset,
                ts: l.ts,
                line: l.bytes,
            };
            if emit(hit) {
                true
            } else {
                out.truncated = true;
                false
            }
        };
        if !store.scan(src, 0, req.range, &mut out.scan, &mut visit)? {
            break;
        }
    }
    Ok(())
}

fn backward(
    store: &Store,
    sources: &[Source],
    req: &LogRequest<'_>,
    emit: &mut dyn FnMut(Hit<'_>) -> bool,
    out: &mut Outcome,
) -> io::Result<()> {
    let mut bytes_left = req.max_bytes;
    for src in sources.iter().rev() {
        let room = req.limit - out.matched as usize;
        let mut ring: VecDeque<(u64, i64, Vec<u8>)> = VecDeque::new();
        let mut held = 0u64;
        let mut dropped = false;
        let mut visit = |l: Line<'_>| {
            if !req.filter.matches(l.bytes) {
                return true;
            }
            ring.push_back((l.offset, l.ts, l.bytes.to_vec()));
            held += l.bytes.len() as u64;
            while ring.len() > room || held > bytes_left {
                if let Some((_, _, old)) = ring.pop_front() {
                    held -= old.len() as u64;
                    dropped = true;
                }
            }
            true
        };
        store.scan(src, 0, req.range, &mut out.scan, &mut visit)?;
        bytes_left -= held;
        for (offset, ts, line) in ring.iter().rev() {
            out.matched += 1;
            let hit = Hit {
                day: src.day,
                offset: *offset,
                ts: *ts,
                line,
            };
            if !emit(hit) {
                out.truncated = true;
                return Ok(());
            }
        }
        if dropped {
            out.truncated = true;
            return Ok(());
        }
        if out.matched as usize >= req.limit {
            // There may be more in older days; Loki says nothing either way.
            return Ok(());
        }
    }
    Ok(())
}
