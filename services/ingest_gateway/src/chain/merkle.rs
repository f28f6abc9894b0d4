//! The RFC 6962 Merkle tree (§2.1; the same as RFC 9162 §2.1) over a day
//! file's lines: leaf = SHA-256(0x00 ‖ line), node = SHA-256(0x01 ‖ left ‖
//! right), the empty tree hashes to SHA-256 of nothing.
//!
//! The writer keeps only a [`Frontier`] (the compact range: one root per
//! perfect subtree, ≤ 64 hashes), so appending a line and taking the root
//! cost O(log n). Proofs are built by one streaming pass over the lines
//! ([`proof_ranges`] names the subtrees whose roots make the proof) and
//! checked with [`verify_inclusion`].

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The leaf hash of one stored line (without its `\n`).
pub fn leaf_hash(line: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(line);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A tree being appended to, kept as the roots of its perfect subtrees
/// (largest, leftmost first): the binary digits of its size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect subtrees' roots, largest first (to save and resume).
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// A frontier from a saved size and nodes (`None` if they do not fit).
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Frontier> {
        (nodes.len() == size.count_ones() as usize).then_some(Frontier { size, nodes })
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            if let Some(left) = self.nodes.pop() {
                h = node_hash(&left, &h);
            }
            s >>= 1;
        }
        self.nodes.push(h);
        self.size += 1;
    }

    /// Appends the leaf of `line`.
    pub fn push_line(&mut self, line: &[u8]) {
        self.push(leaf_hash(line));
    }

    /// The tree hash of the leaves so far (RFC 6962's MTH).
    pub fn root(&self) -> Hash {
        match self.nodes.split_last() {
            None => EMPTY_ROOT,
            Some((last, rest)) => rest.iter().rev().fold(*last, |acc, n| node_hash(n, &acc)),
        }
    }
}

/// The largest power of two below `n` (`n` ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges `[lo, hi)` whose tree hashes, in this order, are the
/// inclusion proof of leaf `index` in a tree of `size` leaves (RFC 9162
/// §2.1.3.1, bottom-up). They are disjoint and none holds `index`.
pub fn proof_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0, size);
    // Top-down, then reversed: the proof starts next to the leaf.
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    out
}

/// The inclusion proof of leaf `index` among `leaves` (all in memory; for
/// tests and small trees; the gateway streams with [`proof_ranges`]).
pub fn inclusion_proof(index: u64, leaves: &[Hash]) -> Vec<Hash> {
    proof_ranges(index, leaves.len() as u64)
        .into_iter()
        .map(|(lo, hi)| {
            let mut f = Frontier::default();
            leaves[lo as usize..hi as usize]
                .iter()
                .for_each(|l| f.push(*l));
            f.root()
        })
        .collect()
}

/// Does `proof` show `leaf` at `index` in the tree of `size` leaves with
/// hash `root`? (RFC 9162 §2.1.3.2.)
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn h(s: &str) -> Hash {
        unhex(s).try_into().unwrap()
    }

    /// The leaves and tree heads published with Certificate Transparency's
    /// reference implementation (RFC 6962 test data).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn leaves() -> Vec<Hash> {
        LEAVES.iter().map(|l| leaf_hash(&unhex(l))).collect()
    }

    #[test]
    fn tree_heads_match_the_reference_for_every_size() {
        assert_eq!(Frontier::default().root(), h(ROOTS[0]));
        let mut f = Frontier::default();
        for (n, leaf) in LEAVES.iter().enumerate() {
            f.push_line(&unhex(leaf));
            assert_eq!(f.root(), h(ROOTS[n + 1]), "size {}", n + 1);
            assert_eq!(f.size(), n as u64 + 1);
        }
    }

    #[test]
    fn a_saved_frontier_resumes() {
        let mut f = Frontier::default();
        (0u8..11).for_each(|i| f.push_line(&[i]));
        let mut g = Frontier::from_parts(f.size(), f.nodes().to_vec()).unwrap();
        f.push_line(b"x");
        g.push_line(b"x");
        assert_eq!(f, g);
        assert!(Frontier::from_parts(3, vec![EMPTY_ROOT]).is_none());
    }

    #[test]
    fn inclusion_proofs_match_the_reference() {
        // (0-based leaf, tree size, audit path) from the same test data.
        let cases: [(u64, usize, &[&str]); 3] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
        ];
        let leaves = leaves();
        for (index, size, want) in cases {
            let proof = inclusion_proof(index, &leaves[..size]);
            let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
            assert_eq!(proof, want, "leaf {index} of {size}");
            let root = h(ROOTS[size]);
            assert!(verify_inclusion(
                index,
                size as u64,
                &leaves[index as usize],
                &proof,
                &root
            ));
        }
    }

    #[test]
    fn every_proof_of_every_size_verifies_and_nothing_else_does() {
        let leaves: Vec<Hash> = (0u32..37).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for size in 1..=leaves.len() {
            let mut f = Frontier::default();
            leaves[..size].iter().for_each(|l| f.push(*l));
            let root = f.root();
            for i in 0..size {
                let proof = inclusion_proof(i as u64, &leaves[..size]);
                let (i64_, s64) = (i as u64, size as u64);
                assert!(verify_inclusion(i64_, s64, &leaves[i], &proof, &root));
                // A wrong leaf, index or root fails.
                assert!(!verify_inclusion(
                    i64_,
                    s64,
                    &leaf_hash(b"x"),
                    &proof,
                    &root
                ));
                if size > 1 {
                    let other = (i + 1) % size;
                    assert!(!verify_inclusion(
                        other as u64,
                        s64,
                        &leaves[i],
                        &proof,
                        &root
                    ));
                }
                // (A tree size of the same shape passes with the same root:
                // the signed checkpoint binds the size to its root.)
                assert!(!verify_inclusion(
                    i64_,
                    s64,
                    &leaves[i],
                    &proof,
                    &EMPTY_ROOT
                ));
            }
        }
    }
}
