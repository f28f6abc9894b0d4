//! `logops-verify`: finds the day files and sidecars in the paths given
//! (files, directories of one tenant or a whole sink with tenant
//! subdirectories, zip archives made by housekeeping), checks each day with
//! [`chain::verify`], then each tenant's day-to-day links, and writes one
//! report line per day.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use logops_gateway::chain::verify::{verify_day, verify_links, DayReport, Link};
use logops_gateway::chain::SIDECAR_SUFFIX;
use logops_gateway::dayfile;

/// A day file: on disk (read in chunks when checked) or from an archive.
#[derive(Debug)]
enum Input {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

/// One day's inputs: the file and the sidecar's bytes.
#[derive(Debug, Default)]
struct Day {
    file: Option<Input>,
    sidecar: Option<Vec<u8>>,
    source: String,
}

/// Days per tenant (a directory, or `""` for loose files), by stem.
type Found = BTreeMap<String, BTreeMap<String, Day>>;

/// Reads every day under `paths`.
///
/// # Errors
/// A path cannot be read (the message names it).
fn collect(paths: &[PathBuf]) -> Result<Found, String> {
    let mut found = Found::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk_dir(p, "", &mut found)?;
        } else {
            add_file(p, "", &mut found)?;
        }
    }
    Ok(found)
}

/// A directory given holds the default tenant's days and, one level down,
/// each tenant's directory (sink and archive directories alike).
fn walk_dir(dir: &Path, tenant: &str, found: &mut Found) -> Result<(), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if tenant.is_empty() && !name.starts_with('.') {
                walk_dir(&p, name, found)?;
            }
        } else {
            add_file(&p, tenant, found)?;
        }
    }
    Ok(())
}

fn add_file(path: &Path, tenant: &str, found: &mut Found) -> Result<(), String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(stem) = name
        .strip_suffix(".zip")
        .filter(|s| dayfile::parse_stem(s).is_some())
    {
        return add_zip(path, stem, tenant, found);
    }
    let (stem, is_sidecar) = match name.strip_suffix(SIDECAR_SUFFIX) {
        Some(day_name) => (day_name.strip_suffix(".ndjson"), true),
        None => (name.strip_suffix(".ndjson"), false),
    };
    let Some(stem) = stem.filter(|s| dayfile::parse_stem(s).is_some()) else {
        return Ok(());
    };
    let day = found
        .entry(tenant.to_string())
        .or_default()
        .entry(stem.to_string())
        .or_default();
    // A day file given alone brings its sidecar along, and the other way round.
    let (day_path, side_path) = if is_sidecar {
        (path.with_extension(""), path.to_path_buf())
    } else {
        (
            path.to_path_buf(),
            logops_gateway::chain::sidecar_path(path),
        )
    };
    if day.file.is_none() && day_path.is_file() {
        day.file = Some(Input::Path(day_path.clone()));
        day.source = day_path.display().to_string();
    }
    if day.sidecar.is_none() && side_path.is_file() {
        day.sidecar =
            Some(std::fs::read(&side_path).map_err(|e| format!("{}: {e}", side_path.display()))?);
    }
    if day.source.is_empty() {
        day.source = path.display().to_string();
    }
    Ok(())
}

fn add_zip(path: &Path, stem: &str, tenant: &str, found: &mut Found) -> Result<(), String> {
    let bad = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| bad(&e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(&e))?;
    let mut read = |name: &str| -> Result<Option<Vec<u8>>, String> {
        let Ok(mut entry) = zip.by_name(name) else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).map_err(|e| bad(&e))?;
        Ok(Some(buf))
    };
    let file_name = format!("{stem}.ndjson");
    let day = Day {
        file: read(&file_name)?.map(Input::Bytes),
        sidecar: read(&format!("{file_name}{SIDECAR_SUFFIX}"))?,
        source: format!("{}:{file_name}", path.display()),
    };
    let slot = found.entry(tenant.to_string()).or_default();
    // The same day as a file and in an archive: the file is what is current.
    slot.entry(stem.to_string()).or_insert(day);
    Ok(())
}

/// The outcome of a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Days checked.
    pub days: usize,
    /// Days or links with a problem.
    pub failed: usize,
}

/// Verifies everything under `paths` with `key`, writing the report to `out`.
///
/// # Errors
/// A path cannot be read.
pub fn run(paths: &[PathBuf], key: &VerifyingKey, out: &mut dyn Write) -> Result<Summary, String> {
    let found = collect(paths)?;
    let mut summary = Summary::default();
    for (tenant, days) in found {
        let mut reports: Vec<(String, DayReport, String)> = Vec::new();
        for (stem, d) in days {
            let r = match d.file {
                Some(Input::Path(p)) => {
                    let mut f =
                        std::fs::File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                    verify_day(Some(&mut f), d.sidecar.as_deref(), key)
                        .map_err(|e| format!("{}: {e}", p.display()))?
                }
                Some(Input::Bytes(b)) => {
                    verify_day(Some(&mut b.as_slice()), d.sidecar.as_deref(), key)
                        .map_err(|e| format!("{}: {e}", d.source))?
                }
                None => verify_day(None, d.sidecar.as_deref(), key).map_err(|e| e.to_string())?,
            };
            reports.push((stem, r, d.source));
        }
        let pairs: Vec<(String, DayReport)> = reports
            .iter()
            .map(|(s, r, _)| (s.clone(), r.clone()))
            .collect();
        let links = verify_links(&pairs);
        if !tenant.is_empty() {
            let _ = writeln!(out, "# {tenant}");
        }
        for ((stem, r, source), link) in reports.iter().zip(links) {
            summary.days += 1;
            let mut bad = Vec::new();
            if let Some(p) = &r.problem {
                bad.push(p.to_string());
            }
            if r.problem.is_none() && r.unsealed > 0 {
                bad.push(format!(
                    "{} unsealed lines after the last checkpoint (line {} on)",
                    r.unsealed,
                    r.sealed + 1
                ));
            }
            let link_text = match &link {
                Link::Genesis => "first day".to_string(),
                Link::Linked => "linked to the day before".to_string(),
                Link::Retired(d) => {
                    format!("links to {d}, removed by retention (signed tombstone)")
                }
                Link::NotGiven => "links to an earlier day not given".to_string(),
                Link::Broken => {
                    bad.push("day link broken: the day(s) before it are missing or changed, and no retention tombstone explains it".into());
                    String::new()
                }
            };
            if bad.is_empty() {
                let _ = writeln!(
                    out,
                    "OK {stem} {} lines, {} checkpoints, {link_text} ({source})",
                    r.lines, r.checkpoints
                );
            } else {
                summary.failed += 1;
                let _ = writeln!(out, "FAIL {stem} {} ({source})", bad.join("; "));
            }
        }
    }
    Ok(summary)
}
