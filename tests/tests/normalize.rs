//! Normalization (SPEC §2.1–§2.2) observed on disk: every ts/level/msg alias and
//! its precedence, every row of the level map, every timestamp form, `ts_raw` /
//! `level_raw`, the missing/invalid counters, key order, emitter and scenario.

use logops_e2e::{assert_head, assert_levels, is_rfc3339_millis_z, keys_of, Gateway, UtcTime};
use serde_json::{json, Value};

/// Posts `records` as one JSON array with `headers` (plus the content type);
/// asserts all were accepted; returns the response JSON and the stored records.
fn ingest(gw: &Gateway, headers: &[(&str, &str)], records: &[Value]) -> (Value, Vec<Value>) {
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(headers);
    let r = gw.post("/v1/logs", &h, Value::from(records.to_vec()).to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.text);
    let j = r.json();
    assert_eq!(j["accepted"], json!(records.len()), "{j}");
    let stored = gw.stored_records();
    assert_eq!(stored.len(), records.len(), "stored: {stored:?}");
    (j, stored)
}

/// Keys of `rec` after the fixed head (ts, level, msg, emitter, scenario_id).
fn tail_keys(rec: &Value) -> Vec<&str> {
    assert_head(rec);
    keys_of(rec)[5..].to_vec()
}

#[test]
fn ts_aliases_precedence_and_presence() {
    let gw = Gateway::start();
    let (j, recs) = ingest(
        &gw,
        &[],
        &[
            json!({"timestamp": "2024-05-01T12:00:00Z", "msg": "a"}),
            json!({"time": "2024-05-01T12:00:01Z", "msg": "b"}),
            json!({"@timestamp": "2024-05-01T12:00:02Z", "msg": "c"}),
            json!({"timestamp": "2020-01-01T00:00:00Z", "ts": "2024-05-01T12:00:03Z", "msg": "d"}),
            json!({"time": "2024-05-01T12:00:04Z", "@timestamp": "x", "timestamp": null, "msg": "e"}),
            json!({"timestamp": "   ", "@timestamp": "2024-05-01T12:00:05Z", "msg": "f"}),
        ],
    );
    assert_eq!((j["missing_ts"].as_u64(), j["invalid_ts"].as_u64()), (Some(0), Some(0)), "{j}");
    let ts: Vec<&str> = recs.iter().map(|r| r["ts"].as_str().unwrap()).collect();
    assert_eq!(
        ts,
        [
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:01Z",
            "2024-05-01T12:00:02Z",
            "2024-05-01T12:00:03Z",
            "2024-05-01T12:00:04Z",
            "2024-05-01T12:00:05Z"
        ]
    );
    // The key that supplied ts is consumed; other alias keys stay, in input order.
    for r in &recs[..3] {
        assert_eq!(tail_keys(r), Vec::<&str>::new(), "{r}");
    }
    assert_eq!(tail_keys(&recs[3]), ["timestamp"]);
    assert_eq!(recs[3]["timestamp"], "2020-01-01T00:00:00Z");
    assert_eq!(tail_keys(&recs[4]), ["@timestamp", "timestamp"]);
    assert_eq!((&recs[4]["@timestamp"], &recs[4]["timestamp"]), (&json!("x"), &Value::Null));
    assert_eq!(tail_keys(&recs[5]), ["timestamp"]);
    assert_eq!(recs[5]["timestamp"], "   ");
}

#[test]
fn level_aliases_and_precedence() {
    let gw = Gateway::start();
    let (j, recs) = ingest(
        &gw,
        &[],
        &[
            json!({"lvl": "warn"}),
            json!({"severity": "error"}),
            json!({"loglevel": "debug"}),
            json!({"severity": "error", "level": "info"}),
            json!({"lvl": null, "severity": "warn"}),
        ],
    );
    assert_eq!(j["missing_level"], 0);
    let levels: Vec<&str> = recs.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["WARN", "ERROR", "DEBUG", "INFO", "WARN"]);
    assert_eq!(tail_keys(&recs[0]), Vec::<&str>::new());
    assert_eq!(tail_keys(&recs[3]), ["severity"], "unused alias stays");
    assert_eq!(recs[3]["severity"], "error");
    assert_eq!(tail_keys(&recs[4]), ["lvl"], "null alias is not present, stays as a field");
    assert_eq!(recs[4]["lvl"], Value::Null);
    assert!(recs.iter().all(|r| r.get("level_raw").is_none()));
}

#[test]
fn every_level_word_and_syslog_number_maps() {
    let gw = Gateway::start();
    let words: &[(Value, &str)] = &[
        (json!("trace"), "DEBUG"),
        (json!("debug"), "DEBUG"),
        (json!("info"), "INFO"),
        (json!("information"), "INFO"),
        (json!("informational"), "INFO"),
        (json!("notice"), "INFO"),
        (json!("warn"), "WARN"),
        (json!("warning"), "WARN"),
        (json!("error"), "ERROR"),
        (json!("err"), "ERROR"),
        (json!("fatal"), "ERROR"),
        (json!("critical"), "ERROR"),
        (json!("crit"), "ERROR"),
        (json!("alert"), "ERROR"),
        (json!("emerg"), "ERROR"),
        (json!("emergency"), "ERROR"),
        (json!("panic"), "ERROR"),
        (json!("TRACE"), "DEBUG"),
        (json!("Info"), "INFO"),
        (json!("WaRnInG"), "WARN"),
        (json!(" error "), "ERROR"),
        (json!("\tdebug\n"), "DEBUG"),
        (json!("NOTICE"), "INFO"),
        (json!(0), "ERROR"),
        (json!(1), "ERROR"),
        (json!(2), "ERROR"),
        (json!(3), "ERROR"),
        (json!(4), "WARN"),
        (json!(5), "INFO"),
        (json!(6), "INFO"),
        (json!(7), "DEBUG"),
    ];
    let records: Vec<Value> = words
        .iter()
        .enumerate()
        .map(|(i, (w, _))| json!({"level": w, "msg": format!("case {i}")}))
        .collect();
    let (j, recs) = ingest(&gw, &[], &records);
    for (r, (w, want)) in recs.iter().zip(words) {
        assert_eq!(r["level"], *want, "level {w} → {r}");
        assert!(r.get("level_raw").is_none(), "no level_raw for known level {w}: {r}");
    }
    assert_eq!(j["missing_level"], 0);
    assert_levels(&j, &[("DEBUG", 5), ("INFO", 8), ("WARN", 4), ("ERROR", 14)]);
}

#[test]
fn unknown_levels_become_info_with_level_raw() {
    let gw = Gateway::start();
    let raws = [json!("verbose"), json!("VERBOSE"), json!(true), json!(8), json!(-1), json!(2.5), json!("errors")];
    let records: Vec<Value> = raws.iter().map(|l| json!({"msg": "m", "level": l, "extra": 1})).collect();
    let (j, recs) = ingest(&gw, &[], &records);
    assert_eq!(j["missing_level"], 0, "a present but unknown level is not missing");
    assert_levels(&j, &[("INFO", raws.len() as u64)]);
    for (r, raw) in recs.iter().zip(&raws) {
        assert_eq!(r["level"], "INFO");
        assert_eq!(&r["level_raw"], raw, "{r}");
        assert_eq!(tail_keys(r), ["level_raw", "extra"], "level_raw before other fields");
    }
}

#[test]
fn absent_level_is_info_and_counted() {
    let gw = Gateway::start();
    let (j, recs) = ingest(&gw, &[], &[json!({"msg": "a"}), json!({"msg": "b", "level": "warn"})]);
    assert_eq!(j["missing_level"], 1);
    assert_eq!(recs[0]["level"], "INFO");
    assert!(recs[0].get("level_raw").is_none());
}

#[test]
fn msg_aliases_precedence_and_non_string_messages() {
    let gw = Gateway::start();
    let (_, recs) = ingest(
        &gw,
        &[],
        &[
            json!({"message": "from message"}),
            json!({"msg": "from msg"}),
            json!({"log": "from log"}),
            json!({"raw": "from raw"}),
            json!({"text": "from text"}),
            json!({"message": "", "msg": "second wins"}),
            json!({"log": "l", "msg": "msg before log"}),
            json!({"message": {"a": 1, "b": [1, 2]}}),
            json!({"msg": 42}),
            json!({"other": "no message"}),
        ],
    );
    let msgs: Vec<&str> = recs.iter().map(|r| r["msg"].as_str().expect("msg is a string")).collect();
    assert_eq!(
        msgs,
        [
            "from message",
            "from msg",
            "from log",
            "from raw",
            "from text",
            "second wins",
            "msg before log",
            r#"{"a":1,"b":[1,2]}"#,
            "42",
            ""
        ]
    );
    for r in &recs[..5] {
        assert_eq!(tail_keys(r), Vec::<&str>::new(), "supplying key consumed: {r}");
    }
    assert_eq!(tail_keys(&recs[5]), ["message"]);
    assert_eq!(recs[5]["message"], "");
    assert_eq!(tail_keys(&recs[6]), ["log"]);
    assert_eq!(recs[6]["log"], "l");
}

#[test]
fn timestamp_forms_are_normalized_keeping_sub_second_digits() {
    let gw = Gateway::start();
    let year = UtcTime::now().year;
    let cases: Vec<(Value, String)> = [
        (json!("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T12:00:00.5Z"), "2024-05-01T12:00:00.5Z"),
        (json!("2024-05-01T12:00:00.100Z"), "2024-05-01T12:00:00.100Z"),
        (json!("2024-05-01T12:00:00.123456Z"), "2024-05-01T12:00:00.123456Z"),
        (json!("2024-05-01T12:00:00.123456789Z"), "2024-05-01T12:00:00.123456789Z"),
        (json!("2024-05-01T14:30:00+02:30"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T08:00:00-04:00"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T14:00:00+0200"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T06:30:00.25-0530"), "2024-05-01T12:00:00.25Z"),
        (json!("2024-05-01T12:00:00"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T12:00:00.75"), "2024-05-01T12:00:00.75Z"),
        (json!("2024-05-01 12:00:00"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01 12:00:00.250"), "2024-05-01T12:00:00.250Z"),
        (json!("2024-05-01 13:00:00+01:00"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01 12:00:00Z"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T01:00:00+02:00"), "2024-04-30T23:00:00Z"),
        (json!("2024-02-29T23:30:00-01:00"), "2024-03-01T00:30:00Z"),
        (json!(1_700_000_000), "2023-11-14T22:13:20Z"),
        (json!(1_700_000_000.5), "2023-11-14T22:13:20.5Z"),
        (json!(1_700_000_000_123u64), "2023-11-14T22:13:20.123Z"),
        (json!(1_700_000_000_100u64), "2023-11-14T22:13:20.100Z"),
        (json!(1_700_000_000_123_456u64), "2023-11-14T22:13:20.123456Z"),
        (json!(1_700_000_000_123_456_789u64), "2023-11-14T22:13:20.123456789Z"),
        (json!("1700000000"), "2023-11-14T22:13:20Z"),
        (json!("1700000000.25"), "2023-11-14T22:13:20.25Z"),
        (json!("1700000000123"), "2023-11-14T22:13:20.123Z"),
        (json!("1700000000123456"), "2023-11-14T22:13:20.123456Z"),
        (json!("1700000000123456789"), "2023-11-14T22:13:20.123456789Z"),
        (json!("Oct 11 22:14:15"), "-10-11T22:14:15Z"),
        (json!("Feb  5 01:02:03"), "-02-05T01:02:03Z"),
    ]
    .into_iter()
    .map(|(v, s)| (v, if s.starts_with('-') { format!("{year}{s}") } else { s.to_string() }))
    .collect();
    let records: Vec<Value> = cases.iter().map(|(v, _)| json!({"ts": v, "msg": v.to_string()})).collect();
    let (j, recs) = ingest(&gw, &[], &records);
    for (r, (input, want)) in recs.iter().zip(&cases) {
        assert_eq!(r["ts"], *want, "ts input {input}");
        assert!(r.get("ts_raw").is_none(), "valid ts {input} has no ts_raw: {r}");
    }
    assert_eq!((j["missing_ts"].as_u64(), j["invalid_ts"].as_u64()), (Some(0), Some(0)), "{j}");
}

#[test]
fn epoch_unit_boundaries() {
    let gw = Gateway::start();
    let cases = [
        (99_999_999_999u64, "5138-11-16T09:46:39Z"),
        (100_000_000_000, "1973-03-03T09:46:40.000Z"),
        (99_999_999_999_999, "5138-11-16T09:46:39.999Z"),
        (100_000_000_000_000, "1973-03-03T09:46:40.000000Z"),
        (99_999_999_999_999_999, "5138-11-16T09:46:39.999999Z"),
        (100_000_000_000_000_000, "1973-03-03T09:46:40.000000000Z"),
    ];
    let records: Vec<Value> = cases.iter().map(|(n, _)| json!({"ts": n})).collect();
    let (_, recs) = ingest(&gw, &[], &records);
    for (r, (n, want)) in recs.iter().zip(cases) {
        assert_eq!(r["ts"], want, "epoch {n}");
    }
}

#[test]
fn unparseable_ts_keeps_ts_raw_and_uses_receive_time() {
    let gw = Gateway::start();
    let raws = [json!("not a date"), json!("2024-13-01T00:00:00Z"), json!("2024-05-01T25:00:00Z"), json!(true)];
    let records: Vec<Value> = raws.iter().map(|t| json!({"ts": t, "level": "bogus", "k": 1})).collect();
    let before = UtcTime::now().rfc3339_millis();
    let (j, recs) = ingest(&gw, &[], &records);
    let after = UtcTime::now().rfc3339_millis();
    assert_eq!(j["invalid_ts"], 4);
    assert_eq!(j["missing_ts"], 0, "present but invalid is not missing");
    for (r, raw) in recs.iter().zip(&raws) {
        let ts = r["ts"].as_str().unwrap();
        assert!(is_rfc3339_millis_z(ts), "receive time format: {ts}");
        assert!(before.as_str() <= ts && ts <= after.as_str(), "{ts} not in [{before}, {after}]");
        assert_eq!(&r["ts_raw"], raw);
        assert_eq!(tail_keys(r), ["ts_raw", "level_raw", "k"], "ts_raw, level_raw, then fields");
    }
    assert_eq!(j["ts"].as_str().map(is_rfc3339_millis_z), Some(true), "response ts: {j}");
}

#[test]
fn absent_ts_uses_receive_time_and_is_counted() {
    let gw = Gateway::start();
    let before = UtcTime::now().rfc3339_millis();
    let (j, recs) = ingest(&gw, &[], &[json!({"msg": "x"}), json!({"msg": "y", "ts": null}), json!({"ts": "2024-05-01T12:00:00Z"})]);
    let after = UtcTime::now().rfc3339_millis();
    assert_eq!((j["missing_ts"].as_u64(), j["invalid_ts"].as_u64()), (Some(2), Some(0)), "{j}");
    for r in &recs[..2] {
        let ts = r["ts"].as_str().unwrap();
        assert!(is_rfc3339_millis_z(ts) && before.as_str() <= ts && ts <= after.as_str(), "{ts}");
        assert!(r.get("ts_raw").is_none());
    }
    for line in gw.stored_lines() {
        assert_eq!(line.matches("\"ts\":").count(), 1, "one ts key: {line}");
    }
}

#[test]
fn key_order_drops_underscore_keys_and_keeps_input_order() {
    let gw = Gateway::start();
    let rec = json!({"zeta": 1, "_secret": "x", "msg": "m", "alpha": {"k": "v"}, "level": "bogus",
        "ts": "garbage", "mid": [1, 2], "_x": 2, "beta": null});
    let (_, recs) = ingest(&gw, &[], &[rec]);
    assert_eq!(keys_of(&recs[0]), ["ts", "level", "msg", "emitter", "scenario_id", "ts_raw", "level_raw", "zeta", "alpha", "mid", "beta"]);
    assert_eq!(recs[0]["alpha"], json!({"k": "v"}));
    assert_eq!(recs[0]["mid"], json!([1, 2]));
}

#[test]
fn emitter_and_scenario_defaults_and_headers() {
    let gw = Gateway::start();
    let post = |headers: &[(&str, &str)]| {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        let r = gw.post("/v1/logs", &h, br#"{"msg":"x"}"#);
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    };
    let j = post(&[]);
    assert_eq!((j["emitter"].as_str(), j["scenario"].as_str()), (Some("unknown"), Some("na")));
    let j = post(&[("x-emitter", "e1"), ("x-scenario", "s-old")]);
    assert_eq!((j["emitter"].as_str(), j["scenario"].as_str()), (Some("e1"), Some("s-old")));
    let j = post(&[("X-Emitter", "e2"), ("X-Scenario-Id", "s-new"), ("X-Scenario", "s-old")]);
    assert_eq!((j["emitter"].as_str(), j["scenario"].as_str()), (Some("e2"), Some("s-new")));
    let got: Vec<(String, String)> = gw
        .stored_records()
        .iter()
        .map(|r| (r["emitter"].as_str().unwrap().into(), r["scenario_id"].as_str().unwrap().into()))
        .collect();
    let want = [("unknown", "na"), ("e1", "s-old"), ("e2", "s-new")];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
}

#[test]
fn record_level_emitter_and_scenario_win_when_non_empty_strings() {
    let gw = Gateway::start();
    let (j, recs) = ingest(
        &gw,
        &[("x-emitter", "hdr-em"), ("x-scenario-id", "hdr-sc")],
        &[
            json!({"msg": "a"}),
            json!({"msg": "b", "emitter": "rec-em", "scenario_id": "rec-sc"}),
            json!({"msg": "c", "emitter": "", "scenario_id": 5}),
        ],
    );
    assert_eq!((j["emitter"].as_str(), j["scenario"].as_str()), (Some("hdr-em"), Some("hdr-sc")));
    let got: Vec<(&str, &str)> = recs.iter().map(|r| (r["emitter"].as_str().unwrap(), r["scenario_id"].as_str().unwrap())).collect();
    assert_eq!(got, [("hdr-em", "hdr-sc"), ("rec-em", "rec-sc"), ("hdr-em", "hdr-sc")]);
    assert_head(&recs[1]);
    for line in gw.stored_lines() {
        assert_eq!(line.matches("\"emitter\":").count(), 1, "one emitter key: {line}");
        assert_eq!(line.matches("\"scenario_id\":").count(), 1, "one scenario_id key: {line}");
    }
}
