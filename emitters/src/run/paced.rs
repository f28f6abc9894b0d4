//! Paced mode: a steady `eps` records per second, one batch every
//! `batch / eps` seconds, each gap optionally randomized by ±`jitter`.
//!
//! Batches are generated live (timestamps follow the clock), and each request
//! runs in its own task, bounded by a semaphore so a slow gateway cannot pile
//! up unbounded requests; a `429` is retried after its `Retry-After` inside the
//! batch's task (holding its slot). If the bound is hit, sending waits, and a schedule more
//! than [`MAX_LAG`] behind is restarted rather than caught up in a burst.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::Semaphore;

use crate::client::Sender;
use crate::gen::Generator;
use crate::stats::Stats;

use super::progress::Live;
use super::{retry, Limits};

/// How far behind schedule the loop may fall before it stops catching up
/// (small lags from timer granularity are caught up, so the average rate holds).
const MAX_LAG: Duration = Duration::from_millis(100);

/// Paced-mode settings.
pub(crate) struct Pace {
    /// Records per second.
    pub(crate) eps: f64,
    /// Records per request.
    pub(crate) batch: usize,
    /// Most requests in flight.
    pub(crate) in_flight: usize,
    /// Gap randomization, 0..1.
    pub(crate) jitter: f64,
    /// Seed for the jitter (separate from the bodies' RNG).
    pub(crate) seed: u64,
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
    let mut jitter_rng = ChaCha8Rng::seed_from_u64(pace.seed ^ 0x6a09_e667_f3bc_c908);
    let gap = pace.batch as f64 / pace.eps;
    let start = Instant::now();
    let policy = retry::Policy {
        max_retries: pace.max_retries,
        deadline: limits.duration.map(|d| start + d),
    };
    let mut offset = 0.0f64;
    let mut queued: u64 = 0;
    loop {
        let remaining = limits
            .records
            .map_or(u64::MAX, |l| l.saturating_sub(queued));
        if remaining == 0 || live.stopped() {
            break;
        }
        let n = (pace.batch as u64).min(remaining) as usize;
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
        let factor = if pace.jitter > 0.0 {
            1.0 + jitter_rng.random_range(-pace.jitter..=pace.jitter)
        } else {
            1.0
        };
        offset += gap * factor;
        if limits
            .duration
            .is_some_and(|d| offset >= d.as_secs_f64() - 1e-6)
        {
            break;
        }
        let mut next = start + Duration::from_secs_f64(offset);
        let now = Instant::now();
        if now > next + MAX_LAG {
            // Far behind schedule (the in-flight bound was hit): restart the
            // schedule from now instead of bursting to catch up.
            offset = (now - start).as_secs_f64();
            next = now;
        }
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
