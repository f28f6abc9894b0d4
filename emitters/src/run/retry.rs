//! HTTP 429 handling, the same in every mode: wait `Retry-After` seconds (1 s
//! when absent or not an integer, at most 60 s), then send the same body again
//! (signed afresh: new timestamp and nonce), up to `--max-retries` times; the
//! answer after the last retry is the batch's outcome (a `429` then counts as
//! rejected).
//!
//! A wait ends early when the run is stopped (Ctrl-C, deadline), and a retry
//! that could only start after the run's deadline is not made: the `429` stands.

use std::time::{Duration, Instant};

use crate::client::{Payload, Reply, SendError, Sender};

use super::progress::Live;

/// Wait after a `429` without a usable `Retry-After`.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How many times to retry, and until when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// Retries of one batch at most (`--max-retries`).
    pub(crate) max_retries: u32,
    /// No retry starts after this instant.
    pub(crate) deadline: Option<Instant>,
}

/// The batch's final answer (or failure) and what it took.
pub(crate) struct Outcome {
    /// The last attempt's result.
    pub(crate) result: Result<Reply, SendError>,
    /// The last attempt's latency.
    pub(crate) latency: Duration,
    /// Latencies of the earlier attempts, each answered `429` and retried.
    pub(crate) retried: Vec<Duration>,
}

/// How long a `429` asks to wait.
pub(crate) fn wait_for(reply: &Reply) -> Duration {
    reply.retry_after.unwrap_or(DEFAULT_RETRY_AFTER)
}

/// Sleeps `wait` unless the run stops first; false when it stopped.
pub(crate) async fn pause(wait: Duration, live: Option<&Live>) -> bool {
    match live {
        Some(live) => tokio::select! {
            () = tokio::time::sleep(wait) => true,
            () = live.wait_stop() => false,
        },
        None => {
            tokio::time::sleep(wait).await;
            true
        }
    }
}

/// Sends `payload`, retrying `429` answers as the module says. `on_wait` is
/// told the `429`, the wait and the retry number before each wait.
pub(crate) async fn send(
    sender: &Sender,
    payload: &Payload,
    policy: Policy,
    live: Option<&Live>,
    mut on_wait: impl FnMut(&Reply, Duration, u32),
) -> Outcome {
    let mut retried = Vec::new();
    loop {
        let t0 = Instant::now();
        let result = sender.send_payload(payload).await;
        let latency = t0.elapsed();
        let done = Outcome {
            result,
            latency,
            retried: Vec::new(),
        };
        let wait = match &done.result {
            Ok(r) if r.status == 429 && (retried.len() as u64) < u64::from(policy.max_retries) => {
                wait_for(r)
            }
            _ => return Outcome { retried, ..done },
        };
        if policy.deadline.is_some_and(|d| Instant::now() + wait >= d) {
            return Outcome { retried, ..done };
        }
        if let Ok(r) = &done.result {
            on_wait(r, wait, retried.len() as u32 + 1);
        }
        if !pause(wait, live).await {
            return Outcome { retried, ..done };
        }
        retried.push(latency);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn missing_or_bad_retry_after_waits_one_second() {
        let reply = |retry_after| Reply {
            status: 429,
            retry_after,
            body: Bytes::new(),
        };
        assert_eq!(wait_for(&reply(None)), Duration::from_secs(1));
        assert_eq!(
            wait_for(&reply(Some(Duration::from_secs(3)))),
            Duration::from_secs(3)
        );
    }

    #[tokio::test]
    async fn pause_ends_early_on_stop() {
        let live = Live::default();
        assert!(pause(Duration::from_millis(5), Some(&live)).await);
        live.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let t0 = Instant::now();
        assert!(!pause(Duration::from_secs(60), Some(&live)).await);
        assert!(t0.elapsed() < Duration::from_secs(1));
    }
}
