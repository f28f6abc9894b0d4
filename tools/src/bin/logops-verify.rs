//! `logops-verify`: check day files against their signed chain (tamper
//! evidence), or check an inclusion proof from `GET /v1/proof`.
//!
//! Exit 0 when everything verifies, 1 when something does not (edited,
//! inserted, removed, reordered or truncated lines, a broken day link, a
//! forged checkpoint, unsealed lines), 2 for bad usage or unreadable input.

use std::io::{stdout, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use logops_gateway::chain::checkpoint::parse_public_key;
use logops_gateway::chain::proof::Proof;
use logops_tools::exit;

/// Verify LogOps day files (and their `.chain` sidecars) with the chain's
/// public key: files, directories (a sink or archive directory, tenant
/// subdirectories included) and housekeeping's zip archives.
#[derive(Debug, Parser)]
#[command(name = "logops-verify", version)]
struct Args {
    /// The public key: base64 (as `logops-keygen --chain` prints it), a PEM
    /// public key, or a file holding either.
    #[arg(long, value_name = "KEY", env = "LOGOPS_CHAIN_PUBLIC_KEY")]
    pubkey: String,
    /// Check this inclusion proof (the JSON `GET /v1/proof` answers; `-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    proof: Option<PathBuf>,
    /// Day files, sidecars, directories or zip archives.
    #[arg(value_name = "PATH", required_unless_present = "proof")]
    paths: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let text = match std::fs::read_to_string(&args.pubkey) {
        Ok(t) => t,
        Err(_) => args.pubkey.clone(),
    };
    let key = match parse_public_key(&text) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("logops-verify: --pubkey: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if let Some(path) = &args.proof {
        let raw = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(path)
        };
        let proof: Proof = match raw
            .map_err(|e| e.to_string())
            .and_then(|r| serde_json::from_str(&r).map_err(|e| e.to_string()))
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "logops-verify: cannot read the proof {}: {e}",
                    path.display()
                );
                return ExitCode::from(exit::USAGE);
            }
        };
        return match proof.check(&key) {
            Ok(()) => {
                println!(
                    "OK line {} of {} is in the signed tree",
                    proof.line, proof.day
                );
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                println!("FAIL {e}");
                ExitCode::from(exit::FAILED)
            }
        };
    }
    let mut out = stdout().lock();
    match logops_tools::verify::run(&args.paths, &key, &mut out) {
        Ok(s) => {
            let _ = out.flush();
            if s.days == 0 {
                eprintln!("logops-verify: no day files or sidecars found");
                return ExitCode::from(exit::USAGE);
            }
            if s.failed == 0 {
                eprintln!("verified: {} days", s.days);
                ExitCode::from(exit::OK)
            } else {
                eprintln!(
                    "NOT verified: {} of {} days have problems",
                    s.failed, s.days
                );
                ExitCode::from(exit::FAILED)
            }
        }
        Err(e) => {
            eprintln!("logops-verify: {e}");
            ExitCode::from(exit::USAGE)
        }
    }
}
