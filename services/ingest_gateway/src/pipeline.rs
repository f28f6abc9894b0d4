//! The synchronous batch path: decode → normalize → mask → encrypt → encode.
//!
//! [`Pipeline::run`] turns one request body into the exact bytes to append plus
//! the counts the response and the metrics need. It does no I/O, so the HTTP
//! layer can run it inline for small bodies and on a blocking thread for big
//! ones, and benchmarks can drive it directly.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::decode::{DecodeError, Format};
use crate::encode::{self, Tokens};
use crate::normalize::{normalize, BatchContext, Level, Normalized, TsStatus};
use crate::pii::{mask::mask_value, mask_str, Crypt, PiiConfig};
use crate::schema::{enc_name, Record, SourceStats};

/// Batches with encryption on and at least this many records (~5 ms of work)
/// are split across cores. Measured in issue 17 on one 70 000-record, 10 MB
/// JSON batch (2 cores): 242 ms on one thread, 160–200 ms split. Without
/// encryption the per-record work is too small next to the serial decode (and
/// the merge copy) to gain anything measurable, so those batches are not split.
const PARALLEL_MIN_RECORDS_ENCRYPTED: usize = 2_000;

/// Per-stage settings, built once from the configuration.
#[derive(Debug)]
pub struct Pipeline {
    mask: bool,
    crypt: Option<Arc<Crypt>>,
    /// (field, `<field>_enc`), the names made once.
    encrypt_fields: Vec<(String, String)>,
    msg_enc: String,
    max_records: usize,
    sample_size: usize,
    /// At most this many chunks per batch (`available_parallelism`, read once).
    parallelism: usize,
    /// Batches with fewer records run on the calling thread alone
    /// (`usize::MAX`: never split).
    parallel_min: usize,
}

fn count(stats: &mut SourceStats, rec: &Normalized) {
    stats.count(
        rec.level,
        rec.ts_status == TsStatus::Missing,
        rec.ts_status == TsStatus::Invalid,
        rec.level_missing,
    );
}

/// The result of a batch: the lines to append and what to report.
#[derive(Debug, Default)]
pub struct Encoded {
    /// NDJSON lines, each ending in `\n`.
    pub lines: Vec<u8>,
    /// Totals over the batch.
    pub totals: SourceStats,
    /// Counts split by effective (emitter, scenario_id), for metrics.
    pub by_source: Vec<SourceStats>,
    /// First stored records when the debug sample is on.
    pub sample: Vec<Value>,
}

impl Pipeline {
    /// Builds the stages: PII handling from its config section, at most
    /// `max_records` per batch, the first `sample_size` stored records echoed
    /// in the response (0 = none).
    pub fn new(pii: &PiiConfig, max_records: usize, sample_size: usize) -> Self {
        Self {
            mask: pii.mask,
            crypt: pii.crypt.clone(),
            encrypt_fields: pii
                .encrypt_fields
                .iter()
                .map(|f| (f.clone(), enc_name(f)))
                .collect(),
            msg_enc: enc_name("msg"),
            max_records,
            sample_size,
            parallelism: std::thread::available_parallelism().map_or(1, usize::from),
            parallel_min: if pii.crypt.is_some() {
                PARALLEL_MIN_RECORDS_ENCRYPTED
            } else {
                usize::MAX
            },
        }
    }

    /// Splits a big batch into at most `parts` chunks on scoped threads
    /// (default: `available_parallelism`; 1 = never split). For benchmarks.
    pub fn with_parallelism(mut self, parts: usize) -> Self {
        self.parallelism = parts.max(1);
        self
    }

    /// Is encryption on?
    pub fn encrypts(&self) -> bool {
        self.crypt.is_some()
    }

    /// Runs the whole batch.
    ///
    /// # Errors
    /// The first [`DecodeError`]; then nothing of the batch is produced.
    pub fn run(
        &self,
        format: Format,
        body: &[u8],
        ctx: &BatchContext<'_>,
    ) -> Result<Encoded, DecodeError> {
        let mut records = format.decode(body, self.max_records)?;
        let parts = if records.len() >= self.parallel_min {
            self.parallelism
                .min(records.len() / (self.parallel_min / 2).max(1))
        } else {
            1
        };
        let mut out = if parts <= 1 {
            self.encode(&mut records, body.len(), ctx)
        } else {
            // Scoped threads over contiguous chunks, the first on this
            // thread; the parts are joined in order, so the lines and the
            // per-source order are exactly those of one pass.
            let per = records.len().div_ceil(parts);
            let hint = body.len().div_ceil(parts);
            let mut chunks = records.chunks_mut(per);
            let first = chunks.next().unwrap_or_default();
            let (mut out, rest) = std::thread::scope(|s| {
                let handles: Vec<_> = chunks
                    .map(|chunk| s.spawn(move || self.encode(chunk, hint, ctx)))
                    .collect();
                let out = self.encode(first, hint, ctx);
                let rest: Vec<Encoded> = handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect();
                (out, rest)
            });
            out.lines
                .reserve_exact(rest.iter().map(|p| p.lines.len()).sum());
            for part in rest {
                out.append(part);
            }
            out
        };
        if self.sample_size > 0 {
            out.sample = sample(&out.lines, self.sample_size);
        }
        Ok(out)
    }

    /// Normalizes, protects and encodes `records` (taking them out of the
    /// slice), in order; `body_len` is the size of their share of the body.
    fn encode(&self, records: &mut [Record], body_len: usize, ctx: &BatchContext<'_>) -> Encoded {
        let mut out = Encoded {
            lines: Vec::with_capacity(body_len + records.len() * 96),
            totals: SourceStats::new(ctx.emitter, ctx.scenario_id),
            ..Default::default()
        };
        let mut enc = Tokens::default();
        for rec in records {
            let mut rec = std::mem::take(rec);
            for (k, v) in ctx.defaults {
                if !rec.contains_key(k) {
                    rec.insert(k.clone(), v.clone());
                }
            }
            let mut rec = normalize(rec, ctx);
            enc.clear();
            self.protect(&mut rec, &mut enc);
            encode::write_line(&mut out.lines, &rec, &enc, ctx);
            count(&mut out.totals, &rec);
            count(
                source_entry(&mut out.by_source, rec.emitter(ctx), rec.scenario_id(ctx)),
                &rec,
            );
        }
        out
    }

    /// Encrypts (into `enc`) and masks one record in place.
    fn protect<'p>(&'p self, rec: &mut Normalized, enc: &mut Tokens<'p>) {
        if let Some(crypt) = &self.crypt {
            if !rec.msg.is_empty() {
                enc.push_with(&self.msg_enc, |t| crypt.encrypt_into(rec.msg.as_bytes(), t));
            }
            for (name, enc_name) in &self.encrypt_fields {
                let Some((_, value)) = rec.fields.iter_mut().find(|(k, _)| k == name) else {
                    continue;
                };
                enc.push_with(enc_name, |t| match &*value {
                    Value::String(s) => crypt.encrypt_into(s.as_bytes(), t),
                    other => crypt.encrypt_into(other.to_string().as_bytes(), t),
                });
                mask_value(value);
            }
            if !enc.is_empty() {
                rename_enc_collisions(rec, enc);
            }
        }
        if self.mask {
            if let Cow::Owned(m) = mask_str(&rec.msg) {
                rec.msg = m;
            }
            for raw in [&mut rec.ts_raw, &mut rec.level_raw].into_iter().flatten() {
                mask_value(raw);
            }
            // Every field, whatever its name: only the tokens LogOps made (in
            // `enc`, written after the fields) are exempt; a client's own
            // `contact_enc` is masked like any other field (SPEC §3).
            for (_, v) in rec.fields.iter_mut() {
                mask_value(v);
            }
        }
    }
}

impl Encoded {
    /// Appends the result of the records that follow this one's.
    fn append(&mut self, next: Encoded) {
        self.lines.extend_from_slice(&next.lines);
        add_stats(&mut self.totals, &next.totals);
        for src in &next.by_source {
            add_stats(
                source_entry(&mut self.by_source, &src.emitter, &src.scenario_id),
                src,
            );
        }
    }
}

/// Adds the counts of `from` to `into` (same source).
fn add_stats(into: &mut SourceStats, from: &SourceStats) {
    // Destructured in full: a new counter must be added here too.
    let SourceStats {
        emitter: _,
        scenario_id: _,
        accepted,
        missing_ts,
        missing_level,
        invalid_ts,
        levels,
    } = from;
    into.accepted += accepted;
    into.missing_ts += missing_ts;
    into.missing_level += missing_level;
    into.invalid_ts += invalid_ts;
    for (i, n) in into.levels.iter_mut().zip(levels) {
        *i += n;
    }
}

/// A field of the record named like a produced `<name>_enc` token is renamed
/// `<name>_enc_orig` (more `_orig` until the name is free): no duplicate keys.
fn rename_enc_collisions(rec: &mut Normalized, enc: &Tokens<'_>) {
    for i in 0..rec.fields.len() {
        if !enc.has(&rec.fields[i].0) {
            continue;
        }
        let mut name = format!("{}_orig", rec.fields[i].0);
        while rec.fields.iter().any(|(k, _)| *k == name) || enc.has(&name) {
            name.push_str("_orig");
        }
        rec.fields[i].0 = name;
    }
}

/// The stats entry for (emitter, scenario): usually the last one, so look there first.
fn source_entry<'a>(
    list: &'a mut Vec<SourceStats>,
    emitter: &str,
    scenario: &str,
) -> &'a mut SourceStats {
    let pos = list
        .iter()
        .rposition(|s| s.emitter == emitter && s.scenario_id == scenario);
    let i = match pos {
        Some(i) => i,
        None => {
            list.push(SourceStats::new(emitter, scenario));
            list.len() - 1
        }
    };
    &mut list[i]
}

fn sample(lines: &[u8], n: usize) -> Vec<Value> {
    lines
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .take(n)
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

/// The levels of a batch as the response's `levels` object (non-zero only).
pub fn levels_object(levels: &[u64; 4]) -> serde_json::Map<String, Value> {
    Level::ALL
        .iter()
        .filter(|l| levels[l.index()] > 0)
        .map(|l| (l.as_str().to_string(), Value::from(levels[l.index()])))
        .collect()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod parallel_tests {
    //! The split batch path gives exactly what one pass gives.

    use super::*;
    use crate::normalize::BatchContext;

    fn ctx() -> BatchContext<'static> {
        BatchContext {
            emitter: "e",
            scenario_id: "na",
            received: "2026-11-22T12:00:00.000Z",
            year: 2026,
            tenant: None,
            defaults: &[],
        }
    }

    /// 5 000 records from three emitters/scenarios, interleaved unevenly, with
    /// missing and invalid timestamps and levels.
    fn body() -> Vec<u8> {
        let recs: Vec<String> = (0..5_000)
            .map(|i| {
                let src = match i % 7 {
                    0 | 1 => r#","emitter":"a","scenario_id":"s1""#,
                    2 => r#","emitter":"b""#,
                    _ if i > 4_000 => r#","scenario_id":"late""#,
                    _ => "",
                };
                let ts = match i % 5 {
                    0 => String::new(),
                    1 => r#""ts":"garbage","#.to_string(),
                    _ => format!(r#""ts":"2026-11-22T10:00:{:02}Z","#, i % 60),
                };
                let level = ["", r#","level":"warn""#, r#","level":"ERROR""#][i % 3];
                format!(
                    r#"{{{ts}"msg":"user u{i}@example.com from 10.0.0.{}"{level}{src},"user_email":"x{i}@y.io","n":{i}}}"#,
                    i % 250
                )
            })
            .collect();
        format!("[{}]", recs.join(",")).into_bytes()
    }

    fn pipeline(crypt: Option<Arc<Crypt>>, parallelism: usize, parallel_min: usize) -> Pipeline {
        let pii = PiiConfig {
            crypt,
            ..PiiConfig::default()
        };
        let mut p = Pipeline::new(&pii, 100_000, 3);
        p.parallelism = parallelism;
        p.parallel_min = parallel_min;
        p
    }

    #[test]
    fn split_batches_equal_one_pass() {
        let body = body();
        let one = pipeline(None, 1, usize::MAX)
            .run(Format::Json, &body, &ctx())
            .unwrap();
        assert_eq!(one.totals.accepted, 5_000);
        assert_eq!(one.by_source.len(), 4);
        for parts in [2, 3, 8] {
            let split = pipeline(None, parts, 100)
                .run(Format::Json, &body, &ctx())
                .unwrap();
            assert!(split.lines == one.lines, "lines differ with {parts} parts");
            assert_eq!(split.totals, one.totals, "{parts} parts");
            assert_eq!(split.by_source, one.by_source, "{parts} parts");
            assert_eq!(split.sample, one.sample, "{parts} parts");
        }
    }

    #[test]
    fn split_encrypted_batches_keep_order_and_tokens() {
        let crypt = Arc::new(Crypt::from_key_list(&Crypt::generate_key()).unwrap());
        let body = body();
        let one = pipeline(Some(crypt.clone()), 1, usize::MAX)
            .run(Format::Json, &body, &ctx())
            .unwrap();
        let split = pipeline(Some(crypt.clone()), 4, 100)
            .run(Format::Json, &body, &ctx())
            .unwrap();
        assert_eq!(split.totals, one.totals);
        assert_eq!(split.by_source, one.by_source);
        // Same lines once the tokens (fresh IVs) are decrypted.
        let open = |lines: &[u8]| -> Vec<serde_json::Value> {
            lines
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_slice(l).unwrap();
                    for k in ["msg_enc", "user_email_enc"] {
                        let t = v[k].as_str().unwrap().to_string();
                        v[k] = String::from_utf8(crypt.decrypt(&t).unwrap())
                            .unwrap()
                            .into();
                    }
                    v
                })
                .collect()
        };
        let (a, b) = (open(&one.lines), open(&split.lines));
        assert_eq!(a.len(), 5_000);
        assert!(a == b, "decrypted lines differ");
        assert_eq!(a[4_999]["n"], 4_999);
    }
}
