//! Live tails through the real binary: `/v1/tail` (SSE: new lines, resume
//! by `Last-Event-ID` without gap or duplicate, a slow consumer, a `start`
//! replay) and Loki's WebSocket tail.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use logops_e2e::Gateway;
use serde_json::{json, Value};

use super::enc;

/// Opens an SSE stream; returns the reader after the response head.
fn sse(gw: &Gateway, path: &str, last_id: Option<&str>) -> BufReader<TcpStream> {
    let addr = gw.url("").trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let extra = last_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n{extra}\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        assert!(!line.starts_with("HTTP/1.1 4"), "{line}");
        if line == "\r\n" {
            return r;
        }
    }
}

/// The next `n` events (id, data), skipping comments; chunked framing lines are skipped too.
fn events(r: &mut BufReader<TcpStream>, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut id = String::new();
    let mut line = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while out.len() < n {
        // Keep-alive comments (every 15 s) would otherwise keep a stuck stream "alive".
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {n} events in 60 s",
            out.len()
        );
        line.clear();
        if r.read_line(&mut line).unwrap() == 0 {
            panic!("stream ended after {} events", out.len());
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if let Some(v) = l.strip_prefix("id: ") {
            id = v.to_string();
        } else if let Some(v) = l.strip_prefix("data: ") {
            out.push((id.clone(), v.to_string()));
        }
    }
    out
}

#[test]
fn tail_streams_new_lines_and_resumes_without_gap_or_duplicate() {
    let gw = Gateway::builder().process().start();
    let mut stream = sse(
        &gw,
        &format!("/v1/tail?query={}", enc(r#"{level="ERROR"}"#)),
        None,
    );
    let send = |from: usize, n: usize| {
        let body: String = (from..from + n)
            .map(|i| format!("{}\n", json!({"level": if i % 2 == 0 { "ERROR" } else { "INFO" }, "msg": format!("line {i}")})))
            .collect();
        assert_eq!(gw.ingest("application/x-ndjson", &body).status, 200);
    };
    std::thread::sleep(Duration::from_millis(300));
    send(0, 10);
    let first = events(&mut stream, 5);
    let got: Vec<String> = first.iter().map(msg_of).collect();
    assert_eq!(got, ["line 0", "line 2", "line 4", "line 6", "line 8"]);
    // Disconnect after the third event; more lines arrive meanwhile.
    let resume_id = first[2].0.clone();
    drop(stream);
    send(10, 4);
    let mut again = sse(
        &gw,
        &format!("/v1/tail?query={}", enc(r#"{level="ERROR"}"#)),
        Some(&resume_id),
    );
    let next = events(&mut again, 4);
    let got: Vec<String> = next.iter().map(msg_of).collect();
    assert_eq!(
        got,
        ["line 6", "line 8", "line 10", "line 12"],
        "no gap, no duplicate"
    );
    // A slow consumer: 2000 lines while it does not read, then all arrive in order.
    send(14, 2000);
    let late = events(&mut again, 1000);
    assert_eq!(
        serde_json::from_str::<Value>(&late[999].1).unwrap()["msg"],
        "line 2012"
    );
}

#[test]
fn loki_websocket_tail_sends_lines_in_lokis_frame_shape() {
    let gw = Gateway::builder().process().start();
    let url = format!(
        "{}/loki/api/v1/tail?query={}",
        gw.url("").replacen("http://", "ws://", 1),
        enc(r#"{level="ERROR"}"#)
    );
    let (mut ws, resp) = tungstenite::connect(url.as_str()).expect("websocket upgrade");
    assert_eq!(resp.status(), 101);
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let body =
        "{\"level\":\"INFO\",\"msg\":\"skip me\"}\n{\"level\":\"ERROR\",\"msg\":\"live one\"}\n";
    assert_eq!(gw.ingest("application/x-ndjson", body).status, 200);
    let frame = loop {
        match ws.read().expect("a frame") {
            tungstenite::Message::Text(t) => break serde_json::from_str::<Value>(&t).unwrap(),
            _ => continue,
        }
    };
    let stream = &frame["streams"][0];
    assert_eq!(stream["stream"]["level"], "ERROR");
    assert_eq!(stream["stream"]["emitter"], "unknown");
    let entry = &stream["values"][0];
    assert_eq!(entry[0].as_str().unwrap().len(), 19, "ns timestamp string");
    let line: Value = serde_json::from_str(entry[1].as_str().unwrap()).unwrap();
    assert_eq!(line["msg"], "live one");
    assert!(frame.get("dropped_entries").is_some());
    // A plain GET (no upgrade) is told what to do, in Loki's plain-text shape.
    let r = gw.get(&format!("/loki/api/v1/tail?query={}", enc("{}")));
    assert_eq!(r.status, 400);
    assert!(r.text.contains("WebSocket"), "{}", r.text);
    let _ = ws.close(None);
}

/// `2026-03-01T10:00:00Z` plus `i` seconds.
fn ts(i: usize) -> String {
    format!(
        "2026-03-01T{:02}:{:02}:{:02}Z",
        10 + i / 3600,
        i / 60 % 60,
        i % 60
    )
}

fn msg_of(event: &(String, String)) -> String {
    serde_json::from_str::<Value>(&event.1).unwrap()["msg"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_tail_with_start_replays_from_that_time_then_follows() {
    let gw = Gateway::builder().process().start();
    // 3000 stored lines a second apart (~40 index blocks), then a replay
    // from line 2500's time: by line scan, and by the literal prefilter.
    let body: String = (0..3000)
        .map(|i| {
            format!(
                "{}\n",
                json!({"ts": ts(i), "level": "INFO", "msg": format!("old {i}"), "pad": "x".repeat(60)})
            )
        })
        .collect();
    assert_eq!(gw.ingest("application/x-ndjson", &body).status, 200);
    let mut want: Vec<String> = (2500..3000).map(|i| format!("old {i}")).collect();
    for query in ["{}", r#"{level="INFO"} |= "old""#] {
        let mut s = sse(
            &gw,
            &format!("/v1/tail?query={}&start={}", enc(query), ts(2500)),
            None,
        );
        let got: Vec<String> = events(&mut s, want.len()).iter().map(msg_of).collect();
        assert_eq!(got, want, "{query}");
        // Then it follows: a late line from before `start` is not sent, a new one is.
        let live = format!(
            "{}\n{}\n",
            json!({"ts": ts(1), "level": "INFO", "msg": "old but late"}),
            json!({"ts": ts(4000), "level": "INFO", "msg": format!("old news {query}")})
        );
        assert_eq!(gw.ingest("application/x-ndjson", &live).status, 200);
        let next = events(&mut s, 1);
        assert_eq!(msg_of(&next[0]), format!("old news {query}"));
        // The next replay from the same time includes it (and still not the late one).
        want.push(format!("old news {query}"));
    }
}
