//! Syslog over TCP and UDP through the real binary (SPEC §11.5, issue #14),
//! fed by the real senders: util-linux `logger` in every framing, rsyslog
//! forwarding with `omfwd` (octet-counted), the captured `logger` bytes of
//! `tests/fixtures/agents/`, and hostile streams.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use logops_e2e::{need_program, parse_metrics, stored_lines, sum_samples, Gateway};
use serde_json::Value;

/// A gateway with both syslog listeners on ephemeral ports: (gateway, tcp, udp).
fn gateway(extra: &[(&str, &str)]) -> (Gateway, String, String) {
    let mut b = Gateway::builder()
        .process()
        .env("LOGOPS_SYSLOG_TCP", "127.0.0.1:0")
        .env("LOGOPS_SYSLOG_UDP", "127.0.0.1:0")
        .env("LOGOPS_SYSLOG_FLUSH_MS", "50");
    for (k, v) in extra {
        b = b.env(k, v);
    }
    let gw = b.start();
    let addr = |kind: &str| {
        assert!(
            gw.wait_stderr(
                &format!("syslog listening on {kind}://"),
                Duration::from_secs(10)
            ),
            "{}",
            gw.stderr()
        );
        let err = gw.stderr();
        let line = err
            .lines()
            .find(|l| l.contains(&format!("{kind}://")))
            .unwrap()
            .to_string();
        line.split(&format!("{kind}://"))
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let (tcp, udp) = (addr("tcp"), addr("udp"));
    (gw, tcp, udp)
}

/// Waits until `dir` holds `n` stored records; returns them.
fn wait_records(dir: &Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = stored_lines(dir);
        if lines.len() >= n || Instant::now() > deadline {
            return lines
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap()
}

fn logger(args: &[&str], addr: &str, msg: &str) {
    logops_e2e::stdout_of(
        Command::new("logger")
            .args([
                "--server",
                "127.0.0.1",
                "--port",
                port(addr),
                "-t",
                "billing",
                "-p",
                "user.warning",
            ])
            .args(args)
            .arg(msg),
    );
}

#[test]
fn logger_in_every_framing_lands_with_ts_level_host_and_app() {
    if !need_program("logger", "--version") {
        return;
    }
    let (gw, tcp, udp) = gateway(&[]);
    let cases: [(&[&str], &str); 5] = [
        (
            &["--tcp", "--rfc5424", "--octet-count"],
            "tcp octet 5424 for alice@example.com",
        ),
        (&["--tcp", "--rfc5424"], "tcp lf 5424"),
        (&["--tcp", "--rfc3164"], "tcp lf 3164"),
        (&["--udp", "--rfc5424"], "udp 5424"),
        (&["--udp", "--rfc3164"], "udp 3164"),
    ];
    for (args, msg) in cases {
        let addr = if args.contains(&"--udp") { &udp } else { &tcp };
        logger(args, addr, msg);
    }
    let recs = wait_records(&gw.sink_dir, cases.len());
    assert_eq!(recs.len(), cases.len(), "{recs:?}\n{}", gw.stderr());
    for (_, msg) in cases {
        let want = msg.replace("alice@example.com", "a***@example.com");
        let r = recs
            .iter()
            .find(|r| r["msg"] == want.as_str())
            .unwrap_or_else(|| panic!("{want} not stored: {recs:?}"));
        assert_eq!(r["level"], "WARN", "{r}");
        assert_eq!(r["app"], "billing", "{r}");
        assert_eq!(r["emitter"], "syslog", "{r}");
        assert!(r["host"].as_str().is_some_and(|h| !h.is_empty()), "{r}");
        let ts = r["ts"].as_str().unwrap();
        assert!(
            ts.ends_with('Z')
                && ts.starts_with(&time::OffsetDateTime::now_utc().year().to_string()),
            "{r}"
        );
    }
    let m = parse_metrics(&gw.get("/metrics").text);
    assert_eq!(
        sum_samples(&m, "logops_syslog_messages_total", &[("listener", "tcp")]),
        3.0
    );
    assert_eq!(
        sum_samples(&m, "logops_syslog_messages_total", &[("listener", "udp")]),
        2.0
    );
}

#[test]
fn captured_logger_bytes_replay_exactly() {
    let (gw, tcp, udp) = gateway(&[]);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/agents/logger-syslog.jsonl"
    ))
    .unwrap();
    let mut n = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let bytes = b64(v["bytes_b64"].as_str().unwrap());
        if v["transport"] == "tcp" {
            let mut s = TcpStream::connect(&tcp).unwrap();
            s.write_all(&bytes).unwrap();
        } else {
            UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .send_to(&bytes, &udp)
                .unwrap();
        }
        n += 1;
    }
    let recs = wait_records(&gw.sink_dir, n);
    assert_eq!(recs.len(), n, "{recs:?}");
    assert!(
        recs.iter().all(|r| r["app"] == "auth" && r["host"] == "vm"),
        "{recs:?}"
    );
    let sd = recs
        .iter()
        .find(|r| r.get("sd").is_some())
        .expect("RFC 5424 structured data kept");
    assert!(sd["sd"].as_str().unwrap().contains("timeQuality"));
    assert_eq!(
        recs.iter().filter(|r| r["level"] == "ERROR").count(),
        3,
        "PRI 131 = local0.err"
    );
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// rsyslog, run in the foreground with a test config: it takes messages on
/// UDP from `logger` and forwards them with `omfwd` over TCP, octet-counted.
#[test]
fn rsyslog_forwards_octet_counted_over_tcp() {
    if !need_program("rsyslogd", "-v") || !need_program("logger", "--version") {
        return;
    }
    let (gw, tcp, _udp) = gateway(&[]);
    let work = tempfile::tempdir().unwrap();
    let inport = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = work.path().join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{dir}\")\n\
             module(load=\"imudp\")\n\
             input(type=\"imudp\" address=\"127.0.0.1\" port=\"{inport}\")\n\
             action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" \
             TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n",
            dir = work.path().display(),
            port = port(&tcp)
        ),
    )
    .unwrap();
    let mut rsyslog = Killed(
        Command::new("rsyslogd")
            .args([
                "-n",
                "-f",
                conf.to_str().unwrap(),
                "-i",
                work.path().join("rsyslogd.pid").to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rsyslogd"),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(rsyslog.0.try_wait().unwrap().is_none(), "rsyslogd exited");
    for i in 0..20 {
        let addr = format!("127.0.0.1:{inport}");
        logger(&["--udp", "--rfc5424"], &addr, &format!("via rsyslog {i}"));
    }
    let recs = wait_records(&gw.sink_dir, 20);
    assert_eq!(recs.len(), 20, "{recs:?}");
    assert!(
        recs.iter()
            .all(|r| r["app"] == "billing" && r["level"] == "WARN"),
        "{recs:?}"
    );
    let m = parse_metrics(&gw.get("/metrics").text);
    assert!(
        sum_samples(&m, "logops_syslog_connections", &[("listener", "tcp")]) >= 1.0,
        "rsyslog keeps its connection"
    );
}

/// Stops the child by its PID when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn hostile_streams_never_stop_the_listener() {
    let (gw, tcp, udp) = gateway(&[
        ("LOGOPS_SYSLOG_MAX_MESSAGE", "100"),
        ("LOGOPS_SYSLOG_IDLE_TIMEOUT_SEC", "1"),
        ("LOGOPS_SYSLOG_MAX_CONNECTIONS", "8"),
    ]);
    // Binary garbage after a good frame: the frame is kept, the connection closed.
    let mut s = TcpStream::connect(&tcp).unwrap();
    s.write_all(b"9 <13>1 - a\x00\xff\xfe garbage").unwrap();
    // A declared count over the limit: truncated to it, counted.
    let mut s2 = TcpStream::connect(&tcp).unwrap();
    let long = format!("<13>1 - - - - - {}", "x".repeat(300));
    s2.write_all(format!("{} {long}", long.len()).as_bytes())
        .unwrap();
    // Half a frame, then silence: closed by the idle timeout.
    let mut s3 = TcpStream::connect(&tcp).unwrap();
    s3.write_all(b"50 <13>1 half").unwrap();
    // Invalid UTF-8 and a PRI out of range over UDP.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(b"<999>1 not a pri \xff\xfe", &udp).unwrap();
    // More connections than the cap.
    let many: Vec<TcpStream> = (0..30)
        .filter_map(|_| TcpStream::connect(&tcp).ok())
        .collect();
    let recs = wait_records(&gw.sink_dir, 3);
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert!(
        recs.iter()
            .any(|r| r["msg"].as_str().is_some_and(|m| m.contains('\u{fffd}'))),
        "lossy UTF-8: {recs:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let m = parse_metrics(&gw.get("/metrics").text);
    assert_eq!(sum_samples(&m, "logops_syslog_truncated_total", &[]), 1.0);
    assert!(sum_samples(&m, "logops_syslog_parse_errors_total", &[]) >= 1.0);
    assert!(
        sum_samples(
            &m,
            "logops_syslog_dropped_total",
            &[("reason", "connection_limit")]
        ) >= 1.0
    );
    drop(many);
    // Still serving.
    let mut ok = TcpStream::connect(&tcp).unwrap();
    ok.write_all(b"<14>1 - host app - - - after the storm\n")
        .unwrap();
    drop(ok);
    let recs = wait_records(&gw.sink_dir, 4);
    assert!(
        recs.iter().any(|r| r["msg"] == "after the storm"),
        "{recs:?}"
    );
    drop((s, s2, s3));
}

/// What was read is stored before a SIGTERM'd gateway exits.
#[test]
fn graceful_shutdown_stores_what_was_read() {
    let (mut gw, tcp, _udp) = gateway(&[
        ("LOGOPS_SYSLOG_FLUSH_MS", "60000"),
        ("LOGOPS_SYSLOG_BATCH", "100000"),
    ]);
    let mut s = TcpStream::connect(&tcp).unwrap();
    for i in 0..500 {
        writeln!(s, "<14>1 - host app - - - line {i}").unwrap();
    }
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        stored_lines(&gw.sink_dir).is_empty(),
        "the batch is still open"
    );
    assert_eq!(gw.stop(), Some(0), "{}", gw.stderr());
    assert_eq!(stored_lines(&gw.sink_dir).len(), 500);
}

/// SPEC §11.5: while the sink cannot write, a TCP connection is not read any
/// further (the sender's own buffers hold the data) and nothing is dropped;
/// once the sink recovers, every message is stored.
#[test]
fn tcp_backpressure_holds_everything_while_the_sink_is_down() {
    let (gw, tcp, _udp) = gateway(&[]);
    std::fs::create_dir_all(&gw.sink_dir).unwrap();
    std::fs::remove_dir_all(&gw.sink_dir).unwrap();
    std::fs::write(&gw.sink_dir, b"not a directory").unwrap();
    const N: usize = 200_000;
    let writer = std::thread::spawn(move || {
        let mut s = std::io::BufWriter::new(TcpStream::connect(&tcp).unwrap());
        for i in 0..N {
            writeln!(
                s,
                "<14>1 - host app - - - backpressure message number {i:08}"
            )
            .unwrap();
        }
        s.flush().unwrap();
    });
    let read = || {
        sum_samples(
            &parse_metrics(&gw.get("/metrics").text),
            "logops_syslog_messages_total",
            &[],
        )
    };
    std::thread::sleep(Duration::from_millis(1500));
    let first = read();
    std::thread::sleep(Duration::from_millis(700));
    let second = read();
    assert!(
        first < N as f64,
        "everything was read although nothing can be stored ({first})"
    );
    assert_eq!(
        first, second,
        "the connection is still being read while the sink is down"
    );
    assert!(!writer.is_finished(), "the sender was not held back");
    std::fs::remove_file(&gw.sink_dir).unwrap();
    writer.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored_lines(&gw.sink_dir).len() < N && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(stored_lines(&gw.sink_dir).len(), N, "a message was lost");
    let m = parse_metrics(&gw.get("/metrics").text);
    assert_eq!(
        sum_samples(&m, "logops_syslog_dropped_total", &[("listener", "tcp")]),
        0.0
    );
}

/// Our own load generator speaks the listener's framing: every message it
/// says it sent is stored (octet counting over TCP, and UDP).
#[test]
fn emit_syslog_over_tcp_and_udp_is_stored_message_for_message() {
    let (gw, tcp, udp) = gateway(&[]);
    for (transport, addr, n) in [("tcp", &tcp, 300), ("udp", &udp, 50)] {
        let out = logops_e2e::stdout_of(
            Command::new(logops_e2e::bin_path("emit_syslog"))
                .args([
                    "--transport",
                    transport,
                    "--url",
                    &format!("{transport}://{addr}"),
                    "-n",
                    &n.to_string(),
                ])
                .args(["--format", "rfc5424", "--seed", "3"]),
        );
        assert!(out.contains(&format!("sent: {n}")), "{out}");
    }
    let recs = wait_records(&gw.sink_dir, 350);
    assert_eq!(recs.len(), 350);
    assert!(recs.iter().all(|r| r["emitter"] == "syslog"));
}
