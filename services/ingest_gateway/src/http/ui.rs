//! The web console (SPEC §10): a single-page app embedded in the binary,
//! served at `/ui/` (and at `/` to a browser), plus the routing of the JSON
//! endpoints it polls (`/api/v1/status`, `/api/v1/files`).
//!
//! The bundle is `services/ingest_gateway/ui/dist/` (built by esbuild from
//! `ui/src/`, checked in; see `docs/console.md`), included with
//! `include_bytes!`, so the console works air-gapped and needs no Node at
//! build time. Each asset is gzipped once, at first use, and served
//! compressed to clients that accept gzip, with an `ETag`, `Cache-Control:
//! no-cache` (revalidate: a new binary never serves a stale console) and a
//! Content-Security-Policy allowing only the gateway itself.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::stream::Body;
use super::{files, status, AppState};

/// One file of the bundle.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../../ui/dist/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../ui/dist/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../ui/dist/app.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../ui/dist/favicon.svg"),
    },
];

const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// An asset's gzip form and its ETag, made once.
struct Packed {
    gzip: Vec<u8>,
    etag: String,
}

fn packed(i: usize) -> &'static Packed {
    static PACKED: OnceLock<Vec<Packed>> = OnceLock::new();
    &PACKED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                use std::io::Write;
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                let _ = enc.write_all(a.bytes);
                Packed {
                    gzip: enc.finish().unwrap_or_default(),
                    etag: format!("\"{:08x}-{}\"", crc32fast::hash(a.bytes), a.bytes.len()),
                }
            })
            .collect()
    })[i]
}

/// Whether `Accept-Encoding` allows gzip (`gzip` listed without `q=0`).
fn accepts_gzip(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let zero = parts.any(|p| p.replace(' ', "") == "q=0" || p == "q=0.0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !zero
        })
}

/// Whether `Accept` puts `text/html` before JSON (a browser navigating to `/`).
fn prefers_html(req: &Request<Incoming>) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let html = accept.find("text/html");
    let json = accept.find("application/json");
    match (html, json) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

fn boxed(resp: Response<Full<Bytes>>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, body.boxed())
}

fn redirect(to: &'static str) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::FOUND;
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    boxed(resp)
}

fn serve_asset(req: &Request<Incoming>, i: usize) -> Response<Body> {
    let asset = &ASSETS[i];
    let p = packed(i);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == p.etag));
    let gzip = accepts_gzip(req);
    let body = match (fresh, gzip, req.method() == Method::HEAD) {
        (true, ..) | (_, _, true) => Bytes::new(),
        (false, true, false) => Bytes::from_static(p.gzip.as_slice()),
        (false, false, false) => Bytes::from_static(asset.bytes),
    };
    let mut resp = Response::new(Full::new(body));
    if fresh {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if let Ok(v) = HeaderValue::from_str(&p.etag) {
        h.insert(header::ETAG, v);
    }
    if gzip && !fresh {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    boxed(resp)
}

/// The console's routes; `None` for every other request (it goes on to the
/// other routes — `POST /` stays an ingest alias).
pub(super) async fn route(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Option<Response<Body>> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let path = req.uri().path();
    let answer = match path {
        "/api/v1/status" => status::status(req, state, peer_cn),
        "/api/v1/files" => files::files(req, state, peer_cn).await,
        _ if !state.console.ui => return None,
        "/" if prefers_html(req) => return Some(redirect("/ui/")),
        "/ui" => return Some(redirect("/ui/")),
        "/ui/" => return Some(serve_asset(req, 0)),
        _ => {
            let name = path.strip_prefix("/ui/")?;
            let i = ASSETS.iter().position(|a| a.name == name)?;
            return Some(serve_asset(req, i));
        }
    };
    Some(boxed(answer.unwrap_or_else(|e| e.into_response())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_small_and_references_only_itself() {
        let total: usize = (0..ASSETS.len()).map(|i| packed(i).gzip.len()).sum();
        assert!(total <= 300 * 1024, "console is {total} bytes gzipped");
        for a in ASSETS {
            let text = String::from_utf8_lossy(a.bytes);
            for external in ["http://", "https://", "//cdn", "fonts.googleapis"] {
                let hits: Vec<_> = text
                    .match_indices(external)
                    .map(|(i, _)| &text[i..(i + 60).min(text.len())])
                    .filter(|s| !s.starts_with("http://www.w3.org/"))
                    .collect();
                assert!(hits.is_empty(), "{} references {hits:?}", a.name);
            }
        }
    }
}
