use proptest::prelude::*;

use super::*;

fn ok(q: &str) -> Query {
    parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn err(q: &str) -> String {
    parse(q).expect_err(q).to_string()
}

#[test]
fn the_spec_examples_parse() {
    let q = ok(
        r#"{level="ERROR", emitter=~"json|csv"} |= "timeout" != "retry" | json | latency_ms > 250"#,
    );
    let Query::Logs(l) = q else { panic!() };
    assert_eq!(l.selector.len(), 2);
    assert_eq!(l.selector[1].op, MatchOp::Re);
    assert_eq!(
        l.stages,
        [
            Stage::Line(LineOp::Contains, "timeout".into()),
            Stage::Line(LineOp::NotContains, "retry".into()),
            Stage::Json,
            Stage::Field(FieldFilter {
                name: "latency_ms".into(),
                op: FieldOp::Gt,
                value: FieldValue::Num(250.0)
            })
        ]
    );
    ok("{}");
    ok(r#"{} | service="api""#);
    ok(r#"{} | service == "api""#);
    ok("{} |~ `a\\d+`");
    let Query::Metric(m) = ok(r#"sum by (level) (count_over_time({emitter="json"} [5m]))"#) else {
        panic!()
    };
    assert_eq!(m.range_ns(), 300_000_000_000);
    assert_eq!(
        ok("sum(rate({} [1m])) by (emitter)"),
        ok("sum by (emitter) (rate({} [1m]))")
    );
    ok("topk(3, sum by (emitter) (bytes_over_time({}[1h30m])))");
    assert_eq!(ok("vector(1)+vector(1)"), Query::Vector(2.0));
}

#[test]
fn errors_name_the_position_and_what_was_expected() {
    assert_eq!(
        err(r#"{level="ERROR""#),
        "parse error at line 1, col 15: expected `}`, found the end of the query"
    );
    assert_eq!(
        err(r#"{level=ERROR}"#),
        "parse error at line 1, col 8: expected a string, found `ERROR`"
    );
    assert_eq!(
        err("{} |= \"a\"\n  | logfmt"),
        "parse error at line 2, col 5: `logfmt` is not supported by LogOps"
    );
    assert!(err("avg_over_time({}[5m])").contains("`avg_over_time` is not supported"));
    assert!(err("sum without (a) (rate({}[1m]))").contains("`without` is not supported"));
    assert!(err("rate({}[5x])").contains("expected a duration"));
    assert!(err("rate({}[5m] offset 1h)").contains("`offset` is not supported"));
    assert!(err("count_over_time({} | unwrap x [5m])").contains("`unwrap` is not supported"));
    assert!(err("topk(0, rate({}[1m]))").contains("whole number"));
    assert!(err(r#"{a="\q"}"#).contains("invalid escape"));
    assert!(err(r#"{a="x}"#).contains("unterminated string"));
    assert!(err("{} # x").contains("unexpected character `#`"));
    assert!(err("{} extra").contains("expected the end of the query"));
    let deep = format!("{}rate({{}}[1m]){}", "sum(".repeat(40), ")".repeat(40));
    assert!(err(&deep).contains("nested deeper"));
}

#[test]
fn durations() {
    use super::lex::parse_duration;
    assert_eq!(parse_duration("90s"), Some(90_000_000_000));
    assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
    assert_eq!(parse_duration("250ms"), Some(250_000_000));
    assert_eq!(parse_duration("5"), None);
    assert_eq!(parse_duration("m"), None);
    assert_eq!(format_duration(5_400_000_000_000), "90m");
    assert_eq!(format_duration(86_400_000_000_000), "1d");
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,8}".prop_filter("keywords", |s| {
        !["json", "by", "without", "offset", "vector"].contains(&s.as_str())
            && !super::parse::is_unsupported(s)
    })
}

fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.chars().take(12).collect())
}

fn log_query() -> impl Strategy<Value = LogQuery> {
    let op = prop_oneof![
        Just(MatchOp::Eq),
        Just(MatchOp::Ne),
        Just(MatchOp::Re),
        Just(MatchOp::Nre)
    ];
    let matcher = (name(), op, text()).prop_map(|(name, op, value)| Matcher { name, op, value });
    let line_op = prop_oneof![
        Just(LineOp::Contains),
        Just(LineOp::NotContains),
        Just(LineOp::Matches),
        Just(LineOp::NotMatches)
    ];
    let field_op = prop_oneof![
        Just(FieldOp::Eq),
        Just(FieldOp::Ne),
        Just(FieldOp::Gt),
        Just(FieldOp::Ge),
        Just(FieldOp::Lt),
        Just(FieldOp::Le)
    ];
    let value = prop_oneof![
        text().prop_map(FieldValue::Str),
        (-1e12f64..1e12).prop_map(FieldValue::Num)
    ];
    let stage = prop_oneof![
        (line_op, text()).prop_map(|(op, s)| Stage::Line(op, s)),
        Just(Stage::Json),
        (name(), field_op, value).prop_map(|(name, op, value)| Stage::Field(FieldFilter {
            name,
            op,
            value
        })),
        (name(), text()).prop_map(|(name, s)| Stage::Field(FieldFilter {
            name,
            op: FieldOp::Re,
            value: FieldValue::Str(s)
        })),
    ];
    (
        prop::collection::vec(matcher, 0..4),
        prop::collection::vec(stage, 0..5),
    )
        .prop_map(|(selector, stages)| LogQuery { selector, stages })
}

fn metric() -> impl Strategy<Value = MetricExpr> {
    let func = prop_oneof![
        Just(RangeFn::CountOverTime),
        Just(RangeFn::Rate),
        Just(RangeFn::BytesOverTime)
    ];
    let leaf = (func, log_query(), 1u64..10_000_000_000_000).prop_map(|(func, query, range_ns)| {
        MetricExpr::Range {
            func,
            query,
            range_ns,
        }
    });
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (
                prop::option::of(prop::collection::vec(name(), 0..3)),
                inner.clone()
            )
                .prop_map(|(by, inner)| MetricExpr::Sum {
                    by,
                    inner: Box::new(inner)
                }),
            (1usize..100, inner).prop_map(|(k, inner)| MetricExpr::Topk {
                k,
                inner: Box::new(inner)
            }),
        ]
    })
}

proptest! {
    /// parse ∘ print is the identity on every query.
    #[test]
    fn print_then_parse_round_trips(q in prop_oneof![
        log_query().prop_map(Query::Logs),
        metric().prop_map(Query::Metric),
    ]) {
        let text = q.to_string();
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, q, "{}", text);
    }

    /// No input panics the parser.
    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse(&s);
    }
}
