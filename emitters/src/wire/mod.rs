//! `emit_syslog --transport tcp|udp`: raw syslog to a socket, the way
//! rsyslog, `logger` and network devices send it (SPEC §11 item 5), for the
//! gateway's `LOGOPS_SYSLOG_TCP` / `LOGOPS_SYSLOG_UDP` listeners.
//!
//! `--url tcp://host:port` or `udp://host:port` names the receiver (the
//! scheme must match `--transport`). TCP frames each message with RFC 6587
//! octet counting (`--framing octet`, the default: `LEN SP MSG`) or a
//! trailing newline (`--framing lf`); UDP sends one message per datagram.
//! The messages are the generator's lines, so `--seed`, `--format`,
//! `--partial-ratio`, `--report` and `--dry-run` (which prints the bytes as
//! they would go on the wire) work as over HTTP.
//!
//! The HTTP-only flags: `--ca` and `--scenario-id` are refused; credentials
//! (`--api-key`, `--secret`, `--auth` and their environment keys) and
//! `--max-retries` are ignored, since a syslog socket has no headers, no
//! authentication and no answers. `--timeout` bounds each connect and write.
//!
//! # Layout
//! - `frame`: messages, framing, chunks and the flood ring.
//! - `link`: a TCP connection or UDP socket and its counters.
//! - `modes`: single, paced and flood over links; the summary line.

mod frame;
mod link;
mod modes;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use crate::cli::{CommonArgs, Mode, Plan};
use crate::gen::{GenConfig, Generator};
use crate::run::{fail, main_with, runtime, Limits};

pub use self::frame::Framing;
use self::frame::{Chunk, Wire};
use self::link::Link;
use self::modes::{Dest, Stop};

/// How `emit_syslog` sends (`--transport`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// `POST` text/plain bodies to the gateway's HTTP ingest URL.
    #[default]
    Http,
    /// Raw syslog over TCP (`--url tcp://host:port`).
    Tcp,
    /// Raw syslog over UDP, one message per datagram (`--url udp://host:port`).
    Udp,
}

/// `emit_syslog`'s transport flags.
#[derive(Debug, Clone, Args)]
pub struct WireArgs {
    /// http (POST to --url), or raw syslog over tcp or udp: then --url is
    /// tcp://HOST:PORT or udp://HOST:PORT. Syslog has no acknowledgement: the
    /// receiver's count is the truth.
    #[arg(long, value_enum, default_value_t = Transport::Http, value_name = "T")]
    pub transport: Transport,

    /// TCP framing: `octet` (RFC 6587 octet counting, `LEN SP MSG`) or `lf`
    /// (each message followed by a newline) [default: octet].
    #[arg(long, value_enum, value_name = "F")]
    pub framing: Option<Framing>,
}

/// `emit_syslog`'s whole program: HTTP through [`main_with`], or raw syslog
/// over TCP/UDP (see the module documentation of `wire`).
pub fn syslog_main<G, F>(name: &str, args: &CommonArgs, wire: &WireArgs, make: F) -> ExitCode
where
    G: Generator + 'static,
    F: FnOnce(&GenConfig) -> G,
{
    if wire.transport == Transport::Http {
        if wire.framing.is_some() {
            return fail("--framing applies to --transport tcp only");
        }
        for scheme in ["tcp", "udp"] {
            if has_scheme(&args.url, scheme) {
                return fail(&format!(
                    "--url {} is a raw syslog address: add --transport {scheme}",
                    args.url
                ));
            }
        }
        return main_with(name, args, make);
    }
    if args.protocol != crate::protocol::Protocol::Native {
        return fail("--protocol applies to --transport http only");
    }
    let (plan, wire, host_port) = match check(args, wire) {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let mut gen = make(&plan.gen);
    if args.dry_run {
        return dry_run(args, &plan, wire, &mut gen);
    }
    let rt = match runtime(args.threads) {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let emitter = args.emitter.as_deref().unwrap_or(name);
    rt.block_on(async {
        let addr = match resolve(&host_port, wire).await {
            Ok(a) => a,
            Err(e) => return fail(&format!("cannot resolve {}: {e}", args.url)),
        };
        let dest = Dest {
            wire,
            addr,
            url: args.url.clone(),
            timeout: args.timeout,
        };
        run(emitter, args, &plan, &dest, &mut gen).await
    })
}

/// Validates the flags of a raw run: the plan, the wire and `host:port`
/// (empty for `--dry-run`).
fn check(args: &CommonArgs, w: &WireArgs) -> Result<(Plan, Wire, String), String> {
    let plan = args.plan().map_err(|e| e.to_string())?;
    let (scheme, wire) = match w.transport {
        Transport::Tcp => ("tcp", Wire::Tcp(w.framing.unwrap_or_default())),
        _ => {
            if w.framing.is_some() {
                return Err("--framing applies to --transport tcp only (UDP sends one message per datagram)".into());
            }
            ("udp", Wire::Udp)
        }
    };
    if args.ca.is_some() {
        return Err(format!(
            "--ca is for https://; --transport {scheme} sends plain syslog"
        ));
    }
    if args.scenario_id.is_some() {
        return Err(format!(
            "--scenario-id is an HTTP header; --transport {scheme} has no headers"
        ));
    }
    if args.eps.is_some() && args.concurrency.is_some() {
        return Err(format!("--transport {scheme}: paced mode (--eps) sends over one connection; drop --concurrency"));
    }
    // A dry run sends nothing, so it needs no receiver address.
    let host_port = if args.dry_run {
        String::new()
    } else {
        host_port(&args.url, scheme)?
    };
    Ok((plan, wire, host_port))
}

fn has_scheme(url: &str, scheme: &str) -> bool {
    url.len() > scheme.len() + 3
        && url[..scheme.len()].eq_ignore_ascii_case(scheme)
        && url[scheme.len()..].starts_with("://")
}

/// `host:port` of a `tcp://host:port` (or `udp://`) URL, checked.
fn host_port(url: &str, scheme: &str) -> Result<String, String> {
    let bad = |why: &str| format!("invalid --url {url:?}: {why}, e.g. {scheme}://127.0.0.1:5514");
    let Some(rest) = url
        .get(scheme.len() + 3..)
        .filter(|_| has_scheme(url, scheme))
    else {
        return Err(bad(&format!(
            "--transport {scheme} needs {scheme}://HOST:PORT"
        )));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(bad("no path, query or user part is allowed"));
    }
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(bad("the port is missing"));
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || (host.contains(':') && !rest.starts_with('[')) {
        return Err(bad("expected HOST:PORT (IPv6 in brackets)"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(rest.to_string()),
        _ => Err(bad("the port must be 1-65535")),
    }
}

/// The receiver's address: the first the name resolves to (for UDP, the first
/// IPv4 one if any, as there is no connect to try the others with).
async fn resolve(host_port: &str, wire: Wire) -> std::io::Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(host_port).await?.collect();
    let pick = match wire {
        Wire::Udp => addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()),
        Wire::Tcp(_) => addrs.first(),
    };
    pick.copied()
        .ok_or_else(|| std::io::Error::other("no address"))
}

fn dry_run(args: &CommonArgs, plan: &Plan, wire: Wire, gen: &mut dyn Generator) -> ExitCode {
    let Mode::Single { count } = plan.mode else {
        return fail("--dry-run only applies to single-batch mode");
    };
    let batch = gen.batch(count);
    let mut out = std::io::stdout().lock();
    let bytes = Chunk::new(&batch.body, wire).dry_run();
    if out.write_all(&bytes).and_then(|()| out.flush()).is_err() {
        return ExitCode::from(1);
    }
    if args.report {
        eprintln!("report: {}", batch.expect.to_json());
    }
    ExitCode::SUCCESS
}

async fn run(
    emitter: &str,
    args: &CommonArgs,
    plan: &Plan,
    dest: &Dest,
    gen: &mut dyn Generator,
) -> ExitCode {
    let (mode_name, links) = match plan.mode {
        Mode::Single { count } => {
            let batch = gen.batch(count);
            return match modes::single(dest, &Chunk::new(&batch.body, dest.wire)).await {
                Ok(c) => {
                    println!("sent: {}", c.sent);
                    println!("bytes: {}", c.bytes);
                    println!(
                        "ack: none (syslog has no acknowledgement; count what the receiver stored)"
                    );
                    if args.report {
                        eprintln!("report: {}", batch.expect.to_json());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            };
        }
        Mode::Paced { .. } => ("paced", 1),
        Mode::Flood { concurrency, .. } => ("flood", concurrency),
    };
    let limits = Limits::of(&plan.mode);
    let mut opened = Vec::with_capacity(links);
    for _ in 0..links {
        match Link::open(dest.wire, dest.addr, dest.timeout).await {
            Ok(l) => opened.push(l),
            Err(e) => return fail(&modes::unreachable_msg(dest, &e)),
        }
    }
    let stop = Arc::new(Stop::default());
    let ctrl_c = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.set();
            }
        })
    };
    let (counters, elapsed) = match plan.mode {
        Mode::Paced {
            eps, batch, jitter, ..
        } => {
            let pace = crate::run::Rate {
                eps,
                batch,
                jitter,
                seed: plan.gen.seed,
            };
            let link = opened.pop().expect("one link opened");
            modes::paced(link, dest.wire, gen, &pace, limits, &stop).await
        }
        Mode::Flood { batch, .. } => {
            modes::flood(opened, dest.wire, gen, batch, limits, stop.clone()).await
        }
        Mode::Single { .. } => unreachable!("handled above"),
    };
    ctrl_c.abort();
    let line = modes::summary(
        emitter,
        mode_name,
        dest.wire,
        plan.gen.seed,
        &counters,
        elapsed,
    );
    println!("{line}");
    if counters.failed > 0 || counters.sent == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            host_port("tcp://127.0.0.1:5514", "tcp").unwrap(),
            "127.0.0.1:5514"
        );
        assert_eq!(
            host_port("UDP://localhost:514/", "udp").unwrap(),
            "localhost:514"
        );
        assert_eq!(host_port("tcp://[::1]:5514", "tcp").unwrap(), "[::1]:5514");
        for bad in [
            "http://127.0.0.1:8080/v1/logs",
            "tcp://127.0.0.1",
            "tcp://:5514",
            "tcp://h:0",
            "tcp://h:5514/x",
            "tcp://::1:5514",
        ] {
            assert!(host_port(bad, "tcp").is_err(), "{bad}");
        }
        assert!(host_port("udp://h:1", "tcp")
            .unwrap_err()
            .contains("tcp://HOST:PORT"));
    }
}
