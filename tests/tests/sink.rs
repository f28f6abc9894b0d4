//! The file sink (SPEC §4) and the request path around it: the daily file name,
//! appending across restarts, 50 concurrent clients whose batches must land whole
//! and contiguous, gzip/zstd bodies and their decompressed limit, graceful
//! shutdown with requests in flight, and the sink switched off.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use logops_e2e::{text_of, to_ndjson, try_post, Gateway, UtcTime};
use serde_json::{json, Value};

/// `n` records tagged with their batch id and sequence number.
fn batch(id: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|seq| json!({"msg": format!("{id} #{seq}"), "level": "info", "batch": id, "seq": seq}))
        .collect()
}

/// Checks that every batch found on disk is complete (`sizes[id]` records, seq
/// 0..n in order) and contiguous; returns the ids found.
fn check_batches(records: &[Value], sizes: &BTreeMap<String, usize>) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut i = 0;
    while i < records.len() {
        let id = records[i]["batch"]
            .as_str()
            .unwrap_or_else(|| panic!("untagged record {}", records[i]))
            .to_string();
        let n = *sizes
            .get(&id)
            .unwrap_or_else(|| panic!("unknown batch {id}"));
        assert!(
            found.insert(id.clone()),
            "batch {id} appears twice (or split) on disk"
        );
        assert!(
            i + n <= records.len(),
            "batch {id} truncated at the end of the file"
        );
        for (seq, r) in records[i..i + n].iter().enumerate() {
            assert_eq!(
                r["batch"],
                id.as_str(),
                "batch {id} interleaved at line {}",
                i + seq + 1
            );
            // CSV cells are strings, JSON numbers are numbers: compare as text.
            assert_eq!(
                text_of(&r["seq"]),
                seq.to_string(),
                "batch {id} out of order at line {}",
                i + seq + 1
            );
        }
        i += n;
    }
    found
}

#[test]
fn writes_to_the_utc_day_file_in_the_sink_dir() {
    let gw = Gateway::start();
    let before = UtcTime::now().yyyymmdd();
    assert_eq!(gw.ingest("application/json", r#"{"msg":"a"}"#).status, 200);
    let after = UtcTime::now().yyyymmdd();
    let names: Vec<String> = std::fs::read_dir(&gw.sink_dir)
        .expect("sink dir exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".ndjson"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0] == format!("{before}.ndjson") || names[0] == format!("{after}.ndjson"),
        "{names:?}"
    );
    let text = std::fs::read_to_string(gw.sink_dir.join(&names[0])).unwrap();
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
}

#[test]
fn sink_dir_is_created_and_restarts_append() {
    let work = tempfile::tempdir().unwrap();
    let sink = work.path().join("deep/nested/ingest");
    let sink_str = sink.to_str().unwrap();
    let mut gw = Gateway::builder()
        .workdir(work.path())
        .env("LOGOPS_SINK_DIR", sink_str)
        .start();
    assert_eq!(
        gw.ingest("application/json", r#"{"msg":"first run"}"#)
            .status,
        200
    );
    assert_eq!(gw.stop(), Some(0));
    let gw = Gateway::builder()
        .workdir(work.path())
        .env("LOGOPS_SINK_DIR", sink_str)
        .start();
    assert_eq!(
        gw.ingest("application/json", r#"{"msg":"second run"}"#)
            .status,
        200
    );
    let msgs: Vec<Value> = gw
        .stored_records()
        .iter()
        .map(|r| r["msg"].clone())
        .collect();
    assert_eq!(msgs, [json!("first run"), json!("second run")]);
}

#[test]
fn fifty_concurrent_clients_batches_are_complete_and_contiguous() {
    const CLIENTS: usize = 50;
    const BATCHES: usize = 4;
    const RECORDS: usize = 25;
    let gw = Gateway::start();
    let url = gw.url("/v1/logs");
    std::thread::scope(|s| {
        for t in 0..CLIENTS {
            let url = &url;
            s.spawn(move || {
                for b in 0..BATCHES {
                    let recs = batch(&format!("c{t}-b{b}"), RECORDS);
                    let (ct, body) = if b % 2 == 0 {
                        ("application/json", Value::from(recs).to_string())
                    } else {
                        ("application/x-ndjson", to_ndjson(&recs))
                    };
                    let r = try_post(url, &[("content-type", ct)], body.as_bytes()).expect("post");
                    assert_eq!(r.status, 200, "client {t} batch {b}: {}", r.text);
                    assert_eq!(r.json()["accepted"], RECORDS);
                }
            });
        }
    });
    let sizes: BTreeMap<String, usize> = (0..CLIENTS)
        .flat_map(|t| (0..BATCHES).map(move |b| (format!("c{t}-b{b}"), RECORDS)))
        .collect();
    let records = gw.stored_records();
    assert_eq!(records.len(), CLIENTS * BATCHES * RECORDS);
    let found = check_batches(&records, &sizes);
    assert_eq!(found.len(), CLIENTS * BATCHES);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

#[test]
fn gzip_and_zstd_bodies_are_decoded() {
    let gw = Gateway::start();
    let json_body = Value::from(batch("gz", 3)).to_string();
    let r = gw.post(
        "/v1/logs",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        &gzip(json_body.as_bytes()),
    );
    assert_eq!(
        (r.status, r.json()["accepted"].as_u64()),
        (200, Some(3)),
        "{}",
        r.text
    );
    let nd = to_ndjson(&batch("zs", 2));
    let r = gw.post(
        "/v1/logs",
        &[
            ("content-type", "application/x-ndjson"),
            ("content-encoding", "zstd"),
        ],
        &zstd(nd.as_bytes()),
    );
    assert_eq!(
        (r.status, r.json()["accepted"].as_u64()),
        (200, Some(2)),
        "{}",
        r.text
    );
    let csv = "msg,batch,seq\n\"csv, gzipped\",cz,0\n";
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "text/csv"), ("content-encoding", "GZIP")],
        &gzip(csv.as_bytes()),
    );
    assert_eq!(
        (r.status, r.json()["accepted"].as_u64()),
        (200, Some(1)),
        "{}",
        r.text
    );
    let recs = gw.stored_records();
    let mut sizes = BTreeMap::new();
    sizes.insert("gz".to_string(), 3);
    sizes.insert("zs".to_string(), 2);
    sizes.insert("cz".to_string(), 1);
    assert_eq!(check_batches(&recs, &sizes).len(), 3);
    assert_eq!(recs[5]["msg"], "csv, gzipped");
}

#[test]
fn corrupt_compressed_body_is_a_client_error_and_writes_nothing() {
    let gw = Gateway::start();
    for enc in ["gzip", "zstd"] {
        let r = gw.post(
            "/v1/logs",
            &[
                ("content-type", "application/json"),
                ("content-encoding", enc),
            ],
            b"this is not compressed at all",
        );
        assert!(
            (400..500).contains(&r.status),
            "{enc}: expected 4xx, got {}: {}",
            r.status,
            r.text
        );
        assert!(r.json()["error"].is_string(), "{}", r.text);
    }
    assert!(gw.stored_lines().is_empty());
}

#[test]
fn decompressed_size_over_the_limit_is_413() {
    let gw = Gateway::builder()
        .env("LOGOPS_MAX_BODY_BYTES", "4096")
        .start();
    let big = format!("{{\"msg\":\"{}\"}}", "a".repeat(200_000));
    for (enc, body) in [
        ("gzip", gzip(big.as_bytes())),
        ("zstd", zstd(big.as_bytes())),
    ] {
        assert!(
            body.len() < 4096,
            "{enc} body is small on the wire: {}",
            body.len()
        );
        let r = gw.post(
            "/v1/logs",
            &[
                ("content-type", "application/json"),
                ("content-encoding", enc),
            ],
            &body,
        );
        assert_eq!(r.status, 413, "{enc}: {}", r.text);
        assert_eq!(r.json()["error"], "body_too_large");
        assert_eq!(r.json()["limit"], 4096);
    }
    assert!(gw.stored_lines().is_empty());
}

/// Increments the counter when dropped, also when the thread panics.
struct CountOnDrop<'a>(&'a AtomicUsize);

impl Drop for CountOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn graceful_shutdown_keeps_every_acknowledged_batch() {
    const CLIENTS: usize = 8;
    const RECORDS: usize = 200;
    const MAX_POSTS: usize = 300;
    let mut gw = Gateway::builder().process().start();
    let url = gw.url("/v1/logs");
    let acked = Mutex::new(Vec::<String>::new());
    let sent = Mutex::new(BTreeMap::<String, usize>::new());
    let ok_count = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..CLIENTS {
            let (url, acked, sent, ok_count, finished) =
                (&url, &acked, &sent, &ok_count, &finished);
            s.spawn(move || {
                let _done = CountOnDrop(finished);
                for i in 0..MAX_POSTS {
                    let id = format!("s{t}-{i}");
                    sent.lock().unwrap().insert(id.clone(), RECORDS);
                    let body = to_ndjson(&batch(&id, RECORDS));
                    match try_post(
                        url,
                        &[("content-type", "application/x-ndjson")],
                        body.as_bytes(),
                    ) {
                        Ok(r) if r.status == 200 => {
                            acked.lock().unwrap().push(id);
                            ok_count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => assert!(
                            r.status >= 500,
                            "unexpected {} during shutdown: {}",
                            r.status,
                            r.text
                        ),
                        Err(_) => break, // refused or reset: the server is going away
                    }
                }
            });
        }
        // Traffic is flowing on every client before the signal.
        while ok_count.load(Ordering::SeqCst) < 2 * CLIENTS
            && finished.load(Ordering::SeqCst) < CLIENTS
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        gw.signal("TERM");
    });
    assert_eq!(
        gw.wait(Duration::from_secs(30)),
        Some(0),
        "clean exit after SIGTERM:\n{}",
        gw.stderr()
    );
    let acked = acked.into_inner().unwrap();
    assert!(acked.len() >= 2 * CLIENTS);
    let records = gw.stored_records();
    let found = check_batches(&records, &sent.into_inner().unwrap());
    let missing: Vec<&String> = acked.iter().filter(|id| !found.contains(*id)).collect();
    println!(
        "shutdown: {} batches acknowledged, {} on disk (in-flight ones may land too)",
        acked.len(),
        found.len()
    );
    assert!(
        missing.is_empty(),
        "acknowledged batches missing after shutdown: {missing:?}"
    );
}

#[test]
fn fsync_modes_write_the_same_data() {
    for mode in ["never", "interval", "always"] {
        let mut gw = Gateway::builder()
            .env("LOGOPS_FSYNC", mode)
            .env("LOGOPS_FSYNC_INTERVAL_MS", "50")
            .start();
        let r = gw.ingest("application/x-ndjson", &to_ndjson(&batch(mode, 10)));
        assert_eq!(r.status, 200, "{mode}: {}", r.text);
        assert_eq!(
            gw.stored_records().len(),
            10,
            "{mode}: written when acknowledged"
        );
        assert_eq!(gw.stop(), Some(0), "{mode}");
        let mut sizes = BTreeMap::new();
        sizes.insert(mode.to_string(), 10);
        assert_eq!(check_batches(&gw.stored_records(), &sizes).len(), 1);
    }
}

#[test]
fn sink_file_false_accepts_but_writes_nothing() {
    let gw = Gateway::builder().env("LOGOPS_SINK_FILE", "false").start();
    let r = gw.ingest("application/json", r#"[{"msg":"a"},{"msg":"b"}]"#);
    assert_eq!(
        (r.status, r.json()["accepted"].as_u64()),
        (200, Some(2)),
        "{}",
        r.text
    );
    assert!(gw.stored_lines().is_empty());
    let h = gw.get("/healthz").json();
    assert_eq!(h["file_sink"], false);
    assert_eq!(h["file_sink_dir"], Value::Null);
}
