//! Normalization (SPEC §2.1–§2.2) observed on disk: level and msg aliases and
//! their precedence, every row of the level map, `level_raw`, key order, emitter
//! and scenario. Timestamps are in `timestamps.rs`.

use logops_e2e::{assert_head, assert_levels, keys_of, tail_keys, Gateway};
use serde_json::{json, Value};

#[test]
fn level_aliases_and_precedence() {
    let gw = Gateway::start();
    let (j, recs) = gw.ingest_records(
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
    assert_eq!(
        tail_keys(&recs[4]),
        ["lvl"],
        "null alias is not present, stays as a field"
    );
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
    let (j, recs) = gw.ingest_records(&[], &records);
    for (r, (w, want)) in recs.iter().zip(words) {
        assert_eq!(r["level"], *want, "level {w} → {r}");
        assert!(
            r.get("level_raw").is_none(),
            "no level_raw for known level {w}: {r}"
        );
    }
    assert_eq!(j["missing_level"], 0);
    assert_levels(&j, &[("DEBUG", 5), ("INFO", 8), ("WARN", 4), ("ERROR", 14)]);
}

#[test]
fn unknown_levels_become_info_with_level_raw() {
    let gw = Gateway::start();
    let raws = [
        json!("verbose"),
        json!("VERBOSE"),
        json!(true),
        json!(8),
        json!(-1),
        json!(2.5),
        json!("errors"),
    ];
    let records: Vec<Value> = raws
        .iter()
        .map(|l| json!({"msg": "m", "level": l, "extra": 1}))
        .collect();
    let (j, recs) = gw.ingest_records(&[], &records);
    assert_eq!(
        j["missing_level"], 0,
        "a present but unknown level is not missing"
    );
    assert_levels(&j, &[("INFO", raws.len() as u64)]);
    for (r, raw) in recs.iter().zip(&raws) {
        assert_eq!(r["level"], "INFO");
        assert_eq!(&r["level_raw"], raw, "{r}");
        assert_eq!(
            tail_keys(r),
            ["level_raw", "extra"],
            "level_raw before other fields"
        );
    }
}

#[test]
fn absent_level_is_info_and_counted() {
    let gw = Gateway::start();
    let (j, recs) = gw.ingest_records(
        &[],
        &[json!({"msg": "a"}), json!({"msg": "b", "level": "warn"})],
    );
    assert_eq!(j["missing_level"], 1);
    assert_eq!(recs[0]["level"], "INFO");
    assert!(recs[0].get("level_raw").is_none());
}

#[test]
fn msg_aliases_precedence_and_non_string_messages() {
    let gw = Gateway::start();
    let (_, recs) = gw.ingest_records(
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
    let msgs: Vec<&str> = recs
        .iter()
        .map(|r| r["msg"].as_str().expect("msg is a string"))
        .collect();
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
        assert_eq!(
            tail_keys(r),
            Vec::<&str>::new(),
            "supplying key consumed: {r}"
        );
    }
    assert_eq!(tail_keys(&recs[5]), ["message"]);
    assert_eq!(recs[5]["message"], "");
    assert_eq!(tail_keys(&recs[6]), ["log"]);
    assert_eq!(recs[6]["log"], "l");
}

#[test]
fn key_order_drops_underscore_keys_and_keeps_input_order() {
    let gw = Gateway::start();
    let rec = json!({"zeta": 1, "_secret": "x", "msg": "m", "alpha": {"k": "v"}, "level": "bogus",
        "ts": "garbage", "mid": [1, 2], "_x": 2, "beta": null});
    let (_, recs) = gw.ingest_records(&[], &[rec]);
    assert_eq!(
        keys_of(&recs[0]),
        [
            "ts",
            "level",
            "msg",
            "emitter",
            "scenario_id",
            "ts_raw",
            "level_raw",
            "zeta",
            "alpha",
            "mid",
            "beta"
        ]
    );
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
    assert_eq!(
        (j["emitter"].as_str(), j["scenario"].as_str()),
        (Some("unknown"), Some("na"))
    );
    let j = post(&[("x-emitter", "e1"), ("x-scenario", "s-old")]);
    assert_eq!(
        (j["emitter"].as_str(), j["scenario"].as_str()),
        (Some("e1"), Some("s-old"))
    );
    let j = post(&[
        ("X-Emitter", "e2"),
        ("X-Scenario-Id", "s-new"),
        ("X-Scenario", "s-old"),
    ]);
    assert_eq!(
        (j["emitter"].as_str(), j["scenario"].as_str()),
        (Some("e2"), Some("s-new"))
    );
    let got: Vec<(String, String)> = gw
        .stored_records()
        .iter()
        .map(|r| {
            (
                r["emitter"].as_str().unwrap().into(),
                r["scenario_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [("unknown", "na"), ("e1", "s-old"), ("e2", "s-new")];
    assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
}

#[test]
fn record_level_emitter_and_scenario_win_when_non_empty_strings() {
    let gw = Gateway::start();
    let (j, recs) = gw.ingest_records(
        &[("x-emitter", "hdr-em"), ("x-scenario-id", "hdr-sc")],
        &[
            json!({"msg": "a"}),
            json!({"msg": "b", "emitter": "rec-em", "scenario_id": "rec-sc"}),
            json!({"msg": "c", "emitter": "", "scenario_id": 5}),
        ],
    );
    assert_eq!(
        (j["emitter"].as_str(), j["scenario"].as_str()),
        (Some("hdr-em"), Some("hdr-sc"))
    );
    let got: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["emitter"].as_str().unwrap(),
                r["scenario_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("hdr-em", "hdr-sc"),
            ("rec-em", "rec-sc"),
            ("hdr-em", "hdr-sc")
        ]
    );
    assert_head(&recs[1]);
    for line in gw.stored_lines() {
        assert_eq!(
            line.matches("\"emitter\":").count(),
            1,
            "one emitter key: {line}"
        );
        assert_eq!(
            line.matches("\"scenario_id\":").count(),
            1,
            "one scenario_id key: {line}"
        );
    }
}
