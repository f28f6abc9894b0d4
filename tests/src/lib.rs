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

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod check;
pub mod clickhouse;
pub mod clock;
mod inproc;
pub mod prom;
pub mod raw;
pub mod startup;
pub mod zookeeper;

pub use check::{assert_head, assert_levels, keys_of, level_count, tail_keys, text_of, to_ndjson};
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

/// Builder for [`Gateway`]: extra environment, working directory, process mode.
#[derive(Default)]
pub struct GatewayBuilder {
    env: Vec<(String, String)>,
    workdir: Option<PathBuf>,
    process: bool,
    keys: Option<tempfile::TempDir>,
}

impl GatewayBuilder {
    /// Sets one environment variable for the gateway process.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs the gateway in `dir` instead of a fresh temp dir (to restart on the same files).
    pub fn workdir(mut self, dir: &Path) -> Self {
        self.workdir = Some(dir.to_path_buf());
        self
    }

    /// Runs the real `logops-gateway` binary instead of the in-process gateway
    /// (needed for `stderr`, `signal`, `pid`, `wait` and `.env` files).
    pub fn process(mut self) -> Self {
        self.process = true;
        self
    }

    /// Turns on key auth (`LOGOPS_AUTH=key`) with a keys file holding
    /// `toml` (written 0600 to a temp dir the gateway keeps).
    pub fn keys(mut self, toml: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        std::fs::write(&path, toml).expect("write keys file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        self.keys = Some(dir);
        self.env("LOGOPS_AUTH", "key")
            .env("LOGOPS_KEYS_FILE", path.to_str().expect("utf-8 path"))
    }

    /// Starts the gateway and waits until it listens. Panics with its stderr if it exits.
    pub fn start(self) -> Gateway {
        self.try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts the gateway; `Err(stderr)` if it exits before listening.
    pub fn try_start(mut self) -> Result<Gateway, String> {
        let keys = self.keys.take();
        // `E2E_ALL_PROCESSES=1` runs every test against the binary (to compare
        // the two modes, or to debug with the process's own log output).
        let started = if self.process || std::env::var_os("E2E_ALL_PROCESSES").is_some() {
            self.try_start_process()
        } else {
            self.try_start_in_process()
        };
        started.map(|mut g| {
            g._keys = keys;
            g
        })
    }

    fn try_start_in_process(self) -> Result<Gateway, String> {
        let (tmp, workdir) = match self.workdir {
            Some(d) => (None, d),
            None => {
                let t = tempfile::tempdir().expect("tempdir");
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let mut env = std::collections::HashMap::new();
        env.insert(
            "LOGOPS_SINK_DIR".to_string(),
            workdir.join("ingest").display().to_string(),
        );
        env.insert(
            "LOGOPS_ARCHIVE_DIR".to_string(),
            workdir.join("archive").display().to_string(),
        );
        env.extend(self.env);
        let sink_dir = PathBuf::from(&env["LOGOPS_SINK_DIR"]);
        let (inproc, addr) = inproc::InProcess::start(&env)?;
        Ok(Gateway {
            child: None,
            inproc: Some(inproc),
            addr,
            workdir,
            sink_dir,
            stderr: Arc::new(Mutex::new(String::new())),
            _tmp: tmp,
            _keys: None,
        })
    }

    fn try_start_process(self) -> Result<Gateway, String> {
        let Spawned {
            mut child,
            stderr,
            rx,
            workdir,
            sink_dir,
            tmp,
        } = self.spawn();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(50)) {
                return Ok(Gateway {
                    child: Some(child),
                    inproc: None,
                    addr,
                    workdir,
                    sink_dir,
                    stderr,
                    _tmp: tmp,
                    _keys: None,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                let err = stderr.lock().unwrap().clone();
                return Err(format!(
                    "gateway exited ({status}) before listening:\n{err}"
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let err = stderr.lock().unwrap().clone();
                return Err(format!("gateway did not listen within 20 s:\n{err}"));
            }
        }
    }

    pub(crate) fn spawn(self) -> Spawned {
        let (tmp, workdir) = match self.workdir {
            Some(d) => (None, d),
            None => {
                let t = tempfile::tempdir().expect("tempdir");
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let mut cmd = Command::new(bin_path("logops-gateway"));
        cmd.current_dir(&workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("LOGOPS_") {
                cmd.env_remove(k);
            }
        }
        let mut sink_dir = workdir.join("ingest");
        cmd.env("LOGOPS_LISTEN", "127.0.0.1:0")
            .env("LOGOPS_LOG_FORMAT", "text")
            .env("LOGOPS_SINK_DIR", &sink_dir);
        for (k, v) in &self.env {
            if k == "LOGOPS_SINK_DIR" {
                sink_dir = PathBuf::from(v);
            }
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn logops-gateway");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr");
        let buf = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let rest = line
                    .split("listening on http://")
                    .nth(1)
                    .or_else(|| line.split("listening on https://").nth(1));
                if let Some(rest) = rest {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
                let mut b = buf.lock().unwrap();
                b.push_str(&line);
                b.push('\n');
            }
        });
        Spawned {
            child,
            stderr,
            rx,
            workdir,
            sink_dir,
            tmp,
        }
    }
}

/// A freshly spawned gateway process, before it is known to listen.
pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) stderr: Arc<Mutex<String>>,
    /// Receives the address once the "listening on" line appears.
    pub(crate) rx: std::sync::mpsc::Receiver<String>,
    pub(crate) workdir: PathBuf,
    pub(crate) sink_dir: PathBuf,
    pub(crate) tmp: Option<tempfile::TempDir>,
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Raw body text.
    pub text: String,
}

impl Resp {
    /// Body parsed as JSON (panics with the body if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text))
    }

    /// First header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn to_resp(r: Result<http_resp::Response, ureq::Error>) -> Resp {
    read_resp(r.expect("HTTP request failed"), true).expect("lenient read")
}

/// Status, headers and body text; an unreadable body is `""` if `lenient`, else `Err`.
fn read_resp(mut r: http_resp::Response, lenient: bool) -> Result<Resp, String> {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = match r.body_mut().read_to_string() {
        Ok(t) => t,
        Err(_) if lenient => String::new(),
        Err(e) => return Err(e.to_string()),
    };
    Ok(Resp {
        status,
        headers,
        text,
    })
}

/// POSTs to a full URL, returning transport failures (refused, reset, unreadable
/// body) as `Err` instead of panicking: for clients racing a shutdown.
pub fn try_post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Resp, String> {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read_resp(req.send(body).map_err(|e| e.to_string())?, false)
}

mod http_resp {
    pub type Response = ureq::http::Response<ureq::Body>;
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

/// [`need_component`] for a program: is `program` on the PATH (does
/// `program <version_arg>` run and succeed)?
pub fn need_program(program: &str, version_arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    need_component(program, ok)
}
