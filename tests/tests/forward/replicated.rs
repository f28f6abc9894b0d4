//! At least once, then deduplicated: a byte range sent again (here: every
//! range, after the position was lost) is dropped by a `ReplicatedMergeTree`
//! table, because the forwarder resends the identical lines as the identical
//! insert. Real ZooKeeper + ClickHouse.

use std::time::{Duration, Instant};

use logops_e2e::clickhouse::{self, create_replicated_logs_table, Server};
use logops_e2e::zookeeper::{self, ZooKeeper};
use logops_e2e::Gateway;

use super::util::{forwarding, forwarding_status, ingest, wait_for};

#[test]
fn a_resent_byte_range_is_dropped_by_a_replicated_table() {
    if !clickhouse::available() || !zookeeper::available() {
        return;
    }
    let zk = ZooKeeper::start();
    let ch = Server::start_replicated(zk.port);
    // The server's first ZooKeeper session can take a while on a busy
    // machine (a fresh JVM); ClickHouse reconnects on the next query.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while ch.query("EXISTS TABLE logs").trim() != "1" {
        assert!(
            Instant::now() < deadline,
            "no replicated table after 60 s: {last}"
        );
        if let Err(e) = ch.try_query(&create_replicated_logs_table("logs")) {
            last = e;
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    wait_for("an active replica", Duration::from_secs(60), || {
        ch.query("SELECT is_readonly FROM system.replicas WHERE table = 'logs'")
            .trim()
            == "0"
    });
    let work = tempfile::tempdir().unwrap();
    const TOTAL: u64 = 2_000;
    {
        let mut gw = Gateway::builder().workdir(work.path()).start();
        ingest(&gw, 0, TOTAL);
        gw.stop();
    }
    // 20 inserts of 100 lines, acknowledged and saved.
    let run = || {
        forwarding(&ch, "logs")
            .workdir(work.path())
            .env("LOGOPS_FORWARD_BATCH_ROWS", "100")
            .start()
    };
    let mut gw = run();
    wait_for("every row, position saved", Duration::from_secs(30), || {
        let st = forwarding_status(&gw);
        st["sent_records"] == TOTAL && st["lag_bytes"] == 0
    });
    assert_eq!(ch.count("SELECT count() FROM logs"), TOTAL);
    gw.stop();
    // The inserts were stored but the position is lost (as after a crash
    // between ClickHouse's answer and the save): every range goes again.
    let pos_file = gw.sink_dir.join(".forward/clickhouse.json");
    let mut pos: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pos_file).unwrap()).unwrap();
    for f in pos["files"].as_array_mut().unwrap() {
        assert!(f["offset"].as_u64().unwrap() > 0, "{f}");
        f["offset"] = 0.into();
    }
    std::fs::write(&pos_file, pos.to_string()).unwrap();
    let gw = run();
    wait_for("everything sent again", Duration::from_secs(30), || {
        let st = forwarding_status(&gw);
        st["sent_records"] == TOTAL && st["lag_bytes"] == 0
    });
    assert_eq!(
        ch.count("SELECT count() FROM logs"),
        TOTAL,
        "the resent blocks were not deduplicated"
    );
    assert_eq!(ch.count("SELECT uniqExact(seq) FROM logs"), TOTAL);
}
