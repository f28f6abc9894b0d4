//! `logops-query`: query or follow what a LogOps gateway stored (SPEC §9),
//! from the sink directory with the gateway's read engine (no gateway
//! needed, zip archives included) or from a gateway's `/v1/query` and
//! `/v1/tail`.
//!
//! Exit 0 on success, 1 when reading the files or talking to the gateway
//! failed, 2 for a bad query or bad usage.

use std::io::{stderr, stdout, BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use logops_tools::query::{run, Failure, Format, Request, Target};
use logops_tools::{exit, is_broken_pipe};

/// Print the stored lines matching a LogQL-subset query.
///
/// Lines are written exactly as stored (NDJSON) when stdout is not a
/// terminal; on a terminal, one line per record: `ts level msg` and the other
/// fields. The `_stats` line of a query goes to stderr. Reads the directories
/// (default ./data/ingest and ./data/archive) unless --url is given.
#[derive(Debug, Parser)]
#[command(name = "logops-query", version)]
struct Args {
    /// The log query, e.g. `{level="ERROR"} |= "timeout"`.
    #[arg(value_name = "QUERY")]
    query: String,
    /// Start this long before now (`1h`, `30m`); the default is an hour before the end.
    #[arg(long, value_name = "DURATION", conflicts_with = "from")]
    since: Option<String>,
    /// Start: RFC 3339, Unix seconds or nanoseconds, or a duration back from now.
    #[arg(long, value_name = "T")]
    from: Option<String>,
    /// End (inclusive), same forms as --from; the default is now.
    #[arg(long, value_name = "T")]
    to: Option<String>,
    /// At most this many lines.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: usize,
    /// Oldest first (the default is newest first).
    #[arg(long)]
    forward: bool,
    /// Follow: print new lines as they are stored, until interrupted (from
    /// --since/--from if given, else from now).
    #[arg(long, conflicts_with_all = ["to", "forward"])]
    tail: bool,
    /// The tenant to read (admin keys over --url; the default tenant otherwise).
    #[arg(long, value_name = "TENANT")]
    tenant: Option<String>,
    /// Ask this gateway (`http://host:port`) instead of reading the directories.
    #[arg(long, value_name = "URL", conflicts_with_all = ["dir", "archive_dir"])]
    url: Option<String>,
    /// With --url: the API key id (`Authorization: Bearer <id>:<secret>`).
    #[arg(long, value_name = "ID", requires_all = ["url", "secret"])]
    api_key: Option<String>,
    /// With --api-key: its secret.
    #[arg(long, value_name = "SECRET", requires = "api_key")]
    secret: Option<String>,
    /// The gateway's sink directory.
    #[arg(long, value_name = "SINK_DIR", default_value = "./data/ingest")]
    dir: PathBuf,
    /// Where the gateway's zip archives are.
    #[arg(long, value_name = "DIR", default_value = "./data/archive")]
    archive_dir: PathBuf,
}

fn main() -> ExitCode {
    match run_args(Args::parse()) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("logops-query: {e}");
            let code = match e.downcast_ref::<Failure>() {
                Some(Failure::Usage(_)) => exit::USAGE,
                _ => exit::FAILED,
            };
            ExitCode::from(code)
        }
    }
}

fn run_args(args: Args) -> anyhow::Result<()> {
    let target = match args.url {
        Some(base) => Target::Url {
            base,
            key: args.api_key.zip(args.secret),
        },
        None => {
            if !args.dir.is_dir() {
                anyhow::bail!(
                    "sink directory {} does not exist or is not a directory (--dir)",
                    args.dir.display()
                );
            }
            Target::Dir {
                sink_dir: args.dir,
                archive_dir: args.archive_dir,
            }
        }
    };
    let req = Request {
        query: args.query,
        from: args.from.or(args.since),
        to: args.to,
        limit: args.limit,
        forward: args.forward,
        tail: args.tail,
        tenant: args.tenant,
    };
    let out = stdout();
    let format = if out.is_terminal() {
        Format::Pretty {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    } else {
        Format::Ndjson
    };
    let mut out = BufWriter::new(out.lock());
    run(&target, &req, format, &mut out, &mut stderr().lock())?;
    Ok(())
}
