//! The ClickHouse target: one `INSERT INTO db.table FORMAT JSONEachRow` per
//! batch over the HTTP interface, the stored lines as the body (gzip unless
//! `LOGOPS_CLICKHOUSE_COMPRESSION=none`), and how
//! the answer is classified (acknowledged / retry / refused).
//!
//! Settings sent with every insert: `input_format_skip_unknown_fields=1`
//! (fields without a column are dropped, so the table chooses its columns)
//! and `date_time_input_format=best_effort` (RFC 3339 `ts` loads into
//! `DateTime`/`DateTime64`). The user and password go in an HTTP Basic
//! header marked sensitive; they are never logged or shown.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::store::{InsertFuture, Outcome, Store};
use super::{ClickHouseConfig, Compression};

/// Error text kept from an answer (the first line, at most this long).
const DETAIL_MAX: usize = 300;

/// A ClickHouse HTTP endpoint for one table.
#[derive(Debug)]
pub struct ClickHouse {
    client: Client<HttpConnector, Full<Bytes>>,
    insert_uri: Uri,
    auth: HeaderValue,
    timeout: Duration,
    endpoint: String,
    compression: Compression,
}

impl ClickHouse {
    /// The client for `cfg`'s table; `timeout` bounds one insert.
    pub fn new(cfg: &ClickHouseConfig, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        // ClickHouse closes idle keep-alive connections after 3 s by default.
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(2))
            .build(connector);
        let query = format!(
            "INSERT INTO {}.{} FORMAT JSONEachRow",
            cfg.database, cfg.table
        );
        let qs = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", &query)
            .append_pair("input_format_skip_unknown_fields", "1")
            .append_pair("date_time_input_format", "best_effort")
            .finish();
        let base = cfg.url.to_string();
        let base = base.trim_end_matches('/');
        let insert_uri: Uri = format!("{base}/?{qs}")
            .parse()
            .unwrap_or_else(|_| cfg.url.clone());
        let credentials = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", cfg.user, cfg.password.expose()),
        );
        let mut auth = HeaderValue::from_str(&format!("Basic {credentials}"))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        auth.set_sensitive(true);
        ClickHouse {
            client,
            insert_uri,
            auth,
            timeout,
            endpoint: format!("{base} {}.{}", cfg.database, cfg.table),
            compression: cfg.compression,
        }
    }

    /// One insert of `body`.
    async fn send(&self, body: Bytes) -> Outcome {
        let mut req = Request::post(self.insert_uri.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, "application/x-ndjson");
        if let Some(encoding) = self.compression.content_encoding() {
            req = req.header(CONTENT_ENCODING, encoding);
        }
        let req = req.body(Full::new(body));
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Refused {
                    reason: "request",
                    detail: e.to_string(),
                }
            }
        };
        let call = async {
            let resp = self.client.request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, body))
        };
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Outcome::Retry {
                reason: "timeout",
                detail: format!("no answer within {} ms", self.timeout.as_millis()),
            },
            Ok(Err(e)) => Outcome::Retry {
                reason: "connect",
                detail: error_chain(e.as_ref()),
            },
            Ok(Ok((status, body))) => classify(status, &String::from_utf8_lossy(&body)),
        }
    }
}

impl Store for ClickHouse {
    /// `URL db.table` (no credentials).
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn encode(&self, lines: Bytes) -> std::io::Result<Bytes> {
        match self.compression {
            Compression::Gzip => super::batch::gzip(&lines),
            Compression::Plain => Ok(lines),
        }
    }

    fn insert(&self, body: Bytes) -> InsertFuture<'_> {
        Box::pin(self.send(body))
    }
}

/// ClickHouse error codes that no retry fixes, whatever HTTP status came
/// with them (older servers answer some parse errors with 500): unknown
/// table, database or column, values that do not parse into or fit their
/// column, and credentials.
const REFUSED_CODES: &[(u32, &str)] = &[
    (16, "rejected"),      // NO_SUCH_COLUMN_IN_TABLE
    (6, "rejected"),       // CANNOT_PARSE_TEXT
    (26, "rejected"),      // CANNOT_PARSE_QUOTED_STRING
    (27, "rejected"),      // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    (38, "rejected"),      // CANNOT_PARSE_DATE
    (41, "rejected"),      // CANNOT_PARSE_DATETIME
    (53, "rejected"),      // TYPE_MISMATCH
    (60, "unknown_table"), // UNKNOWN_TABLE
    (69, "rejected"),      // ARGUMENT_OUT_OF_BOUND
    (70, "rejected"),      // CANNOT_CONVERT_TYPE
    (72, "rejected"),      // CANNOT_PARSE_NUMBER
    (81, "unknown_table"), // UNKNOWN_DATABASE
    (117, "rejected"),     // INCORRECT_DATA
    (164, "auth"),         // READONLY
    (192, "auth"),         // UNKNOWN_USER
    (193, "auth"),         // WRONG_PASSWORD
    (497, "auth"),         // ACCESS_DENIED
    (516, "auth"),         // AUTHENTICATION_FAILED
];

/// The `Code: N` ClickHouse starts its error text with.
fn error_code(first_line: &str) -> Option<u32> {
    let rest = first_line.strip_prefix("Code: ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The answer's meaning: 2xx acknowledged; 408, 429 and 5xx retried; any
/// other 4xx refused (ClickHouse answers 404 for an unknown table, 400 for
/// lines that do not fit the columns, 401/403 for credentials) — and so is
/// a 5xx carrying one of [`REFUSED_CODES`].
pub fn classify(status: StatusCode, body: &str) -> Outcome {
    if status.is_success() {
        return Outcome::Acked;
    }
    let first = body.lines().next().unwrap_or("").trim();
    let mut detail = format!("HTTP {}: {}", status.as_u16(), first);
    if detail.len() > DETAIL_MAX {
        let mut cut = DETAIL_MAX;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push('…');
    }
    let refused = error_code(first).and_then(|c| REFUSED_CODES.iter().find(|(code, _)| *code == c));
    if let Some((_, reason)) = refused {
        return Outcome::Refused { reason, detail };
    }
    match status.as_u16() {
        408 | 429 => Outcome::Retry {
            reason: "throttled",
            detail,
        },
        401 | 403 => Outcome::Refused {
            reason: "auth",
            detail,
        },
        404 => Outcome::Refused {
            reason: "unknown_table",
            detail,
        },
        400..=499 => Outcome::Refused {
            reason: "rejected",
            detail,
        },
        _ => Outcome::Retry {
            reason: "server_error",
            detail,
        },
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(StatusCode::OK, ""), Outcome::Acked);
        let missing =
            "Code: 60, e.displayText() = DB::Exception: Table default.nope doesn't exist.";
        assert!(
            matches!(classify(StatusCode::NOT_FOUND, missing), Outcome::Refused { reason: "unknown_table", detail } if detail.contains("doesn't exist"))
        );
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, "Code: 72"),
            Outcome::Refused {
                reason: "rejected",
                ..
            }
        ));
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, "Code: 193"),
            Outcome::Refused { reason: "auth", .. }
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, ""),
            Outcome::Retry {
                reason: "server_error",
                ..
            }
        ));
        assert!(matches!(
            classify(StatusCode::INTERNAL_SERVER_ERROR, ""),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, ""),
            Outcome::Retry {
                reason: "throttled",
                ..
            }
        ));
        let Outcome::Refused { detail, .. } = classify(StatusCode::BAD_REQUEST, &"é".repeat(400))
        else {
            panic!()
        };
        assert!(detail.len() <= DETAIL_MAX + 3);
    }

    fn client(compression: Compression) -> ClickHouse {
        ClickHouse::new(
            &ClickHouseConfig {
                url: "http://127.0.0.1:8123/".parse().unwrap(),
                database: "logs_db".into(),
                table: "events".into(),
                user: "logops".into(),
                password: Secret::new("hunter2hunter2"),
                compression,
            },
            Duration::from_secs(1),
        )
    }

    #[test]
    fn bodies_are_gzip_or_the_lines_as_stored() {
        let lines = Bytes::from_static(b"{\"n\":1}\n{\"n\":2}\n");
        let plain = client(Compression::Plain).encode(lines.clone()).unwrap();
        assert_eq!(plain, lines);
        let gz = client(Compression::Gzip).encode(lines.clone()).unwrap();
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back).unwrap();
        assert_eq!(back, lines);
    }

    #[test]
    fn the_insert_names_table_settings_and_hides_the_password() {
        let ch = client(Compression::Gzip);
        let q = ch.insert_uri.query().unwrap();
        assert!(
            q.contains("query=INSERT+INTO+logs_db.events+FORMAT+JSONEachRow"),
            "{q}"
        );
        assert!(q.contains("input_format_skip_unknown_fields=1"));
        assert!(q.contains("date_time_input_format=best_effort"));
        assert_eq!(ch.endpoint(), "http://127.0.0.1:8123 logs_db.events");
        assert!(ch.auth.is_sensitive());
        let encoded = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "logops:hunter2hunter2",
        );
        let debug = format!("{ch:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains(&encoded),
            "{debug}"
        );
    }
}
