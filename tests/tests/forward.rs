//! Forwarding to a real ClickHouse server (issue #16): records arrive with
//! their columns; a server SIGKILLed mid-stream loses no acknowledged record
//! (duplicates reported); a wrong table stops the target with its reason
//! and fixing the table resumes it; a gateway restarted mid-backlog resumes
//! without loss or duplicates; two gateways into a two-shard `Distributed`
//! table add up (one gzip, one uncompressed; the forwarder's thread niced); a replaced file is reported and forwarded again;
//! housekeeping holds an expired day until it is forwarded; every range
//! sent again is dropped by a `ReplicatedMergeTree` table (with a real
//! ZooKeeper).
//!
//! Each test starts its own `clickhouse-server` (tests/src/clickhouse.rs).

#[path = "forward/outages.rs"]
mod outages;
#[path = "forward/replicated.rs"]
mod replicated;
#[path = "forward/util.rs"]
mod util;

use std::time::Duration;

use logops_e2e::clickhouse::{self, create_logs_table, Server};
use util::{forwarding, forwarding_status, ingest, metric, wait_for};

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
    let status = gw.get("/api/v1/status").text;
    assert!(status.contains(r#""forward":"clickhouse""#), "{status}");
    assert!(!status.contains(clickhouse::PASSWORD));
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
    // Each gateway inserts into its own shard's local table; the second one
    // sends uncompressed bodies, and is a process so its threads can be seen.
    let gw1 = forwarding(&shard1, "logs_local").start();
    let gw2 = forwarding(&shard2, "logs_local")
        .env("LOGOPS_CLICKHOUSE_COMPRESSION", "none")
        .env("LOGOPS_FORWARD_NICE", "7")
        .process()
        .start();
    // comm is cut at 15 bytes: logops-fwd-clickhouse.
    wait_for(
        "the forwarder's thread 7 below the sink's priority",
        Duration::from_secs(5),
        || {
            let nice = |comm| util::thread_nice(gw2.pid(), comm);
            matches!(
                (nice("logops-fwd-clic"), nice("logops-sink")),
                (Some(f), Some(s)) if f == (s + 7).min(19)
            )
        },
    );
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
