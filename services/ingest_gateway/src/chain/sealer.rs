//! The sealing thread: the sink's writer hands it what it wrote and synced,
//! and it hashes the lines and signs the checkpoints, so neither the
//! SHA-256 of every line nor the signatures sit in the writer's loop
//! between a sync and the next group.
//!
//! Messages keep the writer's order: `Open` (a day file was opened at this
//! length), `Stage` (these lines were written to it), `Seal` (they are
//! synced). After draining what is queued it signs one checkpoint per file
//! with something to seal, so under load one signature covers several
//! commits. The queue is bounded ([`QUEUE`]): a sealer that falls behind
//! slows the writer down instead of holding unbounded memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use time::Date;

use super::merkle::Hash;
use super::seal::DayChain;
use super::Signer;
use crate::dayfile;
use crate::metrics::Metrics;
use crate::schema::Tenant;

/// Messages queued for the sealer.
const QUEUE: usize = 256;
/// Chains kept open (today's and yesterday's per active tenant).
const MAX_OPEN: usize = 64;

enum Msg {
    Open {
        path: PathBuf,
        tenant: Tenant,
        day: Date,
        len: u64,
    },
    Stage {
        path: PathBuf,
        parts: Vec<Bytes>,
    },
    Seal {
        path: PathBuf,
    },
}

/// The handle the writer holds.
#[derive(Debug)]
pub struct Sealer {
    tx: Mutex<Option<SyncSender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl Sealer {
    /// Starts the thread for the sink directory `dir`.
    ///
    /// # Errors
    /// The thread cannot be spawned.
    pub fn start(signer: Signer, dir: PathBuf, metrics: Arc<Metrics>) -> std::io::Result<Sealer> {
        let (tx, rx) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("logops-chain".into())
            .spawn(move || {
                Worker {
                    signer,
                    dir,
                    metrics,
                    chains: HashMap::new(),
                }
                .run(rx)
            })?;
        Ok(Sealer {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn send(&self, msg: Msg) {
        let tx = self.tx.lock().ok().and_then(|t| t.clone());
        if let Some(tx) = tx {
            let _ = tx.send(msg);
        }
    }

    /// The writer opened `path` (tenant's file of `day`) at `len` bytes.
    pub fn open(&self, path: PathBuf, tenant: Tenant, day: Date, len: u64) {
        self.send(Msg::Open {
            path,
            tenant,
            day,
            len,
        });
    }

    /// The writer appended `parts` (whole lines) to `path`.
    pub fn stage(&self, path: PathBuf, parts: Vec<Bytes>) {
        self.send(Msg::Stage { path, parts });
    }

    /// What was staged for `path` is synced: seal it.
    pub fn seal(&self, path: PathBuf) {
        self.send(Msg::Seal { path });
    }

    /// Seals everything queued, syncs the sidecars and stops. Blocking.
    pub fn shutdown(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Open {
    tenant: Tenant,
    day: Date,
    chain: DayChain,
}

struct Worker {
    signer: Signer,
    dir: PathBuf,
    metrics: Arc<Metrics>,
    chains: HashMap<PathBuf, Open>,
}

impl Worker {
    fn run(mut self, rx: Receiver<Msg>) {
        let mut due: Vec<PathBuf> = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(m) => self.handle(m, &mut due),
                Err(RecvTimeoutError::Timeout) => {
                    self.sync_all();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Ok(m) = rx.try_recv() {
                self.handle(m, &mut due);
            }
            for path in due.drain(..) {
                self.seal(&path);
            }
        }
        for path in due.drain(..) {
            self.seal(&path);
        }
        self.sync_all();
        self.chains.clear();
    }

    fn handle(&mut self, msg: Msg, due: &mut Vec<PathBuf>) {
        match msg {
            Msg::Open {
                path,
                tenant,
                day,
                len,
            } => self.open(path, tenant, day, len),
            Msg::Stage { path, parts } => {
                if let Some(o) = self.chains.get_mut(&path) {
                    let slices: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
                    o.chain.stage(&slices);
                }
            }
            Msg::Seal { path } => {
                if !due.contains(&path) {
                    due.push(path);
                }
            }
        }
    }

    fn open(&mut self, path: PathBuf, tenant: Tenant, day: Date, len: u64) {
        // A reopened path (the file was replaced) starts over.
        if let Some(mut old) = self.chains.remove(&path) {
            self.seal_chain(&mut old);
        }
        if self.chains.len() >= MAX_OPEN {
            let oldest = self
                .chains
                .iter()
                .min_by_key(|(_, o)| o.day)
                .map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                self.chains.remove(&p);
            }
        }
        let prev = match self.live_prev(&tenant, day) {
            Some(r) => Ok(r),
            None => {
                let dir = dayfile::tenant_dir(&self.dir, &tenant);
                let archive = dayfile::tenant_dir(&self.signer.archive_dir, &tenant);
                super::previous_root(&dir, Some(&archive), day)
            }
        };
        let opened =
            prev.and_then(|prev| DayChain::open(&path, len, prev, Arc::clone(self.signer.key())));
        match opened {
            Ok((chain, o)) => {
                self.metrics.chain_checkpoint();
                self.metrics.chain_resealed(o.resealed);
                if o.mismatch {
                    self.metrics.chain_error();
                }
                self.chains.insert(path, Open { tenant, day, chain });
            }
            Err(e) => {
                self.metrics.chain_error();
                tracing::error!(path = %path.display(), error = %e, "cannot open the day's chain; its lines stay unsealed until the next start");
            }
        }
    }

    /// The live root of the tenant's newest open day before `day`.
    fn live_prev(&self, tenant: &Tenant, day: Date) -> Option<Hash> {
        self.chains
            .values()
            .filter(|o| o.tenant == *tenant && o.day < day)
            .max_by_key(|o| o.day)
            .map(|o| o.chain.root())
    }

    fn seal(&mut self, path: &PathBuf) {
        let Some(mut o) = self.chains.remove(path) else {
            return;
        };
        self.seal_chain(&mut o);
        self.chains.insert(path.clone(), o);
    }

    fn seal_chain(&self, o: &mut Open) {
        let prev = self.live_prev(&o.tenant, o.day).unwrap_or(o.chain.prev);
        if !o.chain.has_staged() && prev == o.chain.prev {
            return;
        }
        match o.chain.seal(prev) {
            Ok(()) => self.metrics.chain_checkpoint(),
            Err(e) => {
                self.metrics.chain_error();
                tracing::error!(path = %o.chain.path().display(), error = %e, "cannot write a chain checkpoint; the lines stay unsealed until the next start");
            }
        }
    }

    fn sync_all(&mut self) {
        for o in self.chains.values_mut() {
            if let Err(e) = o.chain.sync() {
                self.metrics.chain_error();
                tracing::error!(path = %o.chain.path().display(), error = %e, "chain sidecar sync failed");
            }
        }
    }
}
