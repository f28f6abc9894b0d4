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
use crate::watermark::{Appended, Listener, Recv};

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
    /// Read buffer of the chunked path, kept between polls.
    buf: Vec<u8>,
    /// The batches the sink shares while they are committed.
    shared: Option<Listener>,
    /// Read up to the watermark, so shared batches continue where it is.
    synced: bool,
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
            buf: Vec::new(),
            shared: None,
            synced: false,
        };
        // Listen first: nothing committed from here on can be missed.
        t.shared = t.store.marks().map(|m| m.listen());
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
        let mut sent = 0;
        if self.synced {
            let (n, in_sequence) = self.poll_shared(max_lines, emit);
            sent = n;
            if in_sequence {
                return Ok(sent);
            }
            // Stopped inside a batch (room ran out) or found a gap: the rest is on disk.
            self.synced = false;
            if sent >= max_lines {
                return Ok(sent);
            }
        }
        let (n, complete) = self.poll_disk(max_lines - sent, emit)?;
        // Read up to the watermark: what the sink shares from now on follows on.
        self.synced = complete && self.shared.is_some();
        Ok(sent + n)
    }

    /// Takes what the sink shared: (lines handed on, was every shared batch
    /// in sequence?). A gap (lagged, a batch too big to share, a tail still
    /// reading history) sends the caller to the files.
    fn poll_shared(
        &mut self,
        max_lines: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> (usize, bool) {
        let Some(mut rx) = self.shared.take() else {
            return (0, false);
        };
        let mut sent = 0usize;
        let caught_up = loop {
            let a = match rx.try_recv() {
                Recv::Group(a) => a,
                Recv::Empty => break true,
                Recv::Lagged => break false,
            };
            if a.tenant != self.tenant {
                continue;
            }
            let end = a.start + a.len();
            let newest = self.next.keys().next_back().copied();
            match self.next.get(&a.day) {
                Some(&n) if end <= n => continue,
                Some(&n) if n == a.start => {}
                None if a.start == 0
                    && newest.is_none_or(|d| d < a.day)
                    && self.floor.is_none_or(|f| a.day >= f)
                    && self.min_ts == i64::MIN
                    && !self.next.is_empty() => {}
                _ => break false,
            }
            let (n, stopped) = self.scan_shared(&a, max_lines - sent, emit);
            sent += n;
            self.next.insert(a.day, stopped.unwrap_or(end));
            while self.next.len() > FOLLOWED_DAYS {
                self.next.pop_first();
            }
            if stopped.is_some() || sent >= max_lines {
                break false;
            }
        };
        self.shared = Some(rx);
        (sent, caught_up)
    }

    /// Hands on the matching lines of a shared group, at most `room`:
    /// (handed on, where it stopped if `room` ran out). Tails of one
    /// literal search each group once between them.
    fn scan_shared(
        &self,
        a: &Appended,
        room: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> (usize, Option<u64>) {
        let spans = self
            .filter
            .required()
            .and_then(|f| a.lines_with(f.needle(), |b| lines_holding(f, b)));
        let mut sent = 0usize;
        let mut bases = Vec::with_capacity(a.parts.len());
        let mut base = a.start;
        for p in &a.parts {
            bases.push(base);
            base += p.len() as u64;
        }
        let Some(spans) = spans else {
            for (part, &base) in a.parts.iter().zip(&bases) {
                let (n, stopped) = self.scan_chunk(a.day, part, base, room - sent, emit);
                sent += n;
                if stopped.is_some() {
                    return (sent, stopped);
                }
            }
            return (sent, None);
        };
        for &(part, start, stop) in spans.iter() {
            let (chunk, base) = (&a.parts[part as usize], bases[part as usize]);
            let span = (start as usize, stop as usize);
            if let Some(p) = self.visit(a.day, chunk, base, span, &mut sent, room, emit) {
                return (sent, Some(p));
            }
        }
        (sent, None)
    }

    /// Reads the files from the tail's positions: (lines handed on, read to the end?).
    fn poll_disk(
        &mut self,
        max_lines: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> io::Result<(usize, bool)> {
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
            let (pos, done) = match self.filter.required() {
                Some(_) => match self.poll_chunks(&src, from, max_lines - sent, emit)? {
                    Some((pos, n, done)) => {
                        sent += n;
                        (pos, done)
                    }
                    None => self.poll_lines(&src, from, max_lines, &mut sent, emit)?,
                },
                None => self.poll_lines(&src, from, max_lines, &mut sent, emit)?,
            };
            self.next.insert(src.day, pos);
            while self.next.len() > FOLLOWED_DAYS {
                self.next.pop_first();
            }
            if !done {
                return Ok((sent, false));
            }
        }
        Ok((sent, true))
    }

    /// Line by line through [`Store::scan`]: (next unread byte, read to the end?).
    fn poll_lines(
        &self,
        src: &super::source::Source,
        from: u64,
        max_lines: usize,
        sent: &mut usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> io::Result<(u64, bool)> {
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
            *sent += 1;
            *sent < max_lines
        };
        // From `min_ts` on: a `start` replay skips the index blocks before it.
        let done = self
            .store
            .scan(src, from, (min_ts, i64::MAX), &mut stats, &mut visit)?;
        if done && stats.last_end > pos {
            pos = stats.last_end;
        }
        Ok((pos, done))
    }

    /// For a query with a required literal: read the new bytes in chunks
    /// and look only at the lines around the literal's occurrences, so a
    /// tail costs about one `memmem` pass over them. `None` for an archive.
    fn poll_chunks(
        &mut self,
        src: &super::source::Source,
        from: u64,
        room: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> io::Result<Option<(u64, usize, bool)>> {
        let mut sent = 0usize;
        let mut stopped_at: Option<u64> = None;
        let mut buf = std::mem::take(&mut self.buf);
        let end = self.store.chunks(src, from, &mut buf, &mut |chunk, base| {
            let (n, stopped) = self.scan_chunk(src.day, chunk, base, room - sent, emit);
            sent += n;
            stopped_at = stopped;
            stopped.is_none()
        });
        self.buf = buf;
        Ok(end?.map(|e| match stopped_at {
            Some(p) => (p, sent, false),
            None => (e, sent, true),
        }))
    }

    /// Hands on the matching lines of `chunk` (whole lines, starting at
    /// byte `base` of day `day`'s file), at most `room`: (handed on, where it
    /// stopped if `room` ran out). With a required literal only the lines
    /// holding it are looked at.
    fn scan_chunk(
        &self,
        day: Date,
        chunk: &[u8],
        base: u64,
        room: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> (usize, Option<u64>) {
        let mut sent = 0usize;
        let mut line = |span| self.visit(day, chunk, base, span, &mut sent, room, emit);
        let stopped = match self.filter.required() {
            Some(needle) => lines_holding(needle, chunk)
                .into_iter()
                .find_map(|(a, b)| line((a as usize, b as usize))),
            None => {
                let mut start = 0usize;
                let mut stopped = None;
                while let Some(i) = memchr::memchr(b'\n', &chunk[start..]) {
                    stopped = line((start, start + i));
                    if stopped.is_some() {
                        break;
                    }
                    start += i + 1;
                }
                stopped
            }
        };
        (sent, stopped)
    }

    /// One line of a chunk: hands it on if it matches; `Some(next byte)`
    /// once `room` lines were handed on.
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &self,
        day: Date,
        chunk: &[u8],
        base: u64,
        (start, stop): (usize, usize),
        sent: &mut usize,
        room: usize,
        emit: &mut dyn FnMut(LineId, Line<'_>),
    ) -> Option<u64> {
        let line = &chunk[start..stop];
        let id = LineId {
            day,
            offset: base + start as u64,
        };
        let ts = super::line::ts_nanos(line).unwrap_or(i64::MIN);
        if self.after.is_some_and(|a| id <= a) || ts < self.min_ts || !self.filter.matches(line) {
            return None;
        }
        emit(
            id,
            Line {
                bytes: line,
                offset: id.offset,
                ts,
            },
        );
        *sent += 1;
        (*sent >= room).then_some(base + stop as u64 + 1)
    }
}

/// The lines of `chunk` (whole lines) that contain `needle`, each once:
/// `start..stop` without the `\n`.
fn lines_holding(needle: &memchr::memmem::Finder<'_>, chunk: &[u8]) -> Vec<(u32, u32)> {
    let mut spans = Vec::new();
    let mut next_line = 0usize;
    for hit in needle.find_iter(chunk) {
        if hit < next_line {
            continue;
        }
        let start = memchr::memrchr(b'\n', &chunk[..hit]).map_or(0, |i| i + 1);
        let stop = memchr::memchr(b'\n', &chunk[hit..]).map_or(chunk.len(), |i| hit + i);
        next_line = stop + 1;
        spans.push((start as u32, stop as u32));
    }
    spans
}
