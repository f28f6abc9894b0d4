//! Tests of the Loki push decoders: captured agent requests, a protobuf push
//! built here, precedence of line fields / metadata / labels, label text, errors.

use base64::Engine as _;
use serde_json::json;

use super::*;

/// `logproto.PushRequest`, for building protobuf pushes.
#[derive(Clone, PartialEq, prost::Message)]
struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
struct StreamAdapter {
    #[prost(string, tag = "1")]
    labels: String,
    #[prost(message, repeated, tag = "2")]
    entries: Vec<EntryAdapter>,
    #[prost(uint64, tag = "3")]
    hash: u64,
}

fn fixture_bodies(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let req: Value = serde_json::from_str(l).unwrap();
            assert_eq!(req["path"], "/loki/api/v1/push");
            let b64 = req["body_b64"].as_str().unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        })
        .collect()
}

fn values(recs: &[Record]) -> Vec<Value> {
    recs.iter().map(Record::to_value).collect()
}

#[test]
fn fluent_bit_loki_fixture() {
    let bodies = fixture_bodies(include_str!(
        "../../../../tests/fixtures/agents/fluentbit-loki.jsonl"
    ));
    let recs: Vec<Record> = bodies
        .iter()
        .flat_map(|b| decode_json(b, 100).unwrap())
        .collect();
    assert_eq!(recs.len(), 20);
    for r in &recs {
        // The line is the whole record as JSON: merged; its own `time` wins over
        // Fluent Bit's read time (no `ts` added); the `job` label fills in.
        assert_eq!(
            r.to_value(),
            json!({"time":"2026-12-01T07:00:00.123Z","level":"warn",
                "message":"req 7 login for alice@example.com from 203.0.113.7",
                "service":"auth","job":"fluent-bit"})
        );
    }
}

#[test]
fn python_logging_loki_fixture() {
    let bodies = fixture_bodies(include_str!(
        "../../../../tests/fixtures/agents/python-logging-loki.jsonl"
    ));
    let recs: Vec<Record> = bodies
        .iter()
        .flat_map(|b| decode_json(b, 100).unwrap())
        .collect();
    assert_eq!(recs.len(), 3);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["msg"], format!("req {i} login for alice@example.com"));
        assert_eq!(r["severity"], "warning"); // the level, as a label
        assert_eq!(r["application"], "auth");
        assert_eq!(r["service"], "auth");
        assert_eq!(r["logger"], "app");
        assert!(r["ts"].as_str().unwrap().starts_with("1796")); // 2026-12-01
    }
    assert_eq!(recs[0]["ts"], "1796114264131174144");
}

fn entry(secs: i64, nanos: i32, line: &str, meta: &[(&str, &str)]) -> EntryAdapter {
    EntryAdapter {
        timestamp: Some(Timestamp {
            seconds: secs,
            nanos,
        }),
        line: line.into(),
        structured_metadata: meta
            .iter()
            .map(|(n, v)| LabelPairAdapter {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect(),
    }
}

fn snappy_push(streams: Vec<StreamAdapter>) -> Vec<u8> {
    let raw = PushRequest { streams }.encode_to_vec();
    snap::raw::Encoder::new().compress_vec(&raw).unwrap()
}

#[test]
fn protobuf_push_roundtrip() {
    let body = snappy_push(vec![
        StreamAdapter {
            labels: r#"{job="promtail", app="a \"q\" \\ \u00e9\x41", "service.name"=`raw\n`,}"#
                .into(),
            entries: vec![
                entry(
                    1_796_114_225,
                    82_099_432,
                    "plain line",
                    &[("trace_id", "abc"), ("job", "meta")],
                ),
                entry(
                    1,
                    5,
                    r#"{"ts":"2026-12-01T07:00:00Z","level":"info","msg":"m","app":"mine"}"#,
                    &[],
                ),
                entry(0, 7, r#"{"level":"warn","n":1}"#, &[]),
                EntryAdapter {
                    line: "{not json".into(),
                    ..Default::default()
                },
            ],
            hash: 42,
        },
        StreamAdapter {
            labels: "{}".into(),
            entries: vec![entry(2, 0, "x", &[])],
            hash: 0,
        },
    ]);
    let recs = decode_proto(&body, 100).unwrap();
    assert_eq!(
        values(&recs),
        vec![
            json!({"msg":"plain line","ts":"1796114225082099432","trace_id":"abc","job":"meta",
                "app":"a \"q\" \\ éA","service.name":"raw\\n"}),
            json!({"ts":"2026-12-01T07:00:00Z","level":"info","msg":"m","app":"mine",
                "job":"promtail","service.name":"raw\\n"}),
            json!({"level":"warn","n":1,"ts":"7","job":"promtail","app":"a \"q\" \\ éA",
                "service.name":"raw\\n"}),
            json!({"msg":"{not json","job":"promtail","app":"a \"q\" \\ éA","service.name":"raw\\n"}),
            json!({"msg":"x","ts":"2000000000"}),
        ]
    );
}

#[test]
fn protobuf_labels_after_entries_and_unknown_fields() {
    // StreamAdapter with entries (2) before labels (1), plus hash (3).
    let e = entry(3, 0, "l", &[]).encode_to_vec();
    let mut stream = vec![0x12, e.len() as u8];
    stream.extend(&e);
    stream.extend([0x0a, 7]);
    stream.extend(br#"{a="b"}"#);
    stream.extend([0x18, 0x01]);
    let mut raw = vec![0x0a, stream.len() as u8];
    raw.extend(&stream);
    let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
    let recs = decode_proto(&body, 10).unwrap();
    assert_eq!(
        values(&recs),
        vec![json!({"msg":"l","ts":"3000000000","a":"b"})]
    );
}

#[test]
fn json_metadata_and_precedence() {
    let body = br#"{"streams":[{"stream":{"job":"j","env":"prod","level":"label"},"values":[
        ["1","plain",{"trace_id":"t1","env":"meta"}],
        ["2","{\"level\":\"error\",\"msg\":\"inner\"}",{"structuredMetadata":{"user":"u"},"parsed":{"x":"y"}}],
        ["3","x",null]
    ]},{"values":[["4","{\"time\":null}"]]}]}"#;
    let recs = decode_json(body, 10).unwrap();
    assert_eq!(
        values(&recs),
        vec![
            json!({"msg":"plain","ts":"1","trace_id":"t1","env":"meta","job":"j","level":"label"}),
            json!({"level":"error","msg":"inner","ts":"2","user":"u","job":"j","env":"prod"}),
            json!({"msg":"x","ts":"3","job":"j","env":"prod","level":"label"}),
            json!({"time":null,"ts":"4"}),
        ]
    );
    assert!(decode_json(br#"{"streams":[]}"#, 10).unwrap().is_empty());
    assert!(decode_json(b"{}", 10).unwrap().is_empty());
}

#[test]
fn label_text() {
    let ok = |t: &str| parse_labels(t).unwrap();
    assert!(ok("").is_empty());
    assert!(ok(" { } ").is_empty());
    assert_eq!(
        ok(r#"{a="1",b = "x,}=\t" }"#),
        vec![("a".into(), json!("1")), ("b".into(), json!("x,}=\t"))]
    );
    assert_eq!(ok(r#"{a="1",a="2"}"#), vec![("a".into(), json!("2"))]);
    assert_eq!(
        ok(r#"{a="\U0001F600\101"}"#),
        vec![("a".into(), json!("😀A"))]
    );
    for bad in [
        r#"job="x""#,
        r#"{job=x}"#,
        r#"{job="x""#,
        r#"{job="x" app="y"}"#,
        r#"{9a="x"}"#,
        r#"{a!="x"}"#,
        r#"{a=~"x"}"#,
        r#"{="x"}"#,
        r#"{a="\q"}"#,
        r#"{a="\xff"}"#,
        r#"{a="\ud800"}"#,
        r#"{a="\u12"}"#,
        r#"{a="x"} junk"#,
        r#"{a="x\"}"#,
        "{a=\"x\"",
        "{",
    ] {
        assert!(parse_labels(bad).is_err(), "{bad}");
    }
}

fn detail(e: DecodeError) -> String {
    match e {
        DecodeError::InvalidJson { line: None, detail } => detail,
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_pushes_are_invalid_json() {
    for body in [
        &b"{"[..],
        b"[]",
        br#"{"streams":{}}"#,
        br#"{"streams":[{"values":[["1"]]}]}"#,
        br#"{"streams":[{"values":[["1","l",{},"extra"]]}]}"#,
        br#"{"streams":[{"values":[[1,"l"]]}]}"#,
        br#"{"streams":[{"values":[["1.5","l"]]}]}"#,
        br#"{"streams":[{"values":[["","l"]]}]}"#,
        br#"{"streams":[{"stream":{"a":1},"values":[]}]}"#,
        b"\xff\xfe",
    ] {
        let d = detail(decode_json(body, 10).unwrap_err());
        assert!(d.starts_with("Loki push: "), "{d}");
    }
    let good = snappy_push(vec![StreamAdapter {
        labels: r#"{a="b"}"#.into(),
        entries: vec![entry(1, 0, "l", &[])],
        hash: 0,
    }]);
    let bad_labels = snappy_push(vec![StreamAdapter {
        labels: "{a=b}".into(),
        entries: vec![],
        hash: 0,
    }]);
    let not_proto = snap::raw::Encoder::new()
        .compress_vec(b"\x0a\x09abc")
        .unwrap();
    let wrong_wire = snap::raw::Encoder::new().compress_vec(b"\x08\x01").unwrap();
    // Declares 4 GiB − 1 from 7 bytes: refused before allocating.
    let bomb = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00];
    for body in [
        &b""[..],
        b"not snappy at all",
        &good[..good.len() - 1],
        &bad_labels,
        &not_proto,
        &wrong_wire,
        &bomb,
    ] {
        let d = detail(decode_proto(body, 10).unwrap_err());
        assert!(d.starts_with("Loki push: "), "{d}");
    }
    assert!(detail(decode_proto(&bomb, 10).unwrap_err()).contains("declares 4294967295 bytes"));
    assert_eq!(snappy_decompressed_len(&bomb), Some(u32::MAX as usize));
    assert_eq!(decode_proto(&good, 10).unwrap().len(), 1);
}

#[test]
fn record_limit() {
    let body = br#"{"streams":[{"values":[["1","a"],["2","b"]]},{"values":[["3","c"]]}]}"#;
    assert_eq!(decode_json(body, 3).unwrap().len(), 3);
    assert_eq!(
        decode_json(body, 2).unwrap_err(),
        DecodeError::TooManyRecords { limit: 2 }
    );
    let many = snappy_push(vec![StreamAdapter {
        labels: r#"{a="b"}"#.into(),
        entries: vec![EntryAdapter::default(); 100_000],
        hash: 0,
    }]);
    assert_eq!(
        decode_proto(&many, 5).unwrap_err(),
        DecodeError::TooManyRecords { limit: 5 }
    );
}
