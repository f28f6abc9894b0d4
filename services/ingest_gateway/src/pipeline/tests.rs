//! Unit and property tests of the whole in-process pipeline.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

/// A pipeline from the few keys these tests set (the config loader itself is
/// tested in `config`).
fn pipeline(pairs: &[(&str, &str)]) -> Pipeline {
    let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let pii = PiiConfig {
        mask: get("LOGOPS_MASK_PII") != Some("false"),
        crypt: get("LOGOPS_SECRET_KEY").map(|k| Arc::new(Crypt::from_key_list(k).unwrap())),
        ..PiiConfig::default()
    };
    let sample = match get("LOGOPS_DEBUG_SAMPLE") {
        Some("true") => get("LOGOPS_DEBUG_SAMPLE_SIZE").map_or(5, |n| n.parse().unwrap()),
        _ => 0,
    };
    Pipeline::new(&pii, 100_000, sample)
}

fn ctx() -> BatchContext<'static> {
    BatchContext {
        emitter: "e",
        scenario_id: "na",
        received: "2026-11-22T12:00:00.000Z",
        year: 2026,
        tenant: None,
        defaults: &[],
    }
}

fn lines(enc: &Encoded) -> Vec<Value> {
    enc.lines
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

#[test]
fn counts_and_masks() {
    let p = pipeline(&[]);
    let body = br#"[{"msg":"from alice@example.com at 10.0.0.1","level":"error","user_email":"bob@x.io"},{"ts":"bad","emitter":"own"}]"#;
    let enc = p.run(Format::Json, body, &ctx()).unwrap();
    assert_eq!(enc.totals.accepted, 2);
    assert_eq!(
        (
            enc.totals.missing_ts,
            enc.totals.invalid_ts,
            enc.totals.missing_level
        ),
        (1, 1, 1)
    );
    assert_eq!(enc.by_source.len(), 2);
    let out = lines(&enc);
    assert_eq!(out[0]["msg"], "from a***@example.com at 10.0.x.x");
    assert_eq!(out[0]["user_email"], "b***@x.io");
    assert_eq!(out[1]["emitter"], "own");
    assert_eq!(out[1]["ts_raw"], "bad");
}

#[test]
fn encrypts_originals_and_masks_fields() {
    let key = Crypt::generate_key();
    let p = pipeline(&[
        ("LOGOPS_ENCRYPT_PII", "true"),
        ("LOGOPS_SECRET_KEY", &key),
        ("LOGOPS_MASK_PII", "false"),
    ]);
    let body =
        br#"{"msg":"hi alice@example.com","client_ip":"10.1.2.3","user_email":"bob@x.io","n":1}"#;
    let out = lines(&p.run(Format::Json, body, &ctx()).unwrap());
    let c = Crypt::from_key_list(&key).unwrap();
    let dec = |k: &str| String::from_utf8(c.decrypt(out[0][k].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(out[0]["msg"], "hi alice@example.com", "mask off leaves msg");
    assert_eq!(
        out[0]["client_ip"], "10.1.x.x",
        "encrypted fields are always masked"
    );
    assert_eq!(dec("msg_enc"), "hi alice@example.com");
    assert_eq!(dec("client_ip_enc"), "10.1.2.3");
    assert_eq!(dec("user_email_enc"), "bob@x.io");
    let keys: Vec<&str> = out[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys[keys.len() - 3..],
        ["msg_enc", "user_email_enc", "client_ip_enc"]
    );
}

#[test]
fn sample_and_levels() {
    let p = pipeline(&[
        ("LOGOPS_DEBUG_SAMPLE", "true"),
        ("LOGOPS_DEBUG_SAMPLE_SIZE", "2"),
    ]);
    let enc = p
        .run(Format::Text, b"ERROR a\nWARN b\nc\n", &ctx())
        .unwrap();
    assert_eq!(enc.sample.len(), 2);
    assert_eq!(
        Value::Object(levels_object(&enc.totals.levels)),
        json!({"INFO":1,"WARN":1,"ERROR":1})
    );
}

fn field_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "[a-zA-Z0-9 _\\-\"\\\\\u{e9}\u{1F600}]{0,20}".prop_map(Value::from),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any record of ordinary fields survives normalize → encode → parse intact.
    #[test]
    fn fields_survive_the_pipeline(
        fields in prop::collection::vec(("f[a-z]{0,8}", field_value()), 0..8),
        msg in "[a-zA-Z0-9 ,.\"]{0,40}",
    ) {
        let p = pipeline(&[("LOGOPS_MASK_PII", "false")]);
        let mut rec = serde_json::Map::new();
        rec.insert("msg".into(), Value::from(msg.clone()));
        for (k, v) in &fields {
            rec.insert(k.clone(), v.clone());
        }
        let body = serde_json::to_vec(&Value::Object(rec.clone())).unwrap();
        let enc = p.run(Format::Json, &body, &ctx()).unwrap();
        let out = lines(&enc);
        prop_assert_eq!(out.len(), 1);
        let obj = out[0].as_object().unwrap();
        prop_assert_eq!(obj["msg"].as_str().unwrap(), msg.as_str());
        for (k, v) in rec.iter().filter(|(k, _)| *k != "msg") {
            prop_assert_eq!(&obj[k], v);
        }
        let keys: Vec<&str> = obj.keys().map(String::as_str).take(5).collect();
        prop_assert_eq!(keys, vec!["ts", "level", "msg", "emitter", "scenario_id"]);
    }

    /// Decoders never panic and always yield valid NDJSON, whatever the bytes.
    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let p = pipeline(&[]);
        for f in [Format::Json, Format::Ndjson, Format::Text, Format::Csv] {
            if let Ok(enc) = p.run(f, &body, &ctx()) {
                for l in enc.lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    prop_assert!(serde_json::from_slice::<Value>(l).is_ok());
                }
            }
        }
    }
}
