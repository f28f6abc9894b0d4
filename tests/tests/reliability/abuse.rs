//! Slow and abusive clients: slowloris on headers and on the body, the
//! connection cap, oversized headers, gzip/zstd bombs (refused with 413 without
//! allocating their output), deeply nested JSON (400, not a stack overflow) and
//! a label-cardinality flood of random `X-Emitter` values (metrics stay bounded).

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use logops_e2e::{parse_metrics, post_request, raw_request, sum_samples, Gateway};

use super::util::{peak_rss_kib, read_sink, Outcome, RawConn};

/// `LOGOPS_READ_TIMEOUT_MS` for the slowloris tests.
const READ_TIMEOUT_MS: u64 = 1000;
/// How long past the read timeout the server may take to hang up (scheduling, a busy CI machine).
const SLACK: Duration = Duration::from_secs(15);

fn slow_gateway() -> Gateway {
    Gateway::builder()
        .env("LOGOPS_READ_TIMEOUT_MS", &READ_TIMEOUT_MS.to_string())
        .start()
}

fn assert_healthy(gw: &Gateway) {
    let r = gw.get("/healthz");
    assert_eq!(
        r.status, 200,
        "gateway unhealthy after the attack: {}",
        r.text
    );
}

#[test]
fn slowloris_headers_are_cut_off_after_the_read_timeout() {
    let gw = slow_gateway();
    let mut conn = RawConn::connect(&gw.addr);
    assert!(conn.send(b"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    let started = Instant::now();
    let deadline = started + Duration::from_millis(READ_TIMEOUT_MS) + SLACK;
    // One more header byte every 100 ms: never a complete head.
    let outcome = conn.wait(deadline, Some((b"X", Duration::from_millis(100))));
    assert!(
        matches!(outcome, Outcome::Closed | Outcome::Status(408)),
        "a slowloris client kept its connection: {outcome:?} after {:?}: {}",
        started.elapsed(),
        conn.text()
    );
    assert_healthy(&gw);
}

#[test]
fn slowloris_body_gets_408_and_nothing_is_written() {
    let gw = slow_gateway();
    let mut conn = RawConn::connect(&gw.addr);
    let head = "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n";
    assert!(conn.send(head.as_bytes()));
    assert!(conn.send(b"{\"msg\":\"slow\"}\n"));
    let deadline = Instant::now() + Duration::from_millis(READ_TIMEOUT_MS) + SLACK;
    let outcome = conn.wait(deadline, Some((b" ", Duration::from_millis(100))));
    assert_eq!(outcome, Outcome::Status(408), "{}", conn.text());
    assert!(conn.text().contains("body_timeout"), "{}", conn.text());
    assert_eq!(read_sink(&gw.sink_dir).lines, 0);
    assert_healthy(&gw);
}

#[test]
fn connections_over_the_cap_wait_until_one_closes() {
    let gw = Gateway::builder()
        .env("LOGOPS_MAX_CONNECTIONS", "4")
        .start();
    let get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Four keep-alive connections, each served once and then held open.
    let mut held: Vec<RawConn> = (0..4)
        .map(|_| {
            let mut c = RawConn::connect(&gw.addr);
            assert!(c.send(get));
            assert_eq!(
                c.wait(Instant::now() + Duration::from_secs(20), None),
                Outcome::Status(200)
            );
            c
        })
        .collect();
    // A fifth is accepted by the kernel but not served while all four are held.
    let mut fifth = RawConn::connect(&gw.addr);
    assert!(fifth.send(get));
    assert_eq!(
        fifth.wait(Instant::now() + Duration::from_secs(1), None),
        Outcome::Nothing,
        "{}",
        fifth.text()
    );
    // Closing one frees a slot, and the fifth is served.
    drop(held.pop());
    assert_eq!(
        fifth.wait(Instant::now() + Duration::from_secs(20), None),
        Outcome::Status(200),
        "{}",
        fifth.text()
    );
}

#[test]
fn oversized_headers_are_refused_with_431() {
    let gw = Gateway::start();
    let big = format!("X-Big: {}", "a".repeat(200 * 1024));
    let mut conn = RawConn::connect(&gw.addr);
    // The server may stop reading mid-header: a failed send is part of the test.
    let _ = conn.send(&post_request(
        "/v1/logs",
        &["Content-Type: application/json", &big],
        b"{\"msg\":\"x\"}",
    ));
    let outcome = conn.wait(Instant::now() + Duration::from_secs(20), None);
    assert_eq!(outcome, Outcome::Status(431), "{}", conn.text());
    assert_eq!(read_sink(&gw.sink_dir).lines, 0);
    assert_healthy(&gw);
}

/// `copies` concatenated members/frames, each `chunk` zero bytes compressed.
fn bomb(encoding: &str, chunk: usize, copies: usize) -> Vec<u8> {
    let zeros = vec![0u8; chunk];
    let one = match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(&zeros).unwrap();
            e.finish().unwrap()
        }
        _ => zstd::encode_all(&zeros[..], 3).unwrap(),
    };
    one.repeat(copies)
}

#[test]
fn compression_bombs_are_413_without_allocating_their_output() {
    const LIMIT: usize = 1024 * 1024;
    let gw = Gateway::builder()
        .process()
        .env("LOGOPS_MAX_BODY_BYTES", &LIMIT.to_string())
        .start();
    assert_healthy(&gw);
    for encoding in ["gzip", "zstd"] {
        // 512 MiB once decompressed, a few hundred KiB on the wire.
        let body = bomb(encoding, 8 << 20, 64);
        assert!(
            body.len() < LIMIT,
            "{encoding} bomb is {} bytes on the wire",
            body.len()
        );
        let before = peak_rss_kib(gw.pid());
        let headers = [
            ("content-type", "application/json"),
            ("content-encoding", encoding),
        ];
        let r = gw.post("/v1/logs", &headers, &body);
        assert_eq!(r.status, 413, "{encoding}: {}", r.text);
        assert_eq!(r.json()["error"], "body_too_large", "{}", r.text);
        let grown_mib = peak_rss_kib(gw.pid()).saturating_sub(before) / 1024;
        assert!(
            grown_mib < 128,
            "{encoding} bomb grew peak memory by {grown_mib} MiB (output is 512 MiB)"
        );
    }
    // A zstd frame may ask for a window of up to 2 GiB: over 8 MiB it is refused.
    let mut e = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    e.window_log(27).unwrap();
    e.long_distance_matching(true).unwrap();
    e.write_all(&[b'a'; 4096]).unwrap();
    let headers = [("content-type", "text/plain"), ("content-encoding", "zstd")];
    let r = gw.post("/v1/logs", &headers, &e.finish().unwrap());
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_encoding", "{}", r.text);
    assert_eq!(read_sink(&gw.sink_dir).lines, 0);
    assert_healthy(&gw);
}

#[test]
fn deeply_nested_json_is_400_not_a_crash() {
    let gw = Gateway::start();
    let cases: [(&str, String); 3] = [
        ("application/json", "[".repeat(200_000)),
        ("application/json", "{\"a\":".repeat(100_000)),
        (
            "application/x-ndjson",
            format!("{{\"msg\":\"ok\"}}\n{}\n", "[{\"a\":".repeat(50_000)),
        ),
    ];
    for (ct, body) in &cases {
        let r = gw.ingest(ct, body);
        assert_eq!(r.status, 400, "{ct}: {}", r.text);
        assert_eq!(r.json()["error"], "invalid_json", "{}", r.text);
    }
    // Nesting within the parser's limit is data, stored whole.
    let mut deep = "\"bottom\"".to_string();
    for _ in 0..100 {
        deep = format!("{{\"k\":{deep}}}");
    }
    let r = gw.ingest(
        "application/json",
        &format!("{{\"msg\":\"deep\",\"attrs\":{deep}}}"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(read_sink(&gw.sink_dir).lines, 1);
    assert_healthy(&gw);
}

#[test]
fn random_emitter_flood_keeps_metric_labels_bounded() {
    const CAP: usize = 20;
    let gw = Gateway::builder()
        .env("LOGOPS_MAX_LABEL_VALUES", &CAP.to_string())
        .start();
    let mut accepted = 0u64;
    for i in 0..300u32 {
        let emitter = format!("flood-{}", i.wrapping_mul(2_654_435_761));
        let scenario = format!("sc-{i}");
        let (ct, body) = match i % 3 {
            0 => (
                "application/json",
                format!("{{\"msg\":\"m{i}\",\"emitter\":\"rec-{i}\"}}"),
            ),
            1 => (
                "application/json",
                format!("[{{\"msg\":\"m{i}\"}},{{\"msg\":\"n{i}\",\"level\":\"error\"}}]"),
            ),
            _ => ("application/json", "{\"msg\":".to_string()),
        };
        let header_lines = [
            format!("Content-Type: {ct}"),
            format!("X-Emitter: {emitter}"),
            format!("X-Scenario-Id: {scenario}"),
        ];
        let refs: Vec<&str> = header_lines.iter().map(String::as_str).collect();
        let r = raw_request(&gw.addr, &post_request("/v1/logs", &refs, body.as_bytes()));
        match i % 3 {
            2 => assert_eq!(r.status, 400, "{}", r.text),
            _ => {
                assert_eq!(r.status, 200, "{}", r.text);
                accepted += r.json()["accepted"].as_u64().unwrap();
            }
        }
    }
    let text = gw.get("/metrics").text;
    let samples = parse_metrics(&text);
    for label in ["emitter", "scenario_id"] {
        let values: BTreeSet<&str> = samples.iter().filter_map(|s| s.label(label)).collect();
        assert!(
            values.len() <= CAP + 1,
            "{} distinct {label} values (cap {CAP} + _other)",
            values.len()
        );
        assert!(values.contains("_other"), "no _other {label}: {values:?}");
    }
    assert_eq!(
        sum_samples(&samples, "logops_accepted_total", &[]) as u64,
        accepted,
        "records lost from the counters"
    );
    assert_eq!(
        sum_samples(
            &samples,
            "logops_rejected_total",
            &[("reason", "invalid_json")]
        ),
        100.0
    );
}
