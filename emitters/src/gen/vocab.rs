//! Realistic values: services, hosts, people, addresses and log messages.
//!
//! Messages carry the PII the gateway must mask (emails, IPv4, IPv6) and never
//! start with a level word, so a bare line is not mistaken for a leveled one.

use super::Source;

/// Normalized level a generated record means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

pub(crate) const SERVICES: [&str; 8] = [
    "checkout",
    "payments",
    "auth",
    "search",
    "inventory",
    "api-gateway",
    "notifications",
    "billing",
];
pub(crate) const ENVS: [&str; 3] = ["prod", "staging", "dev"];
pub(crate) const REGIONS: [&str; 4] = ["eu-west-1", "us-east-1", "ap-south-1", "eu-central-1"];
const FIRST: [&str; 10] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
];
const LAST: [&str; 6] = ["smith", "jones", "garcia", "müller", "nguyen", "kowalski"];
const DOMAINS: [&str; 5] = [
    "example.com",
    "corp.example.org",
    "mail.example.net",
    "shop.example.co.uk",
    "example.io",
];
const PATHS: [&str; 7] = [
    "/api/v1/orders",
    "/api/v1/cart/items",
    "/api/v2/search",
    "/login",
    "/api/v1/payments/charge",
    "/healthz",
    "/static/app.js",
];
const METHODS: [&str; 4] = ["GET", "GET", "POST", "PUT"];

/// A weighted random level: mostly INFO, some DEBUG and WARN, a few ERROR.
pub(crate) fn level(src: &mut Source) -> Level {
    match src.int(0, 100) {
        0..=9 => Level::Debug,
        10..=79 => Level::Info,
        80..=91 => Level::Warn,
        _ => Level::Error,
    }
}

/// A spelling of that level as a client might send it (mixed case and synonyms).
pub(crate) fn level_word(src: &mut Source, level: Level) -> &'static str {
    match level {
        Level::Debug => src.pick(&["DEBUG", "debug", "Debug", "trace"]),
        Level::Info => src.pick(&["INFO", "info", "Info", "information", "notice"]),
        Level::Warn => src.pick(&["WARN", "warn", "warning", "WARNING"]),
        Level::Error => src.pick(&["ERROR", "error", "err", "fatal", "critical", "Error"]),
    }
}

/// A syslog severity (0-7) for that level.
pub(crate) fn severity(src: &mut Source, level: Level) -> u8 {
    match level {
        Level::Debug => 7,
        Level::Info => src.pick(&[6, 6, 6, 5]),
        Level::Warn => 4,
        Level::Error => src.pick(&[3, 3, 3, 2, 1, 0]),
    }
}

/// An email address such as `carol.nguyen@mail.example.net`.
pub(crate) fn email(src: &mut Source) -> String {
    let first = src.pick(&FIRST);
    let domain = src.pick(&DOMAINS);
    match src.int(0, 3) {
        0 => format!("{first}@{domain}"),
        1 => format!("{first}.{}@{domain}", src.pick(&LAST)).replace('ü', "ue"),
        _ => format!("{first}{}@{domain}", src.int(1, 100)),
    }
}

/// An IPv4 address with valid octets (private and documentation ranges).
pub(crate) fn ipv4(src: &mut Source) -> String {
    let (a, b, c, d) = (
        src.int(0, 256),
        src.int(0, 256),
        src.int(1, 255),
        src.int(1, 255),
    );
    match src.int(0, 4) {
        0 => format!("10.{a}.{b}.{d}"),
        1 => format!("192.168.{c}.{d}"),
        2 => format!("203.0.113.{d}"),
        _ => format!("172.{}.{b}.{d}", src.int(16, 32)),
    }
}

/// A full (uncompressed) IPv6 address in the documentation range.
pub(crate) fn ipv6(src: &mut Source) -> String {
    format!(
        "2001:db8:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
        src.int(0, 0x10000),
        src.int(0, 0x10000),
        src.int(0, 0x10000),
        src.int(0, 0x10000),
        src.int(0, 0x10000),
        src.int(1, 0x10000)
    )
}

/// `n` random lowercase hex digits.
pub(crate) fn hex(src: &mut Source, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(src.int(0, 16) as u32, 16).unwrap_or('0'))
        .collect()
}

/// A request id like `req-3f9a1c0b2d4e`.
pub(crate) fn request_id(src: &mut Source) -> String {
    format!("req-{}", hex(src, 12))
}

/// A host name like `web-07`.
pub(crate) fn host(src: &mut Source) -> String {
    let kind = src.pick(&["web", "api", "worker", "db"]);
    format!("{kind}-{:02}", src.int(1, 13))
}

/// An HTTP method and request path.
pub(crate) fn request(src: &mut Source) -> (&'static str, String) {
    let method = src.pick(&METHODS);
    let path = src.pick(&PATHS);
    if path.starts_with("/api/v1/orders") && src.chance(0.5) {
        return (method, format!("{path}/{}", src.int(1000, 99_999)));
    }
    (method, path.to_string())
}

/// An HTTP status consistent with the level.
pub(crate) fn status(src: &mut Source, level: Level) -> i64 {
    match level {
        Level::Debug | Level::Info => src.pick(&[200, 200, 200, 201, 204, 304]),
        Level::Warn => src.pick(&[400, 404, 409, 429]),
        Level::Error => src.pick(&[500, 502, 503, 504]),
    }
}

/// A log message fitting the level, with emails and IPs mixed in. Some contain
/// commas and double quotes (for CSV quoting).
pub(crate) fn message(src: &mut Source, level: Level) -> String {
    let ms = src.int(1, 2500);
    match level {
        Level::Debug => match src.int(0, 4) {
            0 => format!("cache miss key=session:{}", hex(src, 16)),
            1 => format!(
                "resolved upstream {} to {}:{}",
                src.pick(&SERVICES),
                ipv4(src),
                src.int(1024, 65_535)
            ),
            2 => format!(
                "sql: SELECT id, total FROM orders WHERE id = {} ({ms}ms)",
                src.int(1, 99_999)
            ),
            _ => format!(
                "handshake with {} completed, cipher=TLS_AES_128_GCM_SHA256",
                ipv6(src)
            ),
        },
        Level::Info => match src.int(0, 6) {
            0 => format!("user {} logged in from {}", email(src), ipv4(src)),
            1 => {
                let (m, p) = request(src);
                format!("{m} {p} {} {ms}ms", status(src, level))
            }
            2 => format!("order {} created for {}", src.int(1000, 99_999), email(src)),
            3 => format!("session {} refreshed for client {}", hex(src, 8), ipv4(src)),
            4 => format!("cache warmed: {} keys in {ms}ms", src.int(10, 50_000)),
            _ => format!(
                "accepted upload \"report, Q{}.pdf\" from {}",
                src.int(1, 5),
                email(src)
            ),
        },
        Level::Warn => match src.int(0, 4) {
            0 => {
                let (_, p) = request(src);
                format!("slow request {p} took {ms}ms (client {})", ipv4(src))
            }
            1 => format!(
                "retrying request {} to {} (attempt {}/5)",
                request_id(src),
                src.pick(&SERVICES),
                src.int(1, 5)
            ),
            2 => format!(
                "password reset requested for {} from {}",
                email(src),
                ipv4(src)
            ),
            _ => format!(
                "rate limit close for client {}, {} req/s",
                ipv6(src),
                src.int(80, 100)
            ),
        },
        Level::Error => match src.int(0, 4) {
            0 => format!("payment declined for {}: card expired", email(src)),
            1 => format!(
                "upstream \"{}\" timed out after {ms}ms, giving up",
                src.pick(&SERVICES)
            ),
            2 => format!(
                "connection reset by peer {}:{}",
                ipv4(src),
                src.int(1024, 65_535)
            ),
            _ => format!(
                "failed to send receipt to {}: SMTP 550 mailbox unavailable",
                email(src)
            ),
        },
    }
}

/// Level words of SPEC §2.2: a bare line starting with one of these is leveled.
#[cfg(test)]
const LEVEL_WORDS: [&str; 17] = [
    "trace",
    "debug",
    "info",
    "information",
    "informational",
    "notice",
    "warn",
    "warning",
    "error",
    "err",
    "fatal",
    "critical",
    "crit",
    "alert",
    "emerg",
    "emergency",
    "panic",
];

#[cfg(test)]
mod tests {
    use super::super::{Clock, GenConfig};
    use super::*;

    #[test]
    fn messages_never_start_with_a_level_word() {
        let mut src = Source::new(&GenConfig {
            seed: 3,
            clock: Clock::Wall,
        });
        for _ in 0..5000 {
            let lvl = level(&mut src);
            let m = message(&mut src, lvl);
            let first = m.split([' ', ':']).next().unwrap().to_ascii_lowercase();
            assert!(!LEVEL_WORDS.contains(&first.as_str()), "{m}");
        }
    }

    #[test]
    fn emails_and_ips_are_well_formed() {
        let mut src = Source::new(&GenConfig {
            seed: 4,
            clock: Clock::Wall,
        });
        for _ in 0..1000 {
            let e = email(&mut src);
            let (user, domain) = e.split_once('@').unwrap();
            assert!(
                !user.is_empty() && domain.contains('.') && e.is_ascii(),
                "{e}"
            );
            let ip = ipv4(&mut src);
            let octets: Vec<u16> = ip.split('.').map(|o| o.parse().unwrap()).collect();
            assert!(octets.len() == 4 && octets.iter().all(|o| *o < 256), "{ip}");
            assert_eq!(ipv6(&mut src).split(':').count(), 8);
        }
    }
}
