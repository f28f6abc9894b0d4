//! `emit_minimal`: records with nothing but `msg`, the smallest thing a client
//! can send. Every record is counted `missing_ts` and `missing_level`.

use serde_json::{Map, Value};

use super::{json_array, vocab, Batch, Expect, GenConfig, Generator, Source, TsKind};

/// Generator of `{"msg": "..."}` records.
pub struct MinimalGenerator {
    src: Source,
}

impl MinimalGenerator {
    /// A generator seeded from `cfg`.
    pub fn new(cfg: &GenConfig) -> Self {
        MinimalGenerator {
            src: Source::new(cfg),
        }
    }
}

impl Generator for MinimalGenerator {
    fn content_type(&self) -> &'static str {
        "application/json"
    }

    fn batch(&mut self, n: usize) -> Batch {
        let mut expect = Expect::default();
        let records: Vec<Value> = (0..n)
            .map(|_| {
                let level = vocab::level(&mut self.src);
                let mut rec = Map::new();
                rec.insert("msg".into(), vocab::message(&mut self.src, level).into());
                expect.count(TsKind::Missing, true);
                Value::Object(rec)
            })
            .collect();
        Batch {
            body: json_array(&records),
            expect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Clock;
    use super::*;

    #[test]
    fn only_msg_and_everything_missing() {
        let cfg = GenConfig {
            seed: 5,
            clock: Clock::Wall,
        };
        let batch = MinimalGenerator::new(&cfg).batch(30);
        let recs: Vec<Map<String, Value>> = serde_json::from_slice(&batch.body).unwrap();
        assert!(recs.iter().all(|r| r.len() == 1 && r["msg"].is_string()));
        assert_eq!(batch.expect.records, 30);
        assert_eq!(batch.expect.missing_ts, 30);
        assert_eq!(batch.expect.missing_level, 30);
        let again = MinimalGenerator::new(&cfg).batch(30);
        assert_eq!(batch.body, again.body);
    }
}
