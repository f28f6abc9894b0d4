//! `emit_syslog --transport tcp|udp` against a TCP listener and a UDP socket
//! of the test's own: octet-counted and LF-framed streams parse back to
//! exactly the generator's lines, UDP carries one line per datagram, and a
//! flood's `sent` is what the listener counted once the emitter exited.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const EMIT_SYSLOG: &str = env!("CARGO_BIN_EXE_emit_syslog");

/// Runs `emit_syslog` with no inherited LogOps settings.
fn emit(args: &[&str]) -> Output {
    let mut c = Command::new(EMIT_SYSLOG);
    for key in [
        "LOGOPS_URL",
        "LOGOPS_API_KEY",
        "LOGOPS_SECRET",
        "LOGOPS_AUTH",
    ] {
        c.env_remove(key);
    }
    c.args(args).output().expect("run emit_syslog")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The HTTP body the same flags would send: the generator's lines.
fn http_lines(args: &[&str]) -> Vec<String> {
    let out = emit(&[&["--dry-run"], args].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

/// Splits RFC 6587 octet-counted frames (`LEN SP MSG`, back to back) off
/// the front of `data`: the complete messages and the bytes they took. Panics
/// on anything but a frame, so a wrong length cannot go unnoticed.
fn split_frames(data: &[u8]) -> (Vec<&[u8]>, usize) {
    let (mut out, mut pos) = (Vec::new(), 0);
    loop {
        let rest = &data[pos..];
        let Some(sp) = rest.iter().position(|&b| b == b' ') else {
            assert!(
                rest.len() <= 6 && rest.iter().all(u8::is_ascii_digit),
                "bad frame start"
            );
            return (out, pos);
        };
        let digits = &rest[..sp];
        assert!(
            !digits.is_empty() && digits.len() <= 6 && digits.iter().all(u8::is_ascii_digit),
            "bad length {:?} before {:?}",
            text(digits),
            text(&rest[sp..rest.len().min(sp + 40)])
        );
        let len: usize = text(digits).parse().unwrap();
        let Some(msg) = rest.get(sp + 1..sp + 1 + len) else {
            return (out, pos);
        };
        assert!(!msg.contains(&b'\n'), "{}", text(msg));
        out.push(msg);
        pos += sp + 1 + len;
    }
}

/// All the octet-counted frames of a complete stream.
fn octet_frames(data: &[u8]) -> Vec<String> {
    let (frames, used) = split_frames(data);
    assert_eq!(used, data.len(), "a partial frame at the end");
    frames.into_iter().map(text).collect()
}

/// Accepts `conns` connections and counts the octet-counted frames and bytes
/// each one sent until EOF, without keeping them (a flood sends gigabytes).
fn tcp_frame_counter(conns: usize) -> (String, mpsc::Receiver<(u64, u64)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..conns {
            let (mut s, _) = listener.accept().unwrap();
            let tx = tx.clone();
            thread::spawn(move || {
                let (mut buf, mut have) = (vec![0u8; 1 << 20], 0);
                let (mut frames, mut bytes) = (0u64, 0u64);
                loop {
                    let n = s.read(&mut buf[have..]).unwrap();
                    if n == 0 {
                        break;
                    }
                    (have, bytes) = (have + n, bytes + n as u64);
                    let (found, used) = split_frames(&buf[..have]);
                    frames += found.len() as u64;
                    buf.copy_within(used..have, 0);
                    have -= used;
                }
                assert_eq!(have, 0, "a partial frame at EOF");
                let _ = tx.send((frames, bytes));
            });
        }
    });
    (url, rx)
}

/// Accepts `conns` connections and returns everything each one sent, read to EOF.
fn tcp_sink(conns: usize) -> (String, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..conns {
            let (mut s, _) = listener.accept().unwrap();
            let tx = tx.clone();
            thread::spawn(move || {
                let mut all = Vec::new();
                s.read_to_end(&mut all).unwrap();
                let _ = tx.send(all);
            });
        }
    });
    (url, rx)
}

fn recv(rx: &mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the connection ended")
}

#[test]
fn octet_counted_frames_parse_back_to_exactly_n_messages() {
    let (url, rx) = tcp_sink(1);
    let flags = ["-n", "50", "--seed", "3", "--format", "rfc5424"];
    let out = emit(&[&["--transport", "tcp", "--url", &url], &flags[..]].concat());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("sent: 50\n"), "{stdout}");
    assert!(stdout.contains("ack: none"), "{stdout}");
    let data = recv(&rx);
    assert!(
        stdout.contains(&format!("bytes: {}\n", data.len())),
        "{stdout}"
    );
    let frames = octet_frames(&data);
    assert_eq!(frames.len(), 50);
    assert!(frames
        .iter()
        .all(|m| m.starts_with('<') && m.contains(">1 20")));
    assert_eq!(frames, http_lines(&flags));
}

#[test]
fn lf_framing_is_one_line_per_message() {
    let (url, rx) = tcp_sink(1);
    let flags = ["-n", "40", "--seed", "4", "--partial-ratio", "0.3"];
    let args = [
        &["--transport", "tcp", "--framing", "lf", "--url", &url],
        &flags[..],
    ]
    .concat();
    let out = emit(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("sent: 40\n"));
    let data = text(&recv(&rx));
    assert!(data.ends_with('\n'));
    let lines: Vec<String> = data.lines().map(str::to_string).collect();
    assert_eq!(lines, http_lines(&flags));
}

#[test]
fn udp_sends_one_message_per_datagram() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let url = format!("udp://{}", sock.local_addr().unwrap());
    let flags = ["-n", "20", "--seed", "5"];
    let out = emit(&[&["--transport", "udp", "--url", &url], &flags[..]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("sent: 20\n"));
    let mut buf = vec![0u8; 65_536];
    let got: Vec<String> = (0..20)
        .map(|_| {
            let n = sock.recv(&mut buf).expect("a datagram");
            text(&buf[..n])
        })
        .collect();
    assert_eq!(got, http_lines(&flags));
}

#[test]
fn flood_over_two_connections_sends_what_the_listener_counts() {
    let (url, rx) = tcp_frame_counter(2);
    let out = emit(&[
        "--transport",
        "tcp",
        "--url",
        &url,
        "--concurrency",
        "2",
        "--duration",
        "1s",
        "-q",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent > 0, "{summary}");
    assert_eq!(summary["connections"], 2, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(
        (summary["mode"].as_str(), summary["framing"].as_str()),
        (Some("flood"), Some("octet"))
    );
    assert!(summary.get("latency_ms").is_none() && summary.get("accepted").is_none());
    let wait = Duration::from_secs(60);
    let (a, b) = (
        rx.recv_timeout(wait).unwrap(),
        rx.recv_timeout(wait).unwrap(),
    );
    assert_eq!(a.0 + b.0, sent, "{summary}");
    assert_eq!(a.1 + b.1, summary["bytes"].as_u64().unwrap(), "{summary}");
    assert!(summary["messages_per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn paced_tcp_stops_at_the_count() {
    let (url, rx) = tcp_sink(1);
    let out = emit(&[
        "--transport",
        "tcp",
        "--url",
        &url,
        "--eps",
        "500",
        "-n",
        "60",
        "--framing",
        "lf",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (summary["sent"].as_u64(), summary["mode"].as_str()),
        (Some(60), Some("paced"))
    );
    assert_eq!(text(&recv(&rx)).lines().count(), 60);
}

#[test]
fn udp_flood_uses_one_socket_per_worker() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("udp://{}", sock.local_addr().unwrap());
    let out = emit(&[
        "--transport",
        "udp",
        "--url",
        &url,
        "--concurrency",
        "2",
        "--duration",
        "300ms",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(summary["sent"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["sockets"], 2, "{summary}");
    assert_eq!(summary["transport"], "udp", "{summary}");
}

#[test]
fn dry_run_prints_the_wire_bytes() {
    let flags = ["-n", "5", "--seed", "1"];
    let tcp = emit(
        &[
            &[
                "--transport",
                "tcp",
                "--url",
                "tcp://127.0.0.1:9",
                "--dry-run",
            ],
            &flags[..],
        ]
        .concat(),
    );
    assert!(tcp.status.success(), "{}", text(&tcp.stderr));
    let first = text(&tcp.stdout);
    let (len, rest) = first.split_once(' ').unwrap();
    assert!(
        len.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with('<'),
        "{first}"
    );
    assert_eq!(octet_frames(&tcp.stdout), http_lines(&flags));
    let again = emit(
        &[
            &[
                "--transport",
                "tcp",
                "--url",
                "tcp://127.0.0.1:9",
                "--dry-run",
            ],
            &flags[..],
        ]
        .concat(),
    );
    assert_eq!(tcp.stdout, again.stdout);
    let udp = emit(
        &[
            &[
                "--transport",
                "udp",
                "--url",
                "udp://127.0.0.1:9",
                "--dry-run",
            ],
            &flags[..],
        ]
        .concat(),
    );
    assert_eq!(
        text(&udp.stdout).lines().collect::<Vec<_>>(),
        http_lines(&flags)
    );
}

#[test]
fn misused_flags_and_a_dead_port_exit_2() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("tcp://{}", l.local_addr().unwrap())
    };
    let cases: [(&[&str], &str); 6] = [
        (&["--transport", "tcp", "-n", "1"], "tcp://HOST:PORT"),
        (
            &["--url", "tcp://127.0.0.1:5514", "-n", "1"],
            "add --transport tcp",
        ),
        (
            &[
                "--transport",
                "udp",
                "--url",
                "udp://127.0.0.1:9",
                "--framing",
                "lf",
            ],
            "--framing",
        ),
        (&["--framing", "octet", "-n", "1"], "--framing"),
        (
            &[
                "--transport",
                "tcp",
                "--url",
                "tcp://127.0.0.1:9",
                "--ca",
                "x.pem",
            ],
            "--ca",
        ),
        (
            &["--transport", "tcp", "--url", &dead, "-n", "1"],
            "connection refused",
        ),
    ];
    for (args, needle) in cases {
        let out = emit(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}
