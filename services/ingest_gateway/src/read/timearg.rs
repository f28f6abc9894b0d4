//! The time parameters of reads: `start`/`end` as RFC 3339, Unix seconds
//! (with a fraction), Unix nanoseconds (19 digits, what Loki clients send),
//! or a duration back from now (`1h`); `step` as a duration or seconds.

use super::line::days_from_civil;
use super::logql::parse_duration;

/// A time parameter that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {name} {value:?}: expected RFC 3339, Unix seconds or nanoseconds, or a duration like 1h")]
pub struct TimeError {
    /// Which parameter.
    pub name: &'static str,
    /// What was given.
    pub value: String,
}

/// Now, in Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Parses a point in time (`now` is used for durations back from it).
///
/// # Errors
/// [`TimeError`] naming the parameter.
pub fn parse_time(name: &'static str, value: &str, now: i64) -> Result<i64, TimeError> {
    let err = || TimeError {
        name,
        value: value.chars().take(64).collect(),
    };
    let v = value.trim();
    if v.is_empty() {
        return Err(err());
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = v.parse().map_err(|_| err())?;
        // 19 digits and more: nanoseconds; fewer: seconds.
        return if v.len() >= 16 {
            Ok(n)
        } else {
            n.checked_mul(1_000_000_000).ok_or_else(err)
        };
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs.abs() < 1e11 {
            return Ok((secs * 1e9).round() as i64);
        }
        return Err(err());
    }
    if let Some(d) = parse_duration(v) {
        return Ok(now.saturating_sub(i64::try_from(d).unwrap_or(i64::MAX)));
    }
    rfc3339(v).ok_or_else(err)
}

/// A step: a duration (`30s`) or seconds (`15`, `0.5`), in nanoseconds.
///
/// # Errors
/// [`TimeError`].
pub fn parse_step(value: &str) -> Result<i64, TimeError> {
    let err = || TimeError {
        name: "step",
        value: value.chars().take(64).collect(),
    };
    let v = value.trim();
    let ns = match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e10 => (s * 1e9).round() as i64,
        Ok(_) => return Err(err()),
        Err(_) => parse_duration(v)
            .and_then(|d| i64::try_from(d).ok())
            .ok_or_else(err)?,
    };
    if ns <= 0 {
        return Err(err());
    }
    Ok(ns)
}

/// `YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`.
fn rfc3339(v: &str) -> Option<i64> {
    let b = v.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { v.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':'
        || b[16] != b':'
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 100_000_000i64;
        while i < b.len() && b[i].is_ascii_digit() {
            frac += i64::from(b[i] - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset_s = match &v[i..] {
        "Z" | "z" => 0,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) && &z[3..4] == ":" => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            sign * (z[1..3].parse::<i64>().ok()? * 3600 + z[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_s;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form() {
        let now = 1_767_225_600_000_000_000;
        assert_eq!(parse_time("start", "2026-01-01T00:00:00Z", 0), Ok(now));
        assert_eq!(parse_time("start", "2026-01-01T01:00:00+01:00", 0), Ok(now));
        assert_eq!(parse_time("start", "1767225600", 0), Ok(now));
        assert_eq!(
            parse_time("start", "1767225600.5", 0),
            Ok(now + 500_000_000)
        );
        assert_eq!(parse_time("start", "1767225600000000000", 0), Ok(now));
        assert_eq!(parse_time("start", "1h", now), Ok(now - 3_600_000_000_000));
        assert!(parse_time("end", "yesterday", now).is_err());
        assert_eq!(parse_step("30s"), Ok(30_000_000_000));
        assert_eq!(parse_step("15"), Ok(15_000_000_000));
        assert!(parse_step("0").is_err());
        assert!(parse_step("-5").is_err());
    }
}
