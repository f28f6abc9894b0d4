//! A small reader for the Prometheus / OpenMetrics text exposition, enough to
//! check metric names, label values and sample values from `GET /metrics`.

use std::collections::BTreeMap;

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Sample name as written (`logops_batch_size_count`, …).
    pub name: String,
    /// Label name → unescaped value.
    pub labels: BTreeMap<String, String>,
    /// The value (`+Inf`/`NaN` parse as such).
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, if set.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// Parses every sample line; comment lines (`# HELP`, `# TYPE`, `# EOF`) are skipped.
///
/// # Panics
/// On a line that is not a valid sample, naming it.
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| parse_line(l).unwrap_or_else(|| panic!("bad exposition line: {l:?}")))
        .collect()
}

/// Sum of the values of all samples named `name` whose labels include every `(k, v)` of `filter`.
pub fn sum_samples(samples: &[Sample], name: &str, filter: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && filter.iter().all(|(k, v)| s.label(k) == Some(v)))
        .map(|s| s.value)
        .sum()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut chars = r.char_indices().peekable();
        loop {
            while chars.peek().is_some_and(|(_, c)| *c == ',' || *c == ' ') {
                chars.next();
            }
            let (start, c) = *chars.peek()?;
            if c == '}' {
                rest = &r[start + 1..];
                break;
            }
            let eq = r[start..].find('=')? + start;
            let key = r[start..eq].trim().to_string();
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    '"' => break,
                    other => value.push(other),
                }
            }
            labels.insert(key, value);
        }
    }
    let value_text = rest.split_whitespace().next()?;
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_escapes_and_plain_samples() {
        let text = "# TYPE a counter\na_total{x=\"1\",y=\"q\\\"z\"} 3\nb 4.5\nc_bucket{le=\"+Inf\"} 2\n# EOF\n";
        let s = parse_metrics(text);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].label("y"), Some("q\"z"));
        assert_eq!(s[0].value, 3.0);
        assert_eq!(s[1].name, "b");
        assert_eq!(sum_samples(&s, "c_bucket", &[("le", "+Inf")]), 2.0);
    }
}
