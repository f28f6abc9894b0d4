//! SPEC §4 (issue #18.1): a day file removed, renamed or replaced while the
//! gateway runs is noticed before the next append, and no batch is ever
//! acknowledged that went into an unlinked file. Under load, through the real
//! binary.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logops_e2e::{stored_lines, try_post, Gateway};

/// Acknowledged batches: (id of its first record, when the request was sent).
type Acked = Arc<Mutex<Vec<(String, Instant)>>>;

/// Four clients posting 10-record batches with unique ids until `stop`.
fn load(gw: &Gateway, stop: &Arc<AtomicBool>) -> (Acked, Vec<std::thread::JoinHandle<()>>) {
    let acked: Acked = Arc::default();
    let url = gw.url("/v1/logs");
    let clients = (0..4)
        .map(|c| {
            let (url, stop, acked) = (url.clone(), Arc::clone(stop), Arc::clone(&acked));
            std::thread::spawn(move || {
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let ids: Vec<String> = (0..10).map(|i| format!("c{c}-{seq}-{i}")).collect();
                    let body: Vec<String> = ids
                        .iter()
                        .map(|id| format!(r#"{{"msg":"load","id":"{id}"}}"#))
                        .collect();
                    let body = format!("[{}]", body.join(","));
                    let sent = Instant::now();
                    if let Ok(r) = try_post(
                        &url,
                        &[("content-type", "application/json")],
                        body.as_bytes(),
                    ) {
                        if r.status == 200 {
                            acked
                                .lock()
                                .unwrap()
                                .extend(ids.into_iter().map(|id| (id, sent)));
                        }
                    }
                    seq += 1;
                }
            })
        })
        .collect();
    (acked, clients)
}

/// Every `"id"` of every line of every `*.ndjson` under `dir`, with duplicates counted.
fn stored_ids(dirs: &[&Path]) -> (HashSet<String>, usize) {
    let mut ids = HashSet::new();
    let mut lines = 0;
    for dir in dirs {
        for line in stored_lines(dir) {
            let v: serde_json::Value = serde_json::from_str(&line).expect("stored line");
            lines += 1;
            ids.insert(v["id"].as_str().expect("id").to_string());
        }
    }
    (ids, lines)
}

#[test]
fn a_day_file_renamed_away_under_load_is_reopened_and_nothing_acknowledged_is_lost() {
    let mut gw = Gateway::builder().process().start();
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, clients) = load(&gw, &stop);
    std::thread::sleep(Duration::from_millis(400));
    let moved = gw.workdir.join("moved");
    std::fs::create_dir_all(&moved).unwrap();
    let day = std::fs::read_dir(&gw.sink_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .expect("a day file under load");
    // What logrotate (or an operator's mv) does: the gateway must follow the path.
    std::fs::rename(&day, moved.join("rotated.ndjson")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());
    assert_eq!(gw.stop(), Some(0), "{}", gw.stderr());
    let acked = acked.lock().unwrap();
    assert!(acked.len() > 200, "too little load: {}", acked.len());
    let (ids, lines) = stored_ids(&[&gw.sink_dir, &moved]);
    if lines != ids.len() {
        let mut seen = HashSet::new();
        for dir in [&gw.sink_dir, &moved] {
            for (n, line) in stored_lines(dir).iter().enumerate() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let id = v["id"].as_str().unwrap().to_string();
                if !seen.insert(id.clone()) {
                    eprintln!("duplicate {id} at {}:{n}", dir.display());
                }
            }
            eprintln!("{}: {} lines", dir.display(), stored_lines(dir).len());
        }
        eprintln!("{}", gw.stderr());
    }
    assert_eq!(lines, ids.len(), "a record was stored twice");
    let lost: Vec<&String> = acked
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !ids.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged records are in no visible file, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(3)]
    );
    assert!(day.exists(), "the day file was not recreated at its path");
    assert!(
        gw.stderr().contains("reopening the path"),
        "{}",
        gw.stderr()
    );
}

#[test]
fn a_removed_sink_directory_under_load_is_recreated_and_later_batches_are_visible() {
    let mut gw = Gateway::builder().process().start();
    let stop = Arc::new(AtomicBool::new(false));
    let (acked, clients) = load(&gw, &stop);
    std::thread::sleep(Duration::from_millis(400));
    std::fs::remove_dir_all(&gw.sink_dir).unwrap();
    let removed = Instant::now();
    std::thread::sleep(Duration::from_millis(600));
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());
    assert_eq!(gw.stop(), Some(0), "{}", gw.stderr());
    let acked = acked.lock().unwrap();
    let after: Vec<&String> = acked
        .iter()
        .filter(|(_, sent)| *sent > removed)
        .map(|(id, _)| id)
        .collect();
    assert!(
        after.len() > 100,
        "too little load after the removal: {}",
        after.len()
    );
    let (ids, _) = stored_ids(&[&gw.sink_dir]);
    let lost: Vec<&&String> = after.iter().filter(|id| !ids.contains(**id)).collect();
    assert!(
        lost.is_empty(),
        "{} records sent after the removal and acknowledged are in no visible file",
        lost.len()
    );
}
