//! # LogOps operator tools
//!
//! The logic behind the operator CLIs (SPEC §3–§4); each `src/bin/*.rs` is a
//! thin `clap` main over it. Housekeeping itself lives in the gateway crate
//! ([`logops_gateway::housekeeping`]) so the CLI and the gateway's background
//! task run the same code; encryption is the gateway's [`logops_gateway::pii::Crypt`].
//!
//! # Layout
//! - [`env`]: environment over `.env`, read as the gateway reads it.
//! - [`housekeep`]: the `housekeeping` CLI: settings resolution and output.
//! - [`decrypt`]: the `logops-decrypt` CLI: token fields decrypted back into
//!   their fields, or rotated to the first key.
//! - [`query`]: the `logops-query` CLI: queries and tails over the sink
//!   directory (the gateway's read engine) or a gateway's read API.
//!
//! `logops-keygen` needs nothing beyond [`logops_gateway::pii::Crypt::generate_key`].

pub mod decrypt;
pub mod env;
pub mod housekeep;
pub mod query;
pub mod verify;

/// Process exit codes shared by the tools.
pub mod exit {
    /// Everything succeeded.
    pub const OK: u8 = 0;
    /// At least one action, token or input failed (the rest was done).
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration: nothing was done.
    pub const USAGE: u8 = 2;
}

/// Whether `err` or one of its causes is a broken pipe (output piped into
/// `head`, say), which the tools treat as a normal end.
pub fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}
