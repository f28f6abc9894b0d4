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

use regex::Regex;
use serde_json::Value;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    // Any host after the `@`, dotted or not (`root@localhost`, `x@y`,
    // `a@b.c.d`), as the Python gateway masked them.
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*").expect("email regex")
});
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?-u:\b)")
        .expect("ipv4 regex")
});
static IPV6_CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Za-z_.:%]*:[0-9A-Za-z_.:%]*:[0-9A-Za-z_.:%]*").expect("ipv6 regex")
});

/// Masks every email, IPv4 and IPv6 address in `s`.
pub fn mask_str(s: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    if memchr::memchr(b'@', s.as_bytes()).is_some() {
        out = replace(out, &EMAIL, mask_email);
    }
    if memchr::memchr_iter(b':', out.as_bytes()).nth(1).is_some() {
        out = replace(out, &IPV6_CANDIDATE, mask_ipv6);
    }
    if has_digit_dot(out.as_bytes()) {
        out = replace(out, &IPV4, mask_ipv4);
    }
    out
}

/// Replaces the matches of `re` for which `mask` writes a replacement (returns
/// true); allocates only when something actually changes. Uses `find_iter`
/// (DFA search, no capture groups) on the hot path.
fn replace<'a>(s: Cow<'a, str>, re: &Regex, mask: fn(&str, &mut String) -> bool) -> Cow<'a, str> {
    let text: &str = &s;
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(text) {
        let mark = out.len();
        out.push_str(&text[last..m.start()]);
        if mask(m.as_str(), &mut out) {
            last = m.end();
        } else {
            out.truncate(mark);
        }
    }
    if last == 0 {
        return s;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

fn has_digit_dot(b: &[u8]) -> bool {
    memchr::memchr_iter(b'.', b).any(|i| i > 0 && b[i - 1].is_ascii_digit())
}

/// `alice@example.com` → `a***@example.com`.
fn mask_email(m: &str, out: &mut String) -> bool {
    let Some((local, domain)) = m.split_once('@') else {
        return false;
    };
    let Some(first) = local.chars().next() else {
        return false;
    };
    out.push(first);
    out.push_str("***@");
    out.push_str(domain);
    true
}

/// `192.168.1.23` → `192.168.x.x` when every octet is 0–255.
fn mask_ipv4(m: &str, out: &mut String) -> bool {
    if !m
        .split('.')
        .all(|o| o.parse::<u16>().is_ok_and(|n| n <= 255))
    {
        return false;
    }
    let mut parts = m.split('.');
    let (a, b) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    out.push_str(a);
    out.push('.');
    out.push_str(b);
    out.push_str(".x.x");
    true
}

/// A token with two colons: masked when it (minus trailing dots, zone id) is an IPv6 address.
fn mask_ipv6(token: &str, out: &mut String) -> bool {
    let core = token.trim_end_matches('.');
    let addr = core.split('%').next().unwrap_or(core);
    let Ok(ip) = addr.parse::<Ipv6Addr>() else {
        return false;
    };
    let seg = ip.segments();
    use std::fmt::Write;
    let _ = write!(
        out,
        "{:x}:{:x}:x:x:x:x:x:x{}",
        seg[0],
        seg[1],
        &token[core.len()..]
    );
    true
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
        assert_eq!(
            mask_str("mail alice@example.com now"),
            "mail a***@example.com now"
        );
        assert_eq!(
            mask_str("b.o+b@mail.co.uk,x@y.io"),
            "b***@mail.co.uk,x***@y.io"
        );
        assert_eq!(mask_str("not @ an email"), "not @ an email");
        assert_eq!(mask_str("root@localhost said"), "r***@localhost said");
        assert_eq!(mask_str("<x@y>"), "<x***@y>");
        assert_eq!(mask_str("to a@b.c.d."), "to a***@b.c.d.");
        assert_eq!(mask_str("a***@example.com"), "a***@example.com");
    }

    #[test]
    fn ipv4_valid_octets_only() {
        assert_eq!(mask_str("from 192.168.1.23:80"), "from 192.168.x.x:80");
        assert_eq!(
            mask_str("bad 300.1.1.1 and 1.2.3"),
            "bad 300.1.1.1 and 1.2.3"
        );
        assert_eq!(mask_str("version v1.2.3.4"), "version v1.2.3.4");
    }

    #[test]
    fn ipv6() {
        assert_eq!(
            mask_str("peer 2001:db8::1 up"),
            "peer 2001:db8:x:x:x:x:x:x up"
        );
        assert_eq!(mask_str("at ::1."), "at 0:0:x:x:x:x:x:x.");
        assert_eq!(mask_str("FE80::0202:B3FF:FE1E:8329"), "fe80:0:x:x:x:x:x:x");
        assert_eq!(
            mask_str("time 10:00:00 key::value"),
            "time 10:00:00 key::value"
        );
    }

    #[test]
    fn untouched_strings_are_borrowed() {
        assert!(matches!(
            mask_str("plain text 1.5 ok: yes"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn nested_values() {
        let mut v = json!({"a": ["x@y.io", {"ip": "10.1.2.3"}], "n": 5});
        mask_value(&mut v);
        assert_eq!(v, json!({"a": ["x***@y.io", {"ip": "10.1.x.x"}], "n": 5}));
    }
}
