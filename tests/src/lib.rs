//! Shared fixtures for the black-box tests: start a real gateway on an
//! ephemeral port with a temporary sink directory, talk plain HTTP to it, and
//! read what it wrote to disk.
//!
//! By default the gateway runs in-process ([`inproc`]: the binary's own
//! composition, served on a real socket, stopped by a shutdown future).
//! [`GatewayBuilder::process`] runs the real `logops-gateway` binary instead,
//! for tests where the process is the point (signals, kill -9, start-up
//! refusal, stderr, `.env`). Either way the tests only use the HTTP port and
//! the files, as a user would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod builder;
pub mod check;
pub mod clickhouse;
mod client;
pub mod clock;
mod inproc;
pub mod prom;
pub mod raw;
pub mod startup;
pub mod zookeeper;

pub use builder::GatewayBuilder;
use builder::Spawned;
pub use check::{assert_head, assert_levels, keys_of, level_count, tail_keys, text_of, to_ndjson};
use client::{agent, to_resp};
pub use client::{try_post, Resp};
pub use clock::{is_rfc3339_millis_z, UtcTime};
pub use prom::{parse_metrics, sum_samples, Sample};
pub use raw::{post_request, raw_request};
pub use startup::Exited;

/// Path of a binary built by this workspace (`target/<profile>/<name>`).
///
/// Integration tests run from `target/<profile>/deps/`, so the binaries sit one
/// level up. `cargo test --workspace` builds every package's binaries first.
pub fn bin_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "binary {} not found: run `cargo test --workspace` (it builds all binaries)",
        path.display()
    );
    path
}

/// A running gateway (in-process, or a process killed on drop if still running).
pub struct Gateway {
    child: Option<Child>,
    inproc: Option<inproc::InProcess>,
    /// `127.0.0.1:<port>` the gateway listens on.
    pub addr: String,
    /// The gateway's working directory (a temp dir unless given).
    pub workdir: PathBuf,
    /// Where the file sink writes (`<workdir>/ingest` by default).
    pub sink_dir: PathBuf,
    stderr: Arc<Mutex<String>>,
    _tmp: Option<tempfile::TempDir>,
    /// Holds the keys file of [`GatewayBuilder::keys`].
    _keys: Option<tempfile::TempDir>,
}

impl Gateway {
    /// A builder with no extra environment.
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    /// Starts a gateway with default settings.
    pub fn start() -> Gateway {
        Self::builder().start()
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs `body` to `path` with the given headers (e.g. `("content-type", "text/csv")`).
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = agent().post(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        to_resp(req.send(body))
    }

    /// POSTs to `/v1/logs` with that content type.
    pub fn ingest(&self, content_type: &str, body: &str) -> Resp {
        self.post(
            "/v1/logs",
            &[("content-type", content_type)],
            body.as_bytes(),
        )
    }

    /// GETs `path`.
    pub fn get(&self, path: &str) -> Resp {
        to_resp(agent().get(&self.url(path)).call())
    }

    /// GETs `path` with these headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = agent().get(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        to_resp(req.call())
    }

    /// Every line of every `*.ndjson` file in the sink dir, in file-name order.
    pub fn stored_lines(&self) -> Vec<String> {
        stored_lines(&self.sink_dir)
    }

    /// [`Self::stored_lines`] parsed as JSON objects.
    pub fn stored_records(&self) -> Vec<serde_json::Value> {
        self.stored_lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line ({e}): {l}")))
            .collect()
    }

    /// Everything the gateway wrote to stderr so far (process mode only).
    pub fn stderr(&self) -> String {
        self.need_process("stderr");
        self.stderr.lock().unwrap().clone()
    }

    fn need_process(&self, what: &str) {
        assert!(
            self.inproc.is_none(),
            "{what} needs a gateway process: start it with Gateway::builder().process()"
        );
    }

    /// Waits (up to `timeout`) until stderr contains `needle`; returns whether it did.
    pub fn wait_stderr(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.need_process("pid");
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends a signal (e.g. "TERM", "KILL") to the gateway.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Waits for the process to exit (up to `timeout`) and returns its exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        self.need_process("wait");
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Graceful stop (SIGTERM for a process; the shutdown future in-process),
    /// then wait for a clean exit; returns the exit code (0 in-process).
    pub fn stop(&mut self) -> Option<i32> {
        if let Some(mut g) = self.inproc.take() {
            g.stop();
            return Some(0);
        }
        self.signal("TERM");
        self.wait(Duration::from_secs(20))
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every line of every `*.ndjson` file in `dir`, in file-name order.
pub fn stored_lines(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
            .collect(),
        Err(_) => return Vec::new(),
    };
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read sink file");
        out.extend(text.lines().map(str::to_string));
    }
    out
}

/// Whether a test's external component (a program or module the scripts
/// install) is `available`. When it is not: in CI (`CI` set to anything but
/// empty/`false`/`0`) the test fails, naming the component, because CI must
/// run every test for real; elsewhere it prints that the test did not run and
/// returns `false`, and the test returns early.
pub fn need_component(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0" | "no"));
    assert!(
        !ci,
        "{what} is required in CI (scripts/test installs it) but is not available"
    );
    eprintln!("NOT RUN: {what} is not available here (scripts/test installs it; in CI this fails)");
    false
}

/// Runs `cmd` to its end and returns its standard output; panics with the
/// command and its standard error (and output) when it cannot run or fails.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// [`need_component`] for a program: is `program` on the PATH (does
/// `program <version_arg>` run and succeed)?
pub fn need_program(program: &str, version_arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    need_component(program, ok)
}
