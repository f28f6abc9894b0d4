//! The `logops-decrypt` CLI's logic over its inputs: key loading, then
//! decryption to stdout or rotation in place, file by file.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};

use logops_gateway::dayfile;
use logops_gateway::pii::{Crypt, CryptError};
use logops_gateway::schema::Tenant;

use super::rewrite::rotate_file;
use super::stream::{process, Op, Stats};
use crate::env::EnvMap;

/// The key variable read when `--key-env` is not given.
pub const DEFAULT_KEY_ENV: &str = "LOGOPS_SECRET_KEY";

/// Why no usable key list was found. Never contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The variable is absent or blank in the environment and the env file.
    #[error("{var} is not set (environment or .env); generate a key with logops-keygen")]
    Missing {
        /// The variable name.
        var: String,
    },
    /// The variable holds something that is not a Fernet key list.
    #[error("{var}: {source}")]
    Invalid {
        /// The variable name.
        var: String,
        /// What is wrong (names the key's position, not its value).
        source: CryptError,
    },
}

/// The keys in variable `var` of `env`.
///
/// # Errors
/// [`KeyError`] naming `var`.
pub fn crypt_from_env(env: &EnvMap, var: &str) -> Result<Crypt, KeyError> {
    let list = env.get(var).ok_or_else(|| KeyError::Missing {
        var: var.to_string(),
    })?;
    Crypt::from_key_list(list).map_err(|source| KeyError::Invalid {
        var: var.to_string(),
        source,
    })
}

/// An input of the CLI: a file, or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, reported as `<stdin>`.
    Stdin,
    /// A file path.
    File(PathBuf),
}

impl Input {
    /// `-` is standard input, anything else a path.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(arg))
        }
    }
}

/// Decrypts each input in turn to `out`; problems (including inputs that
/// cannot be opened) go to `report`. Returns the summed counts.
///
/// # Errors
/// Writing to `out` or `report` failed, or an input failed mid-read.
pub fn decrypt_inputs(
    inputs: &[Input],
    crypt: &Crypt,
    out: &mut impl Write,
    report: &mut impl Write,
) -> io::Result<Stats> {
    each_input(
        inputs,
        Op::Decrypt,
        crypt,
        out,
        report,
        |path, out, report| match File::open(path) {
            Ok(f) => {
                let label = path.display().to_string();
                process(Op::Decrypt, BufReader::new(f), &label, crypt, out, report)
            }
            Err(e) => {
                writeln!(report, "{}: cannot open: {e}", path.display())?;
                Ok(one_failure())
            }
        },
    )
}

/// What stops `--rotate` from rewriting today's day file under a running
/// gateway (SPEC §4): the rewrite replaces the file, and a gateway appending
/// to it would lose what it acknowledged in between.
#[derive(Debug, thiserror::Error)]
pub enum TodayError {
    /// Today's file without `--include-today`.
    #[error(
        "refusing to rewrite today's file {0} (a running gateway appends to it): rotate it after \
         midnight UTC, or pass --include-today, which takes the sink directory's lock and refuses \
         while a gateway runs there"
    )]
    Today(PathBuf),
    /// `--include-today`, but a gateway holds the directory's lock.
    #[error("a logops-gateway is running on {0} (its lock file is held): stop it first, or rotate after midnight UTC")]
    Locked(PathBuf),
    /// The lock file could not be taken.
    #[error("cannot lock {0}: {1}")]
    Io(PathBuf, io::Error),
}

/// Checks the inputs of `--rotate` against today's day file name. With
/// `include_today`, takes the lock of the sink directory of each such file
/// and returns the locks, to be held for the whole rewrite.
///
/// # Errors
/// [`TodayError`].
pub fn guard_today(
    inputs: &[Input],
    include_today: bool,
    today: time::Date,
) -> Result<Vec<std::fs::File>, TodayError> {
    let todays = dayfile::file_name(today);
    let mut locks = Vec::new();
    for input in inputs {
        let Input::File(path) = input else { continue };
        if path.file_name().and_then(|n| n.to_str()) != Some(todays.as_str()) {
            continue;
        }
        if !include_today {
            return Err(TodayError::Today(path.clone()));
        }
        let dir = sink_root(path);
        match dayfile::try_lock(&dir) {
            Ok(Some(lock)) => locks.push(lock),
            Ok(None) => return Err(TodayError::Locked(dir)),
            Err(e) => return Err(TodayError::Io(dir, e)),
        }
    }
    Ok(locks)
}

/// The sink directory a day file belongs to: its directory, or the one above
/// when the file is in a tenant directory of a sink that has a lock file.
fn sink_root(file: &Path) -> PathBuf {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tenant_like = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| Tenant::new(n).is_ok());
    match dir.parent() {
        Some(up) if tenant_like && up.join(dayfile::LOCK_FILE).exists() => up.to_path_buf(),
        _ => dir.to_path_buf(),
    }
}

/// Rotates each input: files in place (one summary line each on `report`),
/// standard input to `out`.
///
/// # Errors
/// Writing to `out` or `report` failed.
pub fn rotate_inputs(
    inputs: &[Input],
    crypt: &Crypt,
    out: &mut impl Write,
    report: &mut impl Write,
) -> io::Result<Stats> {
    each_input(
        inputs,
        Op::Rotate,
        crypt,
        out,
        report,
        |path, _, report| match rotate_file(path, crypt, report) {
            Ok(stats) => {
                let what = if stats.tokens == 0 {
                    "unchanged, no token"
                } else {
                    "rewritten"
                };
                writeln!(
                    report,
                    "{}: {} tokens rotated in {} records ({what})",
                    path.display(),
                    stats.tokens,
                    stats.records
                )?;
                Ok(stats)
            }
            Err(e) => {
                writeln!(report, "{e}")?;
                Ok(one_failure())
            }
        },
    )
}

/// Runs `op` over each input: standard input streams through to `out`, a
/// file goes to `file`; the counts are summed.
fn each_input<O: Write, R: Write>(
    inputs: &[Input],
    op: Op,
    crypt: &Crypt,
    out: &mut O,
    report: &mut R,
    file: impl Fn(&Path, &mut O, &mut R) -> io::Result<Stats>,
) -> io::Result<Stats> {
    let mut total = Stats::default();
    for input in inputs {
        let stats = match input {
            Input::Stdin => process(op, io::stdin().lock(), "<stdin>", crypt, out, report)?,
            Input::File(path) => file(path, out, report)?,
        };
        add(&mut total, stats);
    }
    Ok(total)
}

/// The counts of an input that could not be processed.
fn one_failure() -> Stats {
    Stats {
        failures: 1,
        ..Stats::default()
    }
}

fn add(total: &mut Stats, s: Stats) {
    total.records += s.records;
    total.tokens += s.tokens;
    total.failures += s.failures;
}
