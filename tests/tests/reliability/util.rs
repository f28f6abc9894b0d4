//! Helpers for the reliability tests: tagged batches and their on-disk check,
//! a tiny tmpfs that unmounts itself, a raw socket client that tolerates the
//! server hanging up, and the gateway's peak memory.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A JSON array of `n` records tagged `batch = id`, `seq = 0..n`.
pub fn batch_body(id: &str, n: usize) -> Vec<u8> {
    let records: Vec<Value> = (0..n)
        .map(|seq| json!({"msg": format!("{id} record {seq} from user{seq}@example.com"), "level": "info", "batch": id, "seq": seq}))
        .collect();
    serde_json::to_vec(&records).expect("serialize batch")
}

/// What the sink files hold, batch by batch.
#[derive(Debug, Default)]
pub struct OnDisk {
    /// id → seq numbers in file order.
    pub batches: BTreeMap<String, Vec<u64>>,
    /// Every line, parsed.
    pub lines: usize,
}

/// Reads every `*.ndjson` in `dir`: every line must be a JSON object (no partial
/// line anywhere, the last line ends in `\n`), and each batch's records must be
/// contiguous. Untagged lines are counted but not grouped.
pub fn read_sink(dir: &Path) -> OnDisk {
    let mut out = OnDisk::default();
    for file in ndjson_files(dir) {
        let bytes = std::fs::read(&file).expect("read sink file");
        assert!(
            bytes.is_empty() || bytes.ends_with(b"\n"),
            "{} ends with a partial line",
            file.display()
        );
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", file.display()));
        let mut current: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            let rec: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("{} line {}: not JSON ({e}): {line}", file.display(), i + 1)
            });
            assert!(
                rec.is_object(),
                "{} line {}: not an object",
                file.display(),
                i + 1
            );
            out.lines += 1;
            let Some(id) = rec["batch"].as_str() else {
                current = None;
                continue;
            };
            let seq = rec["seq"].as_u64().expect("seq");
            let seqs = out.batches.entry(id.to_string()).or_default();
            if current.as_deref() != Some(id) {
                assert!(
                    seqs.is_empty(),
                    "batch {id} is split or stored twice ({} line {})",
                    file.display(),
                    i + 1
                );
                current = Some(id.to_string());
            }
            seqs.push(seq);
        }
    }
    out
}

/// Asserts that batch `id` is on disk exactly once, whole: seq `0..n` in order.
pub fn assert_whole(disk: &OnDisk, id: &str, n: usize) {
    let seqs = disk
        .batches
        .get(id)
        .unwrap_or_else(|| panic!("acknowledged batch {id} is missing"));
    let expected: Vec<u64> = (0..n as u64).collect();
    assert_eq!(
        seqs, &expected,
        "batch {id}: records missing, duplicated or out of order"
    );
}

/// `*.ndjson` files of `dir`, sorted.
pub fn ndjson_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "ndjson"));
    files.sort();
    files
}

/// A tmpfs mounted for one test; unmounted on drop (also when the test fails).
pub struct Tmpfs {
    /// The mount point.
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`1m`) on a fresh temp dir; `Err` says why not.
    pub fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs {
            path: dir.path().to_path_buf(),
            _dir: dir,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

/// Writes to `path` until the filesystem refuses (ENOSPC); returns the bytes written.
pub fn fill_until_full(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("create filler");
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 0u64;
    for size in [chunk.len(), 1] {
        loop {
            match f.write(&chunk[..size]) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
    written
}

/// How a raw exchange ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A response with this status line code.
    Status(u16),
    /// The server closed the connection without a response.
    Closed,
    /// Nothing happened before the deadline.
    Nothing,
}

/// A raw connection that can trickle bytes and notice the server hanging up.
pub struct RawConn {
    stream: TcpStream,
    received: Vec<u8>,
}

impl RawConn {
    /// Connects to `addr`.
    pub fn connect(addr: &str) -> RawConn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        RawConn {
            stream,
            received: Vec::new(),
        }
    }

    /// Sends bytes; `false` when the server has already closed the connection.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Reads what has arrived until `deadline`, sending `trickle` (if any) every
    /// `every` meanwhile, and says how the exchange ended.
    pub fn wait(&mut self, deadline: Instant, trickle: Option<(&[u8], Duration)>) -> Outcome {
        let mut next_send = Instant::now();
        let mut buf = [0u8; 16 * 1024];
        while Instant::now() < deadline {
            if let Some((bytes, every)) = trickle {
                if Instant::now() >= next_send {
                    // A failed write means the server hung up; the read below tells how.
                    let _ = self.stream.write_all(bytes);
                    next_send = Instant::now() + every;
                }
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return self.status().map_or(Outcome::Closed, Outcome::Status),
                Ok(n) => {
                    self.received.extend_from_slice(&buf[..n]);
                    if let Some(code) = self.status() {
                        return Outcome::Status(code);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return self.status().map_or(Outcome::Closed, Outcome::Status),
            }
        }
        Outcome::Nothing
    }

    /// Everything received so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).to_string()
    }

    fn status(&self) -> Option<u16> {
        let text = std::str::from_utf8(&self.received).ok()?;
        let line = text
            .split("\r\n")
            .next()
            .filter(|_| text.contains("\r\n"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

/// Peak resident memory of process `pid` in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc status")
}
