//! Tamper evidence (`LOGOPS_CHAIN`) through the real binaries: a gateway
//! seals what it stores, `logops-verify` (with the public key printed by
//! `logops-keygen --chain`) accepts it and reports every kind of tampering
//! made to copies of the real files; kill -9 under load, housekeeping
//! (delete → tombstone, zip → sidecar archived), and `/v1/proof` proofs.
//!
//! Needs the tools' binaries: `cargo build -p logops-tools`.

#[path = "chain/proofs_keys.rs"]
mod proofs_keys;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use logops_e2e::{bin_path, stdout_of, try_post, Gateway};
use logops_gateway::chain::{self, seal::DayChain};
use time::{Date, OffsetDateTime};

/// A key made by `logops-keygen --chain`: (private key path, public key).
fn keygen(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("chain.pem");
    let out = stdout_of(
        Command::new(bin_path("logops-keygen"))
            .args(["--chain", "--out"])
            .arg(&path),
    );
    let public = out.trim().to_string();
    (path, public)
}

/// `logops-verify --pubkey KEY PATHS…`: (exit code, stdout + stderr).
fn verify(public: &str, paths: &[&Path]) -> (i32, String) {
    let out = Command::new(bin_path("logops-verify"))
        .arg("--pubkey")
        .arg(public)
        .args(paths)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn chained(work: &Path, key: &Path) -> logops_e2e::GatewayBuilder {
    Gateway::builder()
        .workdir(work)
        .env("LOGOPS_CHAIN", "true")
        .env("LOGOPS_CHAIN_SIGNING_KEY", key.to_str().unwrap())
}

/// Writes earlier days' files and chains with the gateway's own sealing
/// code (a gateway only writes today), each linked to the one before.
fn past_days(sink: &Path, key: &Path, days: &[i64]) -> Vec<Date> {
    fs::create_dir_all(sink).unwrap();
    let pem = fs::read_to_string(key).unwrap();
    let signing = {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        Arc::new(ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap())
    };
    let mut out = Vec::new();
    for back in days {
        let day = today() - time::Duration::days(*back);
        let path = sink.join(logops_gateway::dayfile::file_name(day));
        let lines: String = (0..5)
            .map(|i| format!("{{\"ts\":\"{day}T10:00:0{i}Z\",\"level\":\"INFO\",\"msg\":\"day {day} line {i}\"}}\n"))
            .collect();
        fs::write(&path, "").unwrap();
        let prev = chain::previous_root(sink, None, day).unwrap();
        let (mut c, _) = DayChain::open(&path, 0, prev, Arc::clone(&signing)).unwrap();
        let (a, b) = lines.split_at(lines.match_indices('\n').nth(1).unwrap().0 + 1);
        for part in [a, b] {
            let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
            std::io::Write::write_all(&mut f, part.as_bytes()).unwrap();
            c.stage(&[part.as_bytes()]);
            c.seal(prev).unwrap();
        }
        out.push(day);
    }
    out
}

fn post_batches(gw: &Gateway, n: usize) {
    for b in 0..n {
        let body: Vec<String> = (0..4)
            .map(|i| format!("{{\"level\":\"info\",\"msg\":\"batch {b} record {i}\"}}"))
            .collect();
        let r = gw.ingest("application/json", &format!("[{}]", body.join(",")));
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_file() && !p.ends_with(".logops.lock") {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_clean_run_verifies_and_each_kind_of_tampering_is_reported() {
    let work = tempfile::tempdir().unwrap();
    let (key, public) = keygen(work.path());
    let sink = work.path().join("ingest");
    past_days(&sink, &key, &[3, 2, 1]);
    let mut gw = chained(work.path(), &key).start();
    post_batches(&gw, 6);
    gw.stop();
    let (code, out) = verify(&public, &[&sink]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("OK ").count(), 4, "{out}");
    assert!(out.contains("linked to the day before"), "{out}");

    let stem = logops_gateway::dayfile::stem(today());
    let file = format!("{stem}.ndjson");
    // Each case: a copy of the real directory, one change, the words expected.
    type Tamper = fn(&Path, &str);
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "edited byte",
            |d, f| {
                let p = d.join(f);
                let mut b = fs::read(&p).unwrap();
                let i = b.windows(8).position(|w| w == b"record 2").unwrap() + 7;
                b[i] = b'3';
                fs::write(p, b).unwrap();
            },
            "edited or reordered",
        ),
        (
            "inserted line",
            |d, f| {
                let p = d.join(f);
                let s = fs::read_to_string(&p).unwrap();
                let at = s.find('\n').unwrap() + 1;
                fs::write(
                    p,
                    format!("{}{{\"msg\":\"forged\"}}\n{}", &s[..at], &s[at..]),
                )
                .unwrap();
            },
            "inserted",
        ),
        (
            "removed line",
            |d, f| {
                let p = d.join(f);
                let s = fs::read_to_string(&p).unwrap();
                let at = s.find('\n').unwrap() + 1;
                fs::write(p, &s[at..]).unwrap();
            },
            "removed",
        ),
        (
            "reordered lines",
            |d, f| {
                let p = d.join(f);
                let s = fs::read_to_string(&p).unwrap();
                let mut lines: Vec<&str> = s.lines().collect();
                lines.swap(0, 1);
                fs::write(p, lines.join("\n") + "\n").unwrap();
            },
            "edited or reordered",
        ),
        (
            "truncated file",
            |d, f| {
                let p = d.join(f);
                let s = fs::read_to_string(&p).unwrap();
                let keep: Vec<&str> = s.lines().take(3).collect();
                fs::write(p, keep.join("\n") + "\n").unwrap();
            },
            "truncated",
        ),
        (
            "removed day",
            |d, _| {
                let day = today() - time::Duration::days(2);
                let name = logops_gateway::dayfile::file_name(day);
                fs::remove_file(d.join(&name)).unwrap();
                fs::remove_file(d.join(format!("{name}.chain"))).unwrap();
            },
            "day link broken",
        ),
        (
            "forged checkpoint",
            |d, f| {
                let p = d.join(format!("{f}.chain"));
                let s = fs::read_to_string(&p).unwrap();
                let last = s.lines().last().unwrap();
                let forged = last.replacen("\"size\":", "\"size\":1", 1);
                fs::write(p, s.replace(last, &forged)).unwrap();
            },
            "bad signature",
        ),
        (
            "appended line",
            |d, f| {
                let p = d.join(f);
                let mut s = fs::read_to_string(&p).unwrap();
                s.push_str("{\"msg\":\"added later\"}\n");
                fs::write(p, s).unwrap();
            },
            "1 unsealed lines",
        ),
    ];
    for (name, tamper, expect) in cases {
        let copy = work.path().join(format!("copy-{}", name.replace(' ', "-")));
        copy_dir(&sink, &copy);
        tamper(&copy, &file);
        let (code, out) = verify(&public, &[&copy]);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(
            out.contains("FAIL") && out.contains(expect),
            "{name}: expected {expect:?} in\n{out}"
        );
    }

    // A chain signed by another key does not verify with this one.
    let other = tempfile::tempdir().unwrap();
    let (_, other_public) = keygen(other.path());
    let (code, out) = verify(&other_public, &[&sink]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bad signature"), "{out}");
    // Usage and unreadable input: 2.
    assert_eq!(verify("not-a-key", &[&sink]).0, 2);
    assert_eq!(verify(&public, &[&work.path().join("missing")]).0, 2);
}

#[test]
fn kill_9_under_load_then_restart_reseals_and_verifies() {
    let work = tempfile::tempdir().unwrap();
    let (key, public) = keygen(work.path());
    let gw = chained(work.path(), &key).process().start();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let url = gw.url("/v1/logs");
    let load: Vec<_> = (0..4)
        .map(|t| {
            let (stop, acked, url) = (Arc::clone(&stop), Arc::clone(&acked), url.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!("[{{\"msg\":\"t{t} n{n}\"}},{{\"msg\":\"t{t} n{n} b\"}}]");
                    match try_post(
                        &url,
                        &[("content-type", "application/json")],
                        body.as_bytes(),
                    ) {
                        Ok(r) if r.status == 200 => {
                            acked.fetch_add(2, Ordering::Relaxed);
                        }
                        _ => return,
                    }
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    gw.signal("KILL");
    stop.store(true, Ordering::Relaxed);
    load.into_iter().for_each(|t| t.join().unwrap());
    drop(gw);
    let acked = acked.load(Ordering::Relaxed);
    assert!(acked > 0);

    // The restart repairs and reseals what a checkpoint did not cover yet.
    let mut gw = chained(work.path(), &key).process().start();
    post_batches(&gw, 1);
    gw.stop();
    let sink = work.path().join("ingest");
    let (code, out) = verify(&public, &[&sink]);
    assert_eq!(code, 0, "{out}\n{}", gw.stderr());
    let lines = logops_e2e::stored_lines(&sink).len();
    assert!(
        lines >= acked + 4,
        "{lines} lines stored, {acked} acknowledged"
    );
}

#[test]
fn housekeeping_records_deletes_as_tombstones_and_zips_the_chain() {
    for mode in ["delete", "zip"] {
        let work = tempfile::tempdir().unwrap();
        let (key, public) = keygen(work.path());
        let sink = work.path().join("ingest");
        let archive = work.path().join("archive");
        let days = past_days(&sink, &key, &[5, 4, 1]);
        let gw = chained(work.path(), &key)
            .env("LOGOPS_HOUSEKEEP_AUTORUN", "true")
            .env("LOGOPS_RETENTION_DAYS", "2")
            .env("LOGOPS_ARCHIVE_MODE", mode)
            .start();
        let gone = |d: &Date| !sink.join(logops_gateway::dayfile::file_name(*d)).exists();
        for _ in 0..200 {
            if days[..2].iter().all(gone) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            days[..2].iter().all(gone),
            "{mode}: not expired: {}",
            gw.stderr()
        );
        post_batches(&gw, 2);
        drop(gw);
        let (code, out) = if mode == "delete" {
            verify(&public, &[&sink])
        } else {
            verify(&public, &[&sink, &archive])
        };
        assert_eq!(code, 0, "{mode}: {out}");
        if mode == "delete" {
            assert!(out.contains("removed by retention"), "{out}");
            // Without the tombstone the same gap is tampering.
            let side = sink.join(format!(
                "{}.chain",
                logops_gateway::dayfile::file_name(today())
            ));
            let kept: String = fs::read_to_string(&side)
                .unwrap()
                .lines()
                .filter(|l| !l.contains("\"deleted\""))
                .map(|l| format!("{l}\n"))
                .collect();
            fs::write(&side, kept).unwrap();
            let (code, out) = verify(&public, &[&sink]);
            assert_eq!(
                code, 0,
                "the oldest day given may link to one not given: {out}"
            );
            fs::remove_file(sink.join(logops_gateway::dayfile::file_name(days[2]))).unwrap();
            let (code, out) = verify(&public, &[&sink]);
            assert_eq!(code, 1, "{out}");
        } else {
            assert_eq!(out.matches("OK ").count(), 4, "{out}");
            let zip = archive.join(format!("{}.zip", logops_gateway::dayfile::stem(days[0])));
            let names: Vec<String> = logops_gateway::housekeeping::archive_entries(&zip)
                .unwrap()
                .into_iter()
                .map(|e| e.name)
                .collect();
            assert!(
                names.iter().any(|n| n.ends_with(".ndjson.chain")),
                "{names:?}"
            );
        }
    }
}
