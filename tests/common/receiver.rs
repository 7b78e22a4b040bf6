//! A real HTTP server on loopback that receives notification hooks: it
//! records every request and answers as a test scripts it (a status, or
//! no answer at all).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use flightdeck::model::NotificationBody;
use flightdeck::server::notifications::message::signature;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    /// Never answers (the sender times out, or dies waiting).
    Hang,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn event(&self) -> &str {
        self.header("x-flightdeck-event")
    }

    pub fn delivery(&self) -> &str {
        self.header("x-flightdeck-delivery")
    }

    pub fn body(&self) -> NotificationBody {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not a notification body ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json body")
    }

    /// Whether the signature header is the HMAC of the timestamp and the
    /// body with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Ok(timestamp) = self.header("x-flightdeck-timestamp").parse::<i64>() else {
            return false;
        };
        self.header("x-flightdeck-signature-256") == signature(secret, timestamp, &self.body)
    }
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: mpsc::UnboundedSender<Received>,
}

pub struct Receiver {
    /// Where hooks should post.
    pub url: String,
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: mpsc::UnboundedReceiver<Received>,
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let reply = shared
        .script
        .lock()
        .expect("script")
        .pop_front()
        .unwrap_or(Reply::Status(200));
    let _ = shared.seen.send(Received {
        headers,
        body: body.to_vec(),
        at: std::time::Instant::now(),
    });
    match reply {
        Reply::Status(code) => StatusCode::from_u16(code).expect("status"),
        Reply::Hang => std::future::pending().await,
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let (tx, seen) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let shared = Shared {
            script: script.clone(),
            seen: tx,
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, script, seen }
    }

    /// The next answers, in order; after them, 200.
    pub fn script(&self, replies: &[Reply]) {
        self.script
            .lock()
            .expect("script")
            .extend(replies.iter().copied());
    }

    /// The next request, within `within`.
    pub async fn next(&mut self, within: Duration) -> Received {
        tokio::time::timeout(within, self.seen.recv())
            .await
            .unwrap_or_else(|_| panic!("no notification within {within:?}"))
            .expect("receiver open")
    }

    /// The next `n` requests, each within `within` of the one before.
    pub async fn take(&mut self, n: usize, within: Duration) -> Vec<Received> {
        let mut all = Vec::with_capacity(n);
        for _ in 0..n {
            all.push(self.next(within).await);
        }
        all
    }

    /// Whatever arrives within `within`.
    pub async fn drain(&mut self, within: Duration) -> Vec<Received> {
        let mut all = Vec::new();
        while let Ok(Some(r)) = tokio::time::timeout(within, self.seen.recv()).await {
            all.push(r);
        }
        all
    }
}
