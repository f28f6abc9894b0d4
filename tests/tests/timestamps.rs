//! Timestamps (SPEC §2.2 `ts`) observed on disk: the aliases and what counts as
//! present, every accepted form with its sub-second digits, epoch units and their
//! boundaries, `ts_raw` / `invalid_ts`, and receive time for missing ones.

use logops_e2e::{is_rfc3339_millis_z, tail_keys, Gateway, UtcTime};
use serde_json::{json, Value};

#[test]
fn ts_aliases_precedence_and_presence() {
    let gw = Gateway::start();
    let (j, recs) = gw.ingest_records(&[],
        &[
            json!({"timestamp": "2024-05-01T12:00:00Z", "msg": "a"}),
            json!({"time": "2024-05-01T12:00:01Z", "msg": "b"}),
            json!({"@timestamp": "2024-05-01T12:00:02Z", "msg": "c"}),
            json!({"timestamp": "2020-01-01T00:00:00Z", "ts": "2024-05-01T12:00:03Z", "msg": "d"}),
            json!({"time": "2024-05-01T12:00:04Z", "@timestamp": "x", "timestamp": null, "msg": "e"}),
            json!({"timestamp": "   ", "@timestamp": "2024-05-01T12:00:05Z", "msg": "f"}),
        ],
    );
    assert_eq!(
        (j["missing_ts"].as_u64(), j["invalid_ts"].as_u64()),
        (Some(0), Some(0)),
        "{j}"
    );
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
    assert_eq!(
        (&recs[4]["@timestamp"], &recs[4]["timestamp"]),
        (&json!("x"), &Value::Null)
    );
    assert_eq!(tail_keys(&recs[5]), ["timestamp"]);
    assert_eq!(recs[5]["timestamp"], "   ");
}

#[test]
fn timestamp_forms_are_normalized_keeping_sub_second_digits() {
    let gw = Gateway::start();
    let year = UtcTime::now().year;
    let cases: Vec<(Value, String)> = [
        (json!("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T12:00:00.5Z"), "2024-05-01T12:00:00.5Z"),
        (
            json!("2024-05-01T12:00:00.100Z"),
            "2024-05-01T12:00:00.100Z",
        ),
        (
            json!("2024-05-01T12:00:00.123456Z"),
            "2024-05-01T12:00:00.123456Z",
        ),
        (
            json!("2024-05-01T12:00:00.123456789Z"),
            "2024-05-01T12:00:00.123456789Z",
        ),
        (json!("2024-05-01T14:30:00+02:30"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T08:00:00-04:00"), "2024-05-01T12:00:00Z"),
        (json!("2024-05-01T14:00:00+0200"), "2024-05-01T12:00:00Z"),
        (
            json!("2024-05-01T06:30:00.25-0530"),
            "2024-05-01T12:00:00.25Z",
        ),
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
        (
            json!(1_700_000_000_123_456u64),
            "2023-11-14T22:13:20.123456Z",
        ),
        (
            json!(1_700_000_000_123_456_789u64),
            "2023-11-14T22:13:20.123456789Z",
        ),
        (json!("1700000000"), "2023-11-14T22:13:20Z"),
        (json!("1700000000.25"), "2023-11-14T22:13:20.25Z"),
        (json!("1700000000123"), "2023-11-14T22:13:20.123Z"),
        (json!("1700000000123456"), "2023-11-14T22:13:20.123456Z"),
        (
            json!("1700000000123456789"),
            "2023-11-14T22:13:20.123456789Z",
        ),
        (json!("Oct 11 22:14:15"), "-10-11T22:14:15Z"),
        (json!("Feb  5 01:02:03"), "-02-05T01:02:03Z"),
    ]
    .into_iter()
    .map(|(v, s)| {
        (
            v,
            if s.starts_with('-') {
                format!("{year}{s}")
            } else {
                s.to_string()
            },
        )
    })
    .collect();
    let records: Vec<Value> = cases
        .iter()
        .map(|(v, _)| json!({"ts": v, "msg": v.to_string()}))
        .collect();
    let (j, recs) = gw.ingest_records(&[], &records);
    for (r, (input, want)) in recs.iter().zip(&cases) {
        assert_eq!(r["ts"], *want, "ts input {input}");
        assert!(
            r.get("ts_raw").is_none(),
            "valid ts {input} has no ts_raw: {r}"
        );
    }
    assert_eq!(
        (j["missing_ts"].as_u64(), j["invalid_ts"].as_u64()),
        (Some(0), Some(0)),
        "{j}"
    );
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
    let (_, recs) = gw.ingest_records(&[], &records);
    for (r, (n, want)) in recs.iter().zip(cases) {
        assert_eq!(r["ts"], want, "epoch {n}");
    }
}

#[test]
fn unparseable_ts_keeps_ts_raw_and_uses_receive_time() {
    let gw = Gateway::start();
    let raws = [
        json!("not a date"),
        json!("2024-13-01T00:00:00Z"),
        json!("2024-05-01T25:00:00Z"),
        json!(true),
    ];
    let records: Vec<Value> = raws
        .iter()
        .map(|t| json!({"ts": t, "level": "bogus", "k": 1}))
        .collect();
    let before = UtcTime::now().rfc3339_millis();
    let (j, recs) = gw.ingest_records(&[], &records);
    let after = UtcTime::now().rfc3339_millis();
    assert_eq!(j["invalid_ts"], 4);
    assert_eq!(j["missing_ts"], 0, "present but invalid is not missing");
    for (r, raw) in recs.iter().zip(&raws) {
        let ts = r["ts"].as_str().unwrap();
        assert!(is_rfc3339_millis_z(ts), "receive time format: {ts}");
        assert!(
            before.as_str() <= ts && ts <= after.as_str(),
            "{ts} not in [{before}, {after}]"
        );
        assert_eq!(&r["ts_raw"], raw);
        assert_eq!(
            tail_keys(r),
            ["ts_raw", "level_raw", "k"],
            "ts_raw, level_raw, then fields"
        );
    }
    assert_eq!(
        j["ts"].as_str().map(is_rfc3339_millis_z),
        Some(true),
        "response ts: {j}"
    );
}

#[test]
fn absent_ts_uses_receive_time_and_is_counted() {
    let gw = Gateway::start();
    let before = UtcTime::now().rfc3339_millis();
    let (j, recs) = gw.ingest_records(
        &[],
        &[
            json!({"msg": "x"}),
            json!({"msg": "y", "ts": null}),
            json!({"ts": "2024-05-01T12:00:00Z"}),
        ],
    );
    let after = UtcTime::now().rfc3339_millis();
    assert_eq!(
        (j["missing_ts"].as_u64(), j["invalid_ts"].as_u64()),
        (Some(2), Some(0)),
        "{j}"
    );
    for r in &recs[..2] {
        let ts = r["ts"].as_str().unwrap();
        assert!(
            is_rfc3339_millis_z(ts) && before.as_str() <= ts && ts <= after.as_str(),
            "{ts}"
        );
        assert!(r.get("ts_raw").is_none());
    }
    for line in gw.stored_lines() {
        assert_eq!(line.matches("\"ts\":").count(), 1, "one ts key: {line}");
    }
}
