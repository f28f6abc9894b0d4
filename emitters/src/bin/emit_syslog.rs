//! `emit_syslog`: syslog-style text lines (SPEC §7, §2.3).

use std::process::ExitCode;

use clap::Parser;
use logops_emitters::{main_with, parse_ratio, CommonArgs, SyslogGenerator};

/// Send text/plain syslog lines (RFC 5424, RFC 3164 and the simple
/// `TIMESTAMP LEVEL host app[pid]: msg` form) to a LogOps gateway: one batch
/// (-n), paced (--eps) or flood (--concurrency).
#[derive(Parser)]
#[command(name = "emit_syslog", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Fraction (0..1) of lines lacking their timestamp, level, or both.
    #[arg(long, default_value_t = 0.0, value_parser = parse_ratio)]
    partial_ratio: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    main_with("emit_syslog", &cli.common, |cfg| {
        SyslogGenerator::new(cfg, cli.partial_ratio)
    })
}
