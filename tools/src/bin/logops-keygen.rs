//! `logops-keygen`: print a new Fernet key for `LOGOPS_SECRET_KEY`.

use std::io::{stdout, Write};
use std::process::ExitCode;

use clap::Parser;
use logops_gateway::pii::Crypt;
use logops_tools::{exit, is_broken_pipe};

/// Print a new random Fernet key (32 bytes, URL-safe base64) on stdout.
///
/// Without options the key alone is printed, and the `.env` line that uses it
/// is shown on stderr. To rotate, put the new key first and keep the old ones
/// after it: LOGOPS_SECRET_KEY=<new>,<old> (see `logops-decrypt --rotate`).
#[derive(Debug, Parser)]
#[command(name = "logops-keygen", version)]
struct Args {
    /// Print the `.env` line `LOGOPS_SECRET_KEY=<key>` on stdout instead of the
    /// bare key (e.g. `logops-keygen --env-line >> .env`).
    #[arg(long)]
    env_line: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let key = Crypt::generate_key();
    let printed = if args.env_line {
        writeln!(stdout(), "LOGOPS_SECRET_KEY={key}")
    } else {
        writeln!(stdout(), "{key}").map(|()| {
            eprintln!("# to use it, add this line to .env (keep it secret):");
            eprintln!("LOGOPS_SECRET_KEY={key}");
        })
    };
    match printed {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("logops-keygen: cannot write: {e}");
            ExitCode::from(exit::FAILED)
        }
    }
}
