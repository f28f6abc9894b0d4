//! [`GatewayBuilder`]: how a test gateway starts — its environment, working
//! directory and keys file, in process or as the real binary — up to the
//! moment it listens.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{bin_path, inproc, Gateway};

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

    /// The working directory: the one given, or a fresh temp dir (kept alive
    /// by the returned handle).
    fn take_workdir(&mut self) -> (Option<tempfile::TempDir>, PathBuf) {
        match self.workdir.take() {
            Some(d) => (None, d),
            None => {
                let t = tempfile::tempdir().expect("tempdir");
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        }
    }

    fn try_start_in_process(mut self) -> Result<Gateway, String> {
        let (tmp, workdir) = self.take_workdir();
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

    pub(crate) fn spawn(mut self) -> Spawned {
        let (tmp, workdir) = self.take_workdir();
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
