//! The web console in a real browser (issue #12): `tests/browser/console.mjs`
//! drives Debian's chromium through playwright-core against two real
//! `logops-gateway` processes (auth off, auth on) — counters that move, a
//! search, a live tail, the Files page, the key prompt — and saves a
//! screenshot of each page into `docs/console/`. Also checks that the
//! checked-in bundle (`services/ingest_gateway/ui/dist`) is what its sources
//! build to. Nothing is built here: `scripts/test` installs chromium and Node
//! and runs `npm ci` in both packages; in CI a missing piece fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use logops_e2e::{need_component, need_program, Gateway};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const CHROMIUM: &str = "/usr/bin/chromium";

fn run_node(dir: &Path, args: &[&str], env: &[(&str, String)]) {
    let out = Command::new("node")
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "node {args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn the_checked_in_console_bundle_matches_its_sources() {
    let ui = repo().join("services/ingest_gateway/ui");
    if !need_program("node", "--version")
        || !need_component(
            "esbuild (npm ci in services/ingest_gateway/ui)",
            ui.join("node_modules/esbuild").is_dir(),
        )
    {
        return;
    }
    run_node(&ui, &["build.mjs", "--check"], &[]);
}

#[test]
fn the_console_works_in_a_real_browser() {
    let browser = repo().join("tests/browser");
    if !need_program("node", "--version")
        || !need_component(
            "chromium (Debian package chromium)",
            Path::new(CHROMIUM).exists(),
        )
        || !need_component(
            "playwright-core (npm ci in tests/browser)",
            browser.join("node_modules/playwright-core").is_dir(),
        )
    {
        return;
    }
    let open = Gateway::builder().process().start();
    let keys = r#"
[[key]]
id = "console-r"
secret = "console-r-secret"
roles = ["read"]
[[key]]
id = "console-w"
secret = "console-w-secret"
"#;
    let auth = Gateway::builder().process().keys(keys).start();
    let shots = repo().join("docs/console");
    run_node(
        &browser,
        &["console.mjs"],
        &[
            ("OPEN_URL", open.url("")),
            ("AUTH_URL", auth.url("")),
            ("READ_KEY", "console-r:console-r-secret".into()),
            ("WRITE_KEY", "console-w:console-w-secret".into()),
            ("SCREENSHOTS", shots.display().to_string()),
            ("CHROMIUM", CHROMIUM.into()),
        ],
    );
}
