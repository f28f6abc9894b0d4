//! Hand-written HTTP/1.1 over a plain `TcpStream`, for requests an HTTP client
//! library will not send: a `Content-Length` that promises more than is sent, a
//! chunked body, no `Content-Type` at all, exact header bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::Resp;

/// Sends `request` (complete HTTP/1.1 bytes, as given) to `addr` and reads one
/// response. Reads until the declared length, the end of the chunked body, or EOF.
///
/// # Panics
/// If the connection fails, the response is malformed, or nothing arrives within 30 s.
pub fn raw_request(addr: &str, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(request).expect("write request");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = s
            .read(&mut chunk)
            .unwrap_or_else(|e| panic!("read response head: {e}"));
        assert!(
            n > 0,
            "connection closed before a response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let chunked =
        header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length: Option<usize> = header("content-length").and_then(|v| v.parse().ok());
    loop {
        let complete = match (chunked, length) {
            (true, _) => dechunk(&body).is_some(),
            (false, Some(len)) => body.len() >= len,
            (false, None) => false,
        };
        if complete {
            break;
        }
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("read response body: {e}"),
        }
    }
    let body = if chunked {
        dechunk(&body).unwrap_or_else(|| {
            panic!(
                "truncated chunked body: {:?}",
                String::from_utf8_lossy(&body)
            )
        })
    } else {
        body.truncate(length.unwrap_or(body.len()));
        body
    };
    Resp {
        status,
        headers,
        text: String::from_utf8_lossy(&body).to_string(),
    }
}

/// Builds a `POST` request with `Connection: close`, the given extra header lines
/// (`"Name: value"`), a `Content-Length` for `body`, and the body itself.
pub fn post_request(path: &str, header_lines: &[&str], body: &[u8]) -> Vec<u8> {
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for h in header_lines {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = req.into_bytes();
    out.extend_from_slice(body);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a complete chunked body; `None` while it is incomplete.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = find(data, b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks_complete_bodies_only() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"3\r\nabc\r\n2\r\nd").is_none());
    }
}
