//! Live channel load: delivery latency of one event to 1,000 and 5,000
//! connected clients, and resident memory per idle connection, for
//! Flightdeck's `/ws` and, side by side in the same run, a bare tokio
//! broadcast WebSocket server written for the comparison. Run:
//! `cargo bench --features ssr --bench live` (set `FLIGHTDECK_LIVE_CLIENTS`
//! to change the sizes, default `1000,5000`).
//!
//! Each server runs as its own process (Flightdeck: the real binary on
//! SQLite; bare: this program re-run with `--bare-server`), so its memory
//! is its own and the clients' file descriptors are not. The clients run
//! here, on the same two cores, so latencies include their own scheduling.
//!
//! Latency of a round: from just before the HTTP request that causes the
//! event (Flightdeck: `trigger_deployment`, whose `queued` deployment
//! message is timed; bare: `POST /publish`) to each client's receipt of it.

#[path = "../tests/common/mod.rs"]
mod common;

use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ROUNDS: usize = 20;

/// Nanoseconds since the start of the run, shared by publisher and clients.
fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

struct Clients {
    /// When each client received its first message of the round (0: not yet).
    slots: Arc<Vec<AtomicU64>>,
    /// Whether a round is on.
    armed: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn connect_clients(url: &str, cookie: Option<&str>, n: usize, epoch: Instant) -> Clients {
    let slots: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let armed = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(n);
    let mut index = 0;
    while index < n {
        let batch = (n - index).min(100);
        let mut pending = Vec::new();
        for _ in 0..batch {
            let mut req = url.into_client_request().expect("request");
            if let Some(c) = cookie {
                req.headers_mut()
                    .insert("cookie", c.parse().expect("cookie"));
            }
            pending.push(tokio_tungstenite::connect_async(req));
        }
        for socket in futures::future::join_all(pending).await {
            let (mut socket, _) = socket.expect("connect");
            let (slots, armed, i) = (slots.clone(), armed.clone(), index);
            index += 1;
            tasks.push(tokio::spawn(async move {
                while let Some(Ok(msg)) = socket.next().await {
                    if let Message::Text(text) = msg
                        && armed.load(Ordering::Acquire)
                        && !text.contains("\"heartbeat\"")
                    {
                        let _ = slots[i].compare_exchange(
                            0,
                            now_ns(epoch),
                            Ordering::AcqRel,
                            Ordering::Relaxed,
                        );
                    }
                }
            }));
        }
    }
    Clients {
        slots,
        armed,
        tasks,
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1e6
}

/// Runs the rounds: `prepare` waits until the server is quiet, then the
/// clock starts, `cause` makes the server send one event, and each
/// client's first message after the start is timed.
async fn measure<P, PF, C, CF>(
    clients: &Clients,
    epoch: Instant,
    mut prepare: P,
    mut cause: C,
) -> (f64, f64, f64)
where
    P: FnMut() -> PF,
    PF: std::future::Future<Output = ()>,
    C: FnMut(usize) -> CF,
    CF: std::future::Future<Output = ()>,
{
    let mut all = Vec::new();
    for round in 0..ROUNDS {
        prepare().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        for slot in clients.slots.iter() {
            slot.store(0, Ordering::Release);
        }
        let start = now_ns(epoch);
        clients.armed.store(true, Ordering::Release);
        cause(round).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let done = clients.slots.iter().all(|s| s.load(Ordering::Acquire) != 0);
            if done || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        clients.armed.store(false, Ordering::Release);
        let got: Vec<u64> = clients
            .slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .collect();
        assert!(
            got.iter().all(|t| *t != 0),
            "round {round}: every client got the event"
        );
        all.extend(got.into_iter().map(|t| t.saturating_sub(start)));
    }
    all.sort_unstable();
    (
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
    )
}

async fn bare_server(port: u16) {
    use axum::extract::ws::{Message as M, WebSocketUpgrade};
    use axum::routing::{get, post};
    let (tx, _) = tokio::sync::broadcast::channel::<axum::extract::ws::Utf8Bytes>(4096);
    let sub = tx.clone();
    let app = axum::Router::new()
        .route(
            "/ws",
            get(move |ws: WebSocketUpgrade| {
                let mut rx = sub.subscribe();
                async move {
                    ws.on_upgrade(move |mut socket| async move {
                        while let Ok(text) = rx.recv().await {
                            if socket.send(M::Text(text)).await.is_err() {
                                break;
                            }
                        }
                    })
                }
            }),
        )
        .route(
            "/publish",
            post(move |body: String| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(body.into());
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

async fn wait_http(url: &str) {
    common::eventually(url, Duration::from_secs(15), || async {
        reqwest::get(url).await.ok().map(|_| ())
    })
    .await
}

struct Row {
    server: &'static str,
    clients: usize,
    p50: f64,
    p99: f64,
    max: f64,
    kib_per_conn: f64,
}

async fn run_bare(n: usize, epoch: Instant) -> Row {
    let port = common::binary::free_port();
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--bare-server", &port.to_string()])
        .spawn()
        .expect("bare server");
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{base}/ws")).await;
    let idle = common::binary::rss_kib(child.id());
    let clients = connect_clients(&format!("ws://127.0.0.1:{port}/ws"), None, n, epoch).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kib_per_conn = (common::binary::rss_kib(child.id()) as f64 - idle as f64) / n as f64;
    let http = reqwest::Client::new();
    let publish = format!("{base}/publish");
    let (p50, p99, max) = measure(
        &clients,
        epoch,
        || async {},
        |round| {
            let (http, url) = (http.clone(), publish.clone());
            async move {
                http.post(&url)
                    .body(format!(r#"{{"type":"bench","round":{round}}}"#))
                    .send()
                    .await
                    .expect("publish");
            }
        },
    )
    .await;
    for t in &clients.tasks {
        t.abort();
    }
    let _ = child.kill();
    let _ = child.wait();
    Row {
        server: "bare tokio broadcast",
        clients: n,
        p50,
        p99,
        max,
        kib_per_conn,
    }
}

async fn run_flightdeck(n: usize, epoch: Instant) -> Row {
    let dir = tempfile::tempdir().expect("dir");
    let pipelines = dir.path().join("pipelines.toml");
    std::fs::write(
        &pipelines,
        "[pipelines.restart]\noperation_name = \"Restart {site}\"\n[[pipelines.restart.steps]]\nname = \"Start\"\nrun = \"true\"\n",
    )
    .expect("pipelines");
    let args = [
        format!("--data-dir={}", dir.path().display()),
        format!("--pipelines={}", pipelines.display()),
        "--demo=0".to_string(),
    ];
    let server = common::binary::spawn(dir.path(), &args, &[("RUST_LOG", "error")], None).await;
    let base = server.base.clone();
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .expect("client");
    let form = [
        ("email", "load@example.com"),
        ("password", "load test password"),
        ("name", "Load"),
        ("team", "Load"),
    ];
    http.post(format!("{base}/api/sign_up"))
        .form(&form)
        .send()
        .await
        .expect("sign up");
    let site: serde_json::Value = http
        .post(format!("{base}/api/create_site"))
        .form(&[
            ("name", "Load"),
            ("repository", "https://github.com/acme/load"),
            ("branch", "main"),
        ])
        .send()
        .await
        .expect("site")
        .json()
        .await
        .expect("json");
    let site_id = site["id"].as_str().expect("site id").to_string();
    use reqwest::cookie::CookieStore;
    let cookie = jar.cookies(&base.parse().expect("url")).expect("cookie");
    let cookie = cookie.to_str().expect("cookie text").to_string();
    let get_site = format!("{base}/api/get_site");
    // Let the site's first operations finish before measuring.
    let idle_site = || {
        let (http, url, site_id) = (http.clone(), get_site.clone(), site_id.clone());
        async move {
            common::eventually("the site is free", Duration::from_secs(60), || async {
                let site: serde_json::Value = http
                    .post(&url)
                    .form(&[("id", site_id.as_str())])
                    .send()
                    .await
                    .expect("site")
                    .json()
                    .await
                    .expect("json");
                site["active_deployment"].is_null().then_some(())
            })
            .await
        }
    };
    idle_site().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.rss_kib();
    let clients = connect_clients(
        &format!("ws://127.0.0.1:{}/ws", server.port),
        Some(&cookie),
        n,
        epoch,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kib_per_conn = (server.rss_kib() as f64 - idle as f64) / n as f64;
    let trigger = format!("{base}/api/trigger_deployment");
    let (p50, p99, max) = measure(
        &clients,
        epoch,
        // The site runs one operation at a time: wait out the last one, so
        // its remaining events are delivered before the clock starts.
        idle_site,
        |_| {
            let (http, url, site_id) = (http.clone(), trigger.clone(), site_id.clone());
            async move {
                let res = http
                    .post(&url)
                    .form(&[("site_id", site_id.as_str()), ("kind", "restart")])
                    .send()
                    .await
                    .expect("trigger");
                assert!(res.status().is_success(), "trigger: {}", res.status());
            }
        },
    )
    .await;
    for t in &clients.tasks {
        t.abort();
    }
    drop(server);
    Row {
        server: "Flightdeck /ws",
        clients: n,
        p50,
        p99,
        max,
        kib_per_conn,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if let Some(i) = args.iter().position(|a| a == "--bare-server") {
        let port = args[i + 1].parse().expect("port");
        runtime.block_on(bare_server(port));
        return;
    }
    let sizes: Vec<usize> = std::env::var("FLIGHTDECK_LIVE_CLIENTS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1000, 5000]);
    let epoch = Instant::now();
    runtime.block_on(async {
        let mut rows = Vec::new();
        for &n in &sizes {
            rows.push(run_flightdeck(n, epoch).await);
            rows.push(run_bare(n, epoch).await);
        }
        println!("\n| server | clients | p50 | p99 | max | RSS per idle connection |");
        println!("|---|---|---|---|---|---|");
        for r in rows {
            println!(
                "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} KiB |",
                r.server, r.clients, r.p50, r.p99, r.max, r.kib_per_conn
            );
        }
    });
}
