//! Capped exponential backoff with jitter for retries against the store.
//!
//! The n-th retry waits a random time in `[d/2, d]` with
//! `d = min(cap, FIRST × 2ⁿ)` ("equal jitter"): many gateways that lost the
//! same store do not come back in lockstep, and no wait exceeds the cap.

use std::time::Duration;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The first retry's upper bound.
pub const FIRST: Duration = Duration::from_millis(100);

/// The retry delays of one outage.
#[derive(Debug)]
pub struct Backoff {
    cap: Duration,
    attempt: u32,
    rng: ChaCha8Rng,
}

impl Backoff {
    /// Delays capped at `cap`.
    pub fn new(cap: Duration) -> Self {
        Backoff {
            cap: cap.max(FIRST),
            attempt: 0,
            rng: ChaCha8Rng::from_os_rng(),
        }
    }

    /// The upper bound of the next delay (without jitter).
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(30)).unwrap_or(u32::MAX);
        FIRST.saturating_mul(factor).min(self.cap)
    }

    /// The next delay; each call doubles the bound until the cap.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = d / 2;
        let spread = (d - half).as_micros() as u64;
        let jitter = if spread == 0 {
            0
        } else {
            self.rng.next_u64() % (spread + 1)
        };
        half + Duration::from_micros(jitter)
    }

    /// The store answered: the next outage starts from the first delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let cap = Duration::from_secs(2);
        let mut b = Backoff::new(cap);
        let mut bounds = Vec::new();
        for _ in 0..8 {
            let bound = b.ceiling();
            let d = b.next_delay();
            assert!(
                d >= bound / 2 && d <= bound,
                "{d:?} outside [{:?}, {bound:?}]",
                bound / 2
            );
            bounds.push(bound.as_millis());
        }
        assert_eq!(bounds, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        b.reset();
        assert_eq!(b.ceiling(), FIRST);
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let mut b = Backoff::new(Duration::from_secs(60));
        for _ in 0..6 {
            b.next_delay();
        }
        let delays: std::collections::HashSet<_> = (0..20)
            .map(|_| {
                let mut c = Backoff::new(Duration::from_secs(60));
                c.attempt = 6;
                c.next_delay()
            })
            .collect();
        assert!(delays.len() > 10, "{delays:?}");
    }

    #[test]
    fn never_overflows() {
        let mut b = Backoff::new(Duration::from_secs(30));
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_secs(30));
        }
    }
}
