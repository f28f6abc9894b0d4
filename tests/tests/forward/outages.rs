//! Outages: the server SIGKILLed mid-stream, a wrong table, the gateway
//! restarted mid-backlog.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use logops_e2e::clickhouse::{self, create_logs_table, Server};
use logops_e2e::{try_post, Gateway};

use super::util::{forwarding, forwarding_status, ingest, lines, metric, wait_for, NDJSON};

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
