//! The tests' HTTP client: one [`Resp`] shape (status, headers, body text)
//! for every request a test makes, and [`try_post`] for clients racing a
//! shutdown.

use std::time::Duration;

/// A response as the tests see it.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Raw body text.
    pub text: String,
}

impl Resp {
    /// Body parsed as JSON (panics with the body if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text))
    }

    /// First header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub(crate) fn to_resp(r: Result<http_resp::Response, ureq::Error>) -> Resp {
    read_resp(r.expect("HTTP request failed"), true).expect("lenient read")
}

/// Status, headers and body text; an unreadable body is `""` if `lenient`, else `Err`.
fn read_resp(mut r: http_resp::Response, lenient: bool) -> Result<Resp, String> {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = match r.body_mut().read_to_string() {
        Ok(t) => t,
        Err(_) if lenient => String::new(),
        Err(e) => return Err(e.to_string()),
    };
    Ok(Resp {
        status,
        headers,
        text,
    })
}

/// POSTs to a full URL, returning transport failures (refused, reset, unreadable
/// body) as `Err` instead of panicking: for clients racing a shutdown.
pub fn try_post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Resp, String> {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read_resp(req.send(body).map_err(|e| e.to_string())?, false)
}

pub(crate) mod http_resp {
    pub type Response = ureq::http::Response<ureq::Body>;
}
