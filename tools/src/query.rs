//! The `logops-query` CLI: LogQL-subset queries and live tails, either over
//! the sink and archive directories with the gateway's read engine
//! ([`logops_gateway::read`], no gateway needed) or over a gateway's
//! `/v1/query` and `/v1/tail`.
//!
//! Output is the stored lines exactly (NDJSON), or — on a terminal — one
//! line per record, `ts level msg` with the level coloured and the other
//! fields after it ([`pretty`]).

use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use logops_gateway::read::filter::Filter;
use logops_gateway::read::logql::{self, LogQuery, Query};
use logops_gateway::read::query::{self, Direction, LogRequest, Outcome};
use logops_gateway::read::source::Store;
use logops_gateway::read::tail::{LineId, Start, Tail};
use logops_gateway::read::timearg::{now_ns, parse_time};
use logops_gateway::read::DEFAULT_QUERY_MAX_BYTES;
use logops_gateway::schema::Tenant;
use serde_json::{json, Value};

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The query or an argument is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Reading the files or talking to the gateway failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Writing the output failed (a broken pipe is a normal end).
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

/// Where to read from.
#[derive(Debug, Clone)]
pub enum Target {
    /// The sink directory (and the archive directory) on this machine.
    Dir {
        /// The gateway's sink directory.
        sink_dir: PathBuf,
        /// Its zip archives.
        archive_dir: PathBuf,
    },
    /// A gateway.
    Url {
        /// `http://host:port`.
        base: String,
        /// `(key id, secret)` for `Authorization: Bearer <id>:<secret>`.
        key: Option<(String, String)>,
    },
}

/// One query, as given on the command line.
#[derive(Debug, Clone)]
pub struct Request {
    /// The LogQL-subset log query.
    pub query: String,
    /// Start: `--from`, or `--since` (both any form of [`parse_time`]).
    pub from: Option<String>,
    /// End (inclusive): `--to`, default now.
    pub to: Option<String>,
    /// At most this many lines (not for a tail).
    pub limit: usize,
    /// Oldest first.
    pub forward: bool,
    /// Follow instead of querying.
    pub tail: bool,
    /// The tenant read (default: the default tenant, or the key's).
    pub tenant: Option<String>,
}

/// How the lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The stored lines exactly.
    Ndjson,
    /// [`pretty`], coloured or not.
    Pretty {
        /// ANSI colours on the level.
        color: bool,
    },
}

/// How often a tail over the directories looks for new lines.
pub const TAIL_POLL: Duration = Duration::from_millis(250);
/// Lines per poll of a tail over the directories.
const TAIL_BATCH: usize = 512;

/// Runs `req` against `target`, writing lines to `out` and the `_stats`
/// line (queries only) to `stats`. A tail runs until killed or an error.
///
/// # Errors
/// [`Failure`].
pub fn run(
    target: &Target,
    req: &Request,
    format: Format,
    out: &mut dyn Write,
    stats: &mut dyn Write,
) -> Result<(), Failure> {
    let q = parse_logs(&req.query)?;
    let filter = Filter::new(&q).map_err(|e| Failure::Usage(e.to_string()))?;
    let (start, end) = window(req)?;
    let mut sink = Sink { out, format };
    match (target, req.tail) {
        (
            Target::Dir {
                sink_dir,
                archive_dir,
            },
            false,
        ) => {
            let store = Store::new(sink_dir.clone(), archive_dir.clone(), None);
            let tenant = tenant(req)?;
            let lr = LogRequest {
                filter: &filter,
                range: (start, end.saturating_add(1)),
                limit: req.limit,
                direction: if req.forward {
                    Direction::Forward
                } else {
                    Direction::Backward
                },
                max_bytes: DEFAULT_QUERY_MAX_BYTES,
            };
            let mut werr = None;
            let outcome = query::run(&store, &tenant, &lr, &mut |hit| match sink.line(hit.line) {
                Ok(()) => true,
                Err(e) => {
                    werr = Some(e);
                    false
                }
            });
            if let Some(e) = werr {
                return Err(Failure::Output(e));
            }
            let outcome = outcome
                .map_err(|e| Failure::Failed(format!("reading {}: {e}", sink_dir.display())))?;
            sink.out.flush()?;
            writeln!(stats, "{}", json!({ "_stats": stats_json(&outcome) }))?;
            Ok(())
        }
        (
            Target::Dir {
                sink_dir,
                archive_dir,
            },
            true,
        ) => {
            let store = Arc::new(Store::new(sink_dir.clone(), archive_dir.clone(), None));
            let from = if req.from.is_some() {
                Start::Since(start)
            } else {
                Start::Now
            };
            let failed =
                |e: io::Error| Failure::Failed(format!("reading {}: {e}", sink_dir.display()));
            let mut tail = Tail::new(store, tenant(req)?, filter, from).map_err(failed)?;
            loop {
                let mut werr = None;
                let n = tail
                    .poll(TAIL_BATCH, &mut |_, l| {
                        if werr.is_none() {
                            werr = sink.line(l.bytes).err();
                        }
                    })
                    .map_err(failed)?;
                if let Some(e) = werr {
                    return Err(Failure::Output(e));
                }
                sink.out.flush()?;
                if n < TAIL_BATCH {
                    std::thread::sleep(TAIL_POLL);
                }
            }
        }
        (Target::Url { base, key }, false) => {
            let mut params = vec![
                ("query", req.query.clone()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("limit", req.limit.to_string()),
                (
                    "direction",
                    if req.forward { "forward" } else { "backward" }.to_string(),
                ),
            ];
            if let Some(t) = &req.tenant {
                params.push(("tenant", t.clone()));
            }
            let resp = get(base, "/v1/query", &params, key.as_ref(), None)?;
            let mut lines = BufReader::new(resp.into_body().into_reader());
            let mut held: Option<Vec<u8>> = None;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = lines
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| Failure::Failed(format!("reading the answer of {base}: {e}")))?;
                if n == 0 {
                    break;
                }
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                // The last line is the `_stats` line: write each line once the next one came.
                if let Some(prev) = held.replace(buf.clone()) {
                    sink.line(&prev)?;
                }
            }
            sink.out.flush()?;
            match held {
                Some(last) if last.starts_with(b"{\"_stats\"") => {
                    stats.write_all(&last)?;
                    stats.write_all(b"\n")?;
                    let v: Value = serde_json::from_slice(&last).unwrap_or_default();
                    if let Some(e) = v["_stats"]["error"].as_str() {
                        return Err(Failure::Failed(format!("the gateway: {e}")));
                    }
                    Ok(())
                }
                _ => Err(Failure::Failed(format!(
                    "the answer of {base} ended early (no _stats line)"
                ))),
            }
        }
        (Target::Url { base, key }, true) => {
            let mut params = vec![("query", req.query.clone())];
            if req.from.is_some() {
                params.push(("start", start.to_string()));
            }
            if let Some(t) = &req.tenant {
                params.push(("tenant", t.clone()));
            }
            let mut last: Option<LineId> = None;
            loop {
                let resp = get(base, "/v1/tail", &params, key.as_ref(), last)?;
                let reader = BufReader::new(resp.into_body().into_reader());
                // Ends when the stream does: reconnect after the last event got.
                follow_sse(reader, &mut sink, &mut last)?;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Parses a log query; a metric query or a parse error is a usage error.
fn parse_logs(src: &str) -> Result<LogQuery, Failure> {
    match logql::parse(src) {
        Ok(Query::Logs(q)) => Ok(q),
        Ok(_) => Err(Failure::Usage(
            "a metric query: logops-query returns lines, give a log query".into(),
        )),
        Err(e) => Err(Failure::Usage(e.to_string())),
    }
}

/// `[start, end]` in Unix ns: `end` defaults to now, `start` to an hour before it.
fn window(req: &Request) -> Result<(i64, i64), Failure> {
    let now = now_ns();
    let bad = |e: logops_gateway::read::timearg::TimeError| Failure::Usage(e.to_string());
    let end = req
        .to
        .as_deref()
        .map_or(Ok(now), |v| parse_time("--to", v, now))
        .map_err(bad)?;
    let start = req
        .from
        .as_deref()
        .map_or(Ok(end.saturating_sub(3_600_000_000_000)), |v| {
            parse_time("--from", v, now)
        })
        .map_err(bad)?;
    if start > end && !req.tail {
        return Err(Failure::Usage("the start is after the end".into()));
    }
    Ok((start, end))
}

fn tenant(req: &Request) -> Result<Tenant, Failure> {
    match &req.tenant {
        None => Ok(Tenant::default_tenant()),
        Some(t) => Tenant::new(t).map_err(|e| Failure::Usage(format!("invalid tenant: {e}"))),
    }
}

fn stats_json(o: &Outcome) -> Value {
    json!({
        "files": o.scan.files,
        "bytes_scanned": o.scan.bytes_scanned,
        "lines_scanned": o.scan.lines_scanned,
        "matched": o.matched,
        "truncated": o.truncated,
    })
}

/// GETs `path` with `params`; a 4xx with an `invalid_query` answer is a usage error.
fn get(
    base: &str,
    path: &str,
    params: &[(&str, String)],
    key: Option<&(String, String)>,
    last_event: Option<LineId>,
) -> Result<ureq::http::Response<ureq::Body>, Failure> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let mut r = agent.get(&url);
    for (k, v) in params {
        r = r.query(*k, v);
    }
    if let Some((id, secret)) = key {
        r = r.header("authorization", format!("Bearer {id}:{secret}"));
    }
    if let Some(id) = last_event {
        r = r.header("last-event-id", id.to_string());
    }
    let mut resp = r
        .call()
        .map_err(|e| Failure::Failed(format!("GET {url}: {e}")))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    let detail = v["detail"]
        .as_str()
        .map_or_else(|| body.trim().to_string(), str::to_string);
    if v["error"] == "invalid_query" {
        return Err(Failure::Usage(detail));
    }
    Err(Failure::Failed(format!(
        "GET {url}: {} {detail}",
        status.as_u16()
    )))
}

/// Reads Server-Sent Events until the stream ends, writing each event's
/// data and remembering its id in `last`.
fn follow_sse(
    mut reader: impl BufRead,
    sink: &mut Sink<'_>,
    last: &mut Option<LineId>,
) -> Result<(), Failure> {
    let mut buf = Vec::new();
    let mut data: Option<Vec<u8>> = None;
    let mut id: Option<LineId> = None;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.is_empty() {
            if let Some(d) = data.take() {
                sink.line(&d)?;
                sink.out.flush()?;
                if id.is_some() {
                    *last = id;
                }
            }
            continue;
        }
        if buf.starts_with(b":") {
            continue;
        }
        let (field, value) = match buf.iter().position(|b| *b == b':') {
            Some(i) => {
                let v = &buf[i + 1..];
                (&buf[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (&buf[..], &b""[..]),
        };
        match field {
            b"data" => match data.as_mut() {
                Some(d) => {
                    d.push(b'\n');
                    d.extend_from_slice(value);
                }
                None => data = Some(value.to_vec()),
            },
            b"id" => id = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok()),
            _ => {}
        }
    }
}

/// Where the lines go.
struct Sink<'a> {
    out: &'a mut dyn Write,
    format: Format,
}

impl Sink<'_> {
    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        match self.format {
            Format::Ndjson => {
                self.out.write_all(line)?;
                self.out.write_all(b"\n")
            }
            Format::Pretty { color } => {
                let mut s = pretty(line, color);
                s.push('\n');
                self.out.write_all(s.as_bytes())
            }
        }
    }
}

/// One record for a terminal: `ts level msg key=value …`, the level coloured
/// (ERROR red, WARN yellow, INFO green, DEBUG dim) when `color`. A line that
/// is not a JSON object is shown as it is.
pub fn pretty(line: &[u8], color: bool) -> String {
    let text = String::from_utf8_lossy(line);
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&text) else {
        return text.into_owned();
    };
    let mut parts: Vec<String> = Vec::new();
    let mut take = |name: &str| m.shift_remove(name).map(|v| scalar(&v));
    let ts = take("ts");
    let level = take("level");
    let msg = take("msg");
    if let Some(ts) = ts {
        parts.push(ts);
    }
    if let Some(level) = level {
        let code = match level.to_ascii_uppercase().as_str() {
            "ERROR" | "FATAL" | "CRITICAL" => Some("31"),
            "WARN" | "WARNING" => Some("33"),
            "INFO" => Some("32"),
            "DEBUG" | "TRACE" => Some("2"),
            _ => None,
        };
        parts.push(match code {
            Some(c) if color => format!("\x1b[{c}m{level:<5}\x1b[0m"),
            _ => format!("{level:<5}"),
        });
    }
    if let Some(msg) = msg {
        parts.push(msg);
    }
    for (k, v) in &m {
        let v = match v {
            Value::String(s) if !s.is_empty() && !s.contains([' ', '"', '=']) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{k}={v}"));
    }
    parts.join(" ")
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_puts_ts_level_msg_first_and_colours_the_level() {
        let l = br#"{"msg":"hi there","level":"ERROR","ts":"2026-03-01T10:00:00Z","n":3,"s":"a b","k":"v"}"#;
        assert_eq!(
            pretty(l, false),
            r#"2026-03-01T10:00:00Z ERROR hi there n=3 s="a b" k=v"#
        );
        assert!(pretty(l, true).contains("\x1b[31mERROR\x1b[0m"));
        assert!(pretty(br#"{"level":"debug"}"#, true).starts_with("\x1b[2m"));
        assert_eq!(pretty(b"not json", true), "not json");
    }

    #[test]
    fn sse_events_are_written_and_their_id_kept() {
        let stream = b": keepalive\n\nid: 20260301:0\ndata: {\"a\":1}\n\nid: 20260301:8\ndata: {\"a\":2}\n\n";
        let mut out = Vec::new();
        let mut sink = Sink {
            out: &mut out,
            format: Format::Ndjson,
        };
        let mut last = None;
        follow_sse(&stream[..], &mut sink, &mut last).unwrap();
        assert_eq!(out, b"{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(last.unwrap().to_string(), "20260301:8");
    }

    #[test]
    fn bad_queries_and_times_are_usage_errors() {
        assert!(matches!(parse_logs("{level=\"x\""), Err(Failure::Usage(_))));
        assert!(matches!(
            parse_logs("count_over_time({}[1m])"),
            Err(Failure::Usage(_))
        ));
        let req = Request {
            query: "{}".into(),
            from: Some("yesterday-ish".into()),
            to: None,
            limit: 10,
            forward: false,
            tail: false,
            tenant: None,
        };
        assert!(matches!(window(&req), Err(Failure::Usage(_))));
    }
}
