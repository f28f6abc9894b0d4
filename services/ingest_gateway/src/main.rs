//! `logops-gateway`: load the configuration, set up logging, start the sink
//! and (optionally) housekeeping, serve HTTP until SIGINT/SIGTERM, then drain
//! in-flight requests, sync and close the files, and exit 0.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use logops_gateway::app::Gateway;
use logops_gateway::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: the hot path allocates many small
/// short-lived values (JSON maps and strings) and glibc's malloc/free were a
/// quarter of the gateway's CPU profile under load (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The LogOps ingest gateway: accepts log batches over HTTP (JSON, NDJSON,
/// syslog-style text, CSV, OTLP, forms), normalizes them, masks and encrypts
/// PII, and appends them durably to daily NDJSON files.
///
/// All settings come from LOGOPS_* environment variables, then `.env` in the
/// working directory (or the file named by LOGOPS_ENV_FILE); `.env.example`
/// and docs/configuration.md list every key and its default.
#[derive(Debug, Parser)]
#[command(name = "logops-gateway", version)]
struct Args {
    /// Validate the configuration and exit: 0 when it is valid (warnings,
    /// such as unknown keys, are printed), 2 when it is not. Binds no port and
    /// touches no file.
    #[arg(long)]
    check_config: bool,
}

/// Exit code of a configuration error.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let (config, loaded) = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logops-gateway: configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if args.check_config {
        for warning in &loaded.warnings {
            eprintln!("logops-gateway: warning: {warning}");
        }
        println!(
            "configuration OK: listen {}, sink {}, fsync {:?}, encryption {}",
            config.server.listen,
            if config.sink.enabled {
                config.sink.dir.display().to_string()
            } else {
                "off".into()
            },
            config.sink.fsync,
            if config.pii.crypt.is_some() {
                "on"
            } else {
                "off"
            },
        );
        return ExitCode::SUCCESS;
    }
    if let Err(e) = init_tracing(&config) {
        eprintln!("logops-gateway: configuration error: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    if let Some(path) = &loaded.env_file {
        tracing::info!(path = %path.display(), "read env file");
    }
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Once, through the configured log output (it goes to stderr).
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log.level).map_err(|e| {
        anyhow::anyhow!(
            "LOGOPS_LOG_LEVEL: invalid value {:?}: expected a level such as info or debug ({e})",
            config.log.level
        )
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    Ok(())
}

async fn run(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let gateway = Gateway::build(config)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (LOGOPS_LISTEN)"))?;
    gateway.run(listener, shutdown_signal()).await?;
    tracing::info!("bye");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}
