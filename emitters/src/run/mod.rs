//! Running an emitter: build the runtime and the client once, then send one
//! batch, a paced stream or a flood, and report.
//!
//! Exit codes: 0 success; 1 single batch answered non-2xx, or a paced/flood run
//! where requests failed or nothing was accepted; 2 bad flags (credentials and
//! `--ca` included), gateway unreachable or TLS handshake refused (one
//! `error: ...` line on stderr).

mod flood;
mod paced;
mod progress;
mod retry;
mod schedule;

pub(crate) use schedule::{Rate, Schedule};

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{CommonArgs, Mode, Plan};
use crate::client::{Sender, Target};
use crate::gen::{GenConfig, Generator};
use crate::protocol::Reencode;
use crate::stats::Stats;

use self::progress::Live;

/// When a paced or flood run stops (whichever comes first).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Run time.
    pub(crate) duration: Option<Duration>,
    /// Total records.
    pub(crate) records: Option<u64>,
}

impl Limits {
    /// When `mode` stops (nothing for a single batch, which stops by itself).
    pub(crate) fn of(mode: &Mode) -> Limits {
        match *mode {
            Mode::Single { .. } => Limits {
                duration: None,
                records: None,
            },
            Mode::Paced {
                duration, limit, ..
            }
            | Mode::Flood {
                duration, limit, ..
            } => Limits {
                duration,
                records: limit,
            },
        }
    }
}

/// The whole program behind each emitter binary: validates `args`, builds the
/// generator with `make` and runs the chosen mode. `name` is the default
/// `X-Emitter`.
pub fn main_with<G, F>(name: &str, args: &CommonArgs, make: F) -> ExitCode
where
    G: Generator + 'static,
    F: FnOnce(&GenConfig) -> G,
{
    let plan = match args.plan() {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    let mut gen = match Reencode::new(make(&plan.gen), args.protocol) {
        Ok(g) => g,
        Err(e) => return fail(&e),
    };
    if args.dry_run {
        let Mode::Single { count } = plan.mode else {
            return fail("--dry-run only applies to single-batch mode");
        };
        let batch = gen.batch(count);
        let mut out = std::io::stdout().lock();
        if out
            .write_all(&batch.body)
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::from(1);
        }
        if args.report {
            eprintln!("report: {}", batch.expect.to_json());
        }
        return ExitCode::SUCCESS;
    }
    let emitter = args.emitter.as_deref().unwrap_or(name);
    let target = match build_target(args, gen.content_type(), emitter) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let runtime = match runtime(args.threads) {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(run(emitter, args, &plan, target, &mut gen))
}

/// The validated URL, headers, credentials and TLS settings.
fn build_target(
    args: &CommonArgs,
    content_type: &'static str,
    emitter: &str,
) -> Result<Target, String> {
    let creds = args.credentials().map_err(|e| e.to_string())?;
    Target::new(
        &args.url,
        content_type,
        emitter,
        args.scenario_id.as_deref(),
    )
    .map_err(|e| e.to_string())?
    .with_protocol(args.protocol)
    .map_err(|e| e.to_string())?
    .with_auth(&creds)
    .map_err(|e| e.to_string())?
    .with_ca(args.ca.as_deref())
    .map_err(|e| e.to_string())
}

/// The async runtime of `--threads`: single-threaded for 1.
pub(crate) fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

/// Prints `error: <msg>` on stderr; exit code 2.
pub(crate) fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

async fn run(
    emitter: &str,
    args: &CommonArgs,
    plan: &Plan,
    target: Target,
    gen: &mut dyn Generator,
) -> ExitCode {
    let (mode_name, pool) = match plan.mode {
        Mode::Single { count } => return single(args, target, gen, count).await,
        Mode::Paced { in_flight, .. } => ("paced", in_flight),
        Mode::Flood { concurrency, .. } => ("flood", concurrency),
    };
    let limits = Limits::of(&plan.mode);
    let sender = Sender::new(target, pool, args.timeout);
    if let Err(e) = sender.preflight().await {
        return fail(&e.to_string());
    }
    let live = Arc::new(Live::default());
    let printer = progress::spawn(live.clone(), args.quiet);
    let ctrl_c = {
        let live = live.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                live.stop.store(true, Relaxed);
            }
        })
    };
    let (stats, elapsed) = match plan.mode {
        Mode::Paced {
            eps,
            batch,
            in_flight,
            jitter,
            ..
        } => {
            let pace = paced::Pace {
                rate: Rate {
                    eps,
                    batch,
                    jitter,
                    seed: plan.gen.seed,
                },
                in_flight,
                max_retries: args.max_retries,
            };
            paced::run(sender, gen, &pace, limits, live.clone()).await
        }
        Mode::Flood {
            concurrency, batch, ..
        } => {
            let retries = args.max_retries;
            flood::run(
                sender,
                gen,
                concurrency,
                batch,
                limits,
                retries,
                live.clone(),
            )
            .await
        }
        Mode::Single { .. } => unreachable!("handled above"),
    };
    live.stop.store(true, Relaxed);
    ctrl_c.abort();
    if let Some(p) = printer {
        let _ = p.await;
    }
    println!(
        "{}",
        stats.summary(emitter, mode_name, plan.gen.seed, elapsed)
    );
    run_exit(&stats)
}

/// 0 when something was accepted and no request failed, else 1.
fn run_exit(stats: &Stats) -> ExitCode {
    if stats.failed > 0 || (stats.sent > 0 && stats.accepted == 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

async fn single(
    args: &CommonArgs,
    target: Target,
    gen: &mut dyn Generator,
    count: usize,
) -> ExitCode {
    let batch = gen.batch(count);
    let sender = Sender::new(target, 1, args.timeout);
    let payload = sender.prepare(batch.body.clone());
    let policy = retry::Policy {
        max_retries: args.max_retries,
        deadline: None,
    };
    let note = |_: &crate::client::Reply, wait: Duration, n: u32| {
        if !args.quiet {
            eprintln!(
                "note: 429 rate limited; retry {n} of {} in {} s",
                args.max_retries,
                wait.as_secs()
            );
        }
    };
    match retry::send(&sender, &payload, policy, None, note)
        .await
        .result
    {
        Ok(reply) => {
            println!("status: {}", reply.status);
            let protocol = sender.target().protocol();
            let accepted = protocol.accepted(reply.status, &reply.body, batch.expect.records);
            if protocol != crate::protocol::Protocol::Native {
                println!("accepted: {accepted} of {}", batch.expect.records);
            }
            println!("body: {}", String::from_utf8_lossy(&reply.body).trim_end());
            if args.report {
                eprintln!("report: {}", batch.expect.to_json());
            }
            if (200..300).contains(&reply.status) && accepted == batch.expect.records {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}
