//! `GET /api/v1/status`, `GET /api/v1/files` and the console's routes, black
//! box (issue #12): counters from the in-process ring, today's file, access as
//! on the read routes, the embedded bundle served gzipped or plain, `GET /`
//! to a browser vs `POST /` as an ingest alias, and `LOGOPS_UI=false`.

use logops_e2e::{raw_request, Gateway};

#[test]
fn status_counts_what_was_accepted_and_rejected() {
    let gw = Gateway::start();
    let r = gw.post(
        "/v1/logs",
        &[("content-type", "application/json"), ("x-emitter", "st")],
        br#"[{"level":"error","msg":"a"},{"level":"info","msg":"b"},{"msg":"c"}]"#,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let bad = gw.ingest("application/json", "[{");
    assert_eq!(bad.status, 400);
    let s = gw.get("/api/v1/status");
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.header("cache-control"), Some("no-store"));
    let s = s.json();
    let totals = &s["ingest"]["totals"];
    assert_eq!(totals["accepted"], 3, "{s}");
    assert_eq!(totals["rejected_by_reason"]["invalid_json"], 1);
    assert_eq!(totals["levels"]["ERROR"], 1);
    assert_eq!(totals["levels"]["INFO"], 2);
    assert_eq!(totals["emitters"]["st"], 3);
    assert_eq!(s["ingest"]["window"]["accepted"], 3);
    assert_eq!(
        s["ingest"]["series"]["accepted"].as_array().unwrap().len(),
        900
    );
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["sink"]["state"], "ok");
    assert!(s["disk"]["free_bytes"].as_u64().unwrap() > 0, "{s}");
    assert!(s["disk"]["days_left"].as_f64().unwrap() > 0.0, "{s}");
    assert_eq!(s["listeners"][0]["addr"], gw.addr.as_str());
    let today = &s["today"][0];
    assert_eq!(today["tenant"], "default");
    assert_eq!(today["lines"], 3);
    let file = std::fs::read_dir(&gw.sink_dir)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".ndjson"))
        .expect("a day file");
    assert_eq!(today["file"], file.file_name().to_string_lossy().as_ref());
    assert_eq!(today["bytes"], file.metadata().unwrap().len());
    // No secrets: the summary has the modes, never a key.
    assert_eq!(s["config"]["auth"], "none");
    assert!(!s.to_string().contains("secret_key"));
    let short = gw.get("/api/v1/status?seconds=5").json();
    assert_eq!(
        short["ingest"]["series"]["accepted"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let files = gw.get("/api/v1/files").json();
    let days = &files["tenants"][0]["days"];
    assert_eq!(days[0]["lines"], 3, "{files}");
    assert_eq!(days[0]["bytes"], today["bytes"]);
}

#[test]
fn todays_lines_include_what_the_file_held_before_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let gw = Gateway::builder().workdir(dir.path()).start();
        let r = gw.ingest("application/x-ndjson", "{\"msg\":\"a\"}\n{\"msg\":\"b\"}\n");
        assert_eq!(r.status, 200);
    }
    let gw = Gateway::builder().workdir(dir.path()).start();
    assert_eq!(gw.ingest("application/json", r#"{"msg":"c"}"#).status, 200);
    // The count of the old lines runs in the background; it is there once it is.
    let mut lines = 0;
    for _ in 0..200 {
        lines = gw.get("/api/v1/status").json()["today"][0]["lines"]
            .as_u64()
            .unwrap();
        if lines == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(lines, 3);
}

#[test]
fn the_console_is_served_compressed_and_browsers_at_root_are_sent_to_it() {
    let gw = Gateway::start();
    let gz = raw_request(
        &gw.addr,
        b"GET /ui/app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gz.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(gz.text.starts_with('\u{1f}'), "gzip magic");
    let etag = gz.header("etag").expect("etag").to_string();
    let plain = raw_request(
        &gw.addr,
        b"GET /ui/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.text.starts_with("<!doctype html>"), "{}", plain.text);
    assert!(plain
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
    let again = raw_request(
        &gw.addr,
        format!("GET /ui/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(again.status, 304);

    let root = gw.get_with("/", &[("accept", "text/html,application/xhtml+xml")]);
    assert_eq!(root.status, 200, "followed to /ui/");
    assert!(root.text.contains("LogOps console"));
    // POST / stays the ingest alias, whatever the Accept header says.
    let post = gw.post(
        "/",
        &[
            ("content-type", "application/json"),
            ("accept", "text/html"),
        ],
        br#"{"msg":"still ingest"}"#,
    );
    assert_eq!(post.status, 200, "{}", post.text);
    assert_eq!(post.json()["accepted"], 1);
    assert_eq!(gw.get("/ui/nope.js").status, 404);
}

#[test]
fn ui_false_turns_the_console_off_but_not_the_status_api() {
    let gw = Gateway::builder().env("LOGOPS_UI", "false").start();
    assert_eq!(gw.get("/ui/").status, 404);
    assert_eq!(gw.get_with("/", &[("accept", "text/html")]).status, 404);
    let s = gw.get("/api/v1/status");
    assert_eq!(s.status, 200);
    assert_eq!(s.json()["config"]["ui"], false);
}

#[test]
fn with_auth_the_status_and_files_need_a_read_key() {
    let keys = r#"
[[key]]
id = "w"
secret = "w-secret"
tenant = "acme"
[[key]]
id = "r"
secret = "r-secret"
tenant = "acme"
roles = ["read"]
[[key]]
id = "g"
secret = "g-secret"
tenant = "globex"
"#;
    let gw = Gateway::builder().keys(keys).start();
    for (key, tenant) in [("w:w-secret", "acme"), ("g:g-secret", "globex")] {
        let auth = format!("Bearer {key}");
        let r = gw.post(
            "/v1/logs",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            format!(r#"{{"msg":"{tenant}"}}"#).as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(gw.get("/api/v1/status").status, 401);
    assert_eq!(gw.get("/api/v1/files").status, 401);
    let write_only = [("authorization", "Bearer w:w-secret")];
    assert_eq!(gw.get_with("/api/v1/status", &write_only).status, 403);
    let read = [("authorization", "Bearer r:r-secret")];
    let s = gw.get_with("/api/v1/status", &read);
    assert_eq!(s.status, 200, "{}", s.text);
    let s = s.json();
    assert_eq!(s["tenant"], "acme");
    let today: Vec<&str> = s["today"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(today, ["acme"], "another tenant's file is not shown");
    assert!(s["ingest"]["totals"]["tenants"].get("globex").is_none());
    assert_eq!(
        s["ingest"]["totals"]["accepted"], 2,
        "gateway-wide counters"
    );
    let files = gw.get_with("/api/v1/files", &read).json();
    assert_eq!(files["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(files["tenants"][0]["tenant"], "acme");
    assert_eq!(
        gw.get_with("/api/v1/files?tenant=globex", &read).status,
        403
    );
    // The console itself is static and open; what it shows needs the key.
    assert_eq!(gw.get("/ui/").status, 200);
}
