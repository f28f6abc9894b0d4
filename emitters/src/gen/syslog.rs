//! `emit_syslog`: `text/plain` lines in the three forms of SPEC §2.3.
//!
//! Complete records are RFC 5424 (`<PRI>1 TS HOST APP PROCID MSGID SD MSG`),
//! RFC 3164 with a PRI (`<PRI>Mmm dd HH:MM:SS HOST TAG[PID]: MSG`) or the simple
//! form (`TS LEVEL [HOST APP[PID]:] MSG`). Partial records (`partial_ratio`)
//! lose their level (3164 without PRI, simple form without a level word),
//! their timestamp (a bare line starting with a level word), or both (a bare
//! line, with or without the `HOST APP[PID]:` prefix).
//!
//! [`SyslogForm`] picks the form of the complete records: all three mixed
//! (the default, one third each) or only one of them (`--format rfc5424` is
//! what real syslog senders speak over TCP); partial records keep their forms.

use bytes::Bytes;

use super::timefmt::{self, Zone};
use super::vocab::{self, Level};
use super::{Batch, Expect, GenConfig, Generator, Partial, Source, TsKind};

const APPS: [&str; 6] = ["sshd", "nginx", "cron", "postfix", "kernel", "dockerd"];
/// Syslog facilities used in PRI: user, mail, daemon, auth, local0, local7.
const FACILITIES: [u8; 6] = [1, 2, 3, 4, 16, 23];

/// The form of a complete syslog line (`emit_syslog --format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SyslogForm {
    /// RFC 5424, RFC 3164 and the simple form, one third each.
    #[default]
    Mixed,
    /// `<PRI>1 TS HOST APP PROCID MSGID SD MSG` only.
    Rfc5424,
    /// `<PRI>Mmm dd HH:MM:SS HOST APP[PID]: MSG` only.
    Rfc3164,
    /// `TS LEVEL [HOST APP[PID]:] MSG` only.
    Simple,
}

/// Generator of syslog-style text lines.
pub struct SyslogGenerator {
    src: Source,
    partial_ratio: f64,
    form: SyslogForm,
}

impl SyslogGenerator {
    /// A generator where `partial_ratio` (0..=1) of the lines lack ts and/or level.
    pub fn new(cfg: &GenConfig, partial_ratio: f64) -> Self {
        SyslogGenerator {
            src: Source::new(cfg),
            partial_ratio,
            form: SyslogForm::Mixed,
        }
    }

    /// Only `form` for the complete lines (partial lines keep their forms).
    #[must_use]
    pub fn form(mut self, form: SyslogForm) -> Self {
        self.form = form;
        self
    }

    fn app(&mut self) -> &'static str {
        if self.src.chance(0.5) {
            self.src.pick(&APPS)
        } else {
            self.src.pick(&vocab::SERVICES)
        }
    }

    fn pri(&mut self, level: Level) -> u8 {
        let facility = self.src.pick(&FACILITIES);
        facility * 8 + vocab::severity(&mut self.src, level)
    }

    fn prefix(&mut self) -> String {
        let host = vocab::host(&mut self.src);
        let app = self.app();
        format!("{host} {app}[{}]:", self.src.int(100, 65_000))
    }

    fn rfc5424(&mut self, us: i64, level: Level, msg: &str) -> String {
        let pri = self.pri(level);
        let zone = match self.src.int(0, 3) {
            0 => Zone::Colon(self.src.pick(&[60, -300, 330])),
            _ => Zone::Z,
        };
        let digits = self.src.pick(&[0u8, 3, 6]);
        let ts = timefmt::iso(us, 'T', digits, zone);
        let host = vocab::host(&mut self.src);
        let app = self.app();
        let procid = if self.src.chance(0.8) {
            self.src.int(100, 65_000).to_string()
        } else {
            "-".to_string()
        };
        let msgid = self.src.pick(&["-", "ID47", "REQ", "AUDIT"]);
        let sd = if self.src.chance(0.4) {
            format!(
                "[meta sequenceId=\"{}\" region=\"{}\"]",
                self.src.int(1, 100_000),
                self.src.pick(&vocab::REGIONS)
            )
        } else {
            "-".to_string()
        };
        format!("<{pri}>1 {ts} {host} {app} {procid} {msgid} {sd} {msg}")
    }

    fn rfc3164(&mut self, us: i64, pri: Option<u8>, msg: &str) -> String {
        let ts = timefmt::syslog3164(us);
        let host = vocab::host(&mut self.src);
        let app = self.app();
        let pid = self.src.int(100, 65_000);
        let pri = pri.map(|p| format!("<{p}>")).unwrap_or_default();
        format!("{pri}{ts} {host} {app}[{pid}]: {msg}")
    }

    fn simple(&mut self, us: i64, level: Option<&str>, msg: &str) -> String {
        let mut line = timefmt::random_iso(&mut self.src, us);
        if let Some(word) = level {
            line.push(' ');
            line.push_str(word);
        }
        if self.src.chance(0.5) {
            line.push(' ');
            line.push_str(&self.prefix());
        }
        line.push(' ');
        line.push_str(msg);
        line
    }

    fn line(&mut self, expect: &mut Expect) -> String {
        let partial = Partial::roll(&mut self.src, self.partial_ratio);
        let us = self.src.next_us();
        let level = vocab::level(&mut self.src);
        let msg = vocab::message(&mut self.src, level);
        let word = vocab::level_word(&mut self.src, level);
        let line = match (partial.drop_ts, partial.drop_level) {
            (false, false) => {
                let form = match self.form {
                    SyslogForm::Mixed => match self.src.int(0, 3) {
                        0 => SyslogForm::Rfc5424,
                        1 => SyslogForm::Rfc3164,
                        _ => SyslogForm::Simple,
                    },
                    one => one,
                };
                match form {
                    SyslogForm::Rfc5424 => self.rfc5424(us, level, &msg),
                    SyslogForm::Rfc3164 => {
                        let pri = self.pri(level);
                        self.rfc3164(us, Some(pri), &msg)
                    }
                    _ => self.simple(us, Some(word), &msg),
                }
            }
            (false, true) => {
                if self.src.chance(0.5) {
                    self.rfc3164(us, None, &msg)
                } else {
                    self.simple(us, None, &msg)
                }
            }
            (true, false) => format!("{word} {msg}"),
            (true, true) => {
                if self.src.chance(0.5) {
                    format!("{} {msg}", self.prefix())
                } else {
                    msg
                }
            }
        };
        let ts = if partial.drop_ts {
            TsKind::Missing
        } else {
            TsKind::Valid
        };
        expect.count(ts, partial.drop_level);
        line
    }
}

impl Generator for SyslogGenerator {
    fn content_type(&self) -> &'static str {
        "text/plain"
    }

    fn batch(&mut self, n: usize) -> Batch {
        let mut expect = Expect::default();
        let mut body = String::with_capacity(n * 140);
        for _ in 0..n {
            body.push_str(&self.line(&mut expect));
            body.push('\n');
        }
        Batch {
            body: Bytes::from(body),
            expect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Clock, SEEDED_START_US};
    use super::*;

    fn gen(seed: u64, ratio: f64) -> SyslogGenerator {
        let cfg = GenConfig {
            seed,
            clock: Clock::Fixed(SEEDED_START_US),
        };
        SyslogGenerator::new(&cfg, ratio)
    }

    #[test]
    fn all_three_forms_appear() {
        let batch = gen(11, 0.0).batch(300);
        let text = std::str::from_utf8(&batch.body).unwrap();
        assert_eq!(text.lines().count(), 300);
        assert!(text
            .lines()
            .any(|l| l.starts_with('<') && l.contains(">1 20")));
        assert!(text
            .lines()
            .any(|l| l.starts_with('<') && l.contains(">Jan ")));
        assert!(text.lines().any(|l| l.starts_with("20")));
        assert_eq!(batch.expect.missing_ts + batch.expect.missing_level, 0);
    }

    #[test]
    fn one_form_only() {
        let lines = |form| {
            let body = gen(13, 0.0).form(form).batch(200).body;
            String::from_utf8(body.to_vec()).unwrap()
        };
        assert!(lines(SyslogForm::Rfc5424)
            .lines()
            .all(|l| l.starts_with('<') && l.contains(">1 20")));
        assert!(lines(SyslogForm::Rfc3164)
            .lines()
            .all(|l| l.starts_with('<') && l.contains(">Jan ")));
        assert!(lines(SyslogForm::Simple)
            .lines()
            .all(|l| l.starts_with("20")));
        // The default is the mix, byte for byte.
        assert_eq!(
            lines(SyslogForm::Mixed).as_bytes(),
            &gen(13, 0.0).batch(200).body[..]
        );
    }

    #[test]
    fn partial_lines_and_reproducibility() {
        let a = gen(12, 0.5).batch(2000);
        assert_eq!(a.body, gen(12, 0.5).batch(2000).body);
        let text = std::str::from_utf8(&a.body).unwrap();
        let no_ts = text
            .lines()
            .filter(|l| !l.starts_with('<') && !l.starts_with("Jan") && !l.starts_with("20"))
            .count() as u64;
        assert_eq!(no_ts, a.expect.missing_ts);
        // Each partial line lacks ts with probability 2/3: expected 0.5*2000*2/3 ≈ 667.
        assert!((560..=780).contains(&no_ts), "no_ts = {no_ts}");
        assert!(a.expect.missing_level > 500 && a.expect.invalid_ts == 0);
    }
}
