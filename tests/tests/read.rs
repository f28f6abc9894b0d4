//! Reading what was stored (SPEC §9, issue #11), through the real binary:
//! `/v1/query`, `/v1/stats`, `/v1/tail` (SSE with resume), the
//! Loki-compatible API's shapes, archives, tenants and roles.

#[path = "read/tail.rs"]
mod tail;

use std::io::Write;
use std::path::Path;

use logops_e2e::{Gateway, Resp};
use serde_json::{json, Value};

fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// 60 records over one minute from 2026-03-01T10:00:00Z, one per second:
/// every 3rd ERROR, every 2nd from emitter "csv"; latency_ms = the second.
fn records() -> Vec<Value> {
    (0..60)
        .map(|i| {
            json!({
                "ts": format!("2026-03-01T10:00:{i:02}Z"),
                "level": if i % 3 == 0 { "ERROR" } else { "INFO" },
                "msg": format!("request {i} took {i} ms{}", if i == 7 { " timeout" } else { "" }),
                "emitter": if i % 2 == 0 { "csv" } else { "json" },
                "service": if i < 30 { "api" } else { "web" },
                "latency_ms": i,
            })
        })
        .collect()
}

const RANGE: &str = "start=2026-03-01T00:00:00Z&end=2026-03-02T00:00:00Z";

fn query(gw: &Gateway, q: &str, extra: &str) -> (Vec<Value>, Value) {
    let r = gw.get(&format!("/v1/query?query={}&{RANGE}{extra}", enc(q)));
    assert_eq!(r.status, 200, "{q}: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let mut lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stats = lines.pop().expect("a _stats line")["_stats"].clone();
    (lines, stats)
}

fn msgs(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["msg"].as_str().unwrap().to_string())
        .collect()
}

fn loaded() -> Gateway {
    let gw = Gateway::builder().process().start();
    let body: String = records().iter().map(|r| format!("{r}\n")).collect();
    assert_eq!(gw.ingest("application/x-ndjson", &body).status, 200);
    gw
}

#[test]
fn native_query_filters_order_limits_and_stats() {
    let gw = loaded();
    let stored = gw.stored_lines();
    let (all, stats) = query(&gw, "{}", "&limit=1000&direction=forward");
    assert_eq!(all.len(), 60);
    // Exactly the stored lines, in order.
    let got: Vec<String> = all.iter().map(|v| v.to_string()).collect();
    let want: Vec<String> = stored
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert_eq!(stats["matched"], 60);
    assert_eq!(stats["lines_scanned"], 60);
    assert_eq!(stats["truncated"], false);
    assert!(stats["bytes_scanned"].as_u64().unwrap() > 0);

    for (q, n) in [
        (r#"{level="ERROR"}"#, 20),
        (r#"{level="ERROR", emitter="csv"}"#, 10),
        (r#"{emitter=~"cs.|x"}"#, 30),
        (r#"{level!="ERROR"}"#, 40),
        (r#"{} |= "timeout""#, 1),
        (r#"{} != "took""#, 0),
        (r#"{} |~ "request [0-9] took""#, 10),
        (r#"{} | json | latency_ms >= 50"#, 10),
        (r#"{} | service="web" | latency_ms < 35"#, 5),
        (r#"{level="ERROR"} | service=~"a.i""#, 10),
    ] {
        let (lines, stats) = query(&gw, q, "&limit=1000");
        assert_eq!(lines.len(), n, "{q}");
        assert_eq!(stats["matched"], n, "{q}");
    }
    // Time range on ts: [10:00:10, 10:00:20].
    let (lines, _) = query(
        &gw,
        "{}",
        "&limit=1000&start=2026-03-01T10:00:10Z&end=2026-03-01T10:00:20Z",
    );
    assert_eq!(lines.len(), 11);
    // Backward (default) returns the newest first; limit is enforced and said.
    let (lines, stats) = query(&gw, "{}", "&limit=3");
    assert_eq!(
        msgs(&lines),
        [
            "request 59 took 59 ms",
            "request 58 took 58 ms",
            "request 57 took 57 ms"
        ]
    );
    assert_eq!(stats["truncated"], true);
    let (lines, _) = query(&gw, "{}", "&limit=2&direction=forward");
    assert_eq!(msgs(&lines), ["request 0 took 0 ms", "request 1 took 1 ms"]);
}

#[test]
fn bad_queries_are_clear_400s() {
    let gw = loaded();
    for (q, extra, needle) in [
        (
            r#"{level="ERROR""#,
            "",
            "parse error at line 1, col 15: expected `}`",
        ),
        (r#"{} | logfmt"#, "", "`logfmt` is not supported"),
        (r#"{} |~ "(""#, "", "invalid regex"),
        ("{}", "&limit=100000", "above the maximum of 5000"),
        (
            "{}",
            "&start=2026-03-02T00:00:00Z&end=2026-03-01T00:00:00Z",
            "start is after end",
        ),
        ("{}", "&start=yesterday", "invalid start"),
        ("rate({}[1m])", "", "/v1/stats"),
    ] {
        let r = gw.get(&format!("/v1/query?query={}{extra}", enc(q)));
        assert_eq!(r.status, 400, "{q}{extra}: {}", r.text);
        assert_eq!(r.json()["error"], "invalid_query");
        assert!(
            r.json()["detail"].as_str().unwrap().contains(needle),
            "{q}: {}",
            r.text
        );
    }
    let r = gw.get(&format!(
        "/loki/api/v1/query_range?query={}",
        enc("{} | unwrap x")
    ));
    assert_eq!(r.status, 400);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(r.text.contains("`unwrap` is not supported"), "{}", r.text);
}

#[test]
fn metric_queries_count_exactly() {
    let gw = loaded();
    let stats = |q: &str, extra: &str| -> Value {
        let r = gw.get(&format!("/v1/stats?query={}{extra}", enc(q)));
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        r.json()
    };
    // One point at 10:01:00 covering (10:00:00, 10:01:00]: 59 lines (10:00:00 excluded).
    let v = stats(
        r#"sum by (level) (count_over_time({}[1m]))"#,
        "&start=2026-03-01T10:01:00Z&end=2026-03-01T10:01:00Z&step=60s",
    );
    let series = v["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{v}");
    let by = |level: &str| {
        series
            .iter()
            .find(|s| s["labels"]["level"] == level)
            .map(|s| s["points"][0][1].as_f64().unwrap())
    };
    assert_eq!(by("ERROR"), Some(19.0));
    assert_eq!(by("INFO"), Some(40.0));
    assert_eq!(series[0]["points"][0][0], 1_772_359_260.0);
    // Every 10 s over 10 s windows: 10 lines each (the first window holds just 10:00:00).
    let v = stats(
        "sum(count_over_time({}[10s]))",
        "&start=2026-03-01T10:00:00Z&end=2026-03-01T10:01:00Z&step=10s",
    );
    let points: Vec<f64> = v["series"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .collect();
    assert_eq!(points, [1.0, 10.0, 10.0, 10.0, 10.0, 10.0, 9.0]);
    let v = stats(
        r#"sum(rate({emitter="csv"}[1m]))"#,
        "&start=2026-03-01T10:01:00Z&end=2026-03-01T10:01:00Z",
    );
    assert_eq!(
        v["series"][0]["points"][0][1].as_f64().unwrap(),
        29.0 / 60.0
    );
    let v = stats(
        "topk(1, sum by (service) (count_over_time({}[1m])))",
        "&start=2026-03-01T10:01:00Z&end=2026-03-01T10:01:00Z",
    );
    assert_eq!(v["series"].as_array().unwrap().len(), 1);
    assert_eq!(v["series"][0]["labels"], json!({"service": "web"}));
    let stored: usize = gw
        .stored_lines()
        .iter()
        .filter(|l| l.contains("\"service\":\"api\""))
        .map(|l| l.len())
        .sum();
    let v = stats(
        r#"sum(bytes_over_time({service="api"}[1h]))"#,
        "&start=2026-03-01T10:59:59Z&end=2026-03-01T10:59:59Z",
    );
    assert_eq!(
        v["series"][0]["points"][0][1].as_f64().unwrap(),
        stored as f64
    );
}

#[test]
fn loki_api_shapes() {
    let gw = loaded();
    let ns = |t: &str| t.to_string();
    let r = gw.get(&format!(
        "/loki/api/v1/query_range?query={}&start={}&end={}&limit=5&direction=forward",
        enc(r#"{level="ERROR"}"#),
        ns("1772359200000000000"),
        ns("1772362800000000000")
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "streams");
    let result = v["data"]["result"].as_array().unwrap();
    let total: usize = result
        .iter()
        .map(|s| s["values"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 5);
    for s in result {
        let labels = s["stream"].as_object().unwrap();
        assert_eq!(
            labels.keys().collect::<Vec<_>>(),
            ["emitter", "level", "scenario_id"]
        );
        assert_eq!(labels["level"], "ERROR");
        for pair in s["values"].as_array().unwrap() {
            let ts = pair[0].as_str().unwrap();
            assert_eq!(ts.len(), 19, "nanoseconds as a string");
            let line: Value = serde_json::from_str(pair[1].as_str().unwrap()).unwrap();
            assert_eq!(line["level"], "ERROR");
        }
    }
    assert_eq!(v["data"]["stats"]["summary"]["totalEntriesReturned"], 5);
    assert!(
        v["data"]["stats"]["summary"]["totalLinesProcessed"]
            .as_u64()
            .unwrap()
            >= 5
    );

    let r = gw.get(&format!(
        "/loki/api/v1/query_range?query={}&start=1772359200&end=1772359260&step=60",
        enc("sum by (emitter) (count_over_time({}[1m]))")
    ));
    let v = r.json();
    assert_eq!(v["data"]["resultType"], "matrix", "{v}");
    let m = &v["data"]["result"][0];
    assert_eq!(m["metric"], json!({"emitter": "csv"}));
    // 10:00:00 (window from 09:59:00: the first csv line) and 10:01:00.
    assert_eq!(
        m["values"],
        json!([[1772359200.0, "1"], [1772359260.0, "29"]])
    );

    let r = gw.get(&format!(
        "/loki/api/v1/query?query={}&time=1772359260",
        enc("count_over_time({level=\"ERROR\"}[1m])")
    ));
    let v = r.json();
    assert_eq!(v["data"]["resultType"], "vector", "{v}");
    // One series per stream: ERROR lines in (10:00:00, 10:01:00] are 19, 9 of them csv.
    let per_stream: Vec<(String, String)> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"]["emitter"].as_str().unwrap().to_string(),
                s["value"][1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        per_stream,
        [
            ("csv".to_string(), "9".to_string()),
            ("json".to_string(), "10".to_string())
        ]
    );

    let v = gw
        .get(&format!(
            "/loki/api/v1/query?query={}",
            enc("vector(1)+vector(1)")
        ))
        .json();
    assert_eq!(v["data"]["result"][0]["value"][1], "2");

    let v = gw.get(&format!("/loki/api/v1/labels?{RANGE}")).json();
    assert_eq!(
        v,
        json!({"status": "success", "data": ["emitter", "level", "scenario_id"]})
    );
    let v = gw
        .get("/loki/api/v1/label/level/values?start=1772359200&end=1772362800")
        .json();
    assert_eq!(v["data"], json!(["ERROR", "INFO"]));
    let v = gw
        .get("/loki/api/v1/label/service/values?start=1772359200&end=1772362800")
        .json();
    assert_eq!(v["data"], json!(["api", "web"]));
    let v = gw
        .get(&format!(
            "/loki/api/v1/series?match[]={}&start=1772359200&end=1772362800",
            enc(r#"{emitter="csv"}"#)
        ))
        .json();
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");
    let v = gw
        .get(&format!(
            "/loki/api/v1/index/stats?query={}&start=1772359200&end=1772362800",
            enc("{}")
        ))
        .json();
    assert_eq!(v["streams"], 4);
    assert_eq!(v["entries"], 60);
    let r = gw.get("/loki/api/v1/status/buildinfo");
    assert!(r.json()["version"].as_str().unwrap().starts_with('3'));
    assert_eq!(gw.get("/ready").status, 200);
}

#[test]
fn archives_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("data/archive");
    std::fs::create_dir_all(&archive).unwrap();
    let line = r#"{"ts":"2025-01-01T12:00:00Z","level":"WARN","msg":"from the archive","emitter":"json","scenario_id":"na"}"#;
    write_zip(
        &archive.join("20250101.zip"),
        "20250101.ndjson",
        &format!("{line}\n"),
    );
    let gw = Gateway::builder().process().workdir(dir.path()).start();
    let r = gw.get(&format!(
        "/v1/query?query={}&start=2025-01-01T00:00:00Z&end=2025-01-02T00:00:00Z",
        enc(r#"{level="WARN"}"#)
    ));
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.text);
    assert_eq!(lines[0], line, "returned exactly as stored");
}

fn write_zip(path: &Path, name: &str, content: &str) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    z.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(content.as_bytes()).unwrap();
    z.finish().unwrap();
}

#[test]
fn reads_are_scoped_to_the_key_tenant_and_need_the_read_role() {
    let keys = r#"
[[key]]
id = "acme-w"
secret = "acme-w-secret"
tenant = "acme"
[[key]]
id = "acme-r"
secret = "acme-r-secret"
tenant = "acme"
roles = ["read"]
[[key]]
id = "globex-w"
secret = "globex-w-secret"
tenant = "globex"
[[key]]
id = "root"
secret = "root-secret"
roles = ["admin"]
"#;
    let gw = Gateway::builder().process().keys(keys).start();
    let post = |id: &str, secret: &str, msg: &str| {
        let auth = format!("Bearer {id}:{secret}");
        gw.post(
            "/v1/logs",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            format!(r#"{{"msg":"{msg}"}}"#).as_bytes(),
        )
    };
    assert_eq!(
        post("acme-w", "acme-w-secret", "acme secret plan").status,
        200
    );
    assert_eq!(
        post("globex-w", "globex-w-secret", "globex secret plan").status,
        200
    );
    let get = |id: &str, secret: &str, path: &str, extra: &[(&str, &str)]| -> Resp {
        let auth = format!("Bearer {id}:{secret}");
        let mut h = vec![("authorization", auth.as_str())];
        h.extend_from_slice(extra);
        gw.get_with(path, &h)
    };
    let q = format!("/v1/query?query={}", enc("{}"));
    let r = get("acme-r", "acme-r-secret", &q, &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("acme secret plan") && !r.text.contains("globex"),
        "{}",
        r.text
    );
    // An ingest-only key may not read; a reader may not pick another tenant.
    assert_eq!(get("acme-w", "acme-w-secret", &q, &[]).status, 403);
    assert_eq!(
        get(
            "acme-r",
            "acme-r-secret",
            &format!("{q}&tenant=globex"),
            &[]
        )
        .status,
        403
    );
    assert_eq!(
        get(
            "acme-r",
            "acme-r-secret",
            &q,
            &[("x-scope-orgid", "globex")]
        )
        .status,
        403
    );
    assert_eq!(gw.get(&q).status, 401);
    // An admin picks the tenant.
    let r = get(
        "root",
        "root-secret",
        &format!("/loki/api/v1/query_range?query={}", enc("{}")),
        &[("x-scope-orgid", "globex")],
    );
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("globex secret plan") && !r.text.contains("acme"),
        "{}",
        r.text
    );
    assert_eq!(r.json()["data"]["result"][0]["stream"]["tenant"], "globex");
}
