//! Tests of [`super`] (hec.rs).

use super::*;
use base64::Engine as _;

fn code_of(r: Result<Vec<Record>, DecodeError>) -> (u16, Option<usize>) {
    let e = r.unwrap_err();
    let (code, text, n) = splunk_code(&e).unwrap();
    assert_eq!(text, code_text(code));
    (code, n)
}

#[test]
fn fluent_bit_splunk_fixture() {
    let text = include_str!("../../../../tests/fixtures/agents/fluentbit-splunk.jsonl");
    let mut total = 0;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let req: Value = serde_json::from_str(l).unwrap();
        assert!(req["headers"].get("Content-Type").is_none());
        let b64 = req["body_b64"].as_str().unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let recs = decode_event(&body, 100).unwrap();
        for r in &recs {
            // The event's own `time` wins over the envelope's.
            assert_eq!(
                r.to_value(),
                json!({"time":"2026-12-01T07:00:00.123Z","level":"warn",
                    "message":"req 7 login for alice@example.com from 203.0.113.7",
                    "service":"auth"})
            );
        }
        total += recs.len();
    }
    assert_eq!(total, 20);
}

#[test]
fn envelope_mapping() {
    let body = concat!(
        "{\"time\":1433188255.5,\"event\":\"hello\",\"host\":\"h1\",\"source\":\"s\",",
        "\"sourcetype\":\"st\",\"index\":\"main\",\"fields\":{\"level\":\"error\",\"msg\":\"no\"}}",
        "\n  {\"time\":\"1433188255\",\"event\":{\"msg\":\"obj\",\"host\":\"own\"},",
        "\"host\":\"h2\",\"fields\":{\"host\":\"f\",\"k\":1}}",
        "{\"event\":{\"timestamp\":\"2026-01-01T00:00:00Z\"},\"time\":5}",
        "{\"event\":42}{\"event\":[1,\"a\"],\"host\":null}",
    );
    let recs = decode_event(body.as_bytes(), 10).unwrap();
    let vals: Vec<Value> = recs.iter().map(Record::to_value).collect();
    assert_eq!(
        vals,
        vec![
            json!({"msg":"hello","ts":1433188255.5,"level":"error","host":"h1",
                "source":"s","sourcetype":"st","index":"main"}),
            json!({"msg":"obj","host":"own","ts":"1433188255","k":1}),
            json!({"timestamp":"2026-01-01T00:00:00Z"}),
            json!({"msg":42}),
            json!({"msg":[1,"a"]}),
        ]
    );
}

#[test]
fn refused_in_splunk_terms() {
    assert_eq!(code_of(decode_event(b"", 10)), (CODE_NO_DATA, None));
    assert_eq!(code_of(decode_event(b" \n ", 10)), (CODE_NO_DATA, None));
    assert_eq!(
        code_of(decode_event(b"not json", 10)),
        (CODE_INVALID_DATA_FORMAT, Some(0))
    );
    // Concatenated half-objects.
    assert_eq!(
        code_of(decode_event(b"{\"event\":\"a\"}{\"event\":\"b\"}{\"ev", 10)),
        (CODE_INVALID_DATA_FORMAT, Some(2))
    );
    assert_eq!(
        code_of(decode_event(b"{\"event\":\"a\"}[1]", 10)),
        (CODE_INVALID_DATA_FORMAT, Some(1))
    );
    assert_eq!(
        code_of(decode_event(b"{\"event\":\"a\"}{\"time\":1}", 10)),
        (CODE_EVENT_FIELD_REQUIRED, Some(1))
    );
    assert_eq!(
        code_of(decode_event(b"{\"event\":\"  \"}", 10)),
        (CODE_EVENT_FIELD_BLANK, Some(0))
    );
    assert_eq!(
        code_of(decode_event(b"{\"event\":null}", 10)),
        (CODE_EVENT_FIELD_BLANK, Some(0))
    );
    assert_eq!(
        code_of(decode_event(b"{\"event\":\"a\",\"fields\":3}", 10)),
        (CODE_INVALID_DATA_FORMAT, Some(0))
    );
    assert_eq!(
        decode_event(b"{\"event\":\"\xff\"}", 10),
        Err(DecodeError::InvalidUtf8 { line: None })
    );
    assert_eq!(
        decode_event(b"{\"event\":1}{\"event\":2}{\"event\":3}", 2),
        Err(DecodeError::TooManyRecords { limit: 2 })
    );
    assert!(splunk_code(&DecodeError::TooManyRecords { limit: 2 }).is_none());
    assert_eq!(
        error_body(
            CODE_EVENT_FIELD_REQUIRED,
            code_text(CODE_EVENT_FIELD_REQUIRED)
        ),
        json!({"text":"Event field is required","code":12})
    );
}

#[test]
fn raw_lines() {
    let body = b"first line\r\n\n  \n{\"msg\":\"json\",\"level\":\"warn\"}\n{not json\nb \xff\n";
    let vals: Vec<Value> = decode_raw(body, 10)
        .unwrap()
        .iter()
        .map(Record::to_value)
        .collect();
    assert_eq!(
        vals,
        vec![
            json!({"msg":"first line"}),
            json!({"msg":"json","level":"warn"}),
            json!({"msg":"{not json"}),
            json!({"msg":"b \u{fffd}"}),
        ]
    );
    assert_eq!(code_of(decode_raw(b"\n\n", 10)), (CODE_NO_DATA, None));
    assert_eq!(
        decode_raw(b"a\nb\nc\n", 2),
        Err(DecodeError::TooManyRecords { limit: 2 })
    );
}

#[test]
fn normalizes_time_event_and_fields() {
    use crate::normalize::{normalize, BatchContext, Level, TsStatus};
    let ctx = BatchContext {
        emitter: "splunk",
        scenario_id: "na",
        received: "2026-12-01T00:00:00.000Z",
        year: 2026,
        tenant: None,
        defaults: &[],
    };
    let body = b"{\"time\":1433188255.5,\"event\":\"hi\",\"fields\":{\"severity\":\"warning\"}}";
    let n = normalize(decode_event(body, 10).unwrap().remove(0), &ctx);
    assert_eq!(n.ts, "2015-06-01T19:50:55.5Z");
    assert_eq!(n.ts_status, TsStatus::Parsed);
    assert_eq!(n.level, Level::Warn);
    assert_eq!(n.msg, "hi");
}
