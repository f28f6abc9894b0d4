//! [`SourceStats`]: what one batch did per (emitter, scenario_id), the numbers
//! the response, the metrics and the status page report.

use super::Level;

/// Counts for one (emitter, scenario_id) pair within a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Effective emitter of the records.
    pub emitter: String,
    /// Effective scenario id of the records.
    pub scenario_id: String,
    /// Records.
    pub accepted: u64,
    /// Records without a timestamp.
    pub missing_ts: u64,
    /// Records without a level.
    pub missing_level: u64,
    /// Records with an unparseable timestamp.
    pub invalid_ts: u64,
    /// Records per [`Level::index`].
    pub levels: [u64; 4],
}

impl SourceStats {
    /// Empty counts for that source.
    pub fn new(emitter: &str, scenario_id: &str) -> Self {
        SourceStats {
            emitter: emitter.into(),
            scenario_id: scenario_id.into(),
            ..Default::default()
        }
    }

    /// Counts one record.
    pub fn count(&mut self, level: Level, missing_ts: bool, invalid_ts: bool, missing_level: bool) {
        self.accepted += 1;
        self.missing_ts += u64::from(missing_ts);
        self.invalid_ts += u64::from(invalid_ts);
        self.missing_level += u64::from(missing_level);
        self.levels[level.index()] += 1;
    }
}
