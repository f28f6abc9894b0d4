//! Start-up failures: run a gateway that should refuse to start (bad config,
//! missing key) and report its exit code and stderr.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{GatewayBuilder, Spawned};

/// How a gateway run by [`GatewayBuilder::run_expecting_exit`] ended.
#[derive(Debug)]
pub struct Exited {
    /// Exit code (`None` if killed by a signal, by the test, or still running at the deadline).
    pub code: Option<i32>,
    /// True if it started listening (it was then killed).
    pub listened: bool,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

impl GatewayBuilder {
    /// Runs a gateway that is expected to refuse to start: waits (up to 20 s) for
    /// it to exit and returns how. If it starts listening instead, it is killed and
    /// the result says so (`listened: true`).
    pub fn run_expecting_exit(self) -> Exited {
        let Spawned {
            mut child,
            stderr,
            rx,
            ..
        } = self.spawn();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if rx.recv_timeout(Duration::from_millis(20)).is_ok() {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                let text = stderr.lock().unwrap().clone();
                return Exited {
                    code: None,
                    listened: true,
                    stderr: text,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Let the reader thread drain the pipe (it ends at EOF).
                let end = Instant::now() + Duration::from_secs(5);
                while Arc::strong_count(&stderr) > 1 && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let text = stderr.lock().unwrap().clone();
                return Exited {
                    code: status.code(),
                    listened: false,
                    stderr: text,
                };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let text = stderr.lock().unwrap().clone();
                return Exited {
                    code: None,
                    listened: false,
                    stderr: text,
                };
            }
        }
    }
}
