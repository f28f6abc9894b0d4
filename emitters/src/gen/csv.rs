//! `emit_csv`: `text/csv` bodies — a header row, then one row per record.
//!
//! Each batch picks a header spelling (`ts`/`timestamp`/`time`, `level`/
//! `severity`/`lvl`, `message`/`msg`/`text`, in varying case and padding, as the
//! gateway matches names case-insensitively and trimmed) and a column order.
//! Extra columns become fields. Messages and notes carry commas, double quotes
//! and now and then a newline, quoted per RFC 4180. Partial records
//! (`partial_ratio`) have an empty ts and/or level cell.

use bytes::Bytes;

use super::vocab::{self, Level};
use super::{timefmt, Batch, Expect, GenConfig, Generator, Partial, Source, TsKind};

/// Header spellings for the ts, level and msg columns.
const HEADERS: [[&str; 3]; 5] = [
    ["ts", "level", "message"],
    ["timestamp", "severity", "msg"],
    ["Time", "LVL", "Text"],
    [" Timestamp ", " Level ", " Message "],
    ["@timestamp", "loglevel", "log"],
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Ts,
    Level,
    Msg,
    Service,
    Host,
    UserEmail,
    ClientIp,
    Status,
    LatencyMs,
    Note,
}

const ORDERS: [[Col; 10]; 2] = [
    [
        Col::Ts,
        Col::Level,
        Col::Msg,
        Col::Service,
        Col::Host,
        Col::UserEmail,
        Col::ClientIp,
        Col::Status,
        Col::LatencyMs,
        Col::Note,
    ],
    [
        Col::Service,
        Col::Host,
        Col::Ts,
        Col::Msg,
        Col::Level,
        Col::Status,
        Col::Note,
        Col::UserEmail,
        Col::LatencyMs,
        Col::ClientIp,
    ],
];

/// Generator of CSV bodies with a header row.
pub struct CsvGenerator {
    src: Source,
    partial_ratio: f64,
}

/// Appends one CSV cell, quoted when it holds a comma, quote, newline or edge space.
fn push_cell(out: &mut String, cell: &str) {
    let needs_quotes =
        cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ');
    if needs_quotes {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

impl CsvGenerator {
    /// A generator where `partial_ratio` (0..=1) of the rows lack ts and/or level.
    pub fn new(cfg: &GenConfig, partial_ratio: f64) -> Self {
        CsvGenerator {
            src: Source::new(cfg),
            partial_ratio,
        }
    }

    fn note(&mut self) -> String {
        match self.src.int(0, 10) {
            0..=4 => String::new(),
            5 | 6 => format!("retry=\"{}\", backoff=250ms", self.src.int(1, 4)),
            7 => format!(
                "customer said \"it's broken, again\" ({})",
                vocab::email(&mut self.src)
            ),
            8 => "ok".to_string(),
            _ => format!(
                "stack:\n  at handler (src/{}.rs:{})\n  at main",
                self.src.pick(&vocab::SERVICES),
                self.src.int(10, 400)
            ),
        }
    }

    fn cell(&mut self, col: Col, us: i64, level: Level, partial: Partial, msg: &str) -> String {
        let src = &mut self.src;
        match col {
            Col::Ts if partial.drop_ts => String::new(),
            Col::Ts => match src.int(0, 6) {
                0 => timefmt::epoch(us, timefmt::Epoch::Millis).to_string(),
                1 => timefmt::iso(us, ' ', 3, timefmt::Zone::Naive),
                _ => timefmt::random_iso(src, us),
            },
            Col::Level if partial.drop_level => String::new(),
            Col::Level => vocab::level_word(src, level).to_string(),
            Col::Msg => msg.to_string(),
            Col::Service => src.pick(&vocab::SERVICES).to_string(),
            Col::Host => vocab::host(src),
            Col::UserEmail if src.chance(0.2) => String::new(),
            Col::UserEmail => vocab::email(src),
            Col::ClientIp => vocab::ipv4(src),
            Col::Status => vocab::status(src, level).to_string(),
            Col::LatencyMs => format!("{:.1}", src.int(1, 50_000) as f64 / 10.0),
            Col::Note => self.note(),
        }
    }
}

impl Generator for CsvGenerator {
    fn content_type(&self) -> &'static str {
        "text/csv"
    }

    fn batch(&mut self, n: usize) -> Batch {
        let names = self.src.pick(&HEADERS);
        let order = self.src.pick(&ORDERS);
        let mut body = String::with_capacity(128 + n * 200);
        for (i, col) in order.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            let name = match col {
                Col::Ts => names[0],
                Col::Level => names[1],
                Col::Msg => names[2],
                Col::Service => "service",
                Col::Host => "host",
                Col::UserEmail => "user_email",
                Col::ClientIp => "client_ip",
                Col::Status => "status",
                Col::LatencyMs => "latency_ms",
                Col::Note => "note",
            };
            push_cell(&mut body, name);
        }
        body.push('\n');
        let mut expect = Expect::default();
        for _ in 0..n {
            let partial = Partial::roll(&mut self.src, self.partial_ratio);
            let us = self.src.next_us();
            let level = vocab::level(&mut self.src);
            let msg = vocab::message(&mut self.src, level);
            for (i, col) in order.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                let cell = self.cell(*col, us, level, partial, &msg);
                push_cell(&mut body, &cell);
            }
            body.push('\n');
            let ts = if partial.drop_ts {
                TsKind::Missing
            } else {
                TsKind::Valid
            };
            expect.count(ts, partial.drop_level);
        }
        Batch {
            body: Bytes::from(body),
            expect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Clock, SEEDED_START_US};
    use super::*;

    fn gen(seed: u64, ratio: f64) -> CsvGenerator {
        let cfg = GenConfig {
            seed,
            clock: Clock::Fixed(SEEDED_START_US),
        };
        CsvGenerator::new(&cfg, ratio)
    }

    #[test]
    fn quoting_doubles_quotes_and_wraps_commas() {
        let mut s = String::new();
        push_cell(&mut s, "a \"b\", c");
        assert_eq!(s, "\"a \"\"b\"\", c\"");
        s.clear();
        push_cell(&mut s, "plain");
        assert_eq!(s, "plain");
    }

    #[test]
    fn rows_parse_back_with_header_and_partial_cells() {
        let batch = gen(21, 0.3).batch(3000);
        let text = std::str::from_utf8(&batch.body).unwrap();
        assert!(
            text.contains("\"\"") && text.contains(",\""),
            "no quoted cells"
        );
        let mut reader = ::csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(|h| h.trim().to_lowercase())
            .collect();
        assert_eq!(header.len(), 10);
        let ts_col = header
            .iter()
            .position(|h| ["ts", "timestamp", "time", "@timestamp"].contains(&h.as_str()))
            .unwrap();
        let lvl_col = header
            .iter()
            .position(|h| ["level", "severity", "lvl", "loglevel"].contains(&h.as_str()))
            .unwrap();
        let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len() as u64, batch.expect.records);
        let empty_ts = rows.iter().filter(|r| r[ts_col].is_empty()).count() as u64;
        let empty_lvl = rows.iter().filter(|r| r[lvl_col].is_empty()).count() as u64;
        assert_eq!(empty_ts, batch.expect.missing_ts);
        assert_eq!(empty_lvl, batch.expect.missing_level);
        let partial = rows
            .iter()
            .filter(|r| r[ts_col].is_empty() || r[lvl_col].is_empty())
            .count();
        // 30% of 3000 = 900, 4 sigma ≈ ±100.
        assert!((800..=1000).contains(&partial), "partial = {partial}");
        assert_eq!(batch.body, gen(21, 0.3).batch(3000).body);
    }
}
