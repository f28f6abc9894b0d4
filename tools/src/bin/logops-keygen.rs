//! `logops-keygen`: print a new Fernet key for `LOGOPS_SECRET_KEY`, or (with
//! `--chain`) make the Ed25519 signing key for `LOGOPS_CHAIN_SIGNING_KEY`.

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
    /// Make an Ed25519 signing key for the tamper-evident chain
    /// (LOGOPS_CHAIN_SIGNING_KEY) instead: PKCS#8 PEM, written to --out
    /// (created 0600, never overwritten) or printed; the public key, which
    /// is all `logops-verify` needs, is printed on stdout.
    #[arg(long)]
    chain: bool,
    /// With --chain: the private key file to create.
    #[arg(long, requires = "chain")]
    out: Option<std::path::PathBuf>,
}

fn chain_key(out: Option<&std::path::Path>) -> ExitCode {
    let (pem, public) = match logops_gateway::chain::checkpoint::generate_signing_key() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("logops-keygen: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match out {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .and_then(|mut f| f.write_all(pem.as_bytes()).and_then(|()| f.sync_all()));
            if let Err(e) = written {
                eprintln!("logops-keygen: cannot create {}: {e}", path.display());
                return ExitCode::from(exit::FAILED);
            }
            println!("{public}");
            eprintln!(
                "# private key written to {} (keep it secret; LOGOPS_CHAIN_SIGNING_KEY={})",
                path.display(),
                path.display()
            );
            eprintln!(
                "# the line above is the public key: give it to auditors (logops-verify --pubkey)"
            );
        }
        None => {
            print!("{pem}");
            eprintln!("# public key (for logops-verify --pubkey): {public}");
        }
    }
    ExitCode::from(exit::OK)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.chain {
        return chain_key(args.out.as_deref());
    }
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
