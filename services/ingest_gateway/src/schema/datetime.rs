//! The one lexical date-time grammar (SPEC §2.2), used by both the JSON `ts`
//! parser (`normalize::timestamp`) and the text-line decoder (`decode::text`),
//! so a timestamp accepted in one place is accepted in the other.
//!
//! ISO form: `YYYY-MM-DD[Tt ]HH:MM:SS[(.|,)digits][Z|z|±HH|±HHMM|±HH:MM]`.
//! Syslog (BSD) form: `Mmm dd HH:MM:SS`, day space- or zero-padded.
//! This module checks shape and field ranges of the zone only; whether the
//! date exists in the calendar is the parser's business.

use std::ops::Range;

/// English month abbreviations of the syslog form.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The pieces of a leading ISO date-time, as scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoDateTime {
    /// Year digits.
    pub year: i32,
    /// Month digits (not range-checked).
    pub month: u8,
    /// Day digits (not range-checked).
    pub day: u8,
    /// Hour digits (not range-checked).
    pub hour: u8,
    /// Minute digits (not range-checked).
    pub minute: u8,
    /// Second digits (not range-checked).
    pub second: u8,
    /// Byte range of the fraction digits in the input (empty when none).
    pub frac: Range<usize>,
    /// Zone offset in minutes east of UTC (0 for `Z` or no zone).
    pub offset_minutes: i16,
    /// Bytes consumed by the whole date-time.
    pub len: usize,
}

/// Value of ASCII digits (the caller has checked they are digits).
pub fn num(b: &[u8]) -> u32 {
    b.iter()
        .fold(0, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

fn digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

/// Is `b` exactly `HH:MM:SS` (digits only checked)?
pub fn is_hms(b: &[u8]) -> bool {
    b.len() == 8
        && digits(&b[0..2])
        && b[2] == b':'
        && digits(&b[3..5])
        && b[5] == b':'
        && digits(&b[6..8])
}

/// Is `s` a syslog `Mmm dd HH:MM:SS` timestamp (day space- or zero-padded)?
pub fn is_bsd_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15
        && MONTHS.iter().any(|m| m.as_bytes() == &b[..3])
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && is_hms(&b[7..15])
}

/// Scans an ISO date-time at the start of `b`; `None` when `b` does not start
/// with one. A zone that starts (`+`/`-`) but is malformed, or is out of range
/// (hours > 23, minutes > 59), makes the whole date-time invalid.
pub fn scan_iso(b: &[u8]) -> Option<IsoDateTime> {
    let shape = b.len() >= 19
        && digits(&b[..4])
        && b[4] == b'-'
        && digits(&b[5..7])
        && b[7] == b'-'
        && digits(&b[8..10])
        && matches!(b[10], b'T' | b't' | b' ')
        && is_hms(&b[11..19]);
    if !shape {
        return None;
    }
    let mut i = 19;
    let mut frac = i..i;
    if matches!(b.get(i), Some(b'.' | b',')) {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        frac = start..i;
    }
    let (offset_minutes, zone_len) = scan_zone(&b[i..])?;
    Some(IsoDateTime {
        year: num(&b[..4]) as i32,
        month: num(&b[5..7]) as u8,
        day: num(&b[8..10]) as u8,
        hour: num(&b[11..13]) as u8,
        minute: num(&b[14..16]) as u8,
        second: num(&b[17..19]) as u8,
        frac,
        offset_minutes,
        len: i + zone_len,
    })
}

/// A zone at the start of `b`: (offset minutes, bytes consumed). No zone is
/// UTC with length 0; `Z`, `±HH:MM`, `±HHMM`, `±HH` (longest match first).
fn scan_zone(b: &[u8]) -> Option<(i16, usize)> {
    let sign: i16 = match b.first() {
        Some(b'Z' | b'z') => return Some((0, 1)),
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some((0, 0)),
    };
    let d = |r: Range<usize>| b.get(r).is_some_and(digits);
    let (h, m, len) = if d(1..3) && b.get(3) == Some(&b':') && d(4..6) {
        (num(&b[1..3]), num(&b[4..6]), 6)
    } else if d(1..5) {
        (num(&b[1..3]), num(&b[3..5]), 5)
    } else if d(1..3) && !b.get(3).is_some_and(u8::is_ascii_digit) {
        (num(&b[1..3]), 0, 3)
    } else {
        return None;
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((sign * (h as i16 * 60 + m as i16), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_lengths() {
        let s = |t: &str| scan_iso(t.as_bytes()).map(|p| (p.offset_minutes, p.len));
        assert_eq!(s("2026-11-22T10:00:00"), Some((0, 19)));
        assert_eq!(s("2026-11-22T10:00:00Z rest"), Some((0, 20)));
        assert_eq!(s("2026-11-22T10:00:00+01"), Some((60, 22)));
        assert_eq!(s("2026-11-22T10:00:00+01 msg"), Some((60, 22)));
        assert_eq!(s("2026-11-22T10:00:00-0130"), Some((-90, 24)));
        assert_eq!(s("2026-11-22T10:00:00.5+01:00"), Some((60, 27)));
        assert_eq!(s("2026-11-22T10:00:00+0"), None);
        assert_eq!(s("2026-11-22T10:00:00+123"), None);
        assert_eq!(s("2026-11-22T10:00:00+24:00"), None);
        assert_eq!(s("2026-11-22T10:00:00."), None);
        assert_eq!(s("2026-11-22"), None);
    }

    #[test]
    fn bsd() {
        assert!(is_bsd_timestamp("Nov 22 10:00:00"));
        assert!(is_bsd_timestamp("Feb  3 04:05:06"));
        assert!(!is_bsd_timestamp("Foo 22 10:00:00"));
    }
}
