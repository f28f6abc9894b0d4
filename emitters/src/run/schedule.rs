//! The paced schedule: when each batch of a steady `eps` stream is due.
//!
//! Why it exists: the HTTP emitters' paced mode and the raw syslog
//! transports' paced mode keep the same clock — one batch every
//! `batch / eps` seconds, each gap optionally randomized by ±`jitter`, small
//! lags from timer granularity caught up (so the average rate holds), and a
//! schedule more than [`MAX_LAG`] behind (a slow receiver) restarted from now
//! rather than caught up in a burst.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How far behind schedule a run may fall before it stops catching up.
const MAX_LAG: Duration = Duration::from_millis(100);

/// A paced stream's rate: what the HTTP and the raw syslog paced modes share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    /// Records (messages) per second.
    pub(crate) eps: f64,
    /// Records per batch.
    pub(crate) batch: usize,
    /// Gap randomization, 0..1.
    pub(crate) jitter: f64,
    /// Seed of the jitter (not the bodies' RNG).
    pub(crate) seed: u64,
}

/// A running schedule, started at its creation.
pub(crate) struct Schedule {
    start: Instant,
    gap: f64,
    jitter: f64,
    rng: ChaCha8Rng,
    /// Seconds from `start` of the batch last handed out.
    offset: f64,
    duration: Option<Duration>,
}

impl Schedule {
    /// `rate.batch` records every `batch / eps` s, gaps jittered by
    /// ±`jitter` (its RNG seeded from `seed`, apart from the bodies' RNG),
    /// until `duration` has passed.
    pub(crate) fn new(rate: &Rate, duration: Option<Duration>) -> Schedule {
        Schedule {
            start: Instant::now(),
            gap: rate.batch as f64 / rate.eps,
            jitter: rate.jitter,
            rng: ChaCha8Rng::seed_from_u64(rate.seed ^ 0x6a09_e667_f3bc_c908),
            offset: 0.0,
            duration,
        }
    }

    /// When the run started.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }
}

/// When each next batch is due; `None` once the run time is used up.
impl Iterator for Schedule {
    type Item = Instant;

    fn next(&mut self) -> Option<Instant> {
        let factor = if self.jitter > 0.0 {
            1.0 + self.rng.random_range(-self.jitter..=self.jitter)
        } else {
            1.0
        };
        self.offset += self.gap * factor;
        if self
            .duration
            .is_some_and(|d| self.offset >= d.as_secs_f64() - 1e-6)
        {
            return None;
        }
        let next = self.start + Duration::from_secs_f64(self.offset);
        let now = Instant::now();
        if now > next + MAX_LAG {
            self.offset = (now - self.start).as_secs_f64();
            return Some(now);
        }
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_due_every_gap_until_the_run_time_is_used() {
        let s = Schedule::new(
            &Rate {
                eps: 1000.0,
                batch: 100,
                jitter: 0.0,
                seed: 1,
            },
            Some(Duration::from_millis(350)),
        );
        let start = s.start();
        let due: Vec<f64> = s.map(|t| (t - start).as_secs_f64()).collect();
        assert_eq!(due.len(), 3, "{due:?}");
        for (i, d) in due.iter().enumerate() {
            assert!((d - 0.1 * (i + 1) as f64).abs() < 1e-6, "{due:?}");
        }
    }

    #[test]
    fn jittered_gaps_stay_within_the_bounds_and_repeat_with_the_seed() {
        let gaps = |seed| {
            let mut s = Schedule::new(
                &Rate {
                    eps: 1000.0,
                    batch: 10,
                    jitter: 0.5,
                    seed,
                },
                None,
            );
            let mut last = s.start;
            (0..50)
                .map(|_| {
                    let t = s.next().unwrap();
                    let gap = (t - last).as_secs_f64();
                    last = t;
                    gap
                })
                .collect::<Vec<_>>()
        };
        let a = gaps(7);
        assert!(
            a.iter().all(|g| (0.005 - 1e-6..=0.015 + 1e-6).contains(g)),
            "{a:?}"
        );
        assert_eq!(a, gaps(7));
        assert_ne!(a, gaps(8));
    }

    #[test]
    fn far_behind_it_restarts_from_now_instead_of_bursting() {
        let mut s = Schedule::new(
            &Rate {
                eps: 1000.0,
                batch: 1,
                jitter: 0.0,
                seed: 1,
            },
            None,
        );
        std::thread::sleep(Duration::from_millis(150));
        let t = s.next().unwrap();
        assert!(t >= s.start + Duration::from_millis(150));
        // The following batch is one gap after the restart, not 1 ms after start.
        let u = s.next().unwrap();
        assert!(u > t);
        assert!((u - t).as_secs_f64() < 0.0011, "{:?}", u - t);
    }
}
