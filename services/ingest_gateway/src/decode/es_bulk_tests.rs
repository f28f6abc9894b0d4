//! Tests of [`super`] (es_bulk.rs).

use super::*;
use base64::Engine as _;
use serde_json::json;

fn fixture_bodies(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let req: Value = serde_json::from_str(l).unwrap();
            let b64 = req["body_b64"].as_str().unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        })
        .collect()
}

/// `items` and `decode_with_index` classify the same way.
fn agree(body: &[u8], index: Option<&str>) -> (Vec<Record>, Vec<Item>) {
    let recs = decode_with_index(body, 1000, index).unwrap();
    let list = items(body, index).unwrap();
    let stored: Vec<&Item> = list.iter().filter(|i| i.status == 201).collect();
    assert_eq!(stored.len(), recs.len());
    for (rec, item) in recs.iter().zip(&stored) {
        // The action's index, unless the document has its own.
        assert!(item.index.is_empty() || rec.contains_key("index"));
    }
    assert_eq!(
        decode_items(body, 1000, index).unwrap(),
        (recs.clone(), list.clone())
    );
    (recs, list)
}

#[test]
fn fluent_bit_es_fixture() {
    let text = include_str!("../../../../tests/fixtures/agents/fluentbit-es.jsonl");
    let bodies = fixture_bodies(text);
    assert!(!bodies.is_empty());
    let mut total = 0;
    for body in &bodies {
        let (recs, list) = agree(body, None);
        assert!(list.iter().all(|i| i.action == "create" && i.status == 201));
        assert!(list
            .iter()
            .all(|i| i.index == "fluent-bit" && i.id.is_none()));
        for r in &recs {
            assert_eq!(r["time"], "2026-12-01T07:00:00.123Z");
            assert!(r["@timestamp"].is_string());
            assert_eq!(r["level"], "warn");
            assert_eq!(r["service"], "auth");
            assert_eq!(r["index"], "fluent-bit");
            assert!(r["message"].as_str().unwrap().starts_with("req 7 login"));
        }
        let resp = response(&list, 3);
        assert_eq!(resp["errors"], false);
        assert_eq!(resp["took"], 3);
        let first = &resp["items"][0]["create"];
        assert_eq!(first["status"], 201);
        assert_eq!(first["result"], "created");
        assert_eq!(first["_index"], "fluent-bit");
        assert_eq!(first["_id"].as_str().unwrap().len(), 20);
        total += recs.len();
    }
    assert_eq!(total, 20);
}

#[test]
fn bad_items_are_per_item_and_the_rest_is_stored() {
    let body = concat!(
        "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"message\":\"one\"}\n",
        "{\"create\":{}}\n[1,2]\n",
        "{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n",
        "{\"update\":{\"_id\":\"3\"}}\n{\"doc\":{\"x\":1}}\n",
        "{\"upsert\":{}}\n{\"message\":\"lost\"}\n",
        "{\"index\":{\"_index\":5}}\n{\"message\":\"lost too\"}\n",
        "not json\n",
        "\n  \r\n",
        "{\"index\":{\"_id\":7}}\n{\"message\":\"two\",\"index\":\"own\"}\n",
        "{\"index\":{}}\n{\"broken\n",
        "{\"create\":{\"_index\":\"b\"}}\n",
    );
    let (recs, list) = agree(body.as_bytes(), Some("url"));
    let summary: Vec<(&str, &str, u16)> = list
        .iter()
        .map(|i| (i.action, i.index.as_str(), i.status))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("index", "a", 201),
            ("create", "url", 400),
            ("delete", "a", 400),
            ("update", "url", 400),
            ("index", "url", 400),
            ("index", "url", 400),
            ("index", "url", 400),
            ("index", "url", 201),
            ("index", "url", 400),
            ("create", "b", 400),
        ]
    );
    let kinds: Vec<&str> = list
        .iter()
        .filter_map(|i| i.error.as_ref().map(|e| e.0.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "mapper_parsing_exception",
            ILLEGAL,
            ILLEGAL,
            ILLEGAL,
            ILLEGAL,
            ILLEGAL,
            "mapper_parsing_exception",
            "action_request_validation_exception",
        ]
    );
    assert!(list[4].error.as_ref().unwrap().1.contains("found [upsert]"));
    assert_eq!(list[7].id.as_deref(), Some("7"));
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["message"], "one");
    assert_eq!(recs[0]["index"], "a");
    assert_eq!(recs[1]["index"], "own");
    let resp = response(&list, 0);
    assert_eq!(resp["errors"], true);
    assert_eq!(resp["items"][0]["index"]["_id"], "1");
    assert_eq!(resp["items"][2]["delete"]["status"], 400);
    assert!(resp["items"][2]["delete"]["error"]["reason"].is_string());
    assert_eq!(resp["items"][7]["index"]["_seq_no"], 1);
}

#[test]
fn whole_request_errors_and_limit() {
    assert!(matches!(
        decode(b"", 10),
        Err(DecodeError::InvalidJson { line: Some(1), .. })
    ));
    assert!(matches!(
        items(b"\n \n", None),
        Err(DecodeError::InvalidJson { line: Some(1), .. })
    ));
    assert!(matches!(
        decode(b"\nhello world\n{}\n", 10),
        Err(DecodeError::InvalidJson { line: Some(2), .. })
    ));
    assert!(matches!(
        items(b"{\"index\":{}} trailing\n{}\n", None),
        Err(DecodeError::InvalidJson { line: Some(1), .. })
    ));
    assert_eq!(
        decode(b"\xff\n{}\n", 10),
        Err(DecodeError::InvalidUtf8 { line: Some(1) })
    );
    let body = "{\"index\":{}}\n{}\n".repeat(3);
    assert_eq!(
        decode(body.as_bytes(), 2),
        Err(DecodeError::TooManyRecords { limit: 2 })
    );
    assert_eq!(decode(body.as_bytes(), 3).unwrap().len(), 3);
    // Only invalid items: a valid request, nothing stored.
    let (recs, list) = agree(b"{\"delete\":{}}\n", None);
    assert!(recs.is_empty() && list.len() == 1);
}

#[test]
fn ecs_log_level_is_lifted() {
    let body = concat!(
        "{\"index\":{}}\n{\"log\":{\"level\":\"warn\",\"logger\":\"x\"},\"message\":\"a\"}\n",
        "{\"index\":{}}\n{\"log.level\":\"error\",\"message\":\"b\"}\n",
        "{\"index\":{}}\n{\"log\":{\"level\":\"warn\"},\"severity\":\"debug\"}\n",
        "{\"index\":{}}\n{\"level\":null,\"log\":{\"level\":\"info\"}}\n",
    );
    let recs = decode(body.as_bytes(), 10).unwrap();
    assert_eq!(
        recs[0].to_value(),
        json!({"log":{"logger":"x"},"level":"warn","message":"a"})
    );
    assert_eq!(recs[1].to_value(), json!({"level":"error","message":"b"}));
    assert_eq!(
        recs[2].to_value(),
        json!({"log":{"level":"warn"},"severity":"debug"})
    );
    assert_eq!(recs[3].to_value(), json!({"level":"info"}));
}

#[test]
fn generated_ids_are_unique() {
    let (a, b) = (new_id(), new_id());
    assert_ne!(a, b);
    assert_eq!(a.len(), 20);
}

#[test]
fn normalizes_ecs_documents() {
    use crate::normalize::{normalize, BatchContext, Level};
    let ctx = BatchContext {
        emitter: "elasticsearch",
        scenario_id: "na",
        received: "2026-12-01T00:00:00.000Z",
        year: 2026,
        tenant: None,
        defaults: &[],
    };
    let body = concat!(
        "{\"create\":{\"_index\":\"logs\"}}\n",
        "{\"@timestamp\":\"2026-12-01T08:37:12.080Z\",\"log.level\":\"ERROR\",\"message\":\"m\"}\n",
    );
    let n = normalize(decode(body.as_bytes(), 10).unwrap().remove(0), &ctx);
    assert_eq!(n.ts, "2026-12-01T08:37:12.080Z");
    assert_eq!(n.level, Level::Error);
    assert_eq!(n.msg, "m");
    assert_eq!(n.fields, vec![("index".to_string(), json!("logs"))]);
}

#[test]
fn deep_source_is_a_bad_item_not_a_crash() {
    let deep = format!("{{\"index\":{{}}}}\n{}\n", "{\"a\":".repeat(100_000));
    let (recs, list) = agree(deep.as_bytes(), None);
    assert!(recs.is_empty());
    assert_eq!(list[0].status, 400);
}
