//! The in-process gateway: the same composition as the binary
//! (`logops_gateway::app::Gateway`) served on `127.0.0.1:0` by a runtime on its
//! own thread, stopped through a shutdown future the test controls.
//!
//! Most HTTP behaviour tests use this: no process spawn, no scraping stderr
//! for the port. Tests where the process itself is the point (signals,
//! kill -9, start-up refusal, stderr, `.env` in the working directory) use
//! [`crate::GatewayBuilder::process`].

use std::collections::HashMap;
use std::thread::JoinHandle;

use logops_gateway::app;
use logops_gateway::config::Config;
use tokio::sync::oneshot;

/// A running in-process gateway; stops (gracefully) on drop.
pub(crate) struct InProcess {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    /// Builds the gateway from `env` (configuration semantics of the
    /// environment; nothing else is read) and serves it. Returns the address.
    pub(crate) fn start(env: &HashMap<String, String>) -> Result<(InProcess, String), String> {
        let config = Config::from_map(env).map_err(|e| format!("configuration error: {e}"))?;
        let gateway = app::Gateway::build(config).map_err(|e| e.to_string())?;
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| format!("nonblocking: {e}"))?;
        let addr = std_listener
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))?
            .to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("inproc-gateway".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
                    if let Err(e) = gateway
                        .run(listener, async move {
                            let _ = stopped.await;
                        })
                        .await
                    {
                        panic!("in-process gateway failed: {e}");
                    }
                });
            })
            .map_err(|e| format!("spawn: {e}"))?;
        Ok((
            InProcess {
                stop: Some(stop),
                thread: Some(thread),
            },
            addr,
        ))
    }

    /// Graceful shutdown: stop accepting, drain, flush the sink; waits for it.
    pub(crate) fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
