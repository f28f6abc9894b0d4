//! A real Prometheus server for the live test: started on a free loopback
//! port with a generated configuration (scrape one target every second, load
//! the repository's alert rules, evaluate them every second), its TSDB in a
//! temporary directory, and killed when dropped. Queries go through the HTTP
//! API (`/api/v1/...`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Prometheus binary: `$PROMETHEUS_BIN`, else `prometheus` on `PATH`.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROMETHEUS_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
}

/// A running Prometheus. Killed on drop.
pub struct Prometheus {
    child: Child,
    /// `127.0.0.1:<port>` of its web/API listener.
    pub addr: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl Prometheus {
    /// Starts `bin` scraping `target` (`host:port`) as job `logops-gateway`
    /// every second, with `rules` loaded; waits until it is ready.
    pub fn start(bin: &Path, target: &str, rules: &Path) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        let yaml = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules:?}\n\
             scrape_configs:\n  - job_name: logops-gateway\n    scrape_interval: 1s\n    \
             scrape_timeout: 1s\n    static_configs:\n      - targets: [{target:?}]\n",
            rules = rules.display().to_string(),
            target = target,
        );
        std::fs::write(&config, yaml).expect("write prometheus.yml");
        let log = dir.path().join("prometheus.log");
        let mut last_log = String::new();
        // The port is free when picked; another process may take it before
        // Prometheus binds, so a start that fails on the address is retried.
        for attempt in 0..3 {
            let addr = format!("127.0.0.1:{}", free_port());
            let log_file = std::fs::File::create(&log).expect("create log");
            let mut child = Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join(format!("data-{attempt}")).display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--log.level=warn")
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            if wait_ready(&mut child, &addr) {
                return Prometheus {
                    child,
                    addr,
                    log,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
            if !last_log.contains("address already in use") {
                break;
            }
        }
        panic!("prometheus did not become ready:\n{last_log}");
    }

    /// What Prometheus logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET `/api/v1/<path>` with query parameters; the JSON answer, whatever
    /// the status (the API reports errors in the body).
    pub fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let mut req = agent().get(format!("http://{}/api/v1/{path}", self.addr));
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        let mut resp = req
            .call()
            .unwrap_or_else(|e| panic!("GET /api/v1/{path}: {e}"));
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("/api/v1/{path} answered non-JSON ({e}): {text}"))
    }

    /// Instant query at the current time.
    pub fn query(&self, expr: &str) -> Value {
        self.api("query", &[("query", expr)])
    }
}

/// Polls `/-/ready` until 200 (true), or until the process exits or 30 s
/// pass (false).
fn wait_ready(child: &mut Child, addr: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = format!("http://{addr}/-/ready");
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(r) = agent().get(&url).call() {
            if r.status() == 200 {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The result vector of a successful instant query (`None` for a scalar/string
/// result or an error).
pub fn result_vector(resp: &Value) -> Option<&Vec<Value>> {
    resp.pointer("/data/result").and_then(Value::as_array)
}

/// Whether any sample of the result vector is a finite number.
pub fn has_finite_sample(resp: &Value) -> bool {
    result_vector(resp).into_iter().flatten().any(|s| {
        s.pointer("/value/1")
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
    })
}
