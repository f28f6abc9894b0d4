//! Token buckets for per-key rate limits (SPEC §8), in records and
//! optionally bytes, refilled continuously.
//!
//! A [`Quota`] is shared by every request of one key. The front end asks
//! [`Quota::admit`] before reading a body (an empty bucket refuses at once);
//! the ingest service calls [`Quota::debit`] once the batch is decoded and its
//! size known: a batch that does not fit is refused with the seconds until it
//! would, one larger than the burst can never fit. A reload of the keys file
//! changes a bucket's rate with [`Quota::set_limits`] without refilling it.

use std::sync::Mutex;
use std::time::Instant;

/// The limits of one key (`rate = {…}` in the keys file).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Records per second, refilled continuously.
    pub records_per_sec: f64,
    /// Bucket size in records (the largest batch that can ever pass).
    pub burst: f64,
    /// Bytes per second (bucket size: one second's worth, at least the body limit), if set.
    pub bytes_per_sec: Option<f64>,
}

/// Why a batch may not pass now.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// Not enough tokens yet.
    #[error("rate limit exceeded ({limit} records/s); retry in {retry_after_secs} s")]
    Limited {
        /// Whole seconds until the batch would fit.
        retry_after_secs: u64,
        /// The records-per-second limit.
        limit: u64,
    },
    /// More records than the bucket can ever hold.
    #[error("batch of {records} records exceeds the key's burst of {burst}")]
    ExceedsBurst {
        /// Records in the batch.
        records: u64,
        /// The burst.
        burst: u64,
    },
}

/// What the `RateLimit` / `RateLimit-Policy` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Records per window (the burst).
    pub quota: u64,
    /// Window in seconds: the time to refill an empty bucket.
    pub window_secs: u64,
    /// Records left now.
    pub remaining: u64,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

#[derive(Debug)]
struct Bucket {
    limits: Limits,
    records: f64,
    bytes: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.records = (self.records + dt * self.limits.records_per_sec).min(self.limits.burst);
        if let Some(bps) = self.limits.bytes_per_sec {
            self.bytes = (self.bytes + dt * bps).min(bps);
        }
    }
}

/// The token buckets of one key.
#[derive(Debug)]
pub struct Quota {
    bucket: Mutex<Bucket>,
}

fn secs_until(missing: f64, rate: f64) -> u64 {
    if rate <= 0.0 {
        return u64::MAX / 2;
    }
    (missing / rate).ceil().max(1.0) as u64
}

impl Quota {
    /// A full bucket with these limits.
    pub fn new(limits: Limits) -> Self {
        Quota {
            bucket: Mutex::new(Bucket {
                limits,
                records: limits.burst,
                bytes: limits.bytes_per_sec.unwrap_or(0.0),
                at: Instant::now(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// New limits (a reloaded keys file); the tokens already there stay,
    /// clamped to the new burst.
    pub fn set_limits(&self, limits: Limits) {
        let mut b = self.lock();
        b.refill(Instant::now());
        b.limits = limits;
        b.records = b.records.min(limits.burst);
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Before the body is read: refused when the bucket is empty.
    ///
    /// # Errors
    /// [`Refusal::Limited`] with the seconds until one record fits.
    pub fn admit(&self) -> Result<(), Refusal> {
        let mut b = self.lock();
        b.refill(Instant::now());
        if b.records >= 1.0 {
            return Ok(());
        }
        Err(Refusal::Limited {
            retry_after_secs: secs_until(1.0 - b.records, b.limits.records_per_sec),
            limit: b.limits.records_per_sec as u64,
        })
    }

    /// Takes `records` (and `bytes`) from the bucket, or refuses and takes nothing.
    ///
    /// # Errors
    /// [`Refusal::ExceedsBurst`] when it can never fit, else [`Refusal::Limited`].
    pub fn debit(&self, records: u64, bytes: u64) -> Result<(), Refusal> {
        let mut b = self.lock();
        b.refill(Instant::now());
        let (n, size) = (records as f64, bytes as f64);
        if n > b.limits.burst {
            return Err(Refusal::ExceedsBurst {
                records,
                burst: b.limits.burst as u64,
            });
        }
        let mut wait = 0;
        if n > b.records {
            wait = secs_until(n - b.records, b.limits.records_per_sec);
        }
        if let Some(bps) = b.limits.bytes_per_sec {
            if size > b.bytes {
                // A batch bigger than one second of bytes waits until the
                // bucket is full and may then take it into debt.
                let need = size.min(bps) - b.bytes;
                if need > 0.0 {
                    wait = wait.max(secs_until(need, bps));
                }
            }
        }
        if wait > 0 {
            return Err(Refusal::Limited {
                retry_after_secs: wait,
                limit: b.limits.records_per_sec as u64,
            });
        }
        b.records -= n;
        if b.limits.bytes_per_sec.is_some() {
            b.bytes -= size;
        }
        Ok(())
    }

    /// For the `RateLimit` headers.
    pub fn state(&self) -> State {
        let mut b = self.lock();
        b.refill(Instant::now());
        let rate = b.limits.records_per_sec;
        State {
            quota: b.limits.burst as u64,
            window_secs: secs_until(b.limits.burst, rate),
            remaining: b.records.max(0.0) as u64,
            reset_secs: if b.records >= b.limits.burst {
                0
            } else {
                secs_until(b.limits.burst - b.records, rate)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rps: f64, burst: f64) -> Limits {
        Limits {
            records_per_sec: rps,
            burst,
            bytes_per_sec: None,
        }
    }

    #[test]
    fn debit_refuses_and_takes_nothing() {
        let q = Quota::new(limits(10.0, 100.0));
        assert_eq!(q.debit(60, 0), Ok(()));
        assert!(matches!(
            q.debit(60, 0),
            Err(Refusal::Limited {
                retry_after_secs: 2,
                ..
            })
        ));
        assert_eq!(q.debit(40, 0), Ok(()));
        assert!(q.admit().is_err());
        assert_eq!(
            q.debit(101, 0),
            Err(Refusal::ExceedsBurst {
                records: 101,
                burst: 100
            })
        );
    }

    #[test]
    fn reload_keeps_tokens() {
        let q = Quota::new(limits(10.0, 100.0));
        q.debit(90, 0).unwrap();
        q.set_limits(limits(1000.0, 1000.0));
        let s = q.state();
        assert!(s.remaining < 20, "{s:?}");
        assert_eq!(s.quota, 1000);
    }

    #[test]
    fn bytes_bucket() {
        let q = Quota::new(Limits {
            records_per_sec: 1e6,
            burst: 1e6,
            bytes_per_sec: Some(1000.0),
        });
        assert_eq!(q.debit(1, 800), Ok(()));
        assert!(matches!(q.debit(1, 800), Err(Refusal::Limited { .. })));
    }
}
