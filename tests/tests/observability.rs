//! The observability stack under `infra/docker/`, checked for real:
//!
//! - structure: the Grafana dashboards (valid JSON, unique panel ids, every
//!   datasource uid provisioned, every variable defined and used), the alert
//!   rules (severity, summary, description; a firing and a silent unit test
//!   each; a runbook entry in docs/observability.md), Loki, Promtail and Alloy
//!   (they parse, agree with each other, set only low-cardinality labels that
//!   the LogQL of the dashboards uses), the compose file and the Dockerfile;
//! - the NDJSON the real gateway writes carries every field the log agents
//!   extract, in the shape they expect;
//! - live: a real Prometheus scrapes a real gateway every second while traffic
//!   flows, loads `alert_rules.yml`, and evaluates through its HTTP API every
//!   PromQL expression found in the dashboards and the rules. The expressions
//!   are read from the files, so a new panel or rule is checked without editing
//!   this test.
//!
//! `promtool check config/rules` and `promtool test rules` run in
//! `infra/check.sh`. LogQL needs Loki, which only runs under Docker: those
//! queries are checked for the labels they rely on, not evaluated.

#[path = "observability/alloy.rs"]
mod alloy;
#[path = "observability/grafana.rs"]
mod grafana;
#[path = "observability/live.rs"]
mod live;
#[path = "observability/prometheus.rs"]
mod prometheus;
#[path = "observability/repo.rs"]
mod repo;
#[path = "observability/stack.rs"]
mod stack;
#[path = "observability/traffic.rs"]
mod traffic;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use grafana::{Dashboard, BUILTIN_DATASOURCES, BUILTIN_VARIABLES};

/// Datasource uid → type, from the Grafana provisioning file.
fn provisioned_datasources() -> BTreeMap<String, String> {
    let ds = repo::yaml("grafana/provisioning/datasources/datasources.yml");
    let list = ds["datasources"].as_array().expect("datasources: a list");
    let mut out = BTreeMap::new();
    for d in list {
        let uid = repo::str_of(d, "uid");
        assert!(!uid.is_empty(), "datasource without a fixed uid: {d}");
        let old = out.insert(uid.to_string(), repo::str_of(d, "type").to_string());
        assert!(old.is_none(), "datasource uid {uid} provisioned twice");
    }
    out
}

#[test]
fn dashboards_are_valid_and_consistent() {
    let provisioned = provisioned_datasources();
    let dashboards = grafana::dashboards();
    let uids: BTreeSet<&str> = dashboards
        .iter()
        .map(|d| repo::str_of(&d.json, "uid"))
        .collect();
    assert_eq!(
        uids.len(),
        dashboards.len(),
        "dashboard uids must be unique"
    );
    for want in [
        "logops-overview",
        "logops-trends",
        "logops-emitters",
        "logops-raw-logs",
    ] {
        assert!(
            uids.contains(want),
            "dashboard {want} missing (have {uids:?})"
        );
    }
    for d in &dashboards {
        check_dashboard(d, &provisioned);
    }
    let raw = dashboards
        .iter()
        .find(|d| d.json["uid"] == "logops-raw-logs")
        .expect("raw logs");
    assert!(
        raw.panels().iter().any(|p| p["type"] == "logs"
            && grafana::datasource_uid(p.get("datasource")).as_deref() == Some("${logs}")),
        "the raw logs dashboard needs a logs panel on the `logs` datasource variable"
    );
    // Either Loki or LogOps itself (its Loki-compatible API) can be picked.
    assert_eq!(provisioned.get("loki").map(String::as_str), Some("loki"));
    assert_eq!(
        provisioned.get("logops-direct").map(String::as_str),
        Some("loki")
    );
}

fn check_dashboard(d: &Dashboard, provisioned: &BTreeMap<String, String>) {
    let f = &d.file;
    assert!(!repo::str_of(&d.json, "title").is_empty(), "{f}: no title");
    let ds_ok = |uid: &str, ty: Option<&str>| {
        if BUILTIN_DATASOURCES.contains(&uid) {
            return true;
        }
        // `${var}`: a datasource variable of the dashboard, over provisioned sources of its type.
        if let Some(var) = uid.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
            let list = d.json.pointer("/templating/list").and_then(Value::as_array);
            let kind = list
                .into_iter()
                .flatten()
                .find(|v| v["name"] == var && v["type"] == "datasource")
                .and_then(|v| v["query"].as_str());
            return kind.is_some_and(|k| {
                ty.is_none_or(|ty| ty == k) && provisioned.values().any(|t| t == k)
            });
        }
        match provisioned.get(uid) {
            Some(t) => ty.is_none_or(|ty| ty == t),
            None => false,
        }
    };
    let mut ids = BTreeSet::new();
    for p in d.panels() {
        let title = repo::str_of(p, "title");
        let id = p["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("{f}: panel {title:?} has no id"));
        assert!(ids.insert(id), "{f}: panel id {id} used twice ({title:?})");
        if p["type"] == "row" {
            continue;
        }
        let uid = grafana::datasource_uid(p.get("datasource"))
            .unwrap_or_else(|| panic!("{f}: panel {title:?} has no datasource"));
        let ty = p.pointer("/datasource/type").and_then(Value::as_str);
        assert!(
            ds_ok(&uid, ty),
            "{f}: panel {title:?} uses datasource {uid} ({ty:?}), not provisioned"
        );
        let targets = p["targets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert!(!targets.is_empty(), "{f}: panel {title:?} has no query");
        let mut refs = BTreeSet::new();
        for t in targets {
            let t_uid = grafana::datasource_uid(t.get("datasource")).unwrap_or(uid.clone());
            let t_ty = t.pointer("/datasource/type").and_then(Value::as_str);
            assert!(
                ds_ok(&t_uid, t_ty),
                "{f}: a query of {title:?} uses datasource {t_uid}, not provisioned"
            );
            assert!(
                !repo::str_of(t, "expr").trim().is_empty(),
                "{f}: empty query in {title:?}"
            );
            assert!(
                refs.insert(repo::str_of(t, "refId")),
                "{f}: refId repeated in {title:?}"
            );
        }
    }
    let declared = d.variable_names();
    assert_eq!(
        declared.len(),
        d.variables().len(),
        "{f}: variable names repeat"
    );
    for want in ["emitter", "level"] {
        assert!(declared.contains(want), "{f}: no ${want} variable");
    }
    for v in d.variables() {
        if let Some(uid) = grafana::datasource_uid(v.get("datasource")) {
            assert!(
                ds_ok(&uid, None),
                "{f}: variable {} uses datasource {uid}",
                v["name"]
            );
        }
    }
    let mut used = BTreeSet::new();
    let texts = grafana::all_strings(&d.json["panels"]).into_iter().chain(
        d.variables().into_iter().flat_map(|v| {
            grafana::all_strings(&v["query"])
                .into_iter()
                .chain(grafana::all_strings(&v["definition"]))
        }),
    );
    for text in texts {
        for name in grafana::used_variables(text) {
            assert!(
                declared.contains(&name) || BUILTIN_VARIABLES.contains(&name.as_str()),
                "{f}: ${name} is used but not defined (in {text:?})"
            );
            used.insert(name);
        }
    }
    for name in &declared {
        assert!(
            used.contains(name),
            "{f}: variable ${name} is defined but no panel uses it"
        );
    }
}

#[test]
fn logql_queries_use_only_labels_the_agents_set() {
    let agent_labels = stack::agent_pipelines().labels;
    let vars = [
        ("emitter", ".+".to_string()),
        ("level", ".+".to_string()),
        ("search", String::new()),
        ("__interval", "1m".to_string()),
        ("__range", "1h".to_string()),
        ("__auto", "1m".to_string()),
    ];
    let mut checked = 0;
    for d in grafana::dashboards() {
        for t in d.targets().into_iter().filter(|t| t.datasource == "loki") {
            let expr = grafana::substitute(&t.expr, &vars);
            for label in grafana::logql_labels(&expr) {
                assert!(
                    agent_labels.contains(&label),
                    "{} / {:?}: label {label} is not set by the log agents ({agent_labels:?}): {}",
                    t.dashboard,
                    t.panel,
                    t.expr
                );
            }
            checked += 1;
        }
        for v in d.variables() {
            if grafana::datasource_uid(v.get("datasource")).as_deref() == Some("loki") {
                let label = v
                    .pointer("/query/label")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                assert!(
                    agent_labels.contains(label),
                    "{}: variable on unknown label {label:?}",
                    d.file
                );
            }
        }
    }
    assert!(checked > 0, "no LogQL query found in the dashboards");
}

#[test]
fn alert_rules_are_annotated_tested_and_documented() {
    let rules = repo::yaml("prometheus/alert_rules.yml");
    let tests = repo::yaml("prometheus/alert_rules_test.yml");
    let docs_path = repo::root().join("docs/observability.md");
    let docs = std::fs::read_to_string(&docs_path).expect("docs/observability.md");
    assert!(
        tests["rule_files"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f == "alert_rules.yml"),
        "alert_rules_test.yml must load alert_rules.yml"
    );
    let cases: Vec<&Value> = tests["tests"]
        .as_array()
        .expect("tests: a list")
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten())
        .collect();
    let mut names = BTreeSet::new();
    for rule in stack::alert_rules(&rules) {
        let name = repo::str_of(rule, "alert");
        assert!(names.insert(name), "alert {name} defined twice");
        let severity = rule.pointer("/labels/severity").and_then(Value::as_str);
        assert!(
            matches!(severity, Some("warning" | "critical")),
            "{name}: severity must be warning or critical, is {severity:?}"
        );
        for key in ["summary", "description"] {
            let text = rule
                .pointer(&format!("/annotations/{key}"))
                .and_then(Value::as_str);
            assert!(
                text.is_some_and(|t| !t.trim().is_empty()),
                "{name}: no {key} annotation"
            );
        }
        let of_rule = || cases.iter().filter(|c| c["alertname"] == name);
        let fires = |c: &&&Value| c["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
        assert!(
            of_rule().any(|c| fires(&c)),
            "{name}: no unit test where it fires"
        );
        assert!(
            of_rule().any(|c| !fires(&c)),
            "{name}: no unit test where it stays silent"
        );
        assert!(
            docs.contains(&format!("### {name}")),
            "{name}: no `### {name}` section in docs/observability.md"
        );
    }
    assert!(
        names.len() >= 15,
        "expected the full alert set, found {names:?}"
    );
}

#[test]
fn log_agents_parse_and_agree() {
    // agent_pipelines() parses both files and asserts they agree.
    let p = stack::agent_pipelines();
    let want: BTreeSet<String> = ["app", "level", "emitter"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        p.labels, want,
        "labels must be exactly the low-cardinality ones"
    );
    for key in ["ts", "level", "emitter", "scenario_id", "app", "service"] {
        assert!(
            p.json_sources.contains(key),
            "the json stage must extract {key}"
        );
    }
    assert_eq!(p.timestamp, ("ts".to_string(), "RFC3339Nano".to_string()));
    assert!(p.structured_metadata.contains("scenario_id"));
    assert!(
        !p.labels.contains("scenario_id"),
        "scenario_id is high-cardinality"
    );
    assert!(
        p.dropped.contains("filename"),
        "the per-file label must be dropped"
    );
}

#[test]
fn loki_uses_tsdb_schema_v13_with_structured_metadata() {
    let loki = repo::yaml("loki/loki-config.yml");
    let configs = loki
        .pointer("/schema_config/configs")
        .and_then(Value::as_array)
        .expect("schemas");
    let latest = configs.last().expect("one schema");
    assert_eq!(latest["schema"], "v13");
    assert_eq!(latest["store"], "tsdb");
    assert_eq!(
        loki.pointer("/limits_config/allow_structured_metadata"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        loki.pointer("/server/http_listen_port")
            .and_then(Value::as_u64),
        Some(3100)
    );
}

#[test]
fn compose_and_dockerfile_wire_the_stack() {
    stack::check_compose();
    stack::check_dockerfile();
}

#[test]
fn gateway_ndjson_has_the_fields_the_log_agents_extract() {
    traffic::ndjson_matches_agents();
}

#[test]
fn live_prometheus_evaluates_every_dashboard_and_alert_expression() {
    live::prometheus_evaluates_everything();
}

/// Evaluates the agents' `app` template (`{{ if .a }}{{ .a }}{{ else if .b
/// }}{{ .b }}{{ else }}lit{{ end }}`, the only shape the configs use) over the
/// fields the json stage extracted, as Go's text/template would.
fn eval_label_template(template: &str, fields: &BTreeMap<String, String>) -> String {
    let body = template.trim();
    let mut rest = body
        .strip_prefix("{{ if ")
        .unwrap_or_else(|| panic!("unsupported template {template}"));
    loop {
        let (cond, after) = rest.split_once(" }}").expect("condition");
        let field = cond.trim().trim_start_matches('.');
        let (then, after) = after.split_once("{{ else").expect("else branch");
        if fields.get(field).is_some_and(|v| !v.is_empty()) {
            let then = then.trim();
            assert_eq!(
                then,
                format!("{{{{ .{field} }}}}"),
                "unsupported branch {then}"
            );
            return fields[field].clone();
        }
        if let Some(next) = after.strip_prefix(" if ") {
            rest = next;
            continue;
        }
        let (lit, end) = after
            .strip_prefix(" }}")
            .and_then(|a| a.split_once("{{ end }}"))
            .expect("else literal");
        assert!(end.is_empty(), "text after end: {end}");
        return lit.to_string();
    }
}

/// SPEC §2.5: an OTLP record's resource `service.name` is also stored as
/// `service`, so the `app` label that Alloy and Promtail compute from the
/// stored line is the service's name, not `unknown`. The stored line goes
/// through both agents' configured json extraction and template.
#[test]
fn otlp_service_name_becomes_the_app_label_through_the_agent_configs() {
    let gw = logops_e2e::Gateway::start();
    let body = serde_json::json!({"resourceLogs":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"checkout"}}]},
        "scopeLogs":[{"logRecords":[{"timeUnixNano":"1764572400000000000","severityNumber":9,
        "body":{"stringValue":"order placed"}}]}]}]});
    let r = gw.ingest("application/json", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.text);
    let stored = gw.stored_records();
    assert_eq!(stored.len(), 1);
    for p in [stack::promtail(), stack::alloy()] {
        let fields: BTreeMap<String, String> = p
            .json_sources
            .iter()
            .filter_map(|k| Some((k.clone(), stored[0].get(k)?.as_str()?.to_string())))
            .collect();
        let (target, template) = &p.template;
        assert_eq!(target, "app");
        assert_eq!(
            eval_label_template(template, &fields),
            "checkout",
            "{template} over {fields:?}"
        );
    }
    // Without a service the same template falls back as configured.
    let none = BTreeMap::new();
    assert_eq!(
        eval_label_template(&stack::alloy().template.1, &none),
        "unknown"
    );
}
