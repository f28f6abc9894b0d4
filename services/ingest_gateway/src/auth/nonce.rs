//! The nonce replay cache of HMAC mode (SPEC §8): a nonce is accepted once
//! per key while its request could still pass the timestamp check.
//!
//! Bounded memory: at most `cap` nonces per key, each kept for twice the skew
//! window (a timestamp may be up to `skew` early or late) and evicted by age
//! only. When a key's cache is full of nonces still inside their window, new
//! requests of that key are refused ([`Full`], answered 429 with the seconds
//! until the oldest expires) rather than evicting one early: a replay never
//! gets through because the cache forgot it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A key's cache is full of live nonces; retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    /// Whole seconds until the oldest nonce expires.
    pub retry_after_secs: u64,
}

/// Outcome of [`NonceCache::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First use: now remembered.
    New,
    /// Seen before within the window: a replay.
    Replay,
}

#[derive(Default)]
struct PerKey {
    set: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

/// Nonces per key id.
pub struct NonceCache {
    keep: Duration,
    cap: usize,
    keys: Mutex<HashMap<String, PerKey>>,
}

impl std::fmt::Debug for NonceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceCache")
            .field("keep", &self.keep)
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

impl NonceCache {
    /// Nonces kept `2 × skew`, at most `cap` per key.
    pub fn new(skew: Duration, cap: usize) -> Self {
        NonceCache {
            keep: skew * 2,
            cap: cap.max(1),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers `nonce` for `key` unless it was seen.
    ///
    /// # Errors
    /// [`Full`] when the key's cache holds `cap` live nonces.
    pub fn check(&self, key: &str, nonce: &str) -> Result<Seen, Full> {
        let now = Instant::now();
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let per = keys.entry(key.to_string()).or_default();
        while let Some((expires, _)) = per.order.front() {
            if *expires > now {
                break;
            }
            if let Some((_, old)) = per.order.pop_front() {
                per.set.remove(&old);
            }
        }
        if per.set.contains(nonce) {
            return Ok(Seen::Replay);
        }
        if per.set.len() >= self.cap {
            let oldest = per.order.front().map_or(now, |(e, _)| *e);
            let wait = oldest
                .saturating_duration_since(now)
                .as_secs_f64()
                .ceil()
                .max(1.0);
            return Err(Full {
                retry_after_secs: wait as u64,
            });
        }
        per.set.insert(nonce.to_string());
        per.order.push_back((now + self.keep, nonce.to_string()));
        Ok(Seen::New)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_are_caught_and_a_full_cache_refuses_instead_of_forgetting() {
        let c = NonceCache::new(Duration::from_secs(300), 2);
        assert_eq!(c.check("k", "a"), Ok(Seen::New));
        assert_eq!(c.check("k", "a"), Ok(Seen::Replay));
        assert_eq!(c.check("other", "a"), Ok(Seen::New), "per key");
        assert_eq!(c.check("k", "b"), Ok(Seen::New));
        let full = c.check("k", "c").unwrap_err();
        assert!(full.retry_after_secs > 500, "{full:?}");
        assert_eq!(c.check("k", "a"), Ok(Seen::Replay), "still remembered");
    }

    #[test]
    fn nonces_expire_by_age() {
        let c = NonceCache::new(Duration::from_millis(5), 1);
        assert_eq!(c.check("k", "a"), Ok(Seen::New));
        std::thread::sleep(Duration::from_millis(15));
        assert_eq!(c.check("k", "b"), Ok(Seen::New));
    }
}
