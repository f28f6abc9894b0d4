//! Masking of emails and IP addresses for analytics (SPEC §3).
//!
//! `alice@example.com` → `a***@example.com`; IPv4 with valid octets →
//! `192.168.x.x`; IPv6 → first two groups + `:x:x:x:x:x:x`. Cheap byte
//! prefilters (`@`, `.` next to digits, two `:`) skip the regex engines for
//! the many strings that cannot contain PII, and an untouched string is never
//! copied ([`Cow::Borrowed`]).

use std::borrow::Cow;
use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})")
        .expect("email regex")
});
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b").expect("ipv4 regex"));
static IPV6_CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9A-Za-z_.:%]*:[0-9A-Za-z_.:%]*:[0-9A-Za-z_.:%]*").expect("ipv6 regex"));

/// Masks every email, IPv4 and IPv6 address in `s`.
pub fn mask_str(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let mut out = Cow::Borrowed(s);
    if memchr::memchr(b'@', bytes).is_some() {
        out = replace(out, |t| EMAIL.replace_all(t, "$1***@$2"));
    }
    if memchr::memchr_iter(b':', out.as_bytes()).nth(1).is_some() {
        out = replace(out, |t| IPV6_CANDIDATE.replace_all(t, |c: &Captures<'_>| mask_ipv6(&c[0])));
    }
    if has_digit_dot(out.as_bytes()) {
        out = replace(out, |t| IPV4.replace_all(t, |c: &Captures<'_>| mask_ipv4(c)));
    }
    out
}

/// Applies `f` and keeps borrowing when it changed nothing.
fn replace<'a>(s: Cow<'a, str>, f: impl for<'b> Fn(&'b str) -> Cow<'b, str>) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => f(b),
        Cow::Owned(o) => match f(&o) {
            Cow::Borrowed(_) => Cow::Owned(o),
            Cow::Owned(n) => Cow::Owned(n),
        },
    }
}

fn has_digit_dot(b: &[u8]) -> bool {
    memchr::memchr_iter(b'.', b).any(|i| i > 0 && b[i - 1].is_ascii_digit())
}

fn mask_ipv4(c: &Captures<'_>) -> String {
    let valid = (1..=4).all(|i| c[i].parse::<u16>().is_ok_and(|n| n <= 255));
    if valid {
        format!("{}.{}.x.x", &c[1], &c[2])
    } else {
        c[0].to_string()
    }
}

/// A token with two colons: masked when it (minus trailing dots) is an IPv6 address.
fn mask_ipv6(token: &str) -> String {
    let core = token.trim_end_matches('.');
    let addr = core.split('%').next().unwrap_or(core);
    match addr.parse::<Ipv6Addr>() {
        Ok(ip) => {
            let seg = ip.segments();
            format!("{:x}:{:x}:x:x:x:x:x:x{}", seg[0], seg[1], &token[core.len()..])
        }
        Err(_) => token.to_string(),
    }
}

/// Masks every string inside `v`, recursively (object keys are left alone).
pub fn mask_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(m) = mask_str(s) {
                *s = m;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::Object(map) => map.values_mut().for_each(mask_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        assert_eq!(mask_str("mail alice@example.com now"), "mail a***@example.com now");
        assert_eq!(mask_str("b.o+b@mail.co.uk,x@y.io"), "b***@mail.co.uk,x***@y.io");
        assert_eq!(mask_str("not @ an email"), "not @ an email");
    }

    #[test]
    fn ipv4_valid_octets_only() {
        assert_eq!(mask_str("from 192.168.1.23:80"), "from 192.168.x.x:80");
        assert_eq!(mask_str("bad 300.1.1.1 and 1.2.3"), "bad 300.1.1.1 and 1.2.3");
        assert_eq!(mask_str("version v1.2.3.4"), "version v1.2.3.4");
    }

    #[test]
    fn ipv6() {
        assert_eq!(mask_str("peer 2001:db8::1 up"), "peer 2001:db8:x:x:x:x:x:x up");
        assert_eq!(mask_str("at ::1."), "at 0:0:x:x:x:x:x:x.");
        assert_eq!(mask_str("FE80::0202:B3FF:FE1E:8329"), "fe80:0:x:x:x:x:x:x");
        assert_eq!(mask_str("time 10:00:00 key::value"), "time 10:00:00 key::value");
    }

    #[test]
    fn untouched_strings_are_borrowed() {
        assert!(matches!(mask_str("plain text 1.5 ok: yes"), Cow::Borrowed(_)));
    }

    #[test]
    fn nested_values() {
        let mut v = json!({"a": ["x@y.io", {"ip": "10.1.2.3"}], "n": 5});
        mask_value(&mut v);
        assert_eq!(v, json!({"a": ["x***@y.io", {"ip": "10.1.x.x"}], "n": 5}));
    }
}
