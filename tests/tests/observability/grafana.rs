//! The provisioned Grafana dashboards as the tests see them: panels (rows
//! flattened), query targets with their effective datasource, template
//! variables, the variables an expression uses, substitution of Grafana's
//! variables by concrete values, and the label names a LogQL query relies on.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use super::repo;

/// Datasource uids Grafana provides itself (not provisioned).
pub const BUILTIN_DATASOURCES: &[&str] =
    &["-- Grafana --", "-- Mixed --", "-- Dashboard --", "grafana"];

/// Variables Grafana defines itself.
pub const BUILTIN_VARIABLES: &[&str] = &[
    "__interval",
    "__interval_ms",
    "__rate_interval",
    "__rate_interval_ms",
    "__range",
    "__range_s",
    "__range_ms",
    "__auto",
    "__from",
    "__to",
    "__timeFilter",
    "__dashboard",
    "__org",
    "__user",
    "__name",
    "__all",
    "timeFilter",
];

/// One dashboard file.
pub struct Dashboard {
    /// File name under `grafana/dashboards/`.
    pub file: String,
    /// Its JSON.
    pub json: Value,
}

/// One query of one panel.
#[derive(Debug, Clone)]
pub struct Target {
    /// Dashboard file name.
    pub dashboard: String,
    /// Title of the panel the query belongs to.
    pub panel: String,
    /// The target's datasource uid, else the panel's.
    pub datasource: String,
    /// The query text (PromQL or LogQL).
    pub expr: String,
}

/// Every `*.json` under `infra/docker/grafana/dashboards/`, by file name.
pub fn dashboards() -> Vec<Dashboard> {
    let dir = repo::docker("grafana/dashboards");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| Dashboard {
            json: repo::json(&format!("grafana/dashboards/{file}")),
            file,
        })
        .collect()
}

/// The uid of a datasource reference (`{"type":..,"uid":..}` or a plain string).
pub fn datasource_uid(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("uid").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

impl Dashboard {
    /// Every panel, with the panels nested in rows.
    pub fn panels(&self) -> Vec<&Value> {
        fn walk<'a>(list: Option<&'a Value>, out: &mut Vec<&'a Value>) {
            for p in list.and_then(Value::as_array).into_iter().flatten() {
                out.push(p);
                walk(p.get("panels"), out);
            }
        }
        let mut out = Vec::new();
        walk(self.json.get("panels"), &mut out);
        out
    }

    /// The template variables.
    pub fn variables(&self) -> Vec<&Value> {
        self.json
            .pointer("/templating/list")
            .and_then(Value::as_array)
            .map(|l| l.iter().collect())
            .unwrap_or_default()
    }

    /// Names of the template variables.
    pub fn variable_names(&self) -> BTreeSet<String> {
        self.variables()
            .iter()
            .map(|v| repo::str_of(v, "name").to_string())
            .collect()
    }

    /// Every query target of every panel.
    pub fn targets(&self) -> Vec<Target> {
        let mut out = Vec::new();
        for p in self.panels() {
            let panel_ds = datasource_uid(p.get("datasource"));
            for t in p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let ds = datasource_uid(t.get("datasource")).or_else(|| panel_ds.clone());
                out.push(Target {
                    dashboard: self.file.clone(),
                    panel: repo::str_of(p, "title").to_string(),
                    datasource: ds.unwrap_or_default(),
                    expr: repo::str_of(t, "expr").to_string(),
                });
            }
        }
        out
    }
}

fn variable_regex() -> Regex {
    Regex::new(r"\$\{(\w+)(?::[\w:]+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)").expect("regex")
}

/// Names of the Grafana variables used in `text` (`$x`, `${x}`, `${x:fmt}`, `[[x]]`).
pub fn used_variables(text: &str) -> Vec<String> {
    variable_regex()
        .captures_iter(text)
        .filter_map(|c| {
            c.get(1)
                .or(c.get(2))
                .or(c.get(3))
                .map(|m| m.as_str().to_string())
        })
        .collect()
}

/// Every string anywhere inside `v`.
pub fn all_strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().flat_map(all_strings).collect(),
        Value::Object(m) => m.values().flat_map(all_strings).collect(),
        _ => Vec::new(),
    }
}

/// `expr` with every Grafana variable replaced by `values[name]`; panics on a
/// variable that has no value (the caller forgot one, or the dashboard uses an
/// unknown variable).
pub fn substitute<K: AsRef<str>>(expr: &str, values: &[(K, String)]) -> String {
    variable_regex()
        .replace_all(expr, |c: &regex::Captures<'_>| {
            let name = c.get(1).or(c.get(2)).or(c.get(3)).expect("group").as_str();
            values
                .iter()
                .find(|(k, _)| k.as_ref() == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no test value for variable ${name} in {expr}"))
        })
        .into_owned()
}

/// Label names a LogQL query needs as stream labels: the names in its stream
/// selectors and in its `by (...)` / `without (...)` clauses, minus the names a
/// `| json a="..."` or `| json a` stage extracts at query time.
pub fn logql_labels(expr: &str) -> BTreeSet<String> {
    let matcher = Regex::new(r#"^\s*(\w+)\s*(=~|!~|!=|=)\s*""#).expect("regex");
    let mut labels = BTreeSet::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            if c == '\\' {
                i += 1;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '{' && !(i > 0 && chars[i - 1] == '$') {
            let end =
                selector_end(&chars, i).unwrap_or_else(|| panic!("unclosed selector: {expr}"));
            let inner: String = chars[i + 1..end].iter().collect();
            for part in split_outside_quotes(&inner) {
                let caps = matcher
                    .captures(&part)
                    .unwrap_or_else(|| panic!("bad stream matcher {part:?} in {expr}"));
                labels.insert(caps[1].to_string());
            }
            i = end;
        }
        i += 1;
    }
    let by = Regex::new(r"\b(?:by|without)\s*\(([^)]*)\)").expect("regex");
    for c in by.captures_iter(expr) {
        labels.extend(
            c[1].split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        );
    }
    let json = Regex::new(r"\|\s*json\b([^|\[]*)").expect("regex");
    for c in json.captures_iter(expr) {
        for part in split_outside_quotes(&c[1]) {
            if let Some(name) = part
                .split('=')
                .next()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                labels.remove(name);
            }
        }
    }
    labels
}

fn selector_end(chars: &[char], open: usize) -> Option<usize> {
    let mut in_str = false;
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if in_str => i += 1,
            '"' => in_str = !in_str,
            '}' if !in_str => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn split_outside_quotes(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut in_str, mut esc) = (Vec::new(), String::new(), false, false);
    for c in s.chars() {
        if esc {
            esc = false;
        } else if c == '\\' && in_str {
            esc = true;
        } else if c == '"' {
            in_str = !in_str;
        } else if (c == ',' || (c.is_whitespace() && !in_str && cur.contains('"'))) && !in_str {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
            continue;
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_in_all_syntaxes() {
        let used = used_variables(
            r#"rate(x{a=~"$emitter", b="${level:regex}"}[$__rate_interval]) [[old]]"#,
        );
        assert_eq!(used, vec!["emitter", "level", "__rate_interval", "old"]);
    }

    #[test]
    fn substitutes_longest_names() {
        let v = [
            ("__range", "5m".to_string()),
            ("__range_s", "300".to_string()),
        ];
        assert_eq!(substitute("a[$__range] $__range_s", &v), "a[5m] 300");
    }

    #[test]
    fn logql_labels_from_selectors_and_grouping() {
        let q = r#"topk(5, sum by (level, msg) (count_over_time({emitter=~"a,b", app!="x"} |= "}" | json msg="msg" [5m])))"#;
        let want: BTreeSet<String> = ["app", "emitter", "level"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(logql_labels(q), want);
    }
}
