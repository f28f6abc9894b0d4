//! `logops-decrypt`: recover the encrypted fields of stored records, or
//! rotate their tokens to the newest key (SPEC §3).
//!
//! Exit 0 when every token was handled, 1 if any token or input failed
//! (reported as `file:line: ...` on stderr), 2 for bad usage or configuration.
//! Keys are never printed.

use std::io::{stderr, stdout, BufWriter};
use std::process::ExitCode;

use clap::Parser;
use logops_tools::decrypt::run::{
    crypt_from_env, decrypt_inputs, guard_today, rotate_inputs, Input, DEFAULT_KEY_ENV,
};
use logops_tools::env::EnvMap;
use logops_tools::{exit, is_broken_pipe};

/// Decrypt the `<name>_enc` fields of LogOps NDJSON files back into `<name>`.
///
/// Reads the files (or stdin) and writes the records to stdout with each token
/// decrypted into its field and the token field dropped. Keys come from
/// LOGOPS_SECRET_KEY (environment, then `.env` or $LOGOPS_ENV_FILE): a
/// comma-separated list, every key is tried, so tokens of retired keys still
/// decrypt while those keys are listed.
#[derive(Debug, Parser)]
#[command(name = "logops-decrypt", version)]
struct Args {
    /// NDJSON files to read; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Read the key list from this variable instead of LOGOPS_SECRET_KEY.
    #[arg(long, value_name = "VAR", default_value = DEFAULT_KEY_ENV)]
    key_env: String,
    /// Re-encrypt every token with the first key instead of decrypting: files
    /// are rewritten in place atomically, stdin goes to stdout.
    #[arg(long)]
    rotate: bool,
    /// With --rotate: also rewrite today's day file (refused otherwise, since
    /// a running gateway appends to it). Takes the sink directory's lock for
    /// the rewrite and refuses while a gateway holds it.
    #[arg(long, requires = "rotate")]
    include_today: bool,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("logops-decrypt: {e}");
            ExitCode::from(exit::USAGE)
        }
    }
}

fn run(args: Args) -> anyhow::Result<u8> {
    let env = EnvMap::load_warning("logops-decrypt")?;
    let crypt = crypt_from_env(&env, &args.key_env)?;
    let mut inputs: Vec<Input> = args.files.iter().map(|f| Input::parse(f)).collect();
    if inputs.is_empty() {
        inputs.push(Input::Stdin);
    }
    let mut out = BufWriter::new(stdout().lock());
    let mut report = stderr().lock();
    let _locks = if args.rotate {
        let today = time::OffsetDateTime::now_utc().date();
        guard_today(&inputs, args.include_today, today)?
    } else {
        Vec::new()
    };
    let stats = if args.rotate {
        if crypt.key_count() == 1 {
            eprintln!("logops-decrypt: note: only one key configured, tokens are re-encrypted with the same key");
        }
        rotate_inputs(&inputs, &crypt, &mut out, &mut report)?
    } else {
        decrypt_inputs(&inputs, &crypt, &mut out, &mut report)?
    };
    Ok(if stats.failures > 0 {
        exit::FAILED
    } else {
        exit::OK
    })
}
