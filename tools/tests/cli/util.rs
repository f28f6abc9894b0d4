//! Running the built CLIs in a clean temporary working directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use time::{Date, Duration, OffsetDateTime};

/// What a finished CLI run left.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A command for `exe` run in `cwd`, with no `LOGOPS_*` variable inherited
/// (so neither the caller's environment nor a stray `.env` leaks in).
pub fn cmd(exe: &str, cwd: &Path) -> Command {
    let mut c = Command::new(exe);
    c.current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("LOGOPS_") {
            c.env_remove(k);
        }
    }
    c
}

/// Runs `c` with `stdin` as input and waits for it.
pub fn run(c: &mut Command, stdin: &[u8]) -> Out {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn CLI");
    // Fed from a thread so a large input cannot deadlock against full output
    // pipes; a CLI that exits without reading (usage error) closes the pipe early.
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || match pipe.write_all(&input) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    });
    let out = child.wait_with_output().expect("wait CLI");
    feeder.join().unwrap();
    Out {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Today in UTC, as the CLIs see it.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// `YYYYMMDD` of today + `offset` days.
pub fn stem(offset: i64) -> String {
    let d = today() + Duration::days(offset);
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `n` NDJSON lines tagged with `tag`.
pub fn lines(tag: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"ts\":\"2020-01-01T00:00:00Z\",\"level\":\"INFO\",\"msg\":\"{tag} {i}\"}}\n"
            )
        })
        .collect()
}

/// Sorted file names of `dir`.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// (name, content) of every entry of a zip archive, in archive order.
pub fn zip_entries(path: &Path) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(&mut f, &mut s).unwrap();
            (f.name().unwrap().into_owned(), s)
        })
        .collect()
}
