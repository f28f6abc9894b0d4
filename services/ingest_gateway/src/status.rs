//! In-process activity counters for `GET /api/v1/status` and the console.
//!
//! Prometheus keeps history only if someone scrapes it; the status API must
//! answer "what happened in the last 15 minutes" on its own, cheaply enough to
//! poll every second. [`Activity`] is a ring of [`WINDOW_SECS`] per-second
//! slots (accepted records by level, emitter and tenant, rejections by reason,
//! sink bytes, sync latency) plus totals since start, today's line count per
//! tenant, and the last housekeeping run. Every update is one short mutex
//! hold; a snapshot walks at most 900 slots and never touches a file.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::schema::Level;

/// Seconds of per-second history kept (15 minutes).
pub const WINDOW_SECS: usize = 900;
/// Emitters or tenants given their own series in a snapshot (the rest are summed).
pub const TOP_SERIES: usize = 8;

#[derive(Debug, Clone, Default)]
struct Slot {
    second: u64,
    accepted: u64,
    rejected: u64,
    levels: [u64; 4],
    sink_bytes: u64,
    syncs: u64,
    sync_ns: u64,
    sync_ns_max: u64,
    reasons: Vec<(String, u64)>,
    emitters: Vec<(String, u64)>,
    tenants: Vec<(String, u64)>,
}

fn bump(list: &mut Vec<(String, u64)>, key: &str, n: u64) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v += n,
        None => list.push((key.to_string(), n)),
    }
}

#[derive(Debug, Default)]
struct Totals {
    accepted: u64,
    rejected: u64,
    levels: [u64; 4],
    sink_bytes: u64,
    reasons: Vec<(String, u64)>,
    emitters: Vec<(String, u64)>,
    tenants: Vec<(String, u64)>,
}

/// Lines of one tenant's current day file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TenantDay {
    /// Days since the Unix epoch (UTC).
    day: u64,
    lines: u64,
}

#[derive(Debug)]
struct Inner {
    slots: Vec<Slot>,
    totals: Totals,
    today: HashMap<String, TenantDay>,
}

/// What one housekeeping run did (the newest run is kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HousekeepingRun {
    /// When it finished, Unix seconds.
    pub at: u64,
    /// Files deleted.
    pub deleted: usize,
    /// Files moved into archives.
    pub archived: usize,
    /// Steps that failed.
    pub failed: usize,
    /// One line per action (at most the first 20).
    pub actions: Vec<String>,
}

/// The per-second ring, the totals and today's lines per tenant.
#[derive(Debug)]
pub struct Activity {
    inner: Mutex<Inner>,
    housekeeping: Mutex<Option<HousekeepingRun>>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            inner: Mutex::new(Inner {
                slots: vec![Slot::default(); WINDOW_SECS],
                totals: Totals::default(),
                today: HashMap::new(),
            }),
            housekeeping: Mutex::new(None),
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

impl Inner {
    fn slot(&mut self, second: u64) -> &mut Slot {
        let slot = &mut self.slots[(second % WINDOW_SECS as u64) as usize];
        if slot.second != second {
            *slot = Slot {
                second,
                ..Slot::default()
            };
        }
        slot
    }
}

impl Activity {
    /// `records` records of `tenant` from `emitter` were stored, `levels` of
    /// them at each [`Level`] (indexed by [`Level::index`]).
    pub fn accepted(&self, tenant: &str, emitter: &str, records: u64, levels: [u64; 4]) {
        self.accepted_at(unix_now(), tenant, emitter, records, levels);
    }

    fn accepted_at(&self, now: u64, tenant: &str, emitter: &str, records: u64, levels: [u64; 4]) {
        let Ok(mut g) = self.inner.lock() else { return };
        let s = g.slot(now);
        s.accepted += records;
        for (a, b) in s.levels.iter_mut().zip(levels) {
            *a += b;
        }
        bump(&mut s.emitters, emitter, records);
        bump(&mut s.tenants, tenant, records);
        let t = &mut g.totals;
        t.accepted += records;
        for (a, b) in t.levels.iter_mut().zip(levels) {
            *a += b;
        }
        bump(&mut t.emitters, emitter, records);
        bump(&mut t.tenants, tenant, records);
        let day = now / 86_400;
        let e = g
            .today
            .entry(tenant.to_string())
            .or_insert(TenantDay { day, lines: 0 });
        if e.day != day {
            *e = TenantDay { day, lines: 0 };
        }
        e.lines += records;
    }

    /// A request was refused with error code `reason`.
    pub fn rejected(&self, reason: &str) {
        self.rejected_at(unix_now(), reason);
    }

    fn rejected_at(&self, now: u64, reason: &str) {
        let Ok(mut g) = self.inner.lock() else { return };
        let s = g.slot(now);
        s.rejected += 1;
        bump(&mut s.reasons, reason, 1);
        g.totals.rejected += 1;
        bump(&mut g.totals.reasons, reason, 1);
    }

    /// The sink appended `bytes`.
    pub fn sink_written(&self, bytes: u64) {
        let Ok(mut g) = self.inner.lock() else { return };
        g.slot(unix_now()).sink_bytes += bytes;
        g.totals.sink_bytes += bytes;
    }

    /// A data sync took `d`.
    pub fn synced(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let Ok(mut g) = self.inner.lock() else { return };
        let s = g.slot(unix_now());
        s.syncs += 1;
        s.sync_ns = s.sync_ns.saturating_add(ns);
        s.sync_ns_max = s.sync_ns_max.max(ns);
    }

    /// `lines` lines were already in `tenant`'s file of `day` (days since the
    /// epoch) when the gateway started: counted once, off the request path.
    pub fn add_existing_lines(&self, tenant: &str, day: u64, lines: u64) {
        let Ok(mut g) = self.inner.lock() else { return };
        let e = g
            .today
            .entry(tenant.to_string())
            .or_insert(TenantDay { day, lines: 0 });
        if e.day == day {
            e.lines += lines;
        }
    }

    /// Today's line count per tenant (tenants that wrote today or had a file).
    pub fn lines_today(&self) -> Vec<(String, u64)> {
        let day = unix_now() / 86_400;
        let Ok(g) = self.inner.lock() else {
            return Vec::new();
        };
        let mut out: Vec<(String, u64)> = g
            .today
            .iter()
            .filter(|(_, d)| d.day == day)
            .map(|(t, d)| (t.clone(), d.lines))
            .collect();
        out.sort();
        out
    }

    /// Records the newest housekeeping run.
    pub fn housekeeping_ran(&self, run: HousekeepingRun) {
        if let Ok(mut h) = self.housekeeping.lock() {
            *h = Some(run);
        }
    }

    /// The newest housekeeping run, if any ran.
    pub fn last_housekeeping(&self) -> Option<HousekeepingRun> {
        self.housekeeping.lock().ok()?.clone()
    }

    /// Totals since start, window totals, rates and the last `seconds`
    /// (at most [`WINDOW_SECS`]) per-second series, oldest first, ending at
    /// the last complete second.
    pub fn snapshot(&self, seconds: usize) -> Value {
        self.snapshot_at(unix_now(), seconds)
    }

    fn snapshot_at(&self, now: u64, seconds: usize) -> Value {
        let n = seconds.clamp(1, WINDOW_SECS);
        let Ok(g) = self.inner.lock() else {
            return Value::Null;
        };
        // The current second is still filling; series end one before it.
        let first = now.saturating_sub(n as u64);
        let live: Vec<Option<&Slot>> = (first..now)
            .map(|sec| {
                let s = &g.slots[(sec % WINDOW_SECS as u64) as usize];
                (s.second == sec && sec > 0).then_some(s)
            })
            .collect();
        let window_first = now.saturating_sub(WINDOW_SECS as u64 - 1);
        let in_window: Vec<&Slot> = g
            .slots
            .iter()
            .filter(|s| s.second >= window_first && s.second <= now && s.second > 0)
            .collect();
        let series = |f: &dyn Fn(&Slot) -> u64| -> Vec<u64> {
            live.iter().map(|s| s.map_or(0, f)).collect()
        };
        let mut win = Totals::default();
        for s in &in_window {
            win.accepted += s.accepted;
            win.rejected += s.rejected;
            win.sink_bytes += s.sink_bytes;
            for (a, b) in win.levels.iter_mut().zip(s.levels) {
                *a += b;
            }
            for (k, v) in &s.reasons {
                bump(&mut win.reasons, k, *v);
            }
            for (k, v) in &s.emitters {
                bump(&mut win.emitters, k, *v);
            }
            for (k, v) in &s.tenants {
                bump(&mut win.tenants, k, *v);
            }
        }
        let last_minute: u64 = in_window
            .iter()
            .filter(|s| s.second + 60 >= now && s.second < now)
            .map(|s| s.accepted)
            .sum();
        let top = |all: &[(String, u64)], pick: &dyn Fn(&Slot) -> &Vec<(String, u64)>| {
            let mut sorted = all.to_vec();
            sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut out = Map::new();
            for (name, _) in sorted.iter().take(TOP_SERIES) {
                out.insert(name.clone(), json!(series(&|s| lookup(pick(s), name))));
            }
            if sorted.len() > TOP_SERIES {
                let kept: Vec<&String> = sorted.iter().take(TOP_SERIES).map(|(k, _)| k).collect();
                out.insert(
                    "_rest".into(),
                    json!(series(&|s| pick(s)
                        .iter()
                        .filter(|(k, _)| !kept.contains(&k))
                        .map(|(_, v)| v)
                        .sum())),
                );
            }
            Value::Object(out)
        };
        let window = WINDOW_SECS as f64;
        json!({
            "now": now,
            "seconds": n,
            "totals": totals_json(&g.totals),
            "window_seconds": WINDOW_SECS,
            "window": totals_json(&win),
            "rates": {
                "accepted_per_s_1m": last_minute as f64 / 60.0,
                "accepted_per_s_15m": win.accepted as f64 / window,
                "rejected_per_s_15m": win.rejected as f64 / window,
                "sink_bytes_per_s_15m": win.sink_bytes as f64 / window,
            },
            "series": {
                "accepted": series(&|s| s.accepted),
                "rejected": series(&|s| s.rejected),
                "levels": Level::ALL.iter().map(|l| (l.as_str().to_string(), json!(series(&|s| s.levels[l.index()])))).collect::<Map<_, _>>(),
                "emitters": top(&win.emitters, &|s| &s.emitters),
                "tenants": top(&win.tenants, &|s| &s.tenants),
                "sink_bytes": series(&|s| s.sink_bytes),
                "sync_ms_avg": live.iter().map(|s| s.filter(|s| s.syncs > 0).map(|s| s.sync_ns as f64 / s.syncs as f64 / 1e6)).collect::<Vec<_>>(),
                "sync_ms_max": live.iter().map(|s| s.filter(|s| s.syncs > 0).map(|s| s.sync_ns_max as f64 / 1e6)).collect::<Vec<_>>(),
            },
        })
    }
}

fn lookup(list: &[(String, u64)], key: &str) -> u64 {
    list.iter().find(|(k, _)| k == key).map_or(0, |(_, v)| *v)
}

fn totals_json(t: &Totals) -> Value {
    let map = |l: &[(String, u64)]| {
        l.iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<_, _>>()
    };
    json!({
        "accepted": t.accepted,
        "rejected": t.rejected,
        "rejected_by_reason": map(&t.reasons),
        "levels": Level::ALL.iter().map(|l| (l.as_str().to_string(), json!(t.levels[l.index()]))).collect::<Map<_, _>>(),
        "emitters": map(&t.emitters),
        "tenants": map(&t.tenants),
        "sink_bytes": t.sink_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_second_and_old_seconds_fall_out() {
        let a = Activity::default();
        let t0 = 1_800_000_000;
        a.accepted_at(t0, "default", "json", 5, [0, 4, 1, 0]);
        a.accepted_at(t0 + 1, "acme", "csv", 2, [0, 0, 0, 2]);
        a.rejected_at(t0 + 1, "invalid_json");
        let s = a.snapshot_at(t0 + 2, 3);
        assert_eq!(s["series"]["accepted"], json!([0, 5, 2]));
        assert_eq!(s["series"]["rejected"], json!([0, 0, 1]));
        assert_eq!(s["series"]["levels"]["ERROR"], json!([0, 0, 2]));
        assert_eq!(s["series"]["emitters"]["json"], json!([0, 5, 0]));
        assert_eq!(s["window"]["rejected_by_reason"]["invalid_json"], 1);
        assert_eq!(s["totals"]["tenants"]["acme"], 2);
        // A full window later the slots are reused: the window is empty, the totals stay.
        let later = a.snapshot_at(t0 + 2 + WINDOW_SECS as u64, 3);
        assert_eq!(later["window"]["accepted"], 0);
        assert_eq!(later["totals"]["accepted"], 7);
        a.accepted_at(t0 + WINDOW_SECS as u64, "default", "json", 1, [0, 1, 0, 0]);
        let reused = a.snapshot_at(t0 + WINDOW_SECS as u64 + 1, 2);
        assert_eq!(reused["series"]["accepted"], json!([0, 1]));
        assert_eq!(reused["window"]["accepted"], 1);
    }

    #[test]
    fn many_emitters_keep_the_top_ones_and_sum_the_rest() {
        let a = Activity::default();
        let t0 = 1_800_000_000;
        for i in 0..(TOP_SERIES as u64 + 3) {
            a.accepted_at(t0, "default", &format!("e{i:02}"), i + 1, [0; 4]);
        }
        let s = a.snapshot_at(t0 + 1, 1);
        let emitters = s["series"]["emitters"].as_object().unwrap();
        assert_eq!(emitters.len(), TOP_SERIES + 1);
        assert_eq!(emitters["_rest"], json!([1 + 2 + 3]));
        assert!(!emitters.contains_key("e00"));
    }

    #[test]
    fn existing_lines_add_to_todays_count_only() {
        let a = Activity::default();
        let today = unix_now() / 86_400;
        a.add_existing_lines("acme", today, 10);
        a.add_existing_lines("old", today - 1, 3);
        a.accepted("acme", "json", 2, [0, 2, 0, 0]);
        assert_eq!(a.lines_today(), vec![("acme".to_string(), 12)]);
    }
}
