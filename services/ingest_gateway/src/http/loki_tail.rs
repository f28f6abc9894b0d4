//! Loki's live tail, `GET /loki/api/v1/tail` over a WebSocket: what
//! Grafana's "Live" button and `logcli query --tail` open. Each stored line
//! that matches is sent as one text frame in Loki's shape,
//! `{"streams":[{"stream":{labels},"values":[["<ns>","<line>"]]}],"dropped_entries":null}`,
//! driven by the same [`Tail`] as `/v1/tail`: nothing is dropped (a slow
//! reader holds the tail back), a ping every 15 s when idle.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{header, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::error::ApiError;
use super::read;
use super::stream::{self, Body};
use super::tail::{self as tails, Formatter};
use super::AppState;
use crate::read::logql::Query;
use crate::read::tail::{Start, Tail};
use crate::read::timearg::{now_ns, parse_time};

/// Answers the upgrade and starts the tail.
pub(super) fn tail(
    mut req: Request<Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let (params, tenant) = read::begin(&req, state, peer_cn)?;
    let Query::Logs(q) = read::parse_query(&params)? else {
        return Err(ApiError::BadQuery(
            "a tail follows lines: give a log query".into(),
        ));
    };
    let filter = read::compile(&q)?;
    let start = match params.get("start") {
        Some(v) => Start::Since(
            parse_time("start", v, now_ns()).map_err(|e| ApiError::BadQuery(e.to_string()))?,
        ),
        None => Start::Now,
    };
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| derive_accept_key(k.as_bytes()));
    let (true, Some(accept)) = (upgrade, key) else {
        return Err(ApiError::BadQuery(
            "the Loki tail is a WebSocket: send an Upgrade request".into(),
        ));
    };
    let slot = tails::tail_slot(state, &tenant)?;
    let tail = Tail::new(Arc::clone(&state.store), tenant.clone(), filter, start)
        .map_err(|e| ApiError::ReadFailed(e.to_string()))?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let st = Arc::clone(state);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let (tx, rx) = mpsc::channel(stream::CHANNEL_CHUNKS);
        let frame: Formatter = Box::new(move |out, _id, line| {
            let ts = crate::read::line::ts_nanos(line).unwrap_or_default();
            let labels = super::loki::stream_labels(line, &tenant);
            let text = String::from_utf8_lossy(line);
            let f = json!({"streams": [{"stream": labels, "values": [[ts.to_string(), text]]}], "dropped_entries": null});
            let _ = serde_json::to_writer(&mut *out, &f);
            out.push(b'\n');
        });
        tokio::spawn(tails::follow(st, tail, tx, slot, frame, b"\n"));
        pump(ws, rx).await;
    });
    let mut resp = Response::new(stream::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    h.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    Ok(resp)
}

/// Sends the tail's frames (one per line; an empty line is the keep-alive
/// ping) until either side closes.
async fn pump(
    ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    mut rx: mpsc::Receiver<Bytes>,
) {
    let (mut sink, mut incoming) = ws.split();
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(chunk) = chunk else { break };
                for line in chunk.split(|b| *b == b'\n') {
                    let msg = if line.is_empty() {
                        if chunk.len() > 1 { continue; }
                        Message::Ping(Bytes::new())
                    } else {
                        Message::Text(String::from_utf8_lossy(line).into_owned().into())
                    };
                    if sink.send(msg).await.is_err() {
                        return;
                    }
                }
            }
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = sink.close().await;
}
