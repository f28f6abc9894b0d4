//! Placeholder replaced by the stage benchmarks (issue 6).
fn main() {}
