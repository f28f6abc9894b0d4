//! `GET /v1/proof?day=D&line=N`: an inclusion proof of line N (1-based) of
//! the tenant's day D in that day's latest checkpoint (`LOGOPS_CHAIN`),
//! checked offline by `logops-verify --proof` with the public key alone.
//! The day may be live or archived by housekeeping.

use std::io::{BufReader, Read};
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::error::ApiError;
use super::read::{begin, json};
use super::stream::Body;
use super::AppState;
use crate::chain::proof::{self, ProofError};
use crate::chain::SIDECAR_SUFFIX;
use crate::dayfile;

/// Handles `GET /v1/proof`.
pub(super) async fn proof(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = begin(req, state, peer_cn)?;
    let day_arg = params
        .get("day")
        .ok_or_else(|| ApiError::BadQuery("day is required (YYYYMMDD or YYYY-MM-DD)".into()))?;
    let day = dayfile::parse_stem(&day_arg.replace('-', "")).ok_or_else(|| {
        ApiError::BadQuery(format!("day {day_arg:?} is not YYYYMMDD or YYYY-MM-DD"))
    })?;
    let line: u64 = params
        .get("line")
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| ApiError::BadQuery("line is required: a line number from 1".into()))?;
    let (sink, archive) = state.store.dirs();
    let live = dayfile::path(sink, &tenant, day);
    let zip = dayfile::tenant_dir(archive, &tenant).join(format!("{}.zip", dayfile::stem(day)));
    let committed = state.store.marks().and_then(|m| m.committed(&live));
    let stem = dayfile::stem(day);
    let built = tokio::task::spawn_blocking(move || -> Result<proof::Proof, ApiError> {
        let side_path = crate::chain::sidecar_path(&live);
        // The sidecar first: every line it seals is in the file by then.
        match std::fs::read(&side_path) {
            Ok(side) => {
                let file = std::fs::File::open(&live).map_err(|e| not_found(&stem, &e))?;
                let limit = committed.unwrap_or(u64::MAX);
                let mut r = BufReader::with_capacity(1 << 20, file.take(limit));
                proof::build(&stem, &mut r, &side, line).map_err(proof_error)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && zip.exists() => {
                let entry = dayfile::file_name(day);
                let side =
                    crate::housekeeping::read_entry(&zip, &format!("{entry}{SIDECAR_SUFFIX}"))
                        .map_err(|_| {
                            ApiError::NotFound(format!(
                                "day {stem} has no chain (LOGOPS_CHAIN was off)"
                            ))
                        })?;
                let data = crate::housekeeping::read_entry(&zip, &entry)
                    .map_err(|e| ApiError::ReadFailed(e.to_string()))?;
                proof::build(&stem, &mut data.as_slice(), &side, line).map_err(proof_error)
            }
            Err(e) => Err(not_found(&stem, &e)),
        }
    })
    .await
    .map_err(|e| ApiError::ReadFailed(format!("proof task failed: {e}")))??;
    let body = serde_json::to_value(&built).map_err(|e| ApiError::ReadFailed(e.to_string()))?;
    Ok(json(StatusCode::OK, &body))
}

fn not_found(stem: &str, e: &std::io::Error) -> ApiError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ApiError::NotFound(format!("no chained day file for {stem}"))
    } else {
        ApiError::ReadFailed(format!("cannot read day {stem}: {e}"))
    }
}

fn proof_error(e: ProofError) -> ApiError {
    match e {
        ProofError::NotSealed { .. } | ProofError::NoCheckpoint => {
            ApiError::NotFound(e.to_string())
        }
        ProofError::Mismatch | ProofError::NotText | ProofError::Unreadable(_) => {
            ApiError::ReadFailed(e.to_string())
        }
    }
}
