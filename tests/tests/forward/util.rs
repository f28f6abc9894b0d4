//! Shared helpers of the forwarding tests: a gateway forwarding to a test
//! server, numbered records, waiting, metrics and the status section.

use std::time::{Duration, Instant};

use logops_e2e::clickhouse::{self, Server};
use logops_e2e::{parse_metrics, sum_samples, Gateway, GatewayBuilder};

pub const NDJSON: (&str, &str) = ("content-type", "application/x-ndjson");

/// A gateway forwarding to `table` on `ch`, quick to batch and to retry.
pub fn forwarding(ch: &Server, table: &str) -> GatewayBuilder {
    Gateway::builder()
        .env("LOGOPS_FORWARD", "clickhouse")
        .env("LOGOPS_CLICKHOUSE_URL", &ch.url())
        .env("LOGOPS_CLICKHOUSE_TABLE", table)
        .env("LOGOPS_CLICKHOUSE_USER", clickhouse::USER)
        .env("LOGOPS_CLICKHOUSE_PASSWORD", clickhouse::PASSWORD)
        .env("LOGOPS_FORWARD_BATCH_MS", "100")
        .env("LOGOPS_FORWARD_BACKOFF_MAX_MS", "500")
        .env("LOGOPS_FORWARD_TIMEOUT_MS", "5000")
}

/// NDJSON lines numbered `from..to`.
pub fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|i| {
            let level = ["info", "warn", "error"][(i % 3) as usize];
            format!("{{\"level\":\"{level}\",\"msg\":\"record {i}\",\"service\":\"svc{}\",\"seq\":{i}}}\n", i % 4)
        })
        .collect()
}

pub fn ingest(gw: &Gateway, from: u64, to: u64) {
    let r = gw.post("/v1/logs", &[NDJSON], lines(from, to).as_bytes());
    assert_eq!(r.status, 200, "{}", r.text);
}

pub fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

pub fn metric(gw: &Gateway, name: &str, labels: &[(&str, &str)]) -> f64 {
    sum_samples(&parse_metrics(&gw.get("/metrics").text), name, labels)
}

pub fn forwarding_status(gw: &Gateway) -> serde_json::Value {
    gw.get("/api/v1/status").json()["forwarding"][0].clone()
}

/// The nice value of the thread of process `pid` named `comm` (from
/// `/proc/<pid>/task/*/stat`, field 19); `None` while there is none.
pub fn thread_nice(pid: u32, comm: &str) -> Option<i64> {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("proc") {
        let dir = task.unwrap().path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if name.trim_end() != comm {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // Fields after the parenthesised name: state is field 3, nice field 19.
        let rest = &stat[stat.rfind(')')? + 2..];
        return rest.split(' ').nth(16)?.parse().ok();
    }
    None
}
