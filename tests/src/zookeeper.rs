//! A real ZooKeeper for the replicated-table test: Debian's `zookeeper`
//! package (`/usr/share/java/zookeeper.jar`) run standalone as the current
//! user — `ZooKeeperServerMain <port> <dataDir>` on a free loopback port,
//! its admin HTTP server off — stopped by PID, its directory removed on drop.
//! ClickHouse's `Replicated*MergeTree` keeps its block checksums (what
//! deduplicates a retried insert) in it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JAR: &str = "/usr/share/java/zookeeper.jar";

/// Whether ZooKeeper and a Java runtime are installed (else the test does
/// not run; in CI that fails, see [`crate::need_component`]).
pub fn available() -> bool {
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    crate::need_component(
        "zookeeper (Debian package zookeeper, with a Java runtime)",
        java && std::path::Path::new(JAR).exists(),
    )
}

/// A running standalone server.
pub struct ZooKeeper {
    child: Option<Child>,
    _dir: tempfile::TempDir,
    /// Its client port on 127.0.0.1.
    pub port: u16,
}

impl ZooKeeper {
    /// Starts a server and waits until it answers `ruok`.
    pub fn start() -> ZooKeeper {
        let dir = tempfile::Builder::new()
            .prefix("logops-zk-")
            .tempdir()
            .expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let log = std::fs::File::create(dir.path().join("zookeeper.log")).unwrap();
        let child = Command::new("java")
            .args([
                "-Xmx256m",
                "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.4lw.commands.whitelist=ruok",
                "-cp",
                JAR,
                "org.apache.zookeeper.server.ZooKeeperServerMain",
                &port.to_string(),
                &dir.path().join("data").display().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn java (ZooKeeper)");
        let mut zk = ZooKeeper {
            child: Some(child),
            _dir: dir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if zk.ruok() {
                return zk;
            }
            if let Some(Ok(Some(status))) = zk.child.as_mut().map(Child::try_wait) {
                panic!("ZooKeeper exited ({status})");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("ZooKeeper did not answer ruok in 60 s");
    }

    fn ruok(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut answer = String::new();
        s.write_all(b"ruok").is_ok() && s.read_to_string(&mut answer).is_ok() && answer == "imok"
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
