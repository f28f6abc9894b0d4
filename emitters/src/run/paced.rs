//! Paced mode: a steady `eps` records per second, one batch every
//! `batch / eps` seconds, each gap optionally randomized by ±`jitter`.
//!
//! Batches are generated live (timestamps follow the clock), and each request
//! runs in its own task, bounded by a semaphore so a slow gateway cannot pile
//! up unbounded requests; a `429` is retried after its `Retry-After` inside the
//! batch's task (holding its slot). If the bound is hit, sending waits, and a
//! schedule far behind is restarted rather than caught up in a burst
//! ([`Schedule`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::client::Sender;
use crate::gen::Generator;
use crate::stats::Stats;

use super::progress::Live;
use super::schedule::{Rate, Schedule};
use super::{retry, Limits};

/// Paced-mode settings.
pub(crate) struct Pace {
    /// Records per second and per request, jitter and its seed.
    pub(crate) rate: Rate,
    /// Most requests in flight.
    pub(crate) in_flight: usize,
    /// `--max-retries` for `429` answers.
    pub(crate) max_retries: u32,
}

/// Runs the paced loop; returns the stats and the elapsed time.
pub(crate) async fn run(
    sender: Sender,
    gen: &mut dyn Generator,
    pace: &Pace,
    limits: Limits,
    live: Arc<Live>,
) -> (Stats, Duration) {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let permits = Arc::new(Semaphore::new(pace.in_flight));
    let mut schedule = Schedule::new(&pace.rate, limits.duration);
    let start = schedule.start();
    let policy = retry::Policy {
        max_retries: pace.max_retries,
        deadline: limits.duration.map(|d| start + d),
    };
    let mut queued: u64 = 0;
    loop {
        let remaining = limits
            .records
            .map_or(u64::MAX, |l| l.saturating_sub(queued));
        if remaining == 0 || live.stopped() {
            break;
        }
        let n = (pace.rate.batch as u64).min(remaining) as usize;
        let batch = gen.batch(n);
        queued += n as u64;
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let (sender, stats, counters) = (sender.clone(), stats.clone(), live.clone());
        tokio::spawn(async move {
            let payload = sender.prepare(batch.body);
            let out = retry::send(&sender, &payload, policy, Some(&counters), |_, _, _| {}).await;
            let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
            for latency in out.retried {
                s.retried(latency);
            }
            match out.result {
                Ok(reply) => {
                    s.answered(
                        sender.target().protocol(),
                        &batch.expect,
                        reply.status,
                        &reply.body,
                        out.latency,
                    );
                    counters.count(batch.expect.records, Some(reply.status));
                }
                Err(_) => {
                    s.failed(&batch.expect);
                    counters.count(batch.expect.records, None);
                }
            }
            drop(permit);
        });
        let Some(next) = schedule.next() else {
            break;
        };
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            () = live.wait_stop() => break,
        }
    }
    // Wait for every request in flight.
    let _all = permits.acquire_many(pace.in_flight as u32).await;
    let elapsed = start.elapsed();
    let total = stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
    (total, elapsed)
}
