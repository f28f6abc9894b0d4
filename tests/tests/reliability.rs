//! Crash safety and hostile clients (issue "hostile input and crash safety").
//!
//! This file: SIGKILL under load with `LOGOPS_FSYNC=always` (every acknowledged
//! record survives exactly once, no partial line), a torn last line repaired at
//! start-up with a warning, and a full disk (a 1 MiB tmpfs; skipped with a
//! message when it cannot be mounted): 503 `sink_unavailable`, nothing partial,
//! `/healthz` degraded, and ingest resuming by itself once space is back.
//! `abuse` has the slow, oversized, compressed-bomb, nested and
//! label-flooding clients.

#[path = "reliability/abuse.rs"]
mod abuse;
#[path = "reliability/util.rs"]
mod util;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logops_e2e::{parse_metrics, sum_samples, try_post, Gateway};
use util::{assert_whole, batch_body, fill_until_full, ndjson_files, read_sink, Tmpfs};

const JSON: (&str, &str) = ("content-type", "application/json");

/// xorshift64: batch sizes without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn post_batch(gw: &Gateway, id: &str, n: usize) -> logops_e2e::Resp {
    gw.post("/v1/logs", &[JSON], &batch_body(id, n))
}

#[test]
fn kill_9_under_load_keeps_every_acknowledged_record_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let start = || {
        Gateway::builder()
            .process()
            .env("LOGOPS_FSYNC", "always")
            .workdir(work.path())
            .start()
    };
    let mut gw = start();
    let url = gw.url("/v1/logs");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..4u64)
        .map(|t| {
            let (url, stop, sent, acked) = (
                url.clone(),
                Arc::clone(&stop),
                Arc::clone(&sent),
                Arc::clone(&acked),
            );
            std::thread::spawn(move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15 ^ (t + 1);
                for n in 0.. {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let size = 50 + (next(&mut rng) % 151) as usize;
                    let id = format!("c{t}-{n}");
                    sent.lock().unwrap().insert(id.clone(), size);
                    match try_post(&url, &[JSON], &batch_body(&id, size)) {
                        Ok(r) if r.status == 200 => {
                            assert_eq!(r.json()["accepted"], size as u64, "{}", r.text);
                            acked.lock().unwrap().push((id, size));
                        }
                        Ok(r) => panic!("batch {id}: unexpected {} {}", r.status, r.text),
                        Err(_) => break, // the gateway is gone
                    }
                }
            })
        })
        .collect();
    // Kill mid-run: once traffic flows, half a second later.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = gw.pid();
    gw.signal("KILL");
    gw.wait(Duration::from_secs(10));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the gateway survived SIGKILL"
    );
    stop.store(true, Ordering::Release);
    for c in clients {
        c.join().expect("client thread");
    }
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(
        acked.len() >= 20,
        "too little traffic before the kill: {} batches acknowledged",
        acked.len()
    );
    let torn_before = ndjson_files(&gw.sink_dir)
        .iter()
        .any(|f| std::fs::read(f).is_ok_and(|b| !b.is_empty() && !b.ends_with(b"\n")));
    drop(gw);

    let gw = start();
    assert_eq!(post_batch(&gw, "after-restart", 10).status, 200);
    let disk = read_sink(&gw.sink_dir);
    for (id, n) in &acked {
        assert_whole(&disk, id, *n);
    }
    assert_whole(&disk, "after-restart", 10);
    // Batches in flight at the kill were never answered: each may be absent,
    // whole, or (a write cut short by the kill) a prefix of whole lines.
    for (id, seqs) in &disk.batches {
        let n = if id == "after-restart" { 10 } else { sent[id] };
        let prefix: Vec<u64> = (0..seqs.len() as u64).collect();
        assert!(
            seqs.len() <= n && *seqs == prefix,
            "batch {id} is not a clean prefix: {seqs:?}"
        );
    }
    let unacked_on_disk = disk.batches.len() - acked.len() - 1;
    eprintln!(
        "kill -9: {} batches acknowledged, {} sent, {} unacknowledged found on disk, {} lines, torn tail: {torn_before}",
        acked.len(),
        sent.len(),
        unacked_on_disk,
        disk.lines
    );
    if torn_before {
        assert!(
            gw.stderr().contains("torn"),
            "a torn tail was repaired without a warning:\n{}",
            gw.stderr()
        );
    }
}

#[test]
fn torn_last_line_is_cut_at_start_up_with_a_warning() {
    let work = tempfile::tempdir().unwrap();
    let start = || Gateway::builder().process().workdir(work.path()).start();
    let mut gw = start();
    assert_eq!(post_batch(&gw, "before", 5).status, 200);
    assert_eq!(gw.stop(), Some(0));
    let files = ndjson_files(&gw.sink_dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let clean = std::fs::read(&files[0]).unwrap();
    let mut torn = clean.clone();
    torn.extend_from_slice(br#"{"msg":"cut short by a crash","batch":"torn","se"#);
    std::fs::write(&files[0], &torn).unwrap();
    drop(gw);

    let gw = start();
    // Repaired at start-up, before any request: the warning, then a clean file.
    assert!(
        gw.wait_stderr("torn", Duration::from_secs(10)),
        "no warning about the torn last line at start-up:\n{}",
        gw.stderr()
    );
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        clean,
        "the torn line was not cut back to the last full line"
    );
    assert_eq!(post_batch(&gw, "after", 5).status, 200);
    let disk = read_sink(&gw.sink_dir);
    assert_whole(&disk, "before", 5);
    assert_whole(&disk, "after", 5);
    assert_eq!(disk.lines, 10);
}

#[test]
fn disk_full_answers_503_writes_nothing_and_recovers_by_itself() {
    // Declared first so it is dropped (unmounted) after the gateway is killed.
    let fs = match Tmpfs::mount("1m") {
        Ok(fs) => fs,
        Err(why) => {
            logops_e2e::need_component(&format!("a mountable tmpfs (needs root): {why}"), false);
            return;
        }
    };
    let sink = fs.path.join("ingest");
    let gw = Gateway::builder()
        .env("LOGOPS_SINK_DIR", sink.to_str().unwrap())
        .env("LOGOPS_FSYNC", "always")
        .start();
    assert_eq!(post_batch(&gw, "before", 20).status, 200);
    let files = ndjson_files(&sink);
    let before = std::fs::read(&files[0]).unwrap();

    let filler = fs.path.join("filler");
    assert!(fill_until_full(&filler) > 0, "could not fill the tmpfs");
    // ~15 KB: more than the slack in the day file's last page.
    let r = post_batch(&gw, "while-full", 120);
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json()["error"], "sink_unavailable", "{}", r.text);
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        before,
        "a refused batch left bytes in the file"
    );
    let h = gw.get("/healthz");
    assert_eq!(h.status, 503, "{}", h.text);
    assert_eq!(h.json()["status"], "degraded", "{}", h.text);
    assert!(
        h.json()["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{}",
        h.text
    );
    let m = parse_metrics(&gw.get("/metrics").text);
    assert!(sum_samples(&m, "logops_sink_errors_total", &[]) >= 1.0);

    std::fs::remove_file(&filler).unwrap();
    let r = post_batch(&gw, "after", 120);
    assert_eq!(
        r.status, 200,
        "ingest did not resume once space was back: {}",
        r.text
    );
    let h = gw.get("/healthz");
    assert_eq!(h.status, 200, "{}", h.text);
    let disk = read_sink(&sink);
    assert_whole(&disk, "before", 20);
    assert_whole(&disk, "after", 120);
    assert!(!disk.batches.contains_key("while-full"));
    assert_eq!(disk.lines, 140);
    drop(gw);
    drop(fs);
}
