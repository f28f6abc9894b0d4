//! `emit_syslog`: syslog-style text lines (SPEC §7, §2.3), over HTTP or as
//! raw syslog over TCP/UDP (SPEC §11 item 5).

use std::process::ExitCode;

use clap::Parser;
use logops_emitters::{
    parse_ratio, syslog_main, CommonArgs, SyslogForm, SyslogGenerator, WireArgs,
};

/// Send syslog lines (RFC 5424, RFC 3164 and the simple
/// `TIMESTAMP LEVEL host app[pid]: msg` form) to a LogOps gateway, as
/// text/plain over HTTP or as raw syslog over TCP/UDP (--transport): one
/// batch (-n), paced (--eps) or flood (--concurrency).
#[derive(Parser)]
#[command(name = "emit_syslog", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    #[command(flatten)]
    wire: WireArgs,

    /// Fraction (0..1) of lines lacking their timestamp, level, or both.
    #[arg(long, default_value_t = 0.0, value_parser = parse_ratio)]
    partial_ratio: f64,

    /// Form of the complete lines: all three mixed, or only one (partial
    /// lines keep their own forms).
    #[arg(long, value_enum, default_value_t = SyslogForm::Mixed, value_name = "FORM")]
    format: SyslogForm,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    syslog_main("emit_syslog", &cli.common, &cli.wire, |cfg| {
        SyslogGenerator::new(cfg, cli.partial_ratio).form(cli.format)
    })
}
