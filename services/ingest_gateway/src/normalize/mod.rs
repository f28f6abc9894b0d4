//! Normalize: a raw [`Record`] → a [`Normalized`] record of the common schema.
//!
//! SPEC §2.2: `ts`, `level` and `msg` from the first present of their alias
//! lists ([`crate::schema::TS_KEYS`], …), names matched case-insensitively
//! (`MESSAGE`, `ISODATE` from syslog-ng count). The key that supplied a value
//! is consumed; every other field is kept in input order, except keys starting
//! with `_` (dropped). A leftover field whose name the output already uses
//! (`ts`, `level`, `msg`, `emitter`, `scenario_id`, `ts_raw`, `level_raw`) is
//! dropped when null/blank and otherwise renamed `<name>_orig`, so no line ever
//! carries a duplicate key and no data is lost.

pub mod timestamp;

use serde_json::Value;

pub use crate::schema::Level;
use crate::schema::{level, Record, LEVEL_KEYS, MSG_KEYS, PRI_KEY, RESERVED, TS_KEYS};

/// How the timestamp was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsStatus {
    /// Present and parsed.
    Parsed,
    /// Absent: receive time used, counted `missing_ts`.
    Missing,
    /// Present but unparseable: receive time used, original in `ts_raw`, counted `invalid_ts`.
    Invalid,
}

/// What is constant for a whole batch.
#[derive(Debug, Clone)]
pub struct BatchContext<'a> {
    /// `X-Emitter` header (or `unknown`).
    pub emitter: &'a str,
    /// `X-Scenario-Id`/`X-Scenario` header (or `na`).
    pub scenario_id: &'a str,
    /// Receive time, RFC 3339 with milliseconds.
    pub received: &'a str,
    /// Current UTC year (for syslog timestamps).
    pub year: i32,
    /// The tenant written to every line (`None` for the default tenant,
    /// whose lines carry no `tenant` field).
    pub tenant: Option<&'a str>,
    /// Fields every record gets when it has none of that name.
    pub defaults: &'a [(String, Value)],
}

/// A record in the common schema, before PII handling and encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// RFC 3339 UTC timestamp.
    pub ts: String,
    /// Normalized level.
    pub level: Level,
    /// Message text.
    pub msg: String,
    /// The record's own emitter, when it had a non-empty string one.
    pub emitter: Option<String>,
    /// The record's own scenario id, when it had a non-empty string one.
    pub scenario_id: Option<String>,
    /// Original unparseable timestamp.
    pub ts_raw: Option<Value>,
    /// Original unrecognized level.
    pub level_raw: Option<Value>,
    /// All other fields, in input order.
    pub fields: Vec<(String, Value)>,
    /// Where `ts` came from.
    pub ts_status: TsStatus,
    /// No level alias was present.
    pub level_missing: bool,
}

impl Normalized {
    /// The emitter written to the line: the record's own, else the header's.
    pub fn emitter<'a>(&'a self, ctx: &'a BatchContext<'_>) -> &'a str {
        self.emitter.as_deref().unwrap_or(ctx.emitter)
    }

    /// The scenario id written to the line: the record's own, else the header's.
    pub fn scenario_id<'a>(&'a self, ctx: &'a BatchContext<'_>) -> &'a str {
        self.scenario_id.as_deref().unwrap_or(ctx.scenario_id)
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    }
}

fn is_nonempty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn is_nonempty_str(v: &Value) -> bool {
    matches!(v, Value::String(s) if !s.trim().is_empty())
}

/// The fields that supply ts, level and msg, found in one pass over the
/// record (case-insensitive compares against the short alias lists, no
/// hashing): each is (alias rank, position of the field in the record).
#[derive(Default)]
struct Picks {
    ts: Option<(usize, usize)>,
    level: Option<(usize, usize)>,
    msg: Option<(usize, usize)>,
    emitter: bool,
    scenario: bool,
}

impl Picks {
    fn of(rec: &Record) -> Picks {
        let mut p = Picks::default();
        for (pos, (key, value)) in rec.iter().enumerate() {
            let k = key.as_str();
            better(&mut p.ts, &TS_KEYS, k, pos, value, is_present);
            better(&mut p.level, &LEVEL_KEYS, k, pos, value, is_present);
            better(&mut p.msg, &MSG_KEYS, k, pos, value, is_nonempty);
            p.emitter |= k == "emitter" && is_nonempty_str(value);
            p.scenario |= k == "scenario_id" && is_nonempty_str(value);
        }
        p
    }
}

/// Keeps in `slot` (rank, position) of `key` if it outranks the current pick
/// (a lower alias rank; on a tie, the earlier field).
fn better(
    slot: &mut Option<(usize, usize)>,
    keys: &[&str],
    key: &str,
    pos: usize,
    value: &Value,
    ok: fn(&Value) -> bool,
) {
    if let Some(rank) = keys.iter().position(|k| k.eq_ignore_ascii_case(key)) {
        if slot.is_none_or(|(cur, _)| rank < cur) && ok(value) {
            *slot = Some((rank, pos));
        }
    }
}

/// Makes each renamed field (indices `renamed`) unique by appending `_orig`
/// until no other field has its name: `{"message":"a","msg":"b","msg_orig":"c"}`
/// keeps `msg_orig_orig: "b"` and `msg_orig: "c"` (the `pipeline` fuzz
/// harness's duplicate-key check caught `msg_orig` twice on one line).
fn unique_names(fields: &mut [(String, Value)], renamed: &[usize]) {
    for &i in renamed {
        while fields
            .iter()
            .enumerate()
            .any(|(j, (k, _))| j != i && *k == fields[i].0)
        {
            fields[i].0.push_str("_orig");
        }
    }
}

/// Maps one raw record onto the common schema.
pub fn normalize(rec: Record, ctx: &BatchContext<'_>) -> Normalized {
    let picks = Picks::of(&rec);
    let ts_key = picks.ts.map(|(_, pos)| pos);
    let level_key = picks.level.map(|(_, pos)| pos);
    let level_is_pri = picks
        .level
        .is_some_and(|(rank, _)| LEVEL_KEYS[rank] == PRI_KEY);
    let msg_key = picks.msg.map(|(_, pos)| pos);
    let (emitter_key, scenario_key) = (picks.emitter, picks.scenario);

    let mut renamed = Vec::new();
    let mut out = Normalized {
        ts: String::new(),
        level: Level::Info,
        msg: String::new(),
        emitter: None,
        scenario_id: None,
        ts_raw: None,
        level_raw: None,
        fields: Vec::with_capacity(rec.len()),
        ts_status: TsStatus::Missing,
        level_missing: level_key.is_none(),
    };
    for (pos, (key, value)) in rec.into_iter().enumerate() {
        let k = key.as_str();
        if Some(pos) == ts_key {
            match timestamp::parse(&value, ctx.year) {
                Some(ts) => {
                    out.ts = ts;
                    out.ts_status = TsStatus::Parsed;
                }
                None => {
                    out.ts_raw = Some(value);
                    out.ts_status = TsStatus::Invalid;
                }
            }
        } else if Some(pos) == level_key {
            let mapped = if level_is_pri {
                level::from_pri(&value)
            } else {
                level::map(&value)
            };
            match mapped {
                Some(l) => out.level = l,
                None => out.level_raw = Some(value),
            }
        } else if Some(pos) == msg_key {
            out.msg = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else if k == "emitter" && emitter_key {
            out.emitter = value.as_str().map(str::to_string);
        } else if k == "scenario_id" && scenario_key {
            out.scenario_id = value.as_str().map(str::to_string);
        } else if k.starts_with('_') {
            continue;
        } else if RESERVED.contains(&k) {
            if is_present(&value) {
                renamed.push(out.fields.len());
                out.fields.push((format!("{k}_orig"), value));
            }
        } else {
            out.fields.push((key, value));
        }
    }
    if !renamed.is_empty() {
        unique_names(&mut out.fields, &renamed);
    }
    if out.ts_status != TsStatus::Parsed {
        out.ts = ctx.received.to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> BatchContext<'static> {
        BatchContext {
            emitter: "hdr",
            scenario_id: "na",
            received: "2026-11-22T12:00:00.000Z",
            year: 2026,
            tenant: None,
            defaults: &[],
        }
    }

    fn norm(v: Value) -> Normalized {
        let Value::Object(m) = v else {
            panic!("object")
        };
        normalize(m.into(), &ctx())
    }

    #[test]
    fn aliases_consumed_others_kept_in_order() {
        let n = norm(
            json!({"z":1,"timestamp":"2026-01-01T00:00:00Z","ts":null,"severity":"warn","text":"t","message":"m","_private":1,"a":2}),
        );
        assert_eq!(n.ts, "2026-01-01T00:00:00Z");
        assert_eq!(n.level, Level::Warn);
        assert_eq!(n.msg, "m");
        assert_eq!(
            n.fields,
            vec![
                ("z".into(), json!(1)),
                ("text".into(), json!("t")),
                ("a".into(), json!(2))
            ]
        );
    }

    #[test]
    fn missing_and_invalid() {
        let n = norm(json!({"msg":"x"}));
        assert_eq!(
            (n.ts_status, n.level_missing, n.level),
            (TsStatus::Missing, true, Level::Info)
        );
        assert_eq!(n.ts, "2026-11-22T12:00:00.000Z");
        let n = norm(json!({"ts":"not a time","level":"verbose","msg":{"a":[1,2]}}));
        assert_eq!(n.ts_status, TsStatus::Invalid);
        assert_eq!(n.ts_raw, Some(json!("not a time")));
        assert_eq!(n.level_raw, Some(json!("verbose")));
        assert!(!n.level_missing);
        assert_eq!(n.msg, r#"{"a":[1,2]}"#);
        let n = norm(json!({"ts":"  ","level":""}));
        assert_eq!((n.ts_status, n.level_missing), (TsStatus::Missing, true));
        assert!(n.fields.is_empty());
    }

    #[test]
    fn record_emitter_wins_and_collisions_are_renamed() {
        let n = norm(json!({"emitter":"rec","scenario_id":"s1","msg":"a","message":"b"}));
        assert_eq!(n.emitter(&ctx()), "rec");
        assert_eq!(n.scenario_id(&ctx()), "s1");
        assert_eq!(n.msg, "b");
        assert_eq!(n.fields, vec![("msg_orig".into(), json!("a"))]);
        let n = norm(json!({"emitter":5}));
        assert_eq!(n.emitter(&ctx()), "hdr");
        assert_eq!(n.fields, vec![("emitter_orig".into(), json!(5))]);
    }

    #[test]
    fn a_rename_never_duplicates_an_existing_key() {
        // Caught by the `pipeline` fuzz harness: `msg_orig` appeared twice on the line.
        let n = norm(json!({"message":"a","msg":"b","msg_orig":"c"}));
        assert_eq!(
            n.fields,
            vec![
                ("msg_orig_orig".into(), json!("b")),
                ("msg_orig".into(), json!("c"))
            ]
        );
        let n = norm(
            json!({"msg_orig_orig":1,"msg_orig":2,"message":"a","msg":"b","level_raw":"x","level_raw_orig":3}),
        );
        let names: Vec<&str> = n.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "msg_orig_orig",
                "msg_orig",
                "msg_orig_orig_orig",
                "level_raw_orig_orig",
                "level_raw_orig"
            ]
        );
    }
}
