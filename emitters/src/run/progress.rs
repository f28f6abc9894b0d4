//! Live counters shared by the senders, and the once-a-second progress line
//! on stderr (only when stderr is a terminal and not `--quiet`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counters updated once per request (relaxed atomics: cheap, and only read for display).
#[derive(Default)]
pub(crate) struct Live {
    pub(crate) sent: AtomicU64,
    pub(crate) accepted: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) failed: AtomicU64,
    /// Set when the run must stop (deadline, limit, Ctrl-C).
    pub(crate) stop: AtomicBool,
}

impl Live {
    /// Counts one request's records by outcome.
    pub(crate) fn count(&self, records: u64, status: Option<u16>) {
        self.sent.fetch_add(records, Relaxed);
        let counter = match status {
            Some(s) if (200..300).contains(&s) => &self.accepted,
            Some(_) => &self.rejected,
            None => &self.failed,
        };
        counter.fetch_add(records, Relaxed);
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Relaxed)
    }

    /// Resolves once the stop flag is set (polled every 50 ms; only used while idle).
    pub(crate) async fn wait_stop(&self) {
        while !self.stopped() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Spawns the progress printer if stderr is a terminal; it ends when `live.stop` is set.
pub(crate) fn spawn(live: Arc<Live>, quiet: bool) -> Option<tokio::task::JoinHandle<()>> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(tokio::spawn(async move {
        let start = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut last = 0;
        let mut printed = false;
        loop {
            tick.tick().await;
            if live.stopped() {
                break;
            }
            let accepted = live.accepted.load(Relaxed);
            let line = format!(
                "\r\x1b[K[{:>4}s] sent {} accepted {} rejected {} failed {} ({} rec/s)",
                start.elapsed().as_secs(),
                live.sent.load(Relaxed),
                accepted,
                live.rejected.load(Relaxed),
                live.failed.load(Relaxed),
                accepted - last
            );
            last = accepted;
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(line.as_bytes());
            let _ = err.flush();
            printed = true;
        }
        if printed {
            eprint!("\r\x1b[K");
        }
    }))
}
