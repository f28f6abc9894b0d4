//! Forwarding to a real ClickHouse server (issue #16): records arrive with
//! their columns; a server SIGKILLed mid-stream loses no acknowledged record
//! (duplicates reported); a wrong table stops the target with its reason
//! and fixing the table resumes it; a gateway restarted mid-backlog resumes
//! without loss or duplicates; two gateways into a two-shard `Distributed`
//! table add up; a replaced file is reported and forwarded again;
//! housekeeping holds an expired day until it is forwarded.
//!
//! Each test starts its own `clickhouse-server` (tests/src/clickhouse.rs).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use logops_e2e::clickhouse::{self, create_logs_table, Server};
use logops_e2e::{parse_metrics, sum_samples, try_post, Gateway, GatewayBuilder};

const NDJSON: (&str, &str) = ("content-type", "application/x-ndjson");

/// A gateway forwarding to `table` on `ch`, quick to batch and to retry.
fn forwarding(ch: &Server, table: &str) -> GatewayBuilder {
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
fn lines(from: u64, to: u64) -> String {
    (from..to)
        .map(|i| {
            let level = ["info", "warn", "error"][(i % 3) as usize];
            format!("{{\"level\":\"{level}\",\"msg\":\"record {i}\",\"service\":\"svc{}\",\"seq\":{i}}}\n", i % 4)
        })
        .collect()
}

fn ingest(gw: &Gateway, from: u64, to: u64) {
    let r = gw.post("/v1/logs", &[NDJSON], lines(from, to).as_bytes());
    assert_eq!(r.status, 200, "{}", r.text);
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

fn metric(gw: &Gateway, name: &str, labels: &[(&str, &str)]) -> f64 {
    sum_samples(&parse_metrics(&gw.get("/metrics").text), name, labels)
}

fn forwarding_status(gw: &Gateway) -> serde_json::Value {
    gw.get("/api/v1/status").json()["forwarding"][0].clone()
}

#[test]
fn records_arrive_in_clickhouse_with_their_columns() {
    if !clickhouse::available() {
        return;
    }
    let ch = Server::start();
    ch.query(&create_logs_table("logs"));
    let gw = forwarding(&ch, "logs").start();
    ingest(&gw, 0, 300);
    wait_for("300 rows", Duration::from_secs(20), || {
        ch.count("SELECT count() FROM logs") == 300
    });
    let row: serde_json::Value = serde_json::from_str(
        ch.query("SELECT toUnixTimestamp(ts) AS t, level, msg, emitter, tenant, service, seq FROM logs WHERE seq = 7 FORMAT JSONEachRow")
            .trim(),
    )
    .unwrap();
    let stored = gw
        .stored_records()
        .into_iter()
        .find(|r| r["seq"] == 7)
        .expect("record 7 stored");
    let ts = time::OffsetDateTime::parse(
        stored["ts"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        row["t"].as_u64(),
        Some(ts.unix_timestamp() as u64),
        "{row} vs {stored}"
    );
    assert_eq!(row["level"], "WARN");
    assert_eq!(row["msg"], "record 7");
    assert_eq!(row["service"], "svc3");
    assert_eq!(row["emitter"], stored["emitter"]);
    // JSONEachRow quotes 64-bit integers.
    assert_eq!(row["seq"], "7");
    // Levels are stored normalized, and nothing is counted twice.
    assert_eq!(
        ch.count("SELECT count() FROM logs WHERE level = 'ERROR'"),
        100
    );
    assert_eq!(ch.count("SELECT uniqExact(seq) FROM logs"), 300);
    wait_for("lag 0", Duration::from_secs(5), || {
        forwarding_status(&gw)["lag_bytes"] == 0
    });
    let st = forwarding_status(&gw);
    assert_eq!(st["state"], "running", "{st}");
    assert_eq!(st["sent_records"], 300, "{st}");
    assert!(!st.to_string().contains(clickhouse::PASSWORD), "{st}");
    assert_eq!(
        metric(
            &gw,
            "logops_forward_sent_records_total",
            &[("target", "clickhouse")]
        ),
        300.0
    );
    assert_eq!(metric(&gw, "logops_forward_lag_bytes", &[]), 0.0);
    let health = gw.get("/healthz");
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    assert!(!gw.get("/metrics").text.contains(clickhouse::PASSWORD));
}

#[test]
fn a_server_killed_mid_stream_loses_no_acknowledged_record() {
    if !clickhouse::available() {
        return;
    }
    let mut ch = Server::start();
    ch.query(&create_logs_table("logs"));
    let gw = Arc::new(forwarding(&ch, "logs").start());
    let acked = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (gw, acked, done) = (Arc::clone(&gw), Arc::clone(&acked), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut next = 0u64;
            while !done.load(Ordering::Relaxed) {
                let body = lines(next, next + 200);
                if let Ok(r) = try_post(&gw.url("/v1/logs"), &[NDJSON], body.as_bytes()) {
                    if r.status == 200 {
                        next += 200;
                        acked.store(next, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    wait_for("rows before the kill", Duration::from_secs(20), || {
        ch.count("SELECT count() FROM logs") > 2_000
    });
    ch.kill();
    let during = acked.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        acked.load(Ordering::SeqCst) > during,
        "ingest went on during the outage"
    );
    wait_for("backoff state", Duration::from_secs(10), || {
        forwarding_status(&gw)["state"] == "backoff"
    });
    let st = forwarding_status(&gw);
    assert!(st["lag_bytes"].as_u64().unwrap() > 0, "{st}");
    assert!(
        st["lag_seconds"].as_f64().unwrap() >= 1.0,
        "lines have waited since the kill: {st}"
    );
    assert!(metric(&gw, "logops_forward_lag_seconds", &[]) >= 1.0);
    ch.restart();
    std::thread::sleep(Duration::from_secs(1));
    done.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let total = acked.load(Ordering::SeqCst);
    wait_for("every acknowledged record", Duration::from_secs(60), || {
        ch.count("SELECT uniqExact(seq) FROM logs") == total
    });
    let rows = ch.count("SELECT count() FROM logs");
    let max = ch.count("SELECT max(seq) FROM logs");
    assert_eq!(max + 1, total);
    let connect = metric(&gw, "logops_forward_errors_total", &[("reason", "connect")]);
    eprintln!(
        "killed mid-stream: {total} acknowledged, {rows} rows, {} duplicates, {connect} connection errors",
        rows - total
    );
    assert!(connect >= 1.0);
    wait_for("running again", Duration::from_secs(10), || {
        forwarding_status(&gw)["state"] == "running"
    });
}

#[test]
fn a_wrong_table_stops_the_target_and_fixing_it_resumes() {
    if !clickhouse::available() {
        return;
    }
    let ch = Server::start();
    let gw = forwarding(&ch, "not_yet").start();
    ingest(&gw, 0, 50);
    wait_for("stopped", Duration::from_secs(10), || {
        forwarding_status(&gw)["state"] == "stopped"
    });
    let st = forwarding_status(&gw);
    assert!(
        st["reason"]
            .as_str()
            .unwrap()
            .contains("not_yet doesn't exist"),
        "{st}"
    );
    let health = gw.get("/healthz");
    let h = health.json();
    // Ingest still works, so a load balancer must keep the gateway: 200.
    assert_eq!(
        (health.status, h["status"].as_str()),
        (200, Some("degraded")),
        "{h}"
    );
    assert!(
        h["reason"]
            .as_str()
            .unwrap()
            .contains("forwarding to clickhouse stopped"),
        "{h}"
    );
    assert!(
        metric(
            &gw,
            "logops_forward_errors_total",
            &[("reason", "unknown_table")]
        ) >= 1.0
    );
    ingest(&gw, 50, 60);
    // A table whose columns do not fit is refused too (400), place kept.
    ch.query("CREATE TABLE not_yet (ts DateTime, level String, msg UInt8, seq UInt64) ENGINE = MergeTree() ORDER BY ts");
    wait_for("rejected", Duration::from_secs(10), || {
        metric(
            &gw,
            "logops_forward_errors_total",
            &[("reason", "rejected")],
        ) >= 1.0
    });
    assert_eq!(forwarding_status(&gw)["state"], "stopped");
    ch.query("DROP TABLE not_yet");
    ch.query(&create_logs_table("not_yet"));
    wait_for("all 60 rows", Duration::from_secs(20), || {
        ch.count("SELECT count() FROM not_yet") == 60
    });
    assert_eq!(ch.count("SELECT uniqExact(seq) FROM not_yet"), 60);
    wait_for("running", Duration::from_secs(5), || {
        forwarding_status(&gw)["state"] == "running"
    });
    assert_eq!(gw.get("/healthz").json()["status"], "ok");
}

#[test]
fn a_gateway_restarted_mid_backlog_resumes_without_loss_or_duplicates() {
    if !clickhouse::available() {
        return;
    }
    let ch = Server::start();
    ch.query(&create_logs_table("logs"));
    let work = tempfile::tempdir().unwrap();
    const TOTAL: u64 = 100_000;
    {
        // The backlog: stored while forwarding is off.
        let mut gw = Gateway::builder().workdir(work.path()).start();
        for from in (0..TOTAL).step_by(10_000) {
            ingest(&gw, from, from + 10_000);
        }
        gw.stop();
    }
    let mut gw = forwarding(&ch, "logs")
        .workdir(work.path())
        .env("LOGOPS_FORWARD_BATCH_ROWS", "1000")
        .start();
    wait_for("part of the backlog", Duration::from_secs(30), || {
        ch.count("SELECT count() FROM logs") >= 5_000
    });
    gw.stop();
    let at_stop = ch.count("SELECT count() FROM logs");
    assert!(
        at_stop < TOTAL,
        "the backlog was done before the restart ({at_stop})"
    );
    let gw = forwarding(&ch, "logs").workdir(work.path()).start();
    wait_for("the whole backlog", Duration::from_secs(60), || {
        ch.count("SELECT count() FROM logs") >= TOTAL
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        ch.count("SELECT count() FROM logs"),
        TOTAL,
        "duplicates after a clean stop"
    );
    assert_eq!(ch.count("SELECT uniqExact(seq) FROM logs"), TOTAL);
    eprintln!("restart mid-backlog: {at_stop} of {TOTAL} forwarded before the stop, 0 duplicates");
    let pos = std::fs::read_to_string(gw.sink_dir.join(".forward/clickhouse.json")).unwrap();
    let size: u64 = std::fs::read_dir(&gw.sink_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".ndjson"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(
        pos.contains(&format!("\"offset\":{size}")),
        "{pos} vs {size}"
    );
}

#[test]
fn two_gateways_fill_a_two_shard_distributed_table() {
    if !clickhouse::available() {
        return;
    }
    let shard2 = Server::start();
    let shard1 = Server::start_cluster(&[0, shard2.tcp_port]);
    for s in [&shard1, &shard2] {
        s.query(&create_logs_table("logs_local"));
    }
    shard1.query("CREATE TABLE logs_all AS logs_local ENGINE = Distributed(logops, default, logs_local, rand())");
    // Each gateway inserts into its own shard's local table.
    let gw1 = forwarding(&shard1, "logs_local").start();
    let gw2 = forwarding(&shard2, "logs_local").start();
    let mut acked = 0;
    for round in 0..10u64 {
        ingest(&gw1, round * 1000, round * 1000 + 600);
        ingest(
            &gw2,
            1_000_000 + round * 1000,
            1_000_000 + round * 1000 + 400,
        );
        acked += 1000;
    }
    wait_for(
        "every record in the cluster",
        Duration::from_secs(30),
        || shard1.count("SELECT count() FROM logs_all") == acked,
    );
    assert_eq!(shard1.count("SELECT count() FROM logs_local"), 6000);
    assert_eq!(shard2.count("SELECT count() FROM logs_local"), 4000);
    assert_eq!(shard1.count("SELECT uniqExact(seq) FROM logs_all"), acked);
}

#[test]
fn a_replaced_file_is_reported_and_forwarded_again() {
    if !clickhouse::available() {
        return;
    }
    let ch = Server::start();
    ch.query(&create_logs_table("logs"));
    let work = tempfile::tempdir().unwrap();
    let mut gw = forwarding(&ch, "logs").workdir(work.path()).start();
    ingest(&gw, 0, 100);
    wait_for("100 rows", Duration::from_secs(20), || {
        ch.count("SELECT count() FROM logs") == 100
    });
    gw.stop();
    // An operator puts back a shorter file of the same day.
    let file = std::fs::read_dir(&gw.sink_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".ndjson"))
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&file).unwrap();
    let short: String = text
        .lines()
        .take(10)
        .map(|l| format!("{}\n", l.replace("\"seq\":", "\"seq\":100")))
        .collect();
    std::fs::write(&file, short).unwrap();
    let gw = forwarding(&ch, "logs").workdir(work.path()).start();
    wait_for("the replaced file's rows", Duration::from_secs(20), || {
        ch.count("SELECT count() FROM logs") == 110
    });
    assert_eq!(
        metric(
            &gw,
            "logops_forward_errors_total",
            &[("reason", "file_replaced")]
        ),
        1.0
    );
    let st = forwarding_status(&gw);
    assert!(
        st["last_error"]["detail"]
            .as_str()
            .unwrap()
            .contains("was replaced"),
        "{st}"
    );
}

#[test]
fn housekeeping_holds_an_expired_day_until_it_is_forwarded() {
    if !clickhouse::available() {
        return;
    }
    let ch = Server::start();
    let work = tempfile::tempdir().unwrap();
    let sink = work.path().join("ingest");
    std::fs::create_dir_all(&sink).unwrap();
    let old = sink.join("20250101.ndjson");
    let body: String = (0..20)
        .map(|i| format!("{{\"ts\":\"2025-01-01T10:00:00.000Z\",\"level\":\"INFO\",\"msg\":\"old {i}\",\"seq\":{i}}}\n"))
        .collect();
    std::fs::write(&old, body).unwrap();
    let gw = forwarding(&ch, "logs")
        .workdir(work.path())
        .env("LOGOPS_HOUSEKEEP_AUTORUN", "true")
        .env("LOGOPS_HOUSEKEEP_INTERVAL_SEC", "1")
        .env("LOGOPS_RETENTION_DAYS", "7")
        .start();
    // The table does not exist yet: the day cannot be forwarded, so it stays.
    wait_for("a held day", Duration::from_secs(10), || {
        metric(
            &gw,
            "logops_housekeeping_files_total",
            &[("action", "held_for_forwarding")],
        ) >= 2.0
    });
    assert!(old.exists());
    assert_eq!(
        metric(
            &gw,
            "logops_housekeeping_files_total",
            &[("action", "deleted")]
        ),
        0.0
    );
    ch.query(&create_logs_table("logs"));
    wait_for("the old day in ClickHouse", Duration::from_secs(20), || {
        ch.count("SELECT count() FROM logs") == 20
    });
    wait_for("the old day deleted", Duration::from_secs(10), || {
        !old.exists()
    });
    assert_eq!(
        metric(
            &gw,
            "logops_housekeeping_files_total",
            &[("action", "deleted")]
        ),
        1.0
    );
}
