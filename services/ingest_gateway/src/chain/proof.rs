//! Inclusion proofs: that line N of a day file is in the tree its latest
//! checkpoint signed. Built in one pass over the file's first `size` lines
//! (memory O(log n): one running subtree per proof step), checked by
//! [`Proof::check`] with the public key alone.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::merkle::{self, Frontier, Hash};

/// `GET /v1/proof`'s answer (and `logops-verify --proof`'s input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The day, `YYYYMMDD`.
    pub day: String,
    /// The line, 1-based.
    pub line: u64,
    /// The stored line (without `\n`).
    pub text: String,
    /// The checkpoint it is proven against, as stored in the sidecar.
    pub checkpoint: String,
    /// The audit path, base64 hashes, leaf side first.
    pub proof: Vec<String>,
}

/// Why no proof can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The line is past what the latest checkpoint covers (or 0).
    #[error("line {line} is not sealed (the latest checkpoint covers {sealed} lines)")]
    NotSealed {
        /// Asked for.
        line: u64,
        /// Covered.
        sealed: u64,
    },
    /// The day has no valid checkpoint.
    #[error("the day has no checkpoint")]
    NoCheckpoint,
    /// The file does not hold what the checkpoint sealed.
    #[error("the day file does not match its checkpoint")]
    Mismatch,
    /// Not valid UTF-8 (stored lines always are).
    #[error("the line is not UTF-8")]
    NotText,
    /// The day file cannot be read.
    #[error("cannot read the day file: {0}")]
    Unreadable(String),
}

/// Builds the proof of `line` (1-based) from the day file (read once, a
/// line at a time) and its sidecar's text.
///
/// # Errors
/// See [`ProofError`].
pub fn build(
    day: &str,
    file: &mut dyn std::io::BufRead,
    sidecar: &[u8],
    line: u64,
) -> Result<Proof, ProofError> {
    let (cp_line, cp) = sidecar
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| Some((l, Checkpoint::parse(l, None).ok()?)))
        .filter(|(_, c)| c.deleted.is_none())
        .max_by_key(|(_, c)| c.size)
        .ok_or(ProofError::NoCheckpoint)?;
    if line == 0 || line > cp.size {
        return Err(ProofError::NotSealed {
            line,
            sealed: cp.size,
        });
    }
    let index = line - 1;
    let ranges = merkle::proof_ranges(index, cp.size);
    // Ranges in file order, each with its slot in the proof.
    let mut order: Vec<(usize, (u64, u64))> = ranges.iter().copied().enumerate().collect();
    order.sort_by_key(|(_, r)| r.0);
    let mut hashes: Vec<Hash> = vec![[0u8; 32]; ranges.len()];
    let mut whole = Frontier::default();
    let mut text: Option<Vec<u8>> = None;
    let mut cur = 0usize;
    let mut sub = Frontier::default();
    let mut offset = 0usize;
    let mut buf = Vec::new();
    for n in 0..cp.size {
        buf.clear();
        let got = file
            .read_until(b'\n', &mut buf)
            .map_err(|e| ProofError::Unreadable(e.to_string()))?;
        if got == 0 || buf.last() != Some(&b'\n') {
            return Err(ProofError::Mismatch);
        }
        offset += got;
        let l = &buf[..got - 1];
        let leaf = merkle::leaf_hash(l);
        whole.push(leaf);
        if n == index {
            text = Some(l.to_vec());
            continue;
        }
        let (slot, (_, hi)) = order[cur];
        sub.push(leaf);
        if n + 1 == hi {
            hashes[slot] = sub.root();
            sub = Frontier::default();
            cur += 1;
        }
    }
    if whole.root() != cp.root || offset as u64 != cp.bytes {
        return Err(ProofError::Mismatch);
    }
    let text =
        String::from_utf8(text.ok_or(ProofError::Mismatch)?).map_err(|_| ProofError::NotText)?;
    Ok(Proof {
        day: day.to_string(),
        line,
        text,
        checkpoint: String::from_utf8_lossy(cp_line).into_owned(),
        proof: hashes.iter().map(|h| B64.encode(h)).collect(),
    })
}

impl Proof {
    /// Checks the checkpoint's signature with `key` and the line's path to
    /// its root.
    ///
    /// # Errors
    /// What does not hold, in words.
    pub fn check(&self, key: &VerifyingKey) -> Result<(), String> {
        let cp = Checkpoint::parse(self.checkpoint.as_bytes(), Some(key))
            .map_err(|e| format!("checkpoint: {e}"))?;
        let path: Vec<Hash> = self
            .proof
            .iter()
            .map(|s| {
                B64.decode(s)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| "proof holds a value that is not a base64 SHA-256".to_string())
            })
            .collect::<Result<_, _>>()?;
        let leaf = merkle::leaf_hash(self.text.as_bytes());
        if self.line == 0
            || !merkle::verify_inclusion(self.line - 1, cp.size, &leaf, &path, &cp.root)
        {
            return Err(format!(
                "line {} of {} is not in the tree the checkpoint signed (size {})",
                self.line, self.day, cp.size
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn every_line_proves_and_a_changed_line_does_not() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        for n in [1usize, 2, 3, 7, 8, 13] {
            let file: String = (0..n)
                .map(|i| format!("{{\"msg\":\"line {i}\"}}\n"))
                .collect();
            let mut tree = Frontier::default();
            file.lines().for_each(|l| tree.push_line(l.as_bytes()));
            let cp = Checkpoint {
                size: n as u64,
                bytes: file.len() as u64,
                root: tree.root(),
                prev: super::super::GENESIS,
                at: "2026-12-01T00:00:00Z".into(),
                deleted: None,
            };
            let sidecar = cp.to_line(&key);
            for line in 1..=n as u64 {
                let p = build("20261201", &mut file.as_bytes(), sidecar.as_bytes(), line).unwrap();
                p.check(&key.verifying_key()).unwrap();
                let mut wrong = p.clone();
                wrong.text.push('x');
                assert!(wrong.check(&key.verifying_key()).is_err());
                let mut moved = p.clone();
                moved.line = line % n as u64 + 1;
                if n > 1 {
                    assert!(moved.check(&key.verifying_key()).is_err());
                }
            }
            assert!(build(
                "20261201",
                &mut file.as_bytes(),
                sidecar.as_bytes(),
                n as u64 + 1
            )
            .is_err());
        }
    }
}
