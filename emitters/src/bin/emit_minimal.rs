//! `emit_minimal`: records with only `msg` (SPEC §7).

use std::process::ExitCode;

use clap::Parser;
use logops_emitters::{main_with, CommonArgs, MinimalGenerator};

/// Send minimal JSON records (`{"msg": "..."}`, no timestamp, no level) to a
/// LogOps gateway: one batch (-n), paced (--eps) or flood (--concurrency).
#[derive(Parser)]
#[command(name = "emit_minimal", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    main_with("emit_minimal", &cli.common, MinimalGenerator::new)
}
