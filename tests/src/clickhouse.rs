//! A real ClickHouse server for the forwarding tests: Debian's
//! `clickhouse-server`, started as the current user with a generated config
//! in a temporary directory (its own data path, free loopback ports,
//! `listen_host` 127.0.0.1), stopped by PID, its directory removed on drop.
//! [`Server::start_cluster`] names other servers as shards of a cluster
//! `logops` for `Distributed` tables; [`Server::start_replicated`] gives it
//! a ZooKeeper for `Replicated*MergeTree` tables.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The user the tests' gateways insert as (with [`PASSWORD`]).
pub const USER: &str = "logops";
/// Its password.
pub const PASSWORD: &str = "ch-test-pass";

/// Whether `clickhouse-server` is installed (else the tests do not run;
/// in CI that fails, see [`crate::need_component`]).
pub fn available() -> bool {
    let ok = Command::new("clickhouse-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    crate::need_component("clickhouse-server (Debian package clickhouse-server)", ok)
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Its HTTP interface port.
    pub http_port: u16,
    /// Its native protocol port (for `Distributed` tables).
    pub tcp_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn users_xml() -> String {
    let user = |name: &str, password: &str| {
        format!(
            "<{name}><password>{password}</password><networks><ip>127.0.0.1</ip></networks>\
             <profile>default</profile><quota>default</quota></{name}>"
        )
    };
    format!(
        "<?xml version=\"1.0\"?>\n<yandex><profiles><default></default></profiles><users>{}{}</users>\
         <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>\
         <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>\
         </interval></default></quotas></yandex>\n",
        user("default", ""),
        user(USER, PASSWORD)
    )
}

fn config_xml(dir: &Path, http: u16, tcp: u16, shards: &[u16], zookeeper: Option<u16>) -> String {
    let d = dir.display();
    // A replica also needs its interserver port (where other replicas fetch parts).
    let zookeeper = zookeeper
        .map(|p| {
            format!(
                "<zookeeper><node><host>127.0.0.1</host><port>{p}</port></node></zookeeper>\
                 <interserver_http_host>127.0.0.1</interserver_http_host>\
                 <interserver_http_port>{}</interserver_http_port>",
                free_port()
            )
        })
        .unwrap_or_default();
    let cluster = shards
        .iter()
        .map(|p| {
            format!("<shard><replica><host>127.0.0.1</host><port>{p}</port></replica></shard>")
        })
        .collect::<String>();
    format!(
        "<?xml version=\"1.0\"?>\n<yandex>\
         <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog>\
         <size>10M</size><count>1</count></logger>\
         <http_port>{http}</http_port><tcp_port>{tcp}</tcp_port><listen_host>127.0.0.1</listen_host>\
         <path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path><user_files_path>{d}/user_files/</user_files_path>\
         <format_schema_path>{d}/format_schemas/</format_schema_path>\
         <mark_cache_size>67108864</mark_cache_size><uncompressed_cache_size>67108864</uncompressed_cache_size>\
         <users_config>{d}/users.xml</users_config><default_profile>default</default_profile>\
         <default_database>default</default_database><mlock_executable>false</mlock_executable>\
         <remote_servers><logops>{cluster}</logops></remote_servers>{zookeeper}\
         </yandex>\n"
    )
}

impl Server {
    /// Starts a server.
    pub fn start() -> Server {
        Self::start_cluster(&[])
    }

    /// Starts a server whose cluster `logops` has one shard per native port
    /// in `shards` (`0` stands for this server itself).
    pub fn start_cluster(shards: &[u16]) -> Server {
        Self::start_with(shards, None)
    }

    /// Starts a server that keeps its replicated tables' metadata in the
    /// ZooKeeper on `zookeeper_port`.
    pub fn start_replicated(zookeeper_port: u16) -> Server {
        Self::start_with(&[], Some(zookeeper_port))
    }

    fn start_with(shards: &[u16], zookeeper: Option<u16>) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("logops-ch-")
            .tempdir()
            .expect("tempdir");
        let (http_port, tcp_port) = (free_port(), free_port());
        let shards: Vec<u16> = shards
            .iter()
            .map(|p| if *p == 0 { tcp_port } else { *p })
            .collect();
        std::fs::write(dir.path().join("users.xml"), users_xml()).unwrap();
        std::fs::write(
            dir.path().join("config.xml"),
            config_xml(dir.path(), http_port, tcp_port, &shards, zookeeper),
        )
        .unwrap();
        let mut s = Server {
            child: None,
            dir,
            http_port,
            tcp_port,
        };
        s.launch();
        s
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("stdout.log")).unwrap();
        let child = Command::new("clickhouse-server")
            .arg(format!(
                "--config-file={}",
                self.dir.path().join("config.xml").display()
            ))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn clickhouse-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.try_query("SELECT 1").is_ok_and(|r| r.trim() == "1") {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("clickhouse-server exited ({status}): {}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "clickhouse-server did not answer in 60 s: {}",
            self.log_tail()
        );
    }

    fn log_tail(&self) -> String {
        let mut s = String::new();
        for f in ["stdout.log", "server.err.log"] {
            if let Ok(t) = std::fs::read(self.dir.path().join(f)) {
                let start = t.len().saturating_sub(2000);
                s.push_str(&String::from_utf8_lossy(&t[start..]));
            }
        }
        s
    }

    /// `http://127.0.0.1:<http_port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The data directory (kept across [`Server::kill`] and [`Server::restart`]).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Runs `sql` as the default user; the answer's text or the error.
    pub fn try_query(&self, sql: &str) -> Result<String, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut r = agent
            .post(&format!("{}/", self.url()))
            .send(sql.as_bytes())
            .map_err(|e| e.to_string())?;
        let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
        if r.status().is_success() {
            Ok(text)
        } else {
            Err(format!("{}: {text}", r.status()))
        }
    }

    /// Runs `sql`, panicking on an error.
    pub fn query(&self, sql: &str) -> String {
        self.try_query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// `SELECT count() …` as a number.
    pub fn count(&self, sql: &str) -> u64 {
        self.query(sql)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILLs the server (by its PID) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERMs the server and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same data and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `CREATE TABLE` of the tests' table on the old server (18.16: `DateTime`,
/// no `LowCardinality` without an experimental setting); `seq` numbers every
/// test record so duplicates can be counted.
pub fn create_logs_table(name: &str) -> String {
    format!(
        "CREATE TABLE {name} (ts DateTime, level String, msg String, emitter String, \
         tenant String, service String, seq UInt64) \
         ENGINE = MergeTree() PARTITION BY toYYYYMMDD(ts) ORDER BY (level, ts)"
    )
}

/// [`create_logs_table`] as a `ReplicatedMergeTree` (one replica): inserts
/// of a block it already holds are dropped (`replicated_deduplication_window`).
pub fn create_replicated_logs_table(name: &str) -> String {
    create_logs_table(name).replace(
        "ENGINE = MergeTree()",
        &format!("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{name}', 'r1')"),
    )
}
