//! Reloading on `SIGHUP`: the keys file (also when it changes: its
//! modification time or size, polled every [`POLL`]) and the TLS certificate
//! and key. A file that fails to load is logged (and, for keys, counted in
//! `logops_keys_reload_errors_total`); what is in force stays.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::http::AppState;

/// How often the keys file's metadata is looked at.
const POLL: Duration = Duration::from_secs(2);

fn stamp(state: &AppState) -> Option<(SystemTime, u64)> {
    let path = state.auth.config().keys_file.as_ref()?;
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn reload(state: &AppState, why: &str) {
    if !state.auth.enabled() {
        return;
    }
    match state.auth.reload() {
        Ok(n) => tracing::info!(keys = n, trigger = why, "keys file reloaded"),
        Err(e) => {
            state.metrics.keys_reload_failed();
            tracing::error!(
                trigger = why,
                "keys file refused, the previous keys stay in force: {e}"
            );
        }
    }
}

/// The `SIGHUP` stream (registered now: from here on the signal no longer
/// ends the process).
#[cfg(unix)]
pub(super) fn hangup_signal() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

/// Runs until `stop` changes.
#[cfg(unix)]
pub(super) async fn reload_task(
    state: Arc<AppState>,
    mut hup: Option<tokio::signal::unix::Signal>,
    mut stop: watch::Receiver<bool>,
) {
    let mut last = stamp(&state);
    let mut tick = tokio::time::interval(POLL);
    loop {
        let hangup = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => return,
            () = hangup => {
                last = stamp(&state);
                reload(&state, "SIGHUP");
                if let Some(tls) = &state.tls {
                    match tls.reload() {
                        Ok(()) => tracing::info!("TLS certificate and key reloaded"),
                        Err(e) => tracing::error!("TLS files refused, the previous ones stay in force: {e}"),
                    }
                }
            }
            _ = tick.tick() => {
                let now = stamp(&state);
                if now.is_some() && now != last {
                    last = now;
                    reload(&state, "file changed");
                }
            }
        }
    }
}
