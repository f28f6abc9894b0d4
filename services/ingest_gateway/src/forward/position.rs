//! The persisted position of a forwarder: per day file (tenant + day), the
//! byte offset up to which the store acknowledged every line.
//!
//! `<sink>/.forward/<target>.json` (`.forward` is never a tenant name), e.g.
//! `{"target":"clickhouse","files":[{"tenant":"default","day":"20261201","offset":52311}]}`.
//! Written atomically after every acknowledged insert: a temporary file,
//! `fsync`, rename over the old one, `fsync` of the directory — a crash
//! leaves the old or the new position, never a torn one. An offset is
//! always at a line boundary.
//!
//! Housekeeping reads every position file here ([`Holds`]) and keeps a day
//! file until each target's offset reached its size. A position file is the
//! promise to forward: with forwarding turned off for good, remove it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::Date;

use crate::dayfile;
use crate::schema::Tenant;

/// The directory of the position files, under the sink directory.
pub const DIR: &str = ".forward";

/// `<sink>/.forward/<target>.json`.
pub fn file(sink_dir: &Path, target: &str) -> PathBuf {
    sink_dir.join(DIR).join(format!("{target}.json"))
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    target: String,
    files: Vec<StoredEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredEntry {
    tenant: String,
    day: String,
    offset: u64,
}

/// Acknowledged offsets by (tenant, day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    offsets: BTreeMap<(Date, Tenant), u64>,
}

impl Positions {
    /// Reads a position file; a missing file is an empty position.
    ///
    /// # Errors
    /// The file exists but cannot be read or is not a position file.
    pub fn load(path: &Path) -> io::Result<Positions> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Positions::default()),
            Err(e) => return Err(e),
        };
        let stored: Stored = serde_json::from_slice(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let mut offsets = BTreeMap::new();
        for e in stored.files {
            let bad = || {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad entry {}/{}", e.tenant, e.day),
                )
            };
            let day = dayfile::parse_stem(&e.day).ok_or_else(bad)?;
            let tenant = Tenant::new(&e.tenant).map_err(|_| bad())?;
            offsets.insert((day, tenant), e.offset);
        }
        Ok(Positions { offsets })
    }

    /// Writes the position atomically (temporary file, sync, rename, directory sync).
    ///
    /// # Errors
    /// The I/O error of any step; the previous position file is then intact.
    pub fn save(&self, path: &Path, target: &str) -> io::Result<()> {
        let stored = Stored {
            target: target.to_string(),
            files: self
                .offsets
                .iter()
                .map(|((day, tenant), offset)| StoredEntry {
                    tenant: tenant.as_str().to_string(),
                    day: dayfile::stem(*day),
                    offset: *offset,
                })
                .collect(),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = path.with_extension("json.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            serde_json::to_writer(&mut f, &stored).map_err(io::Error::other)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    }

    /// The acknowledged offset of `tenant`'s file of `day` (0 if unknown).
    pub fn get(&self, tenant: &Tenant, day: Date) -> u64 {
        self.offsets
            .get(&(day, tenant.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// Records that `tenant`'s file of `day` is acknowledged up to `offset`.
    pub fn set(&mut self, tenant: &Tenant, day: Date, offset: u64) {
        self.offsets.insert((day, tenant.clone()), offset);
    }

    /// Keeps only the entries for which `keep` is true (files that still exist).
    pub fn retain(&mut self, mut keep: impl FnMut(&Tenant, Date) -> bool) {
        self.offsets.retain(|(day, tenant), _| keep(tenant, *day));
    }

    /// Number of files with a position.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// No file has a position.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
}

/// Every target's position, for housekeeping.
#[derive(Debug, Default)]
pub struct Holds {
    targets: Vec<(String, Positions)>,
}

impl Holds {
    /// Reads every `<sink>/.forward/*.json`. No directory: nothing is held.
    ///
    /// # Errors
    /// A position file cannot be read (housekeeping then holds everything).
    pub fn load(sink_dir: &Path) -> io::Result<Holds> {
        let dir = sink_dir.join(DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Holds::default()),
            Err(e) => return Err(e),
        };
        let mut targets = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            targets.push((name.to_string(), Positions::load(&path)?));
        }
        targets.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Holds { targets })
    }

    /// The first target that has not forwarded all `size` bytes of
    /// `tenant`'s file of `day`, with its offset.
    pub fn pending(&self, tenant: &Tenant, day: Date, size: u64) -> Option<(&str, u64)> {
        self.targets.iter().find_map(|(name, p)| {
            let offset = p.get(tenant, day);
            (offset < size).then_some((name.as_str(), offset))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn round_trips_atomically_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "clickhouse");
        assert!(Positions::load(&path).unwrap().is_empty());
        let mut p = Positions::default();
        let acme = Tenant::new("acme").unwrap();
        p.set(&Tenant::default(), date!(2026 - 12 - 01), 120);
        p.set(&acme, date!(2026 - 11 - 30), 7);
        p.save(&path, "clickhouse").unwrap();
        assert!(!path.with_extension("json.tmp").exists());
        let back = Positions::load(&path).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.get(&acme, date!(2026 - 11 - 30)), 7);
        assert_eq!(back.get(&acme, date!(2026 - 12 - 01)), 0);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#"{"tenant":"default","day":"20261201","offset":120}"#),
            "{text}"
        );
    }

    #[test]
    fn a_torn_or_foreign_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "clickhouse");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"{\"target\":\"clickhouse\",\"files\":[{\"ten").unwrap();
        assert_eq!(
            Positions::load(&path).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert!(Holds::load(dir.path()).is_err());
    }

    #[test]
    fn holds_until_every_target_reached_the_size() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Holds::load(dir.path())
            .unwrap()
            .pending(&Tenant::default(), date!(2026 - 01 - 01), 10)
            .is_none());
        let day = date!(2026 - 01 - 01);
        let mut p = Positions::default();
        p.set(&Tenant::default(), day, 10);
        p.save(&file(dir.path(), "clickhouse"), "clickhouse")
            .unwrap();
        let holds = Holds::load(dir.path()).unwrap();
        assert!(holds.pending(&Tenant::default(), day, 10).is_none());
        assert_eq!(
            holds.pending(&Tenant::default(), day, 11),
            Some(("clickhouse", 10))
        );
        // A file the forwarder never saw is held.
        let acme = Tenant::new("acme").unwrap();
        assert_eq!(holds.pending(&acme, day, 5), Some(("clickhouse", 0)));
        // An empty file has nothing to forward.
        assert!(holds.pending(&acme, day, 0).is_none());
    }
}
