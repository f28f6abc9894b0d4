//! Timestamp spellings the gateway accepts (SPEC §2.2), so generated traffic
//! exercises every parser branch: RFC 3339 with `Z`, `±HH:MM`, `±HHMM` or no
//! zone, `T` or space, 0/3/6 fractional digits, epoch numbers in four units,
//! and the syslog `Mmm dd HH:MM:SS` form.

use time::{OffsetDateTime, UtcOffset};

use super::Source;

/// How the zone of an RFC 3339-style timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `Z`.
    Z,
    /// `+HH:MM` with that offset in minutes.
    Colon(i32),
    /// `+HHMM` with that offset in minutes.
    Compact(i32),
    /// No zone at all (the gateway reads it as UTC, so it is written in UTC).
    Naive,
}

/// Epoch units for numeric timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Epoch {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Offsets (minutes) seen in real fleets, including half-hour zones.
const OFFSETS: [i32; 8] = [60, 120, -300, -420, 330, 540, -210, 0];

fn datetime(us: i64, offset_min: i32) -> OffsetDateTime {
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let off = UtcOffset::from_whole_seconds(offset_min * 60).unwrap_or(UtcOffset::UTC);
    utc.to_offset(off)
}

/// RFC 3339 / ISO 8601: `sep` between date and time (`'T'` or `' '`),
/// `digits` fractional digits (0, 3 or 6), and the given zone form.
pub(crate) fn iso(us: i64, sep: char, digits: u8, zone: Zone) -> String {
    let offset = match zone {
        Zone::Colon(m) | Zone::Compact(m) => m,
        Zone::Z | Zone::Naive => 0,
    };
    let dt = datetime(us, offset);
    let mut s = format!(
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    match digits {
        0 => {}
        3 => s.push_str(&format!(".{:03}", dt.millisecond())),
        _ => s.push_str(&format!(".{:06}", dt.microsecond())),
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 60, offset.abs() % 60);
    match zone {
        Zone::Z => s.push('Z'),
        Zone::Colon(_) => s.push_str(&format!("{sign}{h:02}:{m:02}")),
        Zone::Compact(_) => s.push_str(&format!("{sign}{h:02}{m:02}")),
        Zone::Naive => {}
    }
    s
}

/// RFC 3164 timestamp `Mmm dd HH:MM:SS`, day padded with a space as the RFC says.
pub(crate) fn syslog3164(us: i64) -> String {
    let dt = datetime(us, 0);
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[usize::from(u8::from(dt.month())) - 1],
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Epoch number in the given unit.
pub(crate) fn epoch(us: i64, unit: Epoch) -> i64 {
    match unit {
        Epoch::Seconds => us.div_euclid(1_000_000),
        Epoch::Millis => us.div_euclid(1000),
        Epoch::Micros => us,
        Epoch::Nanos => us.saturating_mul(1000),
    }
}

/// A random zone form (half of them `Z`, the rest offsets in both spellings or none).
pub(crate) fn random_zone(src: &mut Source) -> Zone {
    match src.int(0, 8) {
        0..=3 => Zone::Z,
        4 | 5 => Zone::Colon(src.pick(&OFFSETS)),
        6 => Zone::Compact(src.pick(&OFFSETS)),
        _ => Zone::Naive,
    }
}

/// A random RFC 3339-style string: mostly `T`, sometimes a space; 0, 3 or 6 digits.
pub(crate) fn random_iso(src: &mut Source, us: i64) -> String {
    let sep = if src.chance(0.2) { ' ' } else { 'T' };
    let digits = src.pick(&[0u8, 3, 3, 3, 6]);
    let zone = random_zone(src);
    iso(us, sep, digits, zone)
}

/// A random valid timestamp as a JSON value: usually an RFC 3339 string, sometimes
/// an epoch number or numeric string.
pub(crate) fn random_json_ts(src: &mut Source, us: i64) -> serde_json::Value {
    match src.int(0, 10) {
        0 => serde_json::Value::from(epoch(us, Epoch::Millis)),
        1 => serde_json::Value::from(epoch(us, Epoch::Seconds)),
        2 => serde_json::Value::from(epoch(us, Epoch::Millis).to_string()),
        _ => serde_json::Value::from(random_iso(src, us)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00.123456Z
    const T: i64 = 1_767_225_600_123_456;

    #[test]
    fn iso_zone_forms() {
        assert_eq!(iso(T, 'T', 3, Zone::Z), "2026-01-01T00:00:00.123Z");
        assert_eq!(iso(T, ' ', 6, Zone::Naive), "2026-01-01 00:00:00.123456");
        assert_eq!(
            iso(T, 'T', 0, Zone::Colon(120)),
            "2026-01-01T02:00:00+02:00"
        );
        assert_eq!(
            iso(T, 'T', 3, Zone::Compact(-210)),
            "2025-12-31T20:30:00.123-0330"
        );
    }

    #[test]
    fn syslog_and_epoch_forms() {
        assert_eq!(syslog3164(T), "Jan  1 00:00:00");
        assert_eq!(syslog3164(T + 20 * 86_400_000_000), "Jan 21 00:00:00");
        assert_eq!(epoch(T, Epoch::Seconds), 1_767_225_600);
        assert_eq!(epoch(T, Epoch::Millis), 1_767_225_600_123);
        assert_eq!(epoch(T, Epoch::Nanos), 1_767_225_600_123_456_000);
    }
}
