//! Timestamp parsing (SPEC §2.2) and RFC 3339 UTC formatting.
//!
//! Accepted: RFC 3339 / ISO 8601 with `T` or space, with `Z`, `±HH:MM`, `±HHMM`
//! or no zone (= UTC); epoch numbers or numeric strings (seconds < 1e11 ≤
//! milliseconds < 1e14 ≤ microseconds < 1e17 ≤ nanoseconds); syslog
//! `Mmm dd HH:MM:SS` in the current UTC year. The output keeps the input's
//! sub-second digits exactly (none → none) and always ends in `Z`.

use serde_json::Value;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::schema::datetime::{is_bsd_timestamp, num, scan_iso, MONTHS};

/// Parses a present ts value into RFC 3339 UTC text; `None` if unparseable.
/// `year` is the current UTC year, used for syslog timestamps.
pub fn parse(value: &Value, year: i32) -> Option<String> {
    match value {
        Value::String(s) => parse_str(s.trim(), year),
        Value::Number(n) => {
            let text = n.to_string();
            epoch(&text)
        }
        _ => None,
    }
}

fn parse_str(s: &str, year: i32) -> Option<String> {
    let b = s.as_bytes();
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return epoch(s);
    }
    if is_bsd_timestamp(s) {
        return bsd(s, year);
    }
    iso(s)
}

fn bsd(s: &str, year: i32) -> Option<String> {
    let b = s.as_bytes();
    let month = MONTHS.iter().position(|m| *m == &s[..3])? as u8 + 1;
    let day = if b[4] == b' ' {
        num(&b[5..6])
    } else {
        num(&b[4..6])
    };
    let (h, m, sec) = (num(&b[7..9]), num(&b[10..12]), num(&b[13..15]));
    let dt = civil(year, month, day as u8, [h as u8, m as u8, sec as u8])?;
    Some(format(dt.assume_utc(), ""))
}

fn civil(year: i32, month: u8, day: u8, hms: [u8; 3]) -> Option<PrimitiveDateTime> {
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms(hms[0], hms[1], hms[2]).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// The whole of `s` is an ISO date-time of the shared grammar.
fn iso(s: &str) -> Option<String> {
    let p = scan_iso(s.as_bytes())?;
    if p.len != s.len() {
        return None;
    }
    let dt = civil(p.year, p.month, p.day, [p.hour, p.minute, p.second])?;
    let offset = UtcOffset::from_whole_seconds(i32::from(p.offset_minutes) * 60).ok()?;
    // `checked_`: an offset can push year 9999 past the range `to_offset` panics on.
    let utc = dt.assume_offset(offset).checked_to_offset(UtcOffset::UTC)?;
    (0..=9999)
        .contains(&utc.year())
        .then(|| format(utc, &s[p.frac]))
}

/// Epoch seconds/ms/µs/ns as decimal text (`123`, `123.45`).
fn epoch(text: &str) -> Option<String> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty()
        || int.len() > 20
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || !int.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let value: u128 = int.parse().ok()?;
    let exp: u32 = match value {
        v if v < 100_000_000_000 => 0,
        v if v < 100_000_000_000_000 => 3,
        v if v < 100_000_000_000_000_000 => 6,
        _ => 9,
    };
    let scale = 10u128.pow(exp);
    let secs = i64::try_from(value / scale).ok()?;
    let dt = OffsetDateTime::from_unix_timestamp(secs).ok()?;
    if dt.year() > 9999 {
        return None;
    }
    let mut digits = if exp == 0 {
        String::new()
    } else {
        format!("{:0width$}", value % scale, width = exp as usize)
    };
    digits.push_str(frac);
    Some(format(dt, &digits))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac]Z` for a UTC instant (its own nanoseconds ignored).
pub fn format(dt: OffsetDateTime, frac: &str) -> String {
    let mut out = String::with_capacity(21 + frac.len());
    let date = dt.date();
    push_num(&mut out, date.year() as u32, 4);
    out.push('-');
    push_num(&mut out, u8::from(date.month()) as u32, 2);
    out.push('-');
    push_num(&mut out, date.day() as u32, 2);
    out.push('T');
    push_num(&mut out, dt.hour() as u32, 2);
    out.push(':');
    push_num(&mut out, dt.minute() as u32, 2);
    out.push(':');
    push_num(&mut out, dt.second() as u32, 2);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out.push('Z');
    out
}

/// Receive time as RFC 3339 UTC with milliseconds.
pub fn format_millis(dt: OffsetDateTime) -> String {
    let ms = format!("{:03}", dt.millisecond());
    format(dt.to_offset(UtcOffset::UTC), &ms)
}

fn push_num(out: &mut String, n: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut v = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or("0000"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Option<String> {
        parse(&v, 2026)
    }

    #[test]
    fn iso_forms() {
        assert_eq!(
            p(json!("2026-11-22T10:00:00Z")).unwrap(),
            "2026-11-22T10:00:00Z"
        );
        assert_eq!(
            p(json!("2026-11-22 10:00:00.123")).unwrap(),
            "2026-11-22T10:00:00.123Z"
        );
        assert_eq!(
            p(json!("2026-11-22T10:00:00.123456+02:00")).unwrap(),
            "2026-11-22T08:00:00.123456Z"
        );
        assert_eq!(
            p(json!("2026-11-22T01:30:00-0130")).unwrap(),
            "2026-11-22T03:00:00Z"
        );
        assert_eq!(
            p(json!("2026-01-01T00:30:00+01:00")).unwrap(),
            "2025-12-31T23:30:00Z"
        );
        assert_eq!(
            p(json!("2026-11-22T10:00:00+01")).unwrap(),
            "2026-11-22T09:00:00Z"
        );
        assert_eq!(
            p(json!(" 2026-11-22T10:00:00 ")).unwrap(),
            "2026-11-22T10:00:00Z"
        );
        // Found by the `timestamp` fuzz target: the offset pushed the instant past year 9999 and panicked.
        assert_eq!(p(json!("9999-12-31T23:59:59-23:59")), None);
        assert_eq!(p(json!("0000-01-01T00:00:00+23:59")), None);
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-02-30 00:00:00",
            "yesterday",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T25:00:00",
            "2026-11-22T10:00:00+0",
            "2026-11-22T10:00:00+123",
        ] {
            assert_eq!(p(json!(bad)), None, "{bad}");
        }
    }

    #[test]
    fn epochs() {
        assert_eq!(p(json!(1_700_000_000)).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(p(json!(1_700_000_000.5)).unwrap(), "2023-11-14T22:13:20.5Z");
        assert_eq!(
            p(json!(1_700_000_000_123u64)).unwrap(),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            p(json!("1700000000123456")).unwrap(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            p(json!(1_700_000_000_123_456_789u64)).unwrap(),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(p(json!(0)).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(p(json!(-5)), None);
        assert_eq!(p(json!(true)), None);
        assert_eq!(p(json!("1.2.3")), None);
    }

    #[test]
    fn syslog_form() {
        assert_eq!(p(json!("Nov 22 10:00:00")).unwrap(), "2026-11-22T10:00:00Z");
        assert_eq!(p(json!("Feb  3 04:05:06")).unwrap(), "2026-02-03T04:05:06Z");
        assert_eq!(p(json!("Feb 30 04:05:06")), None);
    }

    #[test]
    fn receive_time_has_millis() {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_042_000_000).unwrap();
        assert_eq!(format_millis(dt), "2023-11-14T22:13:20.042Z");
    }
}
