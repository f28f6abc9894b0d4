//! UTC calendar helpers for the tests: today's sink file name, the current year
//! (syslog timestamps carry none) and receive-time strings to compare against.
//!
//! Written against `SystemTime` directly so the tests need no date crate; the
//! conversion is the classic days-from-civil algorithm (H. Hinnant).

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC calendar time split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// Proleptic Gregorian year.
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// 0–59.
    pub second: u32,
    /// 0–999.
    pub millis: u32,
}

impl UtcTime {
    /// Converts a `SystemTime` (at or after the Unix epoch).
    pub fn from_system(t: SystemTime) -> UtcTime {
        let d = t.duration_since(UNIX_EPOCH).expect("clock before 1970");
        let secs = d.as_secs() as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            millis: d.subsec_millis(),
        }
    }

    /// The current UTC time.
    pub fn now() -> UtcTime {
        Self::from_system(SystemTime::now())
    }

    /// `YYYYMMDD`, the sink file stem for this day.
    pub fn yyyymmdd(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`: the gateway's receive-time format. Strings of
    /// this exact shape sort lexicographically in time order.
    pub fn rfc3339_millis(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

/// Days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// True for a string shaped exactly like `2026-11-22T10:00:00.123Z`.
pub fn is_rfc3339_millis_z(s: &str) -> bool {
    let b = s.as_bytes();
    let digit_at = |i: &[usize]| i.iter().all(|&i| b[i].is_ascii_digit());
    b.len() == 24
        && digit_at(&[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22])
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn converts_known_instants() {
        let t = UtcTime::from_system(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
        assert_eq!(t.rfc3339_millis(), "2023-11-14T22:13:20.123Z");
        assert_eq!(t.yyyymmdd(), "20231114");
        let leap = UtcTime::from_system(UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(leap.rfc3339_millis(), "2000-02-29T00:00:00.000Z");
        assert!(is_rfc3339_millis_z(&leap.rfc3339_millis()));
        assert!(!is_rfc3339_millis_z("2000-02-29T00:00:00Z"));
    }
}
