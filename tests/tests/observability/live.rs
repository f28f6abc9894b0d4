//! The live check: a real Prometheus scrapes a real gateway fed with traffic,
//! loads the alert rules, and evaluates every PromQL expression of the
//! dashboards and the rules through its HTTP API.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use logops_e2e::Gateway;
use regex::Regex;
use serde_json::Value;

use super::prometheus::{self, Prometheus};
use super::traffic::drive_traffic;
use super::{grafana, repo, stack};

/// Panels whose queries must return data once traffic has flowed
/// (dashboard file, panel title). Renaming one of these panels means updating
/// this list; any other panel is still evaluated and must not error.
const CORE_PANELS: &[(&str, &str)] = &[
    ("logops-overview.json", "Records/s"),
    ("logops-overview.json", "Accepted records"),
    ("logops-overview.json", "Records/s by emitter"),
    ("logops-overview.json", "Records/s by level"),
    ("logops-overview.json", "Batch latency p50 / p95 / p99"),
    ("logops-overview.json", "In-flight requests"),
    ("logops-overview.json", "Rejected requests/s by reason"),
    ("logops-overview.json", "Sink bytes/s"),
    ("logops-emitters.json", "Accepted records/s by emitter"),
    ("logops-emitters.json", "p95 batch latency by emitter"),
];

/// How long the live checks wait for a condition (scrapes, rule evaluation).
const WAIT: Duration = Duration::from_secs(30);

/// Metric names of a text exposition, with the sample names each family
/// produces (`_total`, `_bucket`/`_sum`/`_count`, `_info`, `_created`).
fn exposed_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            let (name, kind) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            let suffixes: &[&str] = match kind {
                "counter" => &["", "_total", "_created"],
                "histogram" => &["_bucket", "_sum", "_count", "_created"],
                "summary" => &["", "_sum", "_count", "_created"],
                "info" => &["_info"],
                _ => &[""],
            };
            out.extend(suffixes.iter().map(|s| format!("{name}{s}")));
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let name = line
                .split(|c: char| c == '{' || c.is_whitespace())
                .next()
                .unwrap_or("");
            out.insert(name.to_string());
        }
    }
    out
}

fn metric_names(expr: &str) -> BTreeSet<String> {
    Regex::new(r"\blogops_[a-zA-Z0-9_]+")
        .expect("regex")
        .find_iter(expr)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// Polls `f` until it holds (true), for at most [`WAIT`] (false).
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Polls `f` until it returns `Some`; panics naming `what` after [`WAIT`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let mut out = None;
    assert!(
        eventually(|| {
            out = f();
            out.is_some()
        }),
        "timed out waiting for {what}"
    );
    out.expect("set when eventually() holds")
}

fn sample_sum(resp: &Value) -> Option<f64> {
    prometheus::result_vector(resp)?
        .first()?
        .pointer("/value/1")?
        .as_str()?
        .parse()
        .ok()
}

/// Sum of the `logops_accepted_total` samples of an exposition.
fn exposed_accepted(text: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with("logops_accepted_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Grafana's own variables, as the live test sets them.
const BUILTIN_VALUES: &[(&str, &str)] = &[
    ("__rate_interval", "1m"),
    ("__interval", "15s"),
    ("__range", "5m"),
    ("__range_s", "300"),
    ("__auto", "1m"),
];

/// Variable values to substitute: (name, value) pairs.
type Values = Vec<(String, String)>;

/// Starts Prometheus and the gateway, drives traffic, and runs every check;
/// reports all problems at once.
pub fn prometheus_evaluates_everything() {
    let Some(bin) = prometheus::binary() else {
        logops_e2e::need_component(
            "the `prometheus` binary (apt-get install prometheus)",
            false,
        );
        return;
    };
    // An expired day file, so start-up housekeeping acts and its metric exists.
    let workdir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(workdir.path().join("ingest")).expect("mkdir");
    std::fs::write(workdir.path().join("ingest/20200101.ndjson"), "{}\n").expect("write");
    let gw = Gateway::builder()
        .workdir(workdir.path())
        .env("LOGOPS_HOUSEKEEP_AUTORUN", "true")
        .env("LOGOPS_ARCHIVE_MODE", "delete")
        // Forwarding on (to a closed port: the target backs off), so the
        // logops_forward_* series the lag alert uses exist.
        .env("LOGOPS_FORWARD", "clickhouse")
        .env("LOGOPS_CLICKHOUSE_URL", "http://127.0.0.1:9")
        .start();
    let prom = Prometheus::start(&bin, &gw.addr, &repo::docker("prometheus/alert_rules.yml"));
    wait_for("the first successful scrape", || {
        (sample_sum(&prom.query(r#"up{job="logops-gateway"}"#)) == Some(1.0)).then_some(())
    });
    drive_traffic(&gw);
    let exposition = settled_exposition(&gw, &prom);

    let dashboards = grafana::dashboards();
    let targets: Vec<grafana::Target> = dashboards
        .iter()
        .flat_map(|d| d.targets())
        .filter(|t| t.datasource == "prometheus")
        .collect();
    let rules = repo::yaml("prometheus/alert_rules.yml");
    let rule_exprs: Vec<(String, String)> = stack::alert_rules(&rules)
        .iter()
        .map(|r| {
            (
                repo::str_of(r, "alert").to_string(),
                repo::str_of(r, "expr").to_string(),
            )
        })
        .collect();

    let exprs = targets
        .iter()
        .map(|t| &t.expr)
        .chain(rule_exprs.iter().map(|(_, e)| e));
    let mut problems = unexposed_metrics(&exposition, exprs);
    let (all, one) = variable_values(&prom, &dashboards);
    problems.extend(check_dashboard_queries(&prom, &targets, &all, &one));
    problems.extend(check_rules(&prom, &rule_exprs));
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}\nprometheus log:\n{}",
        problems.len(),
        problems.join("\n"),
        prom.log()
    );
    eprintln!(
        "live Prometheus: {} dashboard queries (x2 variable settings) and {} alert rules evaluated",
        targets.len(),
        rule_exprs.len()
    );
}

/// The gateway's exposition once Prometheus has scraped the final counters;
/// checks it is a Content-Type Prometheus 3 accepts.
fn settled_exposition(gw: &Gateway, prom: &Prometheus) -> String {
    let metrics = gw.get("/metrics");
    assert_eq!(metrics.status, 200);
    // Prometheus 3 refuses a scrape whose Content-Type it cannot read.
    let ctype = metrics
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        ctype.starts_with("text/plain") || ctype.starts_with("application/openmetrics-text"),
        "/metrics Content-Type {ctype:?} is not a Prometheus exposition type"
    );
    assert!(
        eventually(|| gw
            .get("/metrics")
            .text
            .contains("logops_housekeeping_files_total{")),
        "start-up housekeeping did not report the expired file"
    );
    let text = gw.get("/metrics").text;
    let accepted = exposed_accepted(&text);
    assert!(
        accepted > 0.0,
        "no logops_accepted_total after traffic:\n{text}"
    );
    wait_for("Prometheus to scrape the final counters", || {
        (sample_sum(&prom.query("sum(logops_accepted_total)")) == Some(accepted)).then_some(())
    });
    text
}

/// Every `logops_*` name in `exprs` that the exposition does not have.
fn unexposed_metrics<'a>(exposition: &str, exprs: impl Iterator<Item = &'a String>) -> Vec<String> {
    let exposed = exposed_names(exposition);
    let mut out = Vec::new();
    for expr in exprs {
        for name in metric_names(expr) {
            if !exposed.contains(&name) {
                out.push(format!("{name} (in {expr}) is not exposed by the gateway"));
            }
        }
    }
    out
}

/// Runs the dashboards' `label_values(metric, label)` variable queries (each
/// must find values) and returns two settings: every variable "All" (`.+`),
/// and every variable set to one value found (`emit_json` / `INFO` if there).
fn variable_values(prom: &Prometheus, dashboards: &[grafana::Dashboard]) -> (Values, Values) {
    let label_values = Regex::new(r"^label_values\((\w+),\s*(\w+)\)$").expect("regex");
    let mut chosen: Vec<(String, String)> = Vec::new();
    for d in dashboards {
        for v in d.variables() {
            let Some(q) = v.pointer("/query/query").and_then(Value::as_str) else {
                continue;
            };
            let c = label_values
                .captures(q)
                .unwrap_or_else(|| panic!("{}: unsupported variable query {q}", d.file));
            let resp = prom.api(&format!("label/{}/values", &c[2]), &[("match[]", &c[1])]);
            let values: Vec<String> = resp["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect();
            assert!(
                !values.is_empty(),
                "{}: variable query {q} finds no value",
                d.file
            );
            if !chosen.iter().any(|(n, _)| n == &c[2]) {
                let pick = ["emit_json", "INFO"]
                    .iter()
                    .find(|p| values.iter().any(|v| v == *p));
                let pick = pick.map_or_else(|| values[0].clone(), |p| p.to_string());
                chosen.push((c[2].to_string(), pick));
            }
        }
    }
    let with = |f: &dyn Fn(&str) -> String| -> Values {
        BUILTIN_VALUES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(chosen.iter().map(|(k, v)| (k.clone(), f(v))))
            .collect()
    };
    (with(&|_| ".+".to_string()), with(&|v| regex::escape(v)))
}

/// Every dashboard query evaluates under both variable settings; the core
/// panels return at least one finite sample.
fn check_dashboard_queries(
    prom: &Prometheus,
    targets: &[grafana::Target],
    all: &Values,
    one: &Values,
) -> Vec<String> {
    for (file, title) in CORE_PANELS {
        assert!(
            targets
                .iter()
                .any(|t| t.dashboard == *file && t.panel == *title),
            "core panel {file} / {title:?} not found"
        );
    }
    let mut problems = Vec::new();
    for t in targets {
        for values in [all, one] {
            let expr = grafana::substitute(&t.expr, values);
            let resp = prom.query(&expr);
            if resp["status"] != "success" {
                problems.push(format!(
                    "{} / {:?}: {expr}: {}",
                    t.dashboard, t.panel, resp["error"]
                ));
            }
        }
        if CORE_PANELS
            .iter()
            .any(|(f, p)| t.dashboard == *f && t.panel == *p)
        {
            let expr = grafana::substitute(&t.expr, all);
            if !eventually(|| prometheus::has_finite_sample(&prom.query(&expr))) {
                problems.push(format!(
                    "core panel {} / {:?} returns no data: {expr}",
                    t.dashboard, t.panel
                ));
            }
        }
    }
    problems
}

/// Every alert expression evaluates, and every loaded rule runs with health `ok`.
fn check_rules(prom: &Prometheus, rule_exprs: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, expr) in rule_exprs {
        let resp = prom.query(expr);
        if resp["status"] != "success" {
            problems.push(format!("alert {name}: {}", resp["error"]));
        }
    }
    let states = wait_for("every rule to be evaluated", || {
        let resp = prom.api("rules", &[]);
        let states: Vec<(String, String, String)> = resp
            .pointer("/data/groups")?
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .map(|r| {
                let s = |k| repo::str_of(r, k).to_string();
                (s("name"), s("health"), s("lastError"))
            })
            .collect();
        let done =
            states.len() == rule_exprs.len() && states.iter().all(|(_, h, _)| h != "unknown");
        done.then_some(states)
    });
    for (name, health, err) in states {
        if health != "ok" {
            problems.push(format!("rule {name} is {health}: {err}"));
        }
    }
    problems
}
