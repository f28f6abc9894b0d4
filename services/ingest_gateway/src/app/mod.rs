//! Wiring: a validated [`Config`] becomes the running gateway (metrics, sink,
//! ingest service, HTTP state, housekeeping task). Shared by `main` and the
//! in-process tests, so both run exactly the same composition.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::{Auth, AuthConfig};
use crate::config::Config;
use crate::forward::{ForwardError, Forwarders};
use crate::housekeeping::{self, HousekeepingConfig};
use crate::http::{self, AppState, Tails};
use crate::ingest::IngestService;
use crate::metrics::Metrics;
use crate::read::source::Store;
use crate::sink;
use crate::syslog::{Listeners, SyslogConfig};

mod console;
mod reload;

/// Why the gateway could not be put together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The sink directory cannot be created or read (LOGOPS_SINK_DIR).
    #[error("cannot use the sink directory {} (LOGOPS_SINK_DIR): {source}", dir.display())]
    SinkDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A syslog listener cannot be bound.
    #[error("{0}")]
    Syslog(String),
    /// The forwarding position file is unusable (LOGOPS_FORWARD).
    #[error("{0} (LOGOPS_FORWARD)")]
    Forward(#[from] ForwardError),
}

/// A gateway ready to serve.
#[derive(Debug)]
pub struct Gateway {
    state: Arc<AppState>,
    housekeeping: HousekeepingConfig,
    syslog: SyslogConfig,
}

impl Gateway {
    /// Builds every part from `config` (starting the sink's writer thread).
    ///
    /// # Errors
    /// [`StartError`] naming the key to change.
    pub fn build(config: Config) -> Result<Gateway, StartError> {
        let metrics = Arc::new(Metrics::new(config.max_label_values));
        let marks = Arc::new(crate::watermark::Watermarks::default());
        let sink = sink::build(&config.sink, Arc::clone(&metrics), Arc::clone(&marks)).map_err(
            |source| StartError::SinkDir {
                dir: config.sink.dir.clone(),
                source,
            },
        )?;
        let forward = Forwarders::new(
            &config.forward,
            config.sink.dir.clone(),
            Arc::clone(&marks),
            Arc::clone(&metrics),
        )?;
        let console = console::state(&config, Arc::clone(&marks));
        let ingest = IngestService::new(config.limits, &config.pii, sink, Arc::clone(&metrics));
        warn_if_readable(&config.auth);
        if config.sink.enabled {
            console::count_existing_lines(&config.sink.dir, Arc::clone(&metrics));
        }
        Ok(Gateway {
            state: Arc::new(AppState {
                server: config.server,
                auth: Arc::new(Auth::new(config.auth)),
                tls: config.tls,
                ingest: Arc::new(ingest),
                metrics,
                store: Arc::new(Store::new(
                    config.sink.dir.clone(),
                    config.housekeeping.settings.archive_dir.clone(),
                    Some(marks),
                )),
                read: config.read,
                tails: Tails::default(),
                console,
                forward: Arc::new(forward),
            }),
            housekeeping: config.housekeeping,
            syslog: config.syslog,
        })
    }

    /// The shared state (for `/healthz`-style checks by the caller).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Serves `listener` (and the syslog listeners) until `shutdown`
    /// resolves; then drains in-flight requests, stores what the syslog
    /// listeners read, stops housekeeping, and flushes and closes the sink.
    ///
    /// # Errors
    /// A syslog address cannot be bound (names the key).
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartError> {
        let syslog = Listeners::start(
            &self.syslog,
            Arc::clone(&self.state.ingest),
            Arc::clone(&self.state.metrics),
        )
        .await
        .map_err(StartError::Syslog)?;
        for (kind, addr) in &syslog.addrs {
            tracing::info!(listener = kind, "syslog listening on {kind}://{addr}");
        }
        console::record_listeners(&self.state, &listener, &syslog.addrs);
        let (stop_tx, stop_rx) = watch::channel(false);
        self.state.forward.spawn(stop_rx.clone());
        if self.housekeeping.autorun {
            spawn_housekeeping(
                &self.housekeeping,
                Arc::clone(&self.state.metrics),
                stop_rx.clone(),
            );
        }
        #[cfg(unix)]
        if self.state.auth.enabled() || self.state.tls.is_some() {
            // The SIGHUP handler is in place before "listening" is logged.
            let hangup = reload::hangup_signal();
            tokio::spawn(reload::reload_task(
                Arc::clone(&self.state),
                hangup,
                stop_rx,
            ));
        }
        if let Ok(addr) = listener.local_addr() {
            let sink = self.state.ingest.sink().describe();
            tracing::info!(
                version = crate::VERSION,
                encryption = self.state.ingest.encrypts(),
                auth = ?self.state.auth.config().mode,
                sink = sink.kind,
                sink_dir = %sink.dir.map(|d| d.display().to_string()).unwrap_or_else(|| "off".into()),
                "listening on {}://{addr}",
                if self.state.tls.is_some() { "https" } else { "http" }
            );
        }
        http::serve(listener, Arc::clone(&self.state), shutdown).await;
        syslog.shutdown().await;
        let _ = stop_tx.send(true);
        self.state
            .forward
            .join(self.state.server.shutdown_timeout)
            .await;
        let state = Arc::clone(&self.state);
        let _ = tokio::task::spawn_blocking(move || state.ingest.sink().shutdown()).await;
        tracing::info!("sink flushed and closed");
        Ok(())
    }
}

/// SPEC §8: a keys file readable by group or others is warned about.
fn warn_if_readable(config: &AuthConfig) {
    #[cfg(unix)]
    if let Some(path) = &config.keys_file {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{:o}", m.permissions().mode() & 0o777), "the keys file is readable by group or others; chmod 600 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = config;
}

fn spawn_housekeeping(
    config: &HousekeepingConfig,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let on_report = move |report: &housekeeping::Report| {
        metrics
            .activity()
            .housekeeping_ran(console::housekeeping_run(report));
        for action in &report.actions {
            if let Some(label) = housekeeping::metric_action(action) {
                metrics.housekeeping_files(label, 1);
            }
            if action.kind == housekeeping::ActionKind::Failed {
                tracing::error!(target: "housekeeping", "{action}");
            } else if action.kind == housekeeping::ActionKind::Held {
                tracing::warn!(target: "housekeeping", "{action}");
            } else {
                tracing::info!(target: "housekeeping", "{action}");
            }
        }
    };
    tokio::spawn(housekeeping::autorun(
        config.settings.clone(),
        config.interval,
        on_report,
        async move {
            let _ = stop.changed().await;
        },
    ));
}
