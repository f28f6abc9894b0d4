//! `emit_noise`: messy, inconsistent JSON records (SPEC §7).

use std::process::ExitCode;

use clap::Parser;
use logops_emitters::{main_with, parse_ratio, CommonArgs, NoiseGenerator};

/// Send messy JSON records (alias keys, unparseable timestamps, numeric and
/// boolean levels, object/array messages, nested extras, syslog-ish `log`
/// lines) to a LogOps gateway: one batch (-n), paced (--eps) or flood
/// (--concurrency).
#[derive(Parser)]
#[command(name = "emit_noise", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// How messy (0..1): the probability of each kind of deviation per record.
    #[arg(long, default_value_t = 0.5, value_parser = parse_ratio)]
    chaos: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    main_with("emit_noise", &cli.common, |cfg| {
        NoiseGenerator::new(cfg, cli.chaos)
    })
}
