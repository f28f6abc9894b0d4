//! `logops-gateway`: load the configuration, set up logging, start the sink
//! and (optionally) housekeeping, serve HTTP until SIGINT/SIGTERM, then drain
//! in-flight requests, sync and close the files, and exit 0.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use logops_gateway::config::{Config, LogFormat};
use logops_gateway::http::{serve, AppState};
use logops_gateway::metrics::Metrics;
use logops_gateway::pipeline::Pipeline;
use logops_gateway::sink::Sink;
use logops_gateway::{housekeeping, VERSION};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: the hot path allocates many small
/// short-lived values (JSON maps and strings) and glibc's malloc/free were a
/// quarter of the gateway's CPU profile under load (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let (config, loaded) = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logops-gateway: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = init_tracing(&config) {
        eprintln!("logops-gateway: configuration error: {e}");
        return ExitCode::from(2);
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
            tracing::error!("{e:#}");
            eprintln!("logops-gateway: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log_level).map_err(|e| {
        anyhow::anyhow!(
            "LOGOPS_LOG_LEVEL: invalid value {:?}: expected a level such as info or debug ({e})",
            config.log_level
        )
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    Ok(())
}

async fn run(config: Config) -> anyhow::Result<()> {
    let metrics = Arc::new(Metrics::new(config.max_label_values));
    let pipeline = Pipeline::from_config(&config).context("LOGOPS_SECRET_KEY")?;
    let sink = Sink::start(&config, Arc::clone(&metrics)).with_context(|| {
        format!(
            "cannot create the sink directory {}",
            config.sink_dir.display()
        )
    })?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (LOGOPS_LISTEN)", config.listen))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    if config.housekeep_autorun {
        spawn_housekeeping(&config, Arc::clone(&metrics), stop_rx.clone());
    }
    tracing::info!(
        version = VERSION,
        encryption = pipeline.encrypts(),
        sink_dir = %sink.dir().map(|d| d.display().to_string()).unwrap_or_else(|| "off".into()),
        fsync = ?config.fsync,
        "listening on http://{addr}"
    );
    let state = Arc::new(AppState {
        config,
        pipeline,
        sink,
        metrics,
    });
    serve(listener, Arc::clone(&state), shutdown_signal()).await;
    let _ = stop_tx.send(true);
    let sink_state = Arc::clone(&state);
    tokio::task::spawn_blocking(move || sink_state.sink.shutdown()).await?;
    tracing::info!("sink flushed and closed; bye");
    Ok(())
}

fn spawn_housekeeping(config: &Config, metrics: Arc<Metrics>, mut stop: watch::Receiver<bool>) {
    let settings = housekeeping::Settings {
        sink_dir: config.sink_dir.clone(),
        archive_dir: config.archive_dir.clone(),
        retention_days: config.retention_days,
        mode: config.archive_mode,
    };
    let on_report = move |report: &housekeeping::Report| {
        for action in &report.actions {
            if let Some(label) = housekeeping::metric_action(action) {
                metrics.housekeeping_files(label, 1);
            }
            if action.kind == housekeeping::ActionKind::Failed {
                tracing::error!(target: "housekeeping", "{action}");
            } else {
                tracing::info!(target: "housekeeping", "{action}");
            }
        }
    };
    let interval = config.housekeep_interval;
    tokio::spawn(housekeeping::autorun(
        settings,
        interval,
        on_report,
        async move {
            let _ = stop.changed().await;
        },
    ));
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
