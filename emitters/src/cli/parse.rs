//! Value parsers of the shared flags: durations, ratios, rates, counts and
//! `--start-time`, each with a message saying what it accepts.

use std::time::Duration;

use super::StartTime;

/// Parses `10s`, `500ms`, `2m`, `1h`, `1.5s` or plain seconds (`10`).
///
/// # Errors
/// A message saying what is accepted.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        format!("invalid duration {s:?}: expected e.g. 10s, 500ms, 2m or plain seconds")
    })?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {s:?}: use ms, s, m or h"
            ))
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 7.0 * 86_400.0 {
        return Err(format!(
            "invalid duration {s:?}: must be above 0 and at most 7 days"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a ratio in `0..=1` (`--partial-ratio`, `--chaos`).
///
/// # Errors
/// A message when it is not a number in range.
pub fn parse_ratio(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number between 0 and 1")),
    }
}

pub(crate) fn parse_jitter(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number in 0..1 (e.g. 0.2 for ±20%)")),
    }
}

pub(crate) fn parse_positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("{s:?} is not a whole number above 0")),
    }
}

pub(crate) fn parse_eps(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e9 => Ok(v),
        _ => Err(format!("{s:?} is not a rate above 0 records/s")),
    }
}

pub(crate) fn parse_start_time(s: &str) -> Result<StartTime, String> {
    if s.trim().eq_ignore_ascii_case("now") {
        return Ok(StartTime::Now);
    }
    let dt = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            format!("{s:?} is not `now` or an RFC 3339 time like 2026-03-01T12:00:00Z ({e})")
        })?;
    Ok(StartTime::At((dt.unix_timestamp_nanos() / 1000) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("10 parsecs").unwrap_err().contains("unit"));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-3s").is_err());
        assert!(parse_duration("").is_err());
    }
}
