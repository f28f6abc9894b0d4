//! The thread that reads and compresses a forwarder's batches.
//!
//! Why it exists: reading the day files back and gzipping them is the
//! forwarder's whole CPU cost (~0.4 CPU s per million 200-byte lines), and
//! on a busy machine it competes with ingest. It runs on its own thread
//! whose Linux nice value is `LOGOPS_FORWARD_NICE` above the gateway's, so
//! under contention ingest is served first and the forwarder only falls
//! behind — the day files are its buffer — and catches up when CPU is free.
//! (The shared blocking pool cannot be used: an unprivileged thread cannot
//! lower its nice value again once it raised it.)

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, SyncSender};

type Job = Box<dyn FnOnce() + Send>;

/// A handle to the thread; the thread ends when the handle is dropped.
#[derive(Debug)]
pub struct Worker {
    jobs: SyncSender<Job>,
}

impl Worker {
    /// Starts the thread `logops-fwd-<name>` at `nice` above the process.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn start(name: &str, nice: u8) -> std::io::Result<Worker> {
        // One job at a time: the forwarder awaits each before the next.
        let (jobs, queue) = mpsc::sync_channel::<Job>(1);
        std::thread::Builder::new()
            .name(format!("logops-fwd-{name}"))
            .spawn(move || {
                lower_priority(nice);
                while let Ok(job) = queue.recv() {
                    job();
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Runs `f` on the thread; `None` if it panicked or the thread is gone.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if let Ok(v) = std::panic::catch_unwind(AssertUnwindSafe(f)) {
                let _ = done.send(v);
            }
        });
        // Never full: each job is awaited before the next is sent.
        self.jobs.try_send(job).ok()?;
        result.await.ok()
    }
}

/// Raises this thread's nice value by `nice` (capped at 19); a failure only
/// costs the priority, so it is logged, not fatal.
fn lower_priority(nice: u8) {
    if nice == 0 {
        return;
    }
    let tid = Some(rustix::thread::gettid());
    let current = rustix::process::getpriority_process(tid).unwrap_or(0);
    let wanted = (current + i32::from(nice)).min(19);
    if let Err(e) = rustix::process::setpriority_process(tid, wanted) {
        tracing::warn!(target: "forward", "cannot lower the forwarder's priority to nice {wanted}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nice_of_this_thread() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    #[tokio::test]
    async fn jobs_run_on_a_thread_with_the_raised_nice_value() {
        let base = nice_of_this_thread();
        let w = Worker::start("test", 5).unwrap();
        let (name, nice) = w
            .run(|| {
                (
                    std::thread::current().name().map(str::to_string),
                    nice_of_this_thread(),
                )
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("logops-fwd-test"));
        assert_eq!(nice, (base + 5).min(19));
        // The caller's own priority is untouched.
        assert_eq!(nice_of_this_thread(), base);
    }

    #[tokio::test]
    async fn a_panicking_job_is_none_and_the_thread_goes_on() {
        let w = Worker::start("panics", 0).unwrap();
        assert_eq!(w.run(|| -> u8 { panic!("boom") }).await, None);
        assert_eq!(w.run(|| 7).await, Some(7));
    }
}
