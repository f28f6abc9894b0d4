//! `logops_forward_lag_seconds`: how long the oldest unacknowledged byte has
//! been waiting. Each look at the outbox notes when each file's end was
//! first seen; the lag is the age of the first note past the acknowledged
//! offset. Lines that were already there when the forwarder started count
//! from the position file's last write (or the start).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::SystemTime;

use super::outbox::FileState;

/// Notes kept per file at most (the oldest is always kept).
const MAX_NOTES: usize = 1024;

/// When each file's committed end was first seen.
#[derive(Debug)]
pub struct LagClock {
    /// When lines pending at the first look started waiting; after the first
    /// look, a file seen for the first time counts from then.
    start: Option<SystemTime>,
    notes: HashMap<PathBuf, VecDeque<(u64, SystemTime)>>,
}

impl LagClock {
    /// Lines found pending at the first look count from `start`.
    pub fn new(start: SystemTime) -> Self {
        LagClock {
            start: Some(start),
            notes: HashMap::new(),
        }
    }

    /// Notes `files` as of `now`; the seconds the oldest unacknowledged byte
    /// has waited (0 when nothing is pending).
    pub fn observe(&mut self, files: &[FileState], now: SystemTime) -> f64 {
        self.notes.retain(|p, _| files.iter().any(|f| &f.path == p));
        let mut oldest: Option<SystemTime> = None;
        let start = self.start.take().unwrap_or(now);
        for f in files {
            let q = self.notes.entry(f.path.clone()).or_insert_with(|| {
                VecDeque::from([(f.end, if f.pending() > 0 { start } else { now })])
            });
            match q.back() {
                Some(&(end, _)) if f.end > end => {
                    if q.len() >= MAX_NOTES {
                        q.remove(1);
                    }
                    q.push_back((f.end, now));
                }
                Some(&(end, _)) if f.end < end => *q = VecDeque::from([(f.end, now)]),
                _ => {}
            }
            while q.len() > 1 && q.front().is_some_and(|(end, _)| *end <= f.offset) {
                q.pop_front();
            }
            if f.pending() > 0 {
                if let Some(&(_, t)) = q.front() {
                    oldest = Some(oldest.map_or(t, |o| o.min(t)));
                }
            }
        }
        oldest
            .and_then(|t| now.duration_since(t).ok())
            .map_or(0.0, |d| d.as_secs_f64())
    }

    /// Since when the oldest unsent byte of `path` has waited (as of the
    /// last [`LagClock::observe`]): the forwarder serves the file that has
    /// waited longest, so one busy tenant cannot starve the others.
    pub fn waiting_since(&self, path: &std::path::Path) -> SystemTime {
        self.notes
            .get(path)
            .and_then(|q| q.front())
            .map_or(SystemTime::UNIX_EPOCH, |&(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Tenant;
    use std::time::Duration;

    fn file(offset: u64, end: u64) -> FileState {
        FileState {
            tenant: Tenant::default(),
            day: time::macros::date!(2026 - 12 - 01),
            path: PathBuf::from("/sink/20261201.ndjson"),
            offset,
            end,
            live: true,
        }
    }

    #[test]
    fn the_lag_is_the_age_of_the_oldest_unsent_byte() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut c = LagClock::new(t0 - Duration::from_secs(50));
        // Caught up at the first look.
        assert_eq!(c.observe(&[file(100, 100)], at(0)), 0.0);
        // Lines appear at 10 s and 20 s; at 25 s nothing was acknowledged.
        assert_eq!(c.observe(&[file(100, 200)], at(10)), 0.0);
        c.observe(&[file(100, 300)], at(20));
        assert_eq!(c.observe(&[file(100, 300)], at(25)), 15.0);
        // The first part is acknowledged: the rest has waited since 20 s.
        assert_eq!(c.observe(&[file(200, 300)], at(26)), 6.0);
        // Under steady load the lag stays small although it is never zero.
        assert_eq!(c.observe(&[file(300, 400)], at(27)), 0.0);
        assert_eq!(c.observe(&[file(350, 400)], at(28)), 1.0);
    }

    #[test]
    fn the_file_waiting_longest_is_known() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut busy = file(0, 0);
        let mut quiet = file(0, 0);
        quiet.path = PathBuf::from("/sink/zeta/20261201.ndjson");
        let mut c = LagClock::new(t0);
        c.observe(&[busy.clone(), quiet.clone()], at(0));
        // The busy file always has new lines; the quiet one got some at 1 s.
        busy.end = 100;
        quiet.end = 10;
        c.observe(&[busy.clone(), quiet.clone()], at(1));
        busy.offset = 100;
        busy.end = 200;
        c.observe(&[busy.clone(), quiet.clone()], at(2));
        assert_eq!(c.waiting_since(&busy.path), at(2));
        assert_eq!(c.waiting_since(&quiet.path), at(1));
    }

    #[test]
    fn a_backlog_at_start_counts_from_the_last_save() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut c = LagClock::new(t0);
        assert_eq!(
            c.observe(&[file(0, 500)], t0 + Duration::from_secs(90)),
            90.0
        );
        // A file that appears later (a new tenant, a new day) counts from then.
        let mut new = file(0, 40);
        new.path = PathBuf::from("/sink/acme/20261201.ndjson");
        let at = |s: u64| t0 + Duration::from_secs(s);
        c.observe(&[file(500, 500), new.clone()], at(100));
        assert_eq!(c.observe(&[file(500, 500), new], at(103)), 3.0);
    }
}
