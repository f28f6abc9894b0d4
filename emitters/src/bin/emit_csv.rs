//! `emit_csv`: CSV logs with a header row (SPEC §7, §2.4).

use std::process::ExitCode;

use clap::Parser;
use logops_emitters::{main_with, parse_ratio, CommonArgs, CsvGenerator};

/// Send text/csv logs (header row, extra columns, quoted commas, quotes and
/// newlines) to a LogOps gateway: one batch (-n), paced (--eps) or flood
/// (--concurrency).
#[derive(Parser)]
#[command(name = "emit_csv", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Fraction (0..1) of rows with an empty timestamp cell, level cell, or both.
    #[arg(long, default_value_t = 0.0, value_parser = parse_ratio)]
    partial_ratio: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    main_with("emit_csv", &cli.common, |cfg| {
        CsvGenerator::new(cfg, cli.partial_ratio)
    })
}
