//! `housekeeping`: enforce retention on the sink directory on demand (SPEC §4).
//!
//! Same code as the gateway's `LOGOPS_HOUSEKEEP_AUTORUN` task. Prints one line
//! per action on stdout; exit 0 when all succeeded, 1 if any failed, 2 for bad
//! usage or configuration.

use std::io::{stderr, stdout};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use logops_gateway::housekeeping::Mode;
use logops_tools::env::EnvMap;
use logops_tools::housekeep::{run_and_print, settings, Overrides};
use logops_tools::{exit, is_broken_pipe};

/// Delete or zip the sink's day files older than the retention period.
///
/// Only files named YYYYMMDD.ndjson are considered; today's file is never
/// touched. Defaults come from the environment, then `.env` (or
/// $LOGOPS_ENV_FILE), then the built-in defaults shown below.
#[derive(Debug, Parser)]
#[command(name = "housekeeping", version)]
struct Args {
    /// Print what would be done, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Days kept before today; files of older days expire
    /// [env: LOGOPS_RETENTION_DAYS, default: 7].
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true, value_parser = parse_days)]
    retention_days: Option<u32>,
    /// What to do with expired files: `delete`, or `zip` into
    /// <archive-dir>/YYYYMMDD.zip [env: LOGOPS_ARCHIVE_MODE, default: delete].
    #[arg(long, value_name = "MODE")]
    mode: Option<Mode>,
    /// The gateway's sink directory [env: LOGOPS_SINK_DIR, default: ./data/ingest].
    #[arg(long, value_name = "DIR")]
    sink_dir: Option<PathBuf>,
    /// Where zip mode writes archives [env: LOGOPS_ARCHIVE_DIR, default: ./data/archive].
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,
}

/// `--retention-days`: 0 to 36500 (a negative number is a clear usage error,
/// not clap's "unexpected argument").
fn parse_days(s: &str) -> Result<u32, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of days"))?;
    u32::try_from(n)
        .ok()
        .filter(|d| *d <= 36_500)
        .ok_or_else(|| format!("{n} is out of range: expected 0 to 36500 days"))
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("housekeeping: {e}");
            ExitCode::from(exit::USAGE)
        }
    }
}

fn run(args: Args) -> anyhow::Result<u8> {
    let env = EnvMap::load_warning("housekeeping")?;
    let overrides = Overrides {
        retention_days: args.retention_days,
        mode: args.mode,
        sink_dir: args.sink_dir,
        archive_dir: args.archive_dir,
    };
    let settings = settings(&env, overrides)?;
    if !settings.sink_dir.is_dir() {
        anyhow::bail!(
            "sink directory {} does not exist or is not a directory (--sink-dir or LOGOPS_SINK_DIR)",
            settings.sink_dir.display()
        );
    }
    let today = time::OffsetDateTime::now_utc().date();
    let report = run_and_print(
        &settings,
        today,
        args.dry_run,
        &mut stdout().lock(),
        &mut stderr(),
    )?;
    Ok(if report.failed() > 0 {
        exit::FAILED
    } else {
        exit::OK
    })
}
