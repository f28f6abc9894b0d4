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
use crate::encode;
use crate::normalize::{normalize, BatchContext, Level, Normalized, TsStatus};
use crate::pii::{mask::mask_value, mask_str, Crypt, PiiConfig};
use crate::schema::{enc_name, SourceStats};

/// Per-stage settings, built once from the configuration.
#[derive(Debug)]
pub struct Pipeline {
    mask: bool,
    crypt: Option<Arc<Crypt>>,
    encrypt_fields: Vec<String>,
    max_records: usize,
    sample_size: usize,
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
            encrypt_fields: pii.encrypt_fields.clone(),
            max_records,
            sample_size,
        }
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
        let records = format.decode(body, self.max_records)?;
        let mut out = Encoded {
            lines: Vec::with_capacity(body.len() + records.len() * 96),
            totals: SourceStats::new(ctx.emitter, ctx.scenario_id),
            ..Default::default()
        };
        let mut enc = Vec::new();
        for rec in records {
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
        if self.sample_size > 0 {
            out.sample = sample(&out.lines, self.sample_size);
        }
        Ok(out)
    }

    /// Encrypts (into `enc`) and masks one record in place.
    fn protect(&self, rec: &mut Normalized, enc: &mut Vec<(String, String)>) {
        if let Some(crypt) = &self.crypt {
            if !rec.msg.is_empty() {
                enc.push((enc_name("msg"), crypt.encrypt(rec.msg.as_bytes())));
            }
            for name in &self.encrypt_fields {
                let Some((_, value)) = rec.fields.iter_mut().find(|(k, _)| k == name) else {
                    continue;
                };
                let token = match &*value {
                    Value::String(s) => crypt.encrypt(s.as_bytes()),
                    other => crypt.encrypt(other.to_string().as_bytes()),
                };
                mask_value(value);
                enc.push((enc_name(name), token));
            }
            rename_enc_collisions(rec, enc);
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

/// A field of the record named like a produced `<name>_enc` token is renamed
/// `<name>_enc_orig` (more `_orig` until the name is free): no duplicate keys.
fn rename_enc_collisions(rec: &mut Normalized, enc: &[(String, String)]) {
    for i in 0..rec.fields.len() {
        if !enc.iter().any(|(e, _)| *e == rec.fields[i].0) {
            continue;
        }
        let mut name = format!("{}_orig", rec.fields[i].0);
        while rec.fields.iter().any(|(k, _)| *k == name) || enc.iter().any(|(e, _)| *e == name) {
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
