//! Structural checks of the stack's wiring: the Promtail and Alloy pipelines
//! (read into one comparable shape), the alert rule list, the compose file and
//! the gateway's Dockerfile.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use super::alloy::{self, Expr};
use super::repo;

/// What a log agent does with a line, in a form both agents can be compared in.
#[derive(Debug, PartialEq)]
pub struct Pipeline {
    /// Stream labels it sets.
    pub labels: BTreeSet<String>,
    /// JSON keys of the NDJSON line it reads.
    pub json_sources: BTreeSet<String>,
    /// (extracted field, format) of the timestamp stage.
    pub timestamp: (String, String),
    /// Fields sent as structured metadata.
    pub structured_metadata: BTreeSet<String>,
    /// Labels it drops.
    pub dropped: BTreeSet<String>,
    /// (target field, Go template) of the template stage.
    pub template: (String, String),
    /// Glob of the files it tails.
    pub path: String,
    /// Loki push URL.
    pub push_url: String,
}

/// Label `name = source` pairs whose source is empty mean "the same name".
fn source_or_name(name: &str, source: Option<&str>) -> String {
    source.filter(|s| !s.is_empty()).unwrap_or(name).to_string()
}

pub fn promtail() -> Pipeline {
    let cfg = repo::yaml("promtail/promtail-config.yml");
    let job = &cfg["scrape_configs"][0];
    let stages = job["pipeline_stages"]
        .as_array()
        .expect("promtail: pipeline_stages");
    let stage = |name: &str| {
        stages
            .iter()
            .find_map(|s| s.get(name))
            .unwrap_or_else(|| panic!("promtail: no {name} stage"))
    };
    let map_keys =
        |v: &Value| -> BTreeSet<String> { v.as_object().expect("a map").keys().cloned().collect() };
    let expressions = stage("json")["expressions"]
        .as_object()
        .expect("json.expressions");
    let extracted: BTreeSet<String> = expressions.keys().cloned().collect();
    let labels = stage("labels").as_object().expect("labels: a map");
    let template = stage("template");
    for (name, src) in labels {
        let src = source_or_name(name, src.as_str());
        assert!(
            extracted.contains(&src) || src == repo::str_of(template, "source"),
            "promtail: label {name} reads {src}, which no stage extracts"
        );
    }
    Pipeline {
        labels: labels.keys().cloned().collect(),
        json_sources: expressions
            .iter()
            .map(|(k, v)| source_or_name(k, v.as_str()))
            .collect(),
        timestamp: (
            repo::str_of(stage("timestamp"), "source").to_string(),
            repo::str_of(stage("timestamp"), "format").to_string(),
        ),
        structured_metadata: map_keys(stage("structured_metadata")),
        dropped: stage("labeldrop")
            .as_array()
            .expect("labeldrop: a list")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        template: (
            repo::str_of(template, "source").to_string(),
            repo::str_of(template, "template").to_string(),
        ),
        path: job
            .pointer("/static_configs/0/labels/__path__")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        push_url: cfg
            .pointer("/clients/0/url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

fn alloy_str(e: Option<&Expr>) -> String {
    match e {
        Some(Expr::Str(s)) => s.clone(),
        other => panic!("alloy: expected a string, found {other:?}"),
    }
}

fn alloy_object(e: Option<&Expr>) -> Vec<(String, String)> {
    match e {
        Some(Expr::Object(fields)) => fields
            .iter()
            .map(|(k, v)| (k.clone(), source_or_name(k, Some(&alloy_str(Some(v))))))
            .collect(),
        other => panic!("alloy: expected an object, found {other:?}"),
    }
}

pub fn alloy() -> Pipeline {
    let text = repo::read("alloy/config.alloy");
    let nodes = alloy::parse(&text).unwrap_or_else(|e| panic!("alloy/config.alloy: {e}"));
    // Every reference must name a component that exists.
    let components: BTreeSet<String> = nodes
        .iter()
        .filter_map(|n| match n {
            alloy::Node::Block {
                name,
                label: Some(l),
                ..
            } => Some(format!("{name}.{l}")),
            _ => None,
        })
        .collect();
    check_refs(&nodes, &components);
    let one = |name: &str| {
        let found = alloy::blocks(&nodes, name);
        assert_eq!(found.len(), 1, "alloy: expected one {name} block");
        found[0].1
    };
    let json = alloy_object(alloy::attr(one("stage.json"), "expressions"));
    let extracted: BTreeSet<String> = json.iter().map(|(k, _)| k.clone()).collect();
    let template = one("stage.template");
    let labels = alloy_object(alloy::attr(one("stage.labels"), "values"));
    for (name, src) in &labels {
        assert!(
            extracted.contains(src) || *src == alloy_str(alloy::attr(template, "source")),
            "alloy: label {name} reads {src}, which no stage extracts"
        );
    }
    let dropped = match alloy::attr(one("stage.label_drop"), "values") {
        Some(Expr::List(items)) => items.iter().map(|i| alloy_str(Some(i))).collect(),
        other => panic!("alloy: stage.label_drop values: {other:?}"),
    };
    let path = match alloy::attr(one("local.file_match"), "path_targets") {
        Some(Expr::List(items)) => match items.first() {
            Some(Expr::Object(f)) => f
                .iter()
                .find(|(k, _)| k == "__path__")
                .map(|(_, v)| alloy_str(Some(v))),
            _ => None,
        },
        _ => None,
    };
    Pipeline {
        labels: labels.iter().map(|(k, _)| k.clone()).collect(),
        json_sources: json.into_iter().map(|(_, v)| v).collect(),
        timestamp: (
            alloy_str(alloy::attr(one("stage.timestamp"), "source")),
            alloy_str(alloy::attr(one("stage.timestamp"), "format")),
        ),
        structured_metadata: alloy::object_keys(alloy::attr(
            one("stage.structured_metadata"),
            "values",
        ))
        .into_iter()
        .collect(),
        dropped,
        template: (
            alloy_str(alloy::attr(template, "source")),
            alloy_str(alloy::attr(template, "template")),
        ),
        path: path.expect("alloy: local.file_match path_targets with __path__"),
        push_url: alloy_str(alloy::attr(one("endpoint"), "url")),
    }
}

fn check_refs(nodes: &[alloy::Node], components: &BTreeSet<String>) {
    fn walk_expr(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Ref(r) => out.push(r.clone()),
            Expr::List(items) => items.iter().for_each(|i| walk_expr(i, out)),
            Expr::Object(f) => f.iter().for_each(|(_, v)| walk_expr(v, out)),
            _ => {}
        }
    }
    fn walk(nodes: &[alloy::Node], out: &mut Vec<String>) {
        for n in nodes {
            match n {
                alloy::Node::Attr { value, .. } => walk_expr(value, out),
                alloy::Node::Block { body, .. } => walk(body, out),
            }
        }
    }
    let mut refs = Vec::new();
    walk(nodes, &mut refs);
    assert!(!refs.is_empty(), "alloy: components are not wired together");
    for r in refs {
        let component = r.rsplit_once('.').map(|(c, _)| c).unwrap_or(&r);
        assert!(
            components.contains(component),
            "alloy: {r} refers to a missing component"
        );
    }
}

/// Both agents' pipelines; panics if they differ (they must be drop-in
/// replacements for each other).
pub fn agent_pipelines() -> Pipeline {
    let (p, a) = (promtail(), alloy());
    assert_eq!(
        p, a,
        "promtail and alloy pipelines differ (left: promtail, right: alloy)"
    );
    p
}

/// Every alerting rule of a rules file.
pub fn alert_rules(rules: &Value) -> Vec<&Value> {
    rules["groups"]
        .as_array()
        .expect("groups: a list")
        .iter()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter(|r| r.get("alert").is_some())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The compose file: services, volumes shared by gateway and agents, Docker
/// host access, bind-mounted files that exist, secrets only by reference.
pub fn check_compose() {
    let c = repo::yaml("docker-compose.yml");
    let svc = |name: &str| {
        c.pointer(&format!("/services/{name}"))
            .unwrap_or_else(|| panic!("no service {name}"))
    };
    let gw = svc("gateway");
    let ctx = repo::docker(repo::str_of(&gw["build"], "context"));
    assert!(
        ctx.join(repo::str_of(&gw["build"], "dockerfile")).is_file(),
        "gateway Dockerfile not found from the build context"
    );
    assert_eq!(
        gw.pointer("/environment/LOGOPS_LISTEN")
            .and_then(Value::as_str),
        Some("0.0.0.0:8080")
    );
    let sink = gw
        .pointer("/environment/LOGOPS_SINK_DIR")
        .and_then(Value::as_str)
        .expect("LOGOPS_SINK_DIR");
    let gw_volumes = strings(&gw["volumes"]);
    let data = gw_volumes
        .iter()
        .find(|v| !v.starts_with('.') && sink.starts_with(v.split(':').nth(1).unwrap_or("-")))
        .unwrap_or_else(|| panic!("the sink dir {sink} is not on a named volume: {gw_volumes:?}"));
    let (volume, mount) = data.split_once(':').expect("volume:path");
    assert!(
        c.pointer(&format!("/volumes/{volume}")).is_some(),
        "volume {volume} not declared"
    );
    let pipeline = agent_pipelines();
    for agent in ["alloy", "promtail"] {
        let want = format!("{volume}:{mount}:ro");
        assert!(
            strings(&svc(agent)["volumes"]).contains(&want),
            "{agent} must mount {want}"
        );
        assert!(
            pipeline.path.starts_with(sink),
            "agents tail {} but the sink is {sink}",
            pipeline.path
        );
    }
    assert!(
        !strings(&svc("promtail")["profiles"]).is_empty(),
        "promtail must be opt-in (a profile), alloy is the default"
    );
    let prom = svc("prometheus");
    assert!(
        strings(&prom["extra_hosts"]).contains(&"host.docker.internal:host-gateway".to_string())
    );
    // Every bind-mounted file or directory exists.
    for (name, s) in c["services"].as_object().expect("services") {
        for v in strings(&s["volumes"])
            .iter()
            .filter(|v| v.starts_with("./"))
        {
            let src = v.split(':').next().unwrap_or("");
            assert!(
                repo::docker(src).exists(),
                "service {name} mounts missing {src}"
            );
        }
    }
    // Grafana loads dashboards from where they are mounted.
    let provider = repo::yaml("grafana/provisioning/dashboards/dashboards.yml");
    let path = provider
        .pointer("/providers/0/options/path")
        .and_then(Value::as_str)
        .expect("provider path");
    let mounted = format!("./grafana/dashboards:{path}:ro");
    assert!(
        strings(&svc("grafana")["volumes"]).contains(&mounted),
        "grafana must mount {mounted}"
    );
    // Secrets only by reference, and required (no default value).
    let required = Regex::new(r"^\$\{[A-Z0-9_]+:\?[^}]*\}$").expect("regex");
    for (name, s) in c["services"].as_object().expect("services") {
        for (k, v) in s["environment"].as_object().into_iter().flatten() {
            if ["PASSWORD", "SECRET", "TOKEN", "WEBHOOK", "KEY"]
                .iter()
                .any(|w| k.contains(w))
            {
                let v = v.as_str().unwrap_or("");
                assert!(
                    required.is_match(v),
                    "{name}: {k} must be a required ${{VAR:?...}} reference, is {v:?}"
                );
            }
        }
    }
    // Hosts the configs reach are compose services.
    let services: BTreeSet<&str> = c["services"]
        .as_object()
        .expect("services")
        .keys()
        .map(String::as_str)
        .collect();
    let host = Regex::new(r"^(?:https?://)?([a-z0-9-]+):\d+").expect("regex");
    let ds = repo::yaml("grafana/provisioning/datasources/datasources.yml");
    let mut urls: Vec<String> = ds["datasources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| repo::str_of(d, "url").to_string())
        .collect();
    urls.push(pipeline.push_url.clone());
    urls.extend(strings(
        &repo::yaml("prometheus/targets/gateway.yml")[0]["targets"],
    ));
    let am = repo::yaml("prometheus/prometheus.yml");
    urls.extend(strings(
        &am["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"],
    ));
    for url in urls {
        let h = host
            .captures(&url)
            .unwrap_or_else(|| panic!("cannot read the host of {url}"));
        assert!(
            services.contains(&h[1]),
            "{url}: {} is not a compose service",
            &h[1]
        );
    }
}

/// The gateway image: multi-stage, non-root, listening on all interfaces,
/// sink on the /data volume.
pub fn check_dockerfile() {
    let text = repo::read("Dockerfile");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let from = lines.iter().filter(|l| l.starts_with("FROM ")).count();
    assert!(from >= 2, "the Dockerfile must be multi-stage");
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "the runtime user must not be root"
    );
    for want in [
        "LOGOPS_LISTEN=0.0.0.0:8080",
        "LOGOPS_SINK_DIR=/data/ingest",
        "VOLUME [\"/data\"]",
        "--locked -p logops-gateway",
    ] {
        assert!(text.contains(want), "the Dockerfile must contain {want}");
    }
    let ignore = repo::read("Dockerfile.dockerignore");
    for want in ["target", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim() == want),
            "Dockerfile.dockerignore must exclude {want}"
        );
    }
}
