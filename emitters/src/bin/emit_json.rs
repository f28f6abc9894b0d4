//! `emit_json`: server-style structured JSON logs (SPEC §7).

use std::process::ExitCode;

use clap::Parser;
use logops_emitters::{main_with, parse_ratio, CommonArgs, JsonGenerator};

/// Send server-style JSON log records (timestamp, level, message with PII,
/// service, env, host, request_id, user_email, client_ip, nested attrs) to a
/// LogOps gateway: one batch (-n), paced (--eps) or flood (--concurrency).
#[derive(Parser)]
#[command(name = "emit_json", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Fraction (0..1) of records lacking their timestamp, level, or both.
    #[arg(long, default_value_t = 0.0, value_parser = parse_ratio)]
    partial_ratio: f64,

    /// Send NDJSON (application/x-ndjson) instead of a JSON array.
    #[arg(long)]
    ndjson: bool,

    /// Compact ~140-byte records (ts, level, message, service, host): the
    /// benchmark workload.
    #[arg(long)]
    compact: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    main_with("emit_json", &cli.common, |cfg| {
        JsonGenerator::new(cfg, cli.partial_ratio, cli.ndjson).compact(cli.compact)
    })
}
