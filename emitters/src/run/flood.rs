//! Flood mode: `C` workers, each keeping one request in flight on its own
//! keep-alive connection, sending pre-generated bodies as fast as the gateway
//! answers.
//!
//! Bodies come from a ring of up to [`RING`] distinct batches generated (and,
//! when signing, hashed) before the clock starts, so the hot loop is: pick a
//! batch, clone its `Bytes`, sign, send, count. Each worker has its own
//! [`Stats`]; they are merged at the end.
//!
//! A `429` makes the worker sleep its `Retry-After` and resend (see `retry`);
//! a batch still refused with `429` after `--max-retries` is rejected, and the
//! worker sleeps the last `Retry-After` before its next batch, so a rate
//! limited worker never spins.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Payload, Sender};
use crate::gen::{Expect, Generator};
use crate::stats::Stats;

use super::progress::Live;
use super::{retry, Limits};

/// Distinct batches kept in the ring.
pub(crate) const RING: u64 = 64;

/// Pause after a 503 (the gateway is shedding load) before the worker's next request.
const OVERLOAD_PAUSE: Duration = Duration::from_millis(5);
/// Pause after a failed request, so a dead gateway is not hammered in a tight loop.
const FAILURE_PAUSE: Duration = Duration::from_millis(100);

/// A pre-generated body, ready to send, and what it should produce.
struct Entry {
    payload: Payload,
    expect: Expect,
}

/// Pre-generated bodies and the rule that maps request number → body.
struct Ring {
    batches: Vec<Entry>,
    /// Full batches allowed in total (with a record limit).
    full: Option<u64>,
    /// The last, smaller batch when the limit is not a multiple of the batch size.
    tail: Option<Entry>,
}

impl Ring {
    fn build(gen: &mut dyn Generator, sender: &Sender, batch: usize, limit: Option<u64>) -> Ring {
        let b = batch as u64;
        let full = limit.map(|l| l / b);
        let distinct = full.map_or(RING, |f| f.min(RING));
        let mut entry = |n: usize| {
            let batch = gen.batch(n);
            Entry {
                payload: sender.prepare(batch.body),
                expect: batch.expect,
            }
        };
        let batches = (0..distinct).map(|_| entry(batch)).collect();
        let tail = limit
            .filter(|l| l % b != 0)
            .map(|l| entry((l % b) as usize));
        Ring {
            batches,
            full,
            tail,
        }
    }

    /// The body for request number `k`, or `None` when the limit is reached.
    fn get(&self, k: u64) -> Option<&Entry> {
        match self.full {
            Some(full) if k < full => Some(&self.batches[(k % self.batches.len() as u64) as usize]),
            Some(full) if k == full => self.tail.as_ref(),
            Some(_) => None,
            None => Some(&self.batches[(k % self.batches.len() as u64) as usize]),
        }
    }
}

/// Runs the flood; returns the merged stats and the time from the first
/// request to the last answer (body generation excluded).
pub(crate) async fn run(
    sender: Sender,
    gen: &mut dyn Generator,
    concurrency: usize,
    batch: usize,
    limits: Limits,
    max_retries: u32,
    live: Arc<Live>,
) -> (Stats, Duration) {
    let ring = Arc::new(Ring::build(gen, &sender, batch, limits.records));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = limits.duration.map(|d| start + d);
    let policy = retry::Policy {
        max_retries,
        deadline,
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (sender, ring, next, live) = (sender.clone(), ring.clone(), next.clone(), live.clone());
        workers.spawn(async move {
            let mut stats = Stats::default();
            loop {
                if live.stopped() || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let Some(batch) = ring.get(next.fetch_add(1, Relaxed)) else {
                    break;
                };
                let out =
                    retry::send(&sender, &batch.payload, policy, Some(&live), |_, _, _| {}).await;
                for latency in out.retried {
                    stats.retried(latency);
                }
                match out.result {
                    Ok(reply) => {
                        stats.answered(
                            sender.target().protocol(),
                            &batch.expect,
                            reply.status,
                            &reply.body,
                            out.latency,
                        );
                        live.count(batch.expect.records, Some(reply.status));
                        match reply.status {
                            503 => tokio::time::sleep(OVERLOAD_PAUSE).await,
                            429 => {
                                let wait = retry::wait_for(&reply).max(OVERLOAD_PAUSE);
                                let left = deadline
                                    .map_or(wait, |d| d.saturating_duration_since(Instant::now()));
                                retry::pause(wait.min(left), Some(&live)).await;
                            }
                            _ => {}
                        }
                    }
                    Err(_) => {
                        stats.failed(&batch.expect);
                        live.count(batch.expect.records, None);
                        tokio::time::sleep(FAILURE_PAUSE).await;
                    }
                }
            }
            stats
        });
    }
    let mut total = Stats::default();
    while let Some(res) = workers.join_next().await {
        if let Ok(stats) = res {
            total.merge(&stats);
        }
    }
    (total, start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Credentials, Secret};
    use crate::client::Target;
    use crate::gen::{Clock, GenConfig, MinimalGenerator};

    fn gen() -> MinimalGenerator {
        MinimalGenerator::new(&GenConfig {
            seed: 1,
            clock: Clock::Wall,
        })
    }

    fn sender() -> Sender {
        let target = Target::new("http://127.0.0.1:9/v1/logs", "application/json", "t", None)
            .unwrap()
            .with_auth(&Credentials::Hmac {
                id: "k".into(),
                secret: Secret::new("s"),
            })
            .unwrap();
        Sender::new(target, 1, Duration::from_secs(1))
    }

    #[test]
    fn ring_respects_the_record_limit() {
        let ring = Ring::build(&mut gen(), &sender(), 100, Some(250));
        let sizes: Vec<u64> = (0..5)
            .map_while(|k| ring.get(k))
            .map(|b| b.expect.records)
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        let exact = Ring::build(&mut gen(), &sender(), 10, Some(30));
        assert_eq!((0..10).map_while(|k| exact.get(k)).count(), 3);
    }

    #[test]
    fn unlimited_ring_cycles_through_distinct_batches() {
        let ring = Ring::build(&mut gen(), &sender(), 5, None);
        assert_eq!(ring.batches.len() as u64, RING);
        let body = |k| ring.get(k).unwrap().payload.body().clone();
        assert_eq!(body(0), body(RING));
        assert_ne!(body(0), body(1));
    }
}
