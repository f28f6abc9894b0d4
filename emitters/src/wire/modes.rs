//! The three modes over a raw syslog transport, and the summary line.
//!
//! - **single** (`-n N`): one connection (or socket), the N messages, a flush
//!   and a close; prints `sent:`, `bytes:` and `ack: none`.
//! - **paced** (`--eps`): one connection; a batch every `batch / eps` seconds,
//!   generated live and flushed at once, each gap optionally jittered.
//! - **flood** (`--concurrency C`): C connections (UDP: sockets), each
//!   writing pre-framed chunks from a shared ring as fast as the socket takes
//!   them; the TCP write buffer gathers them into large writes.
//!
//! There are no answers to wait for, so no latency and no `accepted`: the
//! summary says what was handed to the kernel, and the receiver's own count
//! is the truth.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::gen::Generator;
use crate::run::{Limits, Rate, Schedule};

use super::frame::{Chunk, Ring, Wire};
use super::link::{Counters, Link};

/// Pause after a failed write, so a dead receiver is not hammered in a tight loop.
const FAILURE_PAUSE: Duration = Duration::from_millis(100);

/// Where and how a raw run sends.
#[derive(Debug, Clone)]
pub(crate) struct Dest {
    /// Transport and framing.
    pub(crate) wire: Wire,
    /// The resolved receiver address.
    pub(crate) addr: SocketAddr,
    /// `--url` as given, for messages.
    pub(crate) url: String,
    /// `--timeout`: longest wait for one write.
    pub(crate) timeout: Duration,
}

/// Set on Ctrl-C; wakes paced mode's sleep.
#[derive(Default)]
pub(crate) struct Stop {
    flag: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// Stops the run.
    pub(crate) fn set(&self) {
        self.flag.store(true, Relaxed);
        self.notify.notify_waiters();
    }

    fn is_set(&self) -> bool {
        self.flag.load(Relaxed)
    }

    async fn wait(&self) {
        loop {
            let woken = self.notify.notified();
            if self.is_set() {
                return;
            }
            woken.await;
        }
    }
}

/// Sends one chunk over one link, then closes it.
///
/// # Errors
/// What went wrong (the caller prints it as `error: ...`): the connect error,
/// or the write error with the counts so far.
pub(crate) async fn single(dest: &Dest, chunk: &Chunk) -> Result<Counters, String> {
    let mut link = Link::open(dest.wire, dest.addr, dest.timeout)
        .await
        .map_err(|e| unreachable_msg(dest, &e))?;
    let sent = link.send(chunk).await;
    let (counters, flushed) = link.finish().await;
    match sent.and(flushed) {
        Ok(()) => Ok(counters),
        Err(e) => Err(format!(
            "sending to {} failed after {} of {} messages: {}",
            dest.url,
            counters.sent,
            chunk.messages,
            crate::client::root_cause(&e)
        )),
    }
}

/// `cannot reach <url>: <cause>`, as for HTTP.
pub(crate) fn unreachable_msg(dest: &Dest, e: &std::io::Error) -> String {
    format!(
        "cannot reach {}: {}",
        dest.url,
        crate::client::root_cause(e)
    )
}

/// Runs paced mode over one link opened beforehand.
pub(crate) async fn paced(
    mut link: Link,
    wire: Wire,
    gen: &mut dyn Generator,
    pace: &Rate,
    limits: Limits,
    stop: &Stop,
) -> (Counters, Duration) {
    let mut schedule = Schedule::new(pace, limits.duration);
    let start = schedule.start();
    let mut queued = 0u64;
    loop {
        let remaining = limits
            .records
            .map_or(u64::MAX, |l| l.saturating_sub(queued));
        if remaining == 0 || stop.is_set() {
            break;
        }
        let n = (pace.batch as u64).min(remaining) as usize;
        queued += n as u64;
        let chunk = Chunk::new(&gen.batch(n).body, wire);
        if link.send(&chunk).await.and(link.flush().await).is_err() {
            tokio::time::sleep(FAILURE_PAUSE).await;
        }
        let Some(next) = schedule.next() else {
            break;
        };
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            () = stop.wait() => break,
        }
    }
    let (counters, _) = link.finish().await;
    (counters, start.elapsed())
}

/// Runs flood mode over `links` (opened beforehand, one worker each); returns
/// the merged counts and the time from the first write to the last flush.
pub(crate) async fn flood(
    links: Vec<Link>,
    wire: Wire,
    gen: &mut dyn Generator,
    batch: usize,
    limits: Limits,
    stop: Arc<Stop>,
) -> (Counters, Duration) {
    let ring = Arc::new(Ring::build(batch, limits.records, |n| {
        Chunk::new(&gen.batch(n).body, wire)
    }));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = limits.duration.map(|d| start + d);
    let mut workers = tokio::task::JoinSet::new();
    for mut link in links {
        let (ring, next, stop) = (ring.clone(), next.clone(), stop.clone());
        workers.spawn(async move {
            loop {
                if stop.is_set() || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let Some(chunk) = ring.get(next.fetch_add(1, Relaxed)) else {
                    break;
                };
                if link.send(chunk).await.is_err() {
                    tokio::time::sleep(FAILURE_PAUSE).await;
                }
            }
            link.finish().await.0
        });
    }
    let mut total = Counters::default();
    while let Some(res) = workers.join_next().await {
        if let Ok(c) = res {
            total.merge(&c);
        }
    }
    (total, start.elapsed())
}

/// The summary line of a paced or flood run.
pub(crate) fn summary(
    emitter: &str,
    mode: &str,
    wire: Wire,
    seed: u64,
    c: &Counters,
    elapsed: Duration,
) -> Value {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        c.sent as f64 / secs
    } else {
        0.0
    };
    let mut v = json!({
        "emitter": emitter,
        "mode": mode,
        "transport": match wire { Wire::Tcp(_) => "tcp", Wire::Udp => "udp" },
    });
    let m = v.as_object_mut().expect("a JSON object");
    match wire {
        Wire::Tcp(framing) => {
            m.insert("framing".into(), json!(framing.name()));
            m.insert("seed".into(), json!(seed));
            m.insert("connections".into(), json!(c.connections));
        }
        Wire::Udp => {
            m.insert("seed".into(), json!(seed));
            m.insert("sockets".into(), json!(c.connections));
        }
    }
    m.insert("sent".into(), json!(c.sent));
    m.insert("bytes".into(), json!(c.bytes));
    m.insert("failed".into(), json!(c.failed));
    m.insert(
        "messages_per_sec".into(),
        json!((rate * 10.0).round() / 10.0),
    );
    m.insert("elapsed_s".into(), json!((secs * 1000.0).round() / 1000.0));
    m.insert("ack".into(), json!("none"));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::Framing;

    #[test]
    fn summary_keys() {
        let c = Counters {
            sent: 1000,
            bytes: 120_000,
            failed: 0,
            connections: 2,
        };
        let tcp = summary(
            "emit_syslog",
            "flood",
            Wire::Tcp(Framing::Octet),
            7,
            &c,
            Duration::from_secs(2),
        );
        assert_eq!(tcp["messages_per_sec"], 500.0);
        assert_eq!(
            (tcp["connections"].as_u64(), tcp["framing"].as_str()),
            (Some(2), Some("octet"))
        );
        assert!(tcp.get("latency_ms").is_none() && tcp.get("accepted").is_none());
        let udp = summary(
            "emit_syslog",
            "paced",
            Wire::Udp,
            7,
            &c,
            Duration::from_secs(1),
        );
        assert_eq!(
            (udp["sockets"].as_u64(), udp["transport"].as_str()),
            (Some(2), Some("udp"))
        );
        assert!(udp.get("framing").is_none());
    }

    #[tokio::test]
    async fn stop_wakes_a_waiter() {
        let stop = Arc::new(Stop::default());
        let s = stop.clone();
        let waiter = tokio::spawn(async move { s.wait().await });
        tokio::task::yield_now().await;
        stop.set();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
