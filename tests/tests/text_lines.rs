//! `text/plain` bodies (SPEC §2.3) through the real gateway: RFC 5424, RFC 3164
//! (with and without PRI), the simple `date [LEVEL] [HOST APP[PID]:] msg` form,
//! free text with and without a leading level word, blank lines, CRLF and
//! lossy UTF-8 decoding.

use logops_e2e::{assert_head, assert_levels, text_of, Gateway, Resp, UtcTime};
use serde_json::{json, Value};

/// Asserts a 200 with `accepted == n` and returns the response JSON.
fn accepted(r: &Resp, n: u64) -> Value {
    assert_eq!(r.status, 200, "expected 200, got {}: {}", r.status, r.text);
    let j = r.json();
    assert_eq!(j["accepted"], json!(n), "accepted in {j}");
    j
}

#[test]
fn text_rfc5424_lines_give_ts_level_and_header_fields() {
    let gw = Gateway::start();
    let body = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su 1234 ID47 - 'su root' failed for lonvick on /dev/pts/8\n\
        <165>1 2003-08-24T05:14:15.000003-07:00 web-7 myproc 8710 EVT [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] It's time to make the do-nothing.\n\
        <15>1 2024-05-01T12:00:00Z h1 a1 1 M1 - debug line\n\
        <12>1 2024-05-01T12:00:00Z h1 a1 1 M1 - warn line\n";
    let j = accepted(&gw.ingest("text/plain", body), 4);
    assert_eq!(j["missing_ts"], 0);
    assert_eq!(j["missing_level"], 0);
    assert_levels(&j, &[("ERROR", 1), ("INFO", 1), ("DEBUG", 1), ("WARN", 1)]);
    let recs = gw.stored_records();
    let r = &recs[0];
    assert_head(r);
    assert_eq!(r["ts"], "2003-10-11T22:14:15.003Z");
    assert_eq!(r["level"], "ERROR", "PRI 34 = severity 2");
    assert_eq!(r["msg"], "'su root' failed for lonvick on /dev/pts/8");
    assert_eq!(r["host"], "mymachine.example.com");
    assert_eq!(r["app"], "su");
    assert_eq!(text_of(&r["procid"]), "1234");
    assert_eq!(r["msgid"], "ID47");
    let r = &recs[1];
    assert_eq!(
        r["ts"], "2003-08-24T12:14:15.000003Z",
        "offset applied, 6 digits kept"
    );
    assert_eq!(r["level"], "INFO", "PRI 165 = severity 5 (notice)");
    assert_eq!(r["msg"], "It's time to make the do-nothing.");
    assert_eq!(r["host"], "web-7");
    assert_eq!(r["app"], "myproc");
    assert_eq!(text_of(&r["procid"]), "8710");
    assert_eq!(r["msgid"], "EVT");
    assert_eq!(
        (recs[2]["level"].as_str(), recs[2]["msg"].as_str()),
        (Some("DEBUG"), Some("debug line"))
    );
    assert_eq!(
        (recs[3]["level"].as_str(), recs[3]["msg"].as_str()),
        (Some("WARN"), Some("warn line"))
    );
}

#[test]
fn text_rfc3164_lines_with_and_without_pri() {
    let gw = Gateway::start();
    let year = UtcTime::now().year;
    let body =
        "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8\n\
        <13>Feb  5 01:02:03 host2 cron: job done\n\
        Mar 14 15:09:26 web03 sshd[42]: Accepted publickey for deploy\n";
    let j = accepted(&gw.ingest("text/plain", body), 3);
    assert_eq!(j["missing_ts"], 0);
    assert_eq!(
        j["missing_level"], 1,
        "only the line without PRI lacks a level"
    );
    let recs = gw.stored_records();
    let r = &recs[0];
    assert_eq!(r["ts"], format!("{year}-10-11T22:14:15Z"));
    assert_eq!(r["level"], "ERROR");
    assert_eq!(r["host"], "mymachine");
    assert_eq!(r["app"], "su");
    assert_eq!(text_of(&r["procid"]), "230");
    assert_eq!(r["msg"], "'su root' failed for lonvick on /dev/pts/8");
    let r = &recs[1];
    assert_eq!(
        r["ts"],
        format!("{year}-02-05T01:02:03Z"),
        "space-padded day"
    );
    assert_eq!(r["level"], "INFO", "PRI 13 = severity 5");
    assert_eq!(r["host"], "host2");
    assert_eq!(r["app"], "cron");
    assert_eq!(r["msg"], "job done");
    let r = &recs[2];
    assert_eq!(r["ts"], format!("{year}-03-14T15:09:26Z"));
    assert_eq!(r["level"], "INFO");
    assert_eq!(r["host"], "web03");
    assert_eq!(r["app"], "sshd");
    assert_eq!(text_of(&r["procid"]), "42");
    assert_eq!(r["msg"], "Accepted publickey for deploy");
}

#[test]
fn text_simple_form_with_level_words_and_host_app_prefix() {
    let gw = Gateway::start();
    let body = "2024-05-01T12:00:00Z ERROR web01 nginx[77]: upstream timed out\n\
        2024-05-01 12:00:00.250 warning disk almost full\n\
        2024-05-01T14:00:00+02:00 something happened\n\
        2024-05-01T12:00:00.5Z Critical db down\n\
        2024-05-01 12:00:00 trace entering loop\n\
        2024-05-01T13:00:00+0100 NOTICE rotated logs\n";
    let j = accepted(&gw.ingest("text/plain", body), 6);
    assert_eq!(j["missing_ts"], 0);
    assert_eq!(j["missing_level"], 1);
    let recs = gw.stored_records();
    let r = &recs[0];
    assert_eq!(r["ts"], "2024-05-01T12:00:00Z");
    assert_eq!(r["level"], "ERROR");
    assert_eq!(r["host"], "web01");
    assert_eq!(r["app"], "nginx");
    assert_eq!(text_of(&r["pid"]), "77");
    assert_eq!(r["msg"], "upstream timed out");
    let expect = [
        ("2024-05-01T12:00:00.250Z", "WARN", "disk almost full"),
        ("2024-05-01T12:00:00Z", "INFO", "something happened"),
        ("2024-05-01T12:00:00.5Z", "ERROR", "db down"),
        ("2024-05-01T12:00:00Z", "DEBUG", "entering loop"),
        ("2024-05-01T12:00:00Z", "INFO", "rotated logs"),
    ];
    for (r, (ts, level, msg)) in recs[1..].iter().zip(expect) {
        assert_eq!(
            (r["ts"].as_str(), r["level"].as_str(), r["msg"].as_str()),
            (Some(ts), Some(level), Some(msg)),
            "{r}"
        );
    }
}

#[test]
fn text_free_text_and_leading_level_word() {
    let gw = Gateway::start();
    let before = UtcTime::now().rfc3339_millis();
    let body =
        "just some words\nERROR disk failure on sda\nWarning low memory\nerrors were found\n";
    let j = accepted(&gw.ingest("text/plain", body), 4);
    let after = UtcTime::now().rfc3339_millis();
    assert_eq!(j["missing_ts"], 4);
    assert_eq!(
        j["missing_level"], 2,
        "only the lines without a leading level word"
    );
    let recs = gw.stored_records();
    assert_eq!(
        (recs[0]["level"].as_str(), recs[0]["msg"].as_str()),
        (Some("INFO"), Some("just some words"))
    );
    assert_eq!(recs[1]["level"], "ERROR");
    assert!(
        text_of(&recs[1]["msg"]).ends_with("disk failure on sda"),
        "{}",
        recs[1]
    );
    assert_eq!(recs[2]["level"], "WARN");
    assert!(
        text_of(&recs[2]["msg"]).ends_with("low memory"),
        "{}",
        recs[2]
    );
    // "errors" is not a level word: the line is free text.
    assert_eq!(
        (recs[3]["level"].as_str(), recs[3]["msg"].as_str()),
        (Some("INFO"), Some("errors were found"))
    );
    for r in &recs {
        let ts = r["ts"].as_str().unwrap();
        assert!(
            before.as_str() <= ts && ts <= after.as_str(),
            "receive time {ts} not in [{before}, {after}]"
        );
    }
}

#[test]
fn text_skips_blank_lines_strips_crlf_and_decodes_lossily() {
    let gw = Gateway::start();
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "text/plain; charset=utf-8")],
        b"first line\r\n\r\n   \r\nsecond \xff line\r\n",
    );
    accepted(&r, 2);
    let recs = gw.stored_records();
    assert_eq!(recs[0]["msg"], "first line");
    assert_eq!(recs[1]["msg"], "second \u{fffd} line");
}
