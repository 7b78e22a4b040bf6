//! Live channel load (issue 15): Flightdeck's `/ws` side by side, in one
//! run, with a bare tokio broadcast server written for the comparison and
//! with Sockudo (Pusher protocol), on the same work. Run with
//! `./dev bench-live` (which installs Sockudo into `.tools/` when it is
//! missing), or `cargo bench --features ssr --bench live` with
//! `SOCKUDO_BIN` naming a Sockudo binary (without it, Sockudo is left out).
//!
//! Settings: `FLIGHTDECK_LIVE_CLIENTS` (one-to-N sizes, default
//! `1000,2000,5000,10000`), `FLIGHTDECK_LIVE_ROUNDS` (default 20),
//! `FLIGHTDECK_LIVE_SCENARIOS` (any of `one,teams,bursts`, default all),
//! `FLIGHTDECK_LIVE_SERVERS` (any of `flightdeck,bare,sockudo`),
//! `FLIGHTDECK_LIVE_LIMIT_SECS` (the whole run's limit, default 2400: past
//! it the tool stops its servers and fails).
//!
//! Every server runs as its own process; the clients run in several
//! processes of this program (`--clients`), each from a loopback address of
//! its own (127.0.0.2, .3, ...), so 10,000 and more sockets fit under the
//! open-files limit of a process and the ephemeral ports of an address.
//! The orchestrator talks to them over their stdin and stdout, one line
//! per command. Every message an event causes carries an increasing id
//! (Flightdeck: its stream position; the others: a sequence number the
//! tool publishes), and every client checks it: no id twice, none missing
//! (Flightdeck's expected ids are read back from the server's SQLite
//! database; the others' are the ones the tool published).
//!
//! Scenarios:
//! - **one**: one event to N sockets of one team; R rounds; the connect of
//!   the largest N is the connect storm (every client process at once).
//! - **teams**: one event to one team of 100 sockets, alone, and then among
//!   100 teams of 100 (10,000 sockets).
//! - **bursts** (Flightdeck): 20 sites of one team deploy at once, each
//!   step printing 200 lines/s for 10 s, watched by 1,000 sockets: line
//!   latency from the step's `print` to each socket.
//!
//! Each client process takes its sockets' messages in 1 ms ticks
//! (`FLIGHTDECK_LIVE_TICK_MS`; 0 wakes it for every message), the same for
//! every server: see `clients_main`.
//!
//! Latency of a round is from just before the HTTP request that causes the
//! event (Flightdeck: `trigger_deployment`, whose `queued` message is
//! timed; bare: `POST /publish`; Sockudo: a signed `POST
//! /apps/<id>/events`) to each client's receipt, on one clock (the
//! realtime clock, shared by the processes of one machine).

#[path = "../tests/common/mod.rs"]
mod common;

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Nanoseconds on the realtime clock, comparable between processes.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// An order-dependent digest of a socket's ids, for the gap check.
fn mix(hash: u64, id: i64) -> u64 {
    (hash ^ id as u64).wrapping_mul(0x0100_0000_01b3)
}
const HASH_START: u64 = 0xcbf2_9ce4_8422_2325;

// ---------------------------------------------------------------------------
// Latency histograms: 0.1 ms buckets, merged across processes.

#[derive(Default, Clone)]
struct Hist(BTreeMap<u64, u64>);

impl Hist {
    fn add_ns(&mut self, ns: u64) {
        *self.0.entry(ns / 100_000).or_default() += 1;
    }
    fn encode(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(b, c)| format!("{b}:{c}")).collect();
        if pairs.is_empty() {
            "-".into()
        } else {
            pairs.join(",")
        }
    }
    fn merge_encoded(&mut self, text: &str) {
        for pair in text.split(',').filter(|p| *p != "-") {
            if let Some((b, c)) = pair.split_once(':') {
                *self.0.entry(b.parse().unwrap_or(0)).or_default() += c.parse().unwrap_or(0);
            }
        }
    }
    fn count(&self) -> u64 {
        self.0.values().sum()
    }
    /// The `p` quantile, in ms.
    fn ms(&self, p: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return f64::NAN;
        }
        let rank = ((total as f64 - 1.0) * p).round() as u64;
        let mut seen = 0;
        for (b, c) in &self.0 {
            seen += c;
            if seen > rank {
                return (*b as f64 + 0.5) / 10.0;
            }
        }
        f64::NAN
    }
}

// ---------------------------------------------------------------------------
// Client processes.

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    Flightdeck,
    Bare,
    Pusher,
}

#[derive(Serialize, Deserialize, Clone)]
struct SocketPlan {
    /// Flightdeck: the session cookie.
    cookie: Option<String>,
    /// Pusher: the channel; bare: the `group` query.
    channel: Option<String>,
    /// Which team (group) it belongs to, for the checks.
    group: u32,
}

#[derive(Serialize, Deserialize, Clone)]
struct ClientsPlan {
    protocol: Protocol,
    url: String,
    source: String,
    concurrency: usize,
    sockets: Vec<SocketPlan>,
}

/// Every this many sockets, one reads each burst line for its time and its
/// number; the others count lines (every socket's messages are checked by
/// their positions): the client processes share the server's two cores.
const LINE_SAMPLE: usize = 8;

#[derive(Default)]
struct SocketStats {
    last_id: i64,
    count: u64,
    hash: u64,
    dups: u64,
    resets: u64,
    closed: bool,
    /// Burst lines: the next line number expected of each step.
    next_line: HashMap<u32, u64>,
    /// The unfinished last line of each step's output so far.
    partial: HashMap<String, String>,
    lines: u64,
    line_gaps: u64,
}

struct Shared {
    protocol: Protocol,
    /// Record the first message with an id above this (i64::MAX: off).
    armed_after: AtomicI64,
    got: Vec<AtomicU64>,
    mark: AtomicI64,
    stats: Vec<Mutex<SocketStats>>,
    burst: Mutex<Hist>,
    live: AtomicUsize,
    failed: AtomicUsize,
}

#[derive(Deserialize)]
struct FdMessage {
    #[serde(rename = "type")]
    kind: String,
    position: Option<i64>,
    step_id: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct PusherMessage {
    event: String,
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Seq {
    seq: i64,
}

impl Shared {
    /// Takes one text message of socket `i`; returns whether it was a
    /// Pusher ping to answer.
    fn take(&self, i: usize, text: &str) -> bool {
        let received = now_ns();
        let id = match self.protocol {
            Protocol::Flightdeck => {
                let Ok(m) = serde_json::from_str::<FdMessage>(text) else {
                    return false;
                };
                match m.kind.as_str() {
                    "hello" | "heartbeat" => return false,
                    "reset" => {
                        self.stat(i).resets += 1;
                        return false;
                    }
                    _ => {}
                }
                if let (Some(step), Some(text)) = (&m.step_id, &m.text) {
                    if i.is_multiple_of(LINE_SAMPLE) {
                        self.lines(i, step, text, received);
                    } else {
                        self.stat(i).lines += text.bytes().filter(|b| *b == b'\n').count() as u64;
                    }
                }
                m.position.unwrap_or(0)
            }
            Protocol::Bare => match serde_json::from_str::<Seq>(text) {
                Ok(s) => s.seq,
                Err(_) => return false,
            },
            Protocol::Pusher => {
                let Ok(m) = serde_json::from_str::<PusherMessage>(text) else {
                    return false;
                };
                if m.event == "pusher:ping" {
                    return true;
                }
                if m.event != "bench" {
                    return false;
                }
                let data = match m.data {
                    Some(serde_json::Value::String(s)) => serde_json::from_str::<Seq>(&s).ok(),
                    Some(v) => serde_json::from_value::<Seq>(v).ok(),
                    None => None,
                };
                match data {
                    Some(s) => s.seq,
                    None => return false,
                }
            }
        };
        if id > self.armed_after.load(Ordering::Acquire) {
            let _ = self.got[i].compare_exchange(0, received, Ordering::AcqRel, Ordering::Relaxed);
        }
        if id > self.mark.load(Ordering::Acquire) {
            let mut s = self.stat(i);
            if id <= s.last_id {
                s.dups += 1;
            } else {
                s.last_id = id;
                s.count += 1;
                s.hash = mix(s.hash, id);
            }
        }
        false
    }

    /// Burst output: lines `B <step> <n> <ns>`, timed from their print (a
    /// line cut between two messages is put together first).
    fn lines(&self, i: usize, step_id: &str, text: &str, received: u64) {
        let mut hist = Hist::default();
        let mut s = self.stat(i);
        let mut text = s.partial.remove(step_id).unwrap_or_default() + text;
        match text.rfind('\n') {
            Some(end) => {
                let rest = text.split_off(end + 1);
                if !rest.is_empty() {
                    s.partial.insert(step_id.to_string(), rest);
                }
            }
            None => {
                s.partial.insert(step_id.to_string(), text);
                return;
            }
        }
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            if parts.next() != Some("B") {
                continue;
            }
            let (Some(step), Some(n), Some(ns)) = (
                parts.next().and_then(|p| p.parse::<u32>().ok()),
                parts.next().and_then(|p| p.parse::<u64>().ok()),
                parts.next().and_then(|p| p.parse::<u64>().ok()),
            ) else {
                continue;
            };
            let expected = s.next_line.insert(step, n + 1).unwrap_or(0);
            if n != expected {
                s.line_gaps += 1;
            }
            s.lines += 1;
            hist.add_ns(received.saturating_sub(ns));
        }
        drop(s);
        let mut burst = self.burst.lock().unwrap_or_else(|e| e.into_inner());
        for (b, c) in hist.0 {
            *burst.0.entry(b).or_default() += c;
        }
    }

    fn stat(&self, i: usize) -> std::sync::MutexGuard<'_, SocketStats> {
        self.stats[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Connects socket `i` and waits until it is live (Flightdeck: its hello;
/// Pusher: subscribed; bare: upgraded).
async fn connect_one(plan: &ClientsPlan, i: usize) -> Option<Ws> {
    let socket = &plan.sockets[i];
    let url = match (plan.protocol, &socket.channel) {
        (Protocol::Bare, Some(group)) => format!("{}?group={group}", plan.url),
        _ => plan.url.clone(),
    };
    let uri: tokio_tungstenite::tungstenite::http::Uri = url.parse().ok()?;
    let addr = format!(
        "{}:{}",
        uri.host().unwrap_or("127.0.0.1"),
        uri.port_u16().unwrap_or(80)
    );
    let addr: std::net::SocketAddr = addr.parse().ok()?;
    let source: std::net::IpAddr = plan.source.parse().ok()?;
    for attempt in 0..20 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
        }
        let tcp = tokio::net::TcpSocket::new_v4().ok()?;
        if tcp.bind((source, 0).into()).is_err() {
            continue;
        }
        let Ok(stream) = tcp.connect(addr).await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut req = url.as_str().into_client_request().ok()?;
        if let Some(cookie) = &socket.cookie {
            req.headers_mut().insert("cookie", cookie.parse().ok()?);
        }
        // tungstenite zeroes its whole read buffer before each read: the
        // default 128 KiB made memset the clients' largest cost.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 * 1024);
        let Ok((mut ws, _)) =
            tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await
        else {
            continue;
        };
        let live = match plan.protocol {
            Protocol::Bare => true,
            Protocol::Flightdeck => loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.contains("\"hello\"") => break true,
                    Some(Ok(_)) => {}
                    _ => break false,
                }
            },
            Protocol::Pusher => {
                let mut live = false;
                while let Some(Ok(msg)) = ws.next().await {
                    let Message::Text(t) = msg else { continue };
                    if t.contains("pusher:connection_established") {
                        let channel = socket.channel.clone().unwrap_or_default();
                        let subscribe = serde_json::json!({
                            "event": "pusher:subscribe",
                            "data": { "channel": channel }
                        });
                        if ws
                            .send(Message::Text(subscribe.to_string().into()))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    } else if t.contains("subscription_succeeded") {
                        live = true;
                        break;
                    }
                }
                live
            }
        };
        if live {
            return Some(ws);
        }
    }
    None
}

async fn run_socket(shared: Arc<Shared>, i: usize, mut ws: Ws) {
    while let Some(msg) = ws.next().await {
        match msg {
            Ok(Message::Text(text)) => {
                if shared.take(i, &text) {
                    let pong = r#"{"event":"pusher:pong","data":{}}"#;
                    let _ = ws.send(Message::Text(pong.into())).await;
                }
            }
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    shared.stat(i).closed = true;
}

/// A client process: connects its sockets, says `live <ms> <failed>`,
/// then answers the orchestrator's commands until `quit`.
async fn clients_main() {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let plan: ClientsPlan = match stdin.next_line().await {
        Ok(Some(line)) => serde_json::from_str(&line).expect("plan"),
        _ => return,
    };
    let n = plan.sockets.len();
    let shared = Arc::new(Shared {
        protocol: plan.protocol,
        armed_after: AtomicI64::new(i64::MAX),
        got: (0..n).map(|_| AtomicU64::new(0)).collect(),
        mark: AtomicI64::new(i64::MAX),
        stats: (0..n).map(|_| Mutex::new(SocketStats::default())).collect(),
        burst: Mutex::new(Hist::default()),
        live: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    });
    let tick: u64 = env_number("FLIGHTDECK_LIVE_TICK_MS", 1);
    if tick > 0 {
        // Messages are taken in ticks: the thread sleeps outside epoll, so
        // a message arriving meanwhile wakes nobody, and the next tick
        // takes everything that came (as a network card coalesces its
        // interrupts). Without it, each client process is woken for each
        // message, and on two shared cores those wake-ups are most of what
        // a fan-out costs the sender.
        tokio::spawn(async move {
            loop {
                std::thread::sleep(Duration::from_millis(tick));
                tokio::task::yield_now().await;
            }
        });
    }
    let started = Instant::now();
    let plan = Arc::new(plan);
    let connects = futures::stream::iter(0..n)
        .map(|i| {
            let (plan, shared) = (plan.clone(), shared.clone());
            async move {
                match connect_one(&plan, i).await {
                    Some(ws) => {
                        shared.live.fetch_add(1, Ordering::AcqRel);
                        tokio::spawn(run_socket(shared, i, ws));
                    }
                    None => {
                        shared.failed.fetch_add(1, Ordering::AcqRel);
                    }
                }
            }
        })
        .buffer_unordered(plan.concurrency.max(1));
    connects.collect::<Vec<()>>().await;
    let say = |line: String| line + "\n";
    let _ = stdout
        .write_all(
            say(format!(
                "live {} {}",
                started.elapsed().as_millis(),
                shared.failed.load(Ordering::Acquire)
            ))
            .as_bytes(),
        )
        .await;
    let _ = stdout.flush().await;
    while let Ok(Some(line)) = stdin.next_line().await {
        let mut words = line.split_whitespace();
        let answer = match words.next() {
            Some("arm") => {
                let after: i64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                for g in &shared.got {
                    g.store(0, Ordering::Release);
                }
                shared.armed_after.store(after, Ordering::Release);
                "ok".to_string()
            }
            Some("progress") => shared
                .got
                .iter()
                .filter(|g| g.load(Ordering::Acquire) != 0)
                .count()
                .to_string(),
            Some("collect") => {
                let start: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                shared.armed_after.store(i64::MAX, Ordering::Release);
                let mut hist = Hist::default();
                for g in &shared.got {
                    let t = g.load(Ordering::Acquire);
                    if t != 0 {
                        hist.add_ns(t.saturating_sub(start));
                    }
                }
                hist.encode()
            }
            Some("mark") => {
                let after: i64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                for i in 0..n {
                    let mut s = shared.stat(i);
                    let closed = s.closed;
                    *s = SocketStats {
                        hash: HASH_START,
                        last_id: after,
                        closed,
                        ..SocketStats::default()
                    };
                }
                *shared.burst.lock().unwrap_or_else(|e| e.into_inner()) = Hist::default();
                shared.mark.store(after, Ordering::Release);
                "ok".to_string()
            }
            Some("check") => {
                let rows: Vec<[u64; 8]> = (0..n)
                    .map(|i| {
                        let s = shared.stat(i);
                        [
                            plan.sockets[i].group as u64,
                            s.count,
                            s.hash,
                            s.dups,
                            s.resets,
                            s.closed as u64,
                            s.lines,
                            s.line_gaps,
                        ]
                    })
                    .collect();
                serde_json::to_string(&rows).unwrap_or_default()
            }
            Some("burst") => shared
                .burst
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .encode(),
            Some("quit") | None => break,
            Some(other) => format!("unknown {other}"),
        };
        if stdout.write_all(say(answer).as_bytes()).await.is_err() {
            break;
        }
        let _ = stdout.flush().await;
    }
    std::process::exit(0);
}

// ---------------------------------------------------------------------------
// The orchestrator's side of the client processes.

struct ClientProc {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl ClientProc {
    async fn ask(&mut self, command: &str) -> String {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("client process stdin");
        self.stdin.flush().await.expect("flush");
        self.stdout
            .next_line()
            .await
            .expect("client process stdout")
            .expect("client process answered")
    }
}

/// Sockets spread over client processes.
struct Fleet {
    procs: Vec<ClientProc>,
    /// From the first spawn to the last socket live.
    connect_ms: u128,
}

/// The loopback source address of client process `k` of a fleet.
fn source(fleet: usize, k: usize) -> String {
    format!("127.0.{}.{}", 1 + fleet, 2 + k)
}

impl Fleet {
    async fn start(
        protocol: Protocol,
        url: &str,
        sockets: Vec<SocketPlan>,
        processes: usize,
        fleet_index: usize,
    ) -> Fleet {
        let started = Instant::now();
        let per = sockets.len().div_ceil(processes.max(1));
        let mut procs = Vec::new();
        for (k, chunk) in sockets.chunks(per.max(1)).enumerate() {
            let plan = ClientsPlan {
                protocol,
                url: url.to_string(),
                source: source(fleet_index, k),
                concurrency: 128,
                sockets: chunk.to_vec(),
            };
            let mut child = tokio::process::Command::new(std::env::current_exe().expect("exe"))
                .arg("--clients")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("client process");
            let mut stdin = child.stdin.take().expect("stdin");
            let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
            let line = serde_json::to_string(&plan).expect("plan") + "\n";
            stdin.write_all(line.as_bytes()).await.expect("plan sent");
            stdin.flush().await.expect("flush");
            procs.push(ClientProc {
                child,
                stdin,
                stdout,
            });
        }
        for p in &mut procs {
            let live = p
                .stdout
                .next_line()
                .await
                .expect("live line")
                .expect("client process is live");
            let failed: usize = live
                .split_whitespace()
                .nth(2)
                .and_then(|w| w.parse().ok())
                .unwrap_or(usize::MAX);
            assert_eq!(failed, 0, "{failed} sockets could not connect ({live})");
        }
        Fleet {
            procs,
            connect_ms: started.elapsed().as_millis(),
        }
    }

    async fn ask_all(&mut self, command: &str) -> Vec<String> {
        futures::future::join_all(self.procs.iter_mut().map(|p| p.ask(command))).await
    }

    async fn quit(mut self) {
        for p in &mut self.procs {
            let _ = p.stdin.write_all(b"quit\n").await;
            let _ = p.stdin.flush().await;
        }
        for p in &mut self.procs {
            let _ = tokio::time::timeout(Duration::from_secs(10), p.child.wait()).await;
            let _ = p.child.kill().await;
        }
    }

    /// Every socket's row of the `check`, in socket order.
    async fn check(&mut self) -> Vec<[u64; 8]> {
        let mut rows = Vec::new();
        for answer in self.ask_all("check").await {
            let part: Vec<[u64; 8]> = serde_json::from_str(&answer).expect("check rows");
            rows.extend(part);
        }
        rows
    }
}

/// Resident memory and CPU time (user + system) of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    (ticks(11) + ticks(12)) / 100.0
}

// ---------------------------------------------------------------------------
// The servers.

/// The servers started, so the run's time limit can stop them.
static SERVERS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Fails the run once it has taken `limit`, stopping its servers (the
/// client processes end with the tool's pipes).
fn limit_run(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("the run took longer than {limit:?}: stopping");
        for pid in SERVERS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::process::exit(1);
    });
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Flightdeck,
    Bare,
    Sockudo,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Flightdeck => "Flightdeck /ws",
            Kind::Bare => "bare tokio broadcast",
            Kind::Sockudo => "Sockudo 5.2.0",
        }
    }
    fn protocol(self) -> Protocol {
        match self {
            Kind::Flightdeck => Protocol::Flightdeck,
            Kind::Bare => Protocol::Bare,
            Kind::Sockudo => Protocol::Pusher,
        }
    }
}

/// One Flightdeck team: its sessions (16 sockets each) and its sites.
struct FdTeam {
    team_id: String,
    cookies: Vec<String>,
    sites: Vec<String>,
}

enum Process {
    Binary(common::binary::Binary),
    Child(std::process::Child),
}

struct Server {
    kind: Kind,
    process: Process,
    port: u16,
    http: reqwest::Client,
    /// Bare and Sockudo: the last sequence number published.
    seq: i64,
    /// Bare and Sockudo: what was published to each group, for the checks.
    published: HashMap<u32, Vec<i64>>,
    /// Flightdeck: its database, read beside it.
    db: Option<sqlx::SqlitePool>,
}

const SOCKUDO_APP: (&str, &str, &str) = ("bench", "bench-key", "bench-secret");

impl Server {
    /// Starts a server; Flightdeck runs `slots` pipelines at once.
    async fn start(kind: Kind, dir: &Path, slots: usize) -> Server {
        let port = common::binary::free_port();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(4)
            .build()
            .expect("http");
        let process = match kind {
            Kind::Flightdeck => {
                let args = [
                    format!("--data-dir={}", dir.display()),
                    format!("--pipelines={}", dir.join("pipelines.toml").display()),
                    "--demo=0".to_string(),
                ];
                let slots = slots.to_string();
                let env = [
                    ("RUST_LOG", "error"),
                    ("FLIGHTDECK_SIGNUP", "open"),
                    ("FLIGHTDECK_MAX_PIPELINES", slots.as_str()),
                ];
                Process::Binary(common::binary::spawn(dir, &args, &env, Some(port)).await)
            }
            Kind::Bare => {
                let child = std::process::Command::new(std::env::current_exe().expect("exe"))
                    .args(["--bare-server", &port.to_string()])
                    .spawn()
                    .expect("bare server");
                wait_http(&format!("http://127.0.0.1:{port}/ws")).await;
                Process::Child(child)
            }
            Kind::Sockudo => {
                let (id, key, secret) = SOCKUDO_APP;
                let child = std::process::Command::new(sockudo_bin().expect("sockudo"))
                    .current_dir(dir)
                    .env("HOST", "127.0.0.1")
                    .env("PORT", port.to_string())
                    .env("SOCKUDO_DEFAULT_APP_ID", id)
                    .env("SOCKUDO_DEFAULT_APP_KEY", key)
                    .env("SOCKUDO_DEFAULT_APP_SECRET", secret)
                    .env("SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS", "1000000")
                    .env(
                        "SOCKUDO_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SECOND",
                        "1000000",
                    )
                    .env(
                        "SOCKUDO_DEFAULT_APP_MAX_READ_REQUESTS_PER_SECOND",
                        "1000000",
                    )
                    .env("METRICS_ENABLED", "false")
                    .env("RATE_LIMITER_ENABLED", "false")
                    .env("ADAPTER_DRIVER", "local")
                    .env("CACHE_DRIVER", "memory")
                    .env("QUEUE_DRIVER", "memory")
                    .env("APP_MANAGER_DRIVER", "memory")
                    .env("DEBUG", "false")
                    .env("RUST_LOG", "error")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("sockudo starts");
                wait_http(&format!("http://127.0.0.1:{port}/")).await;
                Process::Child(child)
            }
        };
        let pid = match &process {
            Process::Binary(b) => b.child.id().unwrap_or(0),
            Process::Child(c) => c.id(),
        };
        SERVERS.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        let db = match kind {
            Kind::Flightdeck => {
                let url = format!("sqlite://{}?mode=ro", dir.join("flightdeck.db").display());
                Some(
                    sqlx::SqlitePool::connect(&url)
                        .await
                        .expect("read the database"),
                )
            }
            _ => None,
        };
        Server {
            kind,
            process,
            port,
            http,
            seq: 0,
            published: HashMap::new(),
            db,
        }
    }

    fn pid(&self) -> u32 {
        match &self.process {
            Process::Binary(b) => b.child.id().expect("running"),
            Process::Child(c) => c.id(),
        }
    }

    fn rss_kib(&self) -> u64 {
        common::binary::rss_kib(self.pid())
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn ws_url(&self) -> String {
        match self.kind {
            Kind::Flightdeck | Kind::Bare => format!("ws://127.0.0.1:{}/ws", self.port),
            Kind::Sockudo => format!(
                "ws://127.0.0.1:{}/app/{}?protocol=7&client=bench&version=1.0",
                self.port, SOCKUDO_APP.1
            ),
        }
    }

    async fn stop(self) {
        if let Some(db) = &self.db {
            db.close().await;
        }
        match self.process {
            Process::Binary(b) => drop(b),
            Process::Child(mut c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// The id the next event will be above.
    async fn last_id(&self) -> i64 {
        match &self.db {
            Some(db) => {
                let (p,): (Option<i64>,) = sqlx::query_as("select max(position) from events")
                    .fetch_one(db)
                    .await
                    .expect("position");
                p.unwrap_or(0)
            }
            None => self.seq,
        }
    }

    /// Causes one event for `group` (Flightdeck: a restart of `site`, as
    /// `cookie`).
    /// Returns the deployment it queued, for Flightdeck.
    async fn cause(&mut self, group: u32, fd: Option<(&str, &str)>) -> Option<String> {
        match self.kind {
            Kind::Flightdeck => {
                let (cookie, site) = fd.expect("a Flightdeck team");
                let (d, _) = api_form(
                    &self.http,
                    &self.base(),
                    Some(cookie),
                    "trigger_deployment",
                    &[("site_id", site), ("kind", "restart")],
                )
                .await;
                return d["id"].as_str().map(str::to_string);
            }
            Kind::Bare => {
                self.seq += 1;
                let res = self
                    .http
                    .post(format!("{}/publish?group={group}", self.base()))
                    .body(format!(r#"{{"seq":{}}}"#, self.seq))
                    .send()
                    .await
                    .expect("publish");
                assert!(res.status().is_success());
                self.published.entry(group).or_default().push(self.seq);
            }
            Kind::Sockudo => {
                self.seq += 1;
                let body = serde_json::json!({
                    "name": "bench",
                    "channel": format!("team-{group}"),
                    "data": format!(r#"{{"seq":{}}}"#, self.seq),
                })
                .to_string();
                let url = pusher_signed_url(&self.base(), &body);
                let res = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("publish");
                let status = res.status();
                assert!(
                    status.is_success(),
                    "sockudo publish: {status} {:?}",
                    res.text().await
                );
                self.published.entry(group).or_default().push(self.seq);
            }
        }
        None
    }

    /// Flightdeck: starts a deployment on `site` that holds the one
    /// pipeline slot, so that each round's trigger commits exactly one
    /// event (its `queued` deployment), as the other servers publish one
    /// message; waits until it runs.
    async fn hold_the_slot(&self, cookie: &str, site: &str) {
        api_form(
            &self.http,
            &self.base(),
            Some(cookie),
            "trigger_deployment",
            &[("site_id", site), ("kind", "time_capsule")],
        )
        .await;
        let db = self.db.as_ref().expect("database");
        common::eventually("the slot is held", Duration::from_secs(60), || async {
            let (running,): (i64,) = sqlx::query_as(
                "select count(*) from deployments d join deployment_steps s on s.deployment_id = d.id \
                 where d.status = 'running' and s.status = 'running'",
            )
            .fetch_one(db)
            .await
            .ok()?;
            (running > 0).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    /// What each socket of `group` should have received after `mark`, as
    /// (count, hash).
    async fn expected(&self, group: u32, team_id: Option<&str>, mark: i64) -> (u64, u64) {
        let ids: Vec<i64> = match (&self.db, team_id) {
            (Some(db), Some(team)) => sqlx::query_as::<_, (i64,)>(
                "select position from events where team_id = $1 and position > $2 order by position",
            )
            .bind(team)
            .bind(mark)
            .fetch_all(db)
            .await
            .expect("events")
            .into_iter()
            .map(|(p,)| p)
            .collect(),
            _ => self
                .published
                .get(&group)
                .map(|v| v.iter().copied().filter(|s| *s > mark).collect())
                .unwrap_or_default(),
        };
        (
            ids.len() as u64,
            ids.iter().fold(HASH_START, |h, id| mix(h, *id)),
        )
    }
}

/// A Pusher HTTP API URL for `POST /apps/<id>/events`, signed.
fn pusher_signed_url(base: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    use md5::Digest;
    let (id, key, secret) = SOCKUDO_APP;
    let md5 = md5::Md5::digest(body.as_bytes());
    let body_md5: String = md5.iter().map(|b| format!("{b:02x}")).collect();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let query =
        format!("auth_key={key}&auth_timestamp={timestamp}&auth_version=1.0&body_md5={body_md5}");
    let path = format!("/apps/{id}/events");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("POST\n{path}\n{query}").as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{base}{path}?{query}&auth_signature={signature}")
}

fn sockudo_bin() -> Option<PathBuf> {
    std::env::var_os("SOCKUDO_BIN")
        .map(PathBuf::from)
        .filter(|p| p.exists())
}

async fn wait_http(url: &str) {
    common::eventually(url, Duration::from_secs(30), || async {
        reqwest::get(url).await.ok().map(|_| ())
    })
    .await
}

async fn bare_server(port: u16) {
    use axum::extract::Query;
    use axum::extract::ws::{Message as M, Utf8Bytes, WebSocketUpgrade};
    use axum::routing::{get, post};
    #[derive(Deserialize)]
    struct Group {
        group: Option<u32>,
    }
    // One channel for everything, each socket keeping its group's: the
    // design Flightdeck had before its hub.
    let (tx, _) = tokio::sync::broadcast::channel::<(u32, Utf8Bytes)>(4096);
    let sub = tx.clone();
    let app = axum::Router::new()
        .route(
            "/ws",
            get(move |ws: WebSocketUpgrade, Query(q): Query<Group>| {
                let mut rx = sub.subscribe();
                let group = q.group.unwrap_or(0);
                async move {
                    ws.on_upgrade(move |mut socket| async move {
                        while let Ok((to, text)) = rx.recv().await {
                            if to == group && socket.send(M::Text(text)).await.is_err() {
                                break;
                            }
                        }
                    })
                }
            }),
        )
        .route(
            "/publish",
            post(move |Query(q): Query<Group>, body: String| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((q.group.unwrap_or(0), body.into()));
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

// ---------------------------------------------------------------------------
// Flightdeck's setup: teams, sessions, sites.

const PIPELINES: &str = r#"
[pipelines.restart]
operation_name = "Restart {site}"
[[pipelines.restart.steps]]
name = "Start"
run = "true"

[pipelines.time_capsule]
operation_name = "Hold the pipeline slot"
[[pipelines.time_capsule.steps]]
name = "Hold"
timeout_secs = 3600
run = "sleep 3600"

[pipelines.stop]
operation_name = "Burst {site}"
[[pipelines.stop.steps]]
name = "Print"
timeout_secs = 120
run = '''
python3 -c '
import sys, time, os, zlib
step = zlib.crc32(os.environ["FLIGHTDECK_SITE_NAME"].encode())
start = time.time()
for n in range(2000):
    target = start + n / 200
    wait = target - time.time()
    if wait > 0:
        time.sleep(wait)
    sys.stdout.write("B %d %d %d\n" % (step, n, time.time_ns()))
    sys.stdout.flush()
'
'''
"#;

async fn api_form(
    http: &reqwest::Client,
    base: &str,
    cookie: Option<&str>,
    name: &str,
    form: &[(&str, &str)],
) -> (serde_json::Value, Option<String>) {
    let mut req = http.post(format!("{base}/api/{name}")).form(form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .next();
    let text = res.text().await.expect("body");
    assert!(status.is_success(), "{name}: {status} {text}");
    (
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        cookie,
    )
}

/// Creates `teams` teams of one account each, with `sessions` sessions and
/// `sites` sites per team, and waits until their first operations end.
async fn flightdeck_teams(s: &Server, teams: usize, sessions: usize, sites: usize) -> Vec<FdTeam> {
    let base = s.base();
    let made: Vec<FdTeam> = futures::stream::iter(0..teams)
        .map(|t| {
            let (http, base) = (s.http.clone(), base.clone());
            async move {
                let email = format!("load{t}@example.com");
                let password = "load test password";
                let (team, cookie) = api_form(
                    &http,
                    &base,
                    None,
                    "sign_up",
                    &[
                        ("email", &email),
                        ("password", password),
                        ("name", "Load"),
                        ("team", &format!("Load {t}")),
                    ],
                )
                .await;
                let team_id = team["team"]["id"].as_str().expect("team id").to_string();
                let first = cookie.expect("session cookie");
                let more: Vec<String> = futures::stream::iter(1..sessions)
                    .map(|_| {
                        let (http, base, email) = (http.clone(), base.clone(), email.clone());
                        async move {
                            let (_, cookie) = api_form(
                                &http,
                                &base,
                                None,
                                "sign_in",
                                &[("email", &email), ("password", password)],
                            )
                            .await;
                            cookie.expect("session cookie")
                        }
                    })
                    .buffer_unordered(4)
                    .collect()
                    .await;
                let cookies: Vec<String> = std::iter::once(first).chain(more).collect();
                let mut site_ids = Vec::new();
                for i in 0..sites {
                    let (site, _) = api_form(
                        &http,
                        &base,
                        Some(&cookies[0]),
                        "create_site",
                        &[
                            ("name", &format!("Load {i}")),
                            ("repository", "https://github.com/acme/load"),
                            ("branch", "main"),
                        ],
                    )
                    .await;
                    site_ids.push(site["id"].as_str().expect("site id").to_string());
                }
                FdTeam {
                    team_id,
                    cookies,
                    sites: site_ids,
                }
            }
        })
        // One team at a time: sign-ins in flight from one address count
        // as failures until they succeed, and more than five are throttled.
        .buffer_unordered(1)
        .collect()
        .await;
    let mut made = made;
    made.sort_by(|a, b| a.team_id.cmp(&b.team_id));
    wait_quiet(s).await;
    made
}

/// Waits until no deployment is queued or running.
async fn wait_quiet(s: &Server) {
    let db = s.db.as_ref().expect("database");
    common::eventually("the server is quiet", Duration::from_secs(300), || async {
        let (open,): (i64,) = sqlx::query_as(
            "select count(*) from deployments where status in ('queued', 'running')",
        )
        .fetch_one(db)
        .await
        .ok()?;
        (open == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// `n` sockets of one team: 16 to a session.
fn team_sockets(team: &FdTeam, n: usize, group: u32) -> Vec<SocketPlan> {
    (0..n)
        .map(|i| SocketPlan {
            cookie: Some(team.cookies[i / bus_limit()].clone()),
            channel: None,
            group,
        })
        .collect()
}

fn bus_limit() -> usize {
    flightdeck::server::realtime::bus::SOCKETS_PER_SESSION
}

fn other_sockets(kind: Kind, n: usize, group: u32) -> Vec<SocketPlan> {
    (0..n)
        .map(|_| SocketPlan {
            cookie: None,
            channel: Some(match kind {
                Kind::Sockudo => format!("team-{group}"),
                _ => group.to_string(),
            }),
            group,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Measurements.

#[derive(Default, Clone)]
struct Rounds {
    hist: Hist,
    missing: u64,
    /// Deliveries over the sum of each round's time until the last socket.
    per_second: f64,
}

/// `rounds` events to `group` (`expected` sockets), each timed to every
/// socket; `fd` names the Flightdeck team's session and site.
async fn rounds(
    s: &mut Server,
    fleets: &mut [&mut Fleet],
    group: u32,
    expected: usize,
    fd: Option<(&str, &str)>,
    rounds: usize,
) -> Rounds {
    let mut out = Rounds::default();
    let mut spent = 0.0;
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = s.last_id().await;
        for f in fleets.iter_mut() {
            f.ask_all(&format!("arm {after}")).await;
        }
        let start = now_ns();
        let queued = s.cause(group, fd).await;
        wait_for(fleets, expected).await;
        let mut round = Hist::default();
        for f in fleets.iter_mut() {
            for answer in f.ask_all(&format!("collect {start}")).await {
                round.merge_encoded(&answer);
            }
        }
        out.missing += expected as u64 - round.count().min(expected as u64);
        spent += round.ms(1.0) / 1000.0;
        for (b, c) in round.0 {
            *out.hist.0.entry(b).or_default() += c;
        }
        // Flightdeck: cancel what was queued (one more event), and let it
        // reach every socket before the next round.
        if let (Some(id), Some((cookie, _))) = (queued, fd) {
            let after = s.last_id().await;
            for f in fleets.iter_mut() {
                f.ask_all(&format!("arm {after}")).await;
            }
            api_form(
                &s.http,
                &s.base(),
                Some(cookie),
                "cancel_deployment",
                &[("id", &id)],
            )
            .await;
            wait_for(fleets, expected).await;
            for f in fleets.iter_mut() {
                f.ask_all("collect 0").await;
            }
        }
    }
    out.per_second = out.hist.count() as f64 / spent;
    out
}

/// Waits until `expected` sockets got the armed event (30 s at most).
async fn wait_for(fleets: &mut [&mut Fleet], expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut got = 0;
        for f in fleets.iter_mut() {
            got += f
                .ask_all("progress")
                .await
                .iter()
                .map(|a| a.parse::<usize>().unwrap_or(0))
                .sum::<usize>();
        }
        if got >= expected || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Checks every socket of the fleets against what its group should have
/// received since `mark`; returns the deliveries counted.
async fn check(
    s: &Server,
    fleets: &mut [&mut Fleet],
    mark: i64,
    team_of: &dyn Fn(u32) -> Option<String>,
) -> u64 {
    let mut expected: HashMap<u32, (u64, u64)> = HashMap::new();
    let mut deliveries = 0;
    for f in fleets.iter_mut() {
        for row in f.check().await {
            let [group, count, hash, dups, resets, closed, _, _] = row;
            let group = group as u32;
            if let std::collections::hash_map::Entry::Vacant(e) = expected.entry(group) {
                let team = team_of(group);
                e.insert(s.expected(group, team.as_deref(), mark).await);
            }
            let (want, want_hash) = expected[&group];
            assert_eq!(
                dups,
                0,
                "{}: a socket of group {group} got a duplicate",
                s.kind.name()
            );
            assert_eq!(
                resets,
                0,
                "{}: a socket of group {group} was reset",
                s.kind.name()
            );
            assert_eq!(
                closed,
                0,
                "{}: a socket of group {group} closed",
                s.kind.name()
            );
            assert_eq!(
                (count, hash),
                (want, want_hash),
                "{}: a socket of group {group} missed or reordered messages ({count} of {want})",
                s.kind.name()
            );
            deliveries += count;
        }
    }
    deliveries
}

struct OneRow {
    kind: Kind,
    n: usize,
    rounds: Rounds,
    kib_per_socket: f64,
    cpu_per_1000: f64,
    connect_ms: u128,
}

/// Client processes per fleet (`FLIGHTDECK_LIVE_PROCESSES`, default 4).
fn processes() -> usize {
    env_number("FLIGHTDECK_LIVE_PROCESSES", 4)
}

async fn one_to_n(
    kind: Kind,
    n: usize,
    rounds_n: usize,
    fd_teams: &[FdTeam],
    dir: &Path,
) -> OneRow {
    let mut s = Server::start(kind, dir, 1).await;
    if let Some(team) = fd_teams.first() {
        wait_quiet(&s).await;
        s.hold_the_slot(&team.cookies[0], &team.sites[1]).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = s.rss_kib();
    let sockets = match kind {
        Kind::Flightdeck => team_sockets(&fd_teams[0], n, 0),
        _ => other_sockets(kind, n, 0),
    };
    let mut fleet = Fleet::start(kind.protocol(), &s.ws_url(), sockets, processes(), 0).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kib_per_socket = (s.rss_kib() as f64 - idle as f64) / n as f64;
    let mark = s.last_id().await;
    fleet.ask_all(&format!("mark {mark}")).await;
    let cpu = cpu_seconds(s.pid());
    let fd = fd_teams
        .first()
        .map(|t| (t.cookies[0].clone(), t.sites[0].clone()));
    let result = rounds(
        &mut s,
        &mut [&mut fleet],
        0,
        n,
        fd.as_ref().map(|(c, s)| (c.as_str(), s.as_str())),
        rounds_n,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu = cpu_seconds(s.pid()) - cpu;
    let team = fd_teams.first().map(|t| t.team_id.clone());
    let deliveries = check(&s, &mut [&mut fleet], mark, &|_| team.clone()).await;
    let connect_ms = fleet.connect_ms;
    fleet.quit().await;
    s.stop().await;
    OneRow {
        kind,
        n,
        rounds: result,
        kib_per_socket,
        cpu_per_1000: cpu / deliveries.max(1) as f64 * 1000.0,
        connect_ms,
    }
}

struct TeamsRow {
    kind: Kind,
    alone: Rounds,
    among: Rounds,
}

async fn teams(kind: Kind, rounds_n: usize, fd_teams: &[FdTeam], dir: &Path) -> TeamsRow {
    let mut s = Server::start(kind, dir, 1).await;
    if let Some(team) = fd_teams.get(1) {
        wait_quiet(&s).await;
        s.hold_the_slot(&team.cookies[0], &team.sites[0]).await;
    }
    let sockets_of = |t: usize| match kind {
        Kind::Flightdeck => team_sockets(&fd_teams[t], 100, t as u32),
        _ => other_sockets(kind, 100, t as u32),
    };
    let fd = fd_teams
        .first()
        .map(|t| (t.cookies[0].clone(), t.sites[0].clone()));
    let fd = fd.as_ref().map(|(c, s)| (c.as_str(), s.as_str()));
    let mut ours = Fleet::start(kind.protocol(), &s.ws_url(), sockets_of(0), 1, 0).await;
    let mark = s.last_id().await;
    ours.ask_all(&format!("mark {mark}")).await;
    let alone = rounds(&mut s, &mut [&mut ours], 0, 100, fd, rounds_n).await;
    let others: Vec<SocketPlan> = (1..100).flat_map(sockets_of).collect();
    let mut rest = Fleet::start(kind.protocol(), &s.ws_url(), others, processes(), 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mark_rest = s.last_id().await;
    rest.ask_all(&format!("mark {mark_rest}")).await;
    let among = rounds(&mut s, &mut [&mut ours, &mut rest], 0, 100, fd, rounds_n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let team_of = |g: u32| fd_teams.get(g as usize).map(|t| t.team_id.clone());
    check(&s, &mut [&mut ours], mark, &team_of).await;
    check(&s, &mut [&mut rest], mark_rest, &team_of).await;
    ours.quit().await;
    rest.quit().await;
    s.stop().await;
    TeamsRow { kind, alone, among }
}

struct BurstRow {
    lines: Hist,
    per_socket_lines: u64,
    cpu_seconds: f64,
    seconds: f64,
}

/// Sockets watching the bursts (`FLIGHTDECK_LIVE_BURST_SOCKETS`, default 1,000).
fn burst_sockets() -> usize {
    env_number("FLIGHTDECK_LIVE_BURST_SOCKETS", 1000)
}

/// 20 sites of one team each run a step printing 200 lines/s for 10 s,
/// watched by 1,000 sockets of the team.
async fn bursts(fd_teams: &[FdTeam], dir: &Path) -> BurstRow {
    let s = Server::start(Kind::Flightdeck, dir, 32).await;
    wait_quiet(&s).await;
    let team = &fd_teams[0];
    let mut fleet = Fleet::start(
        Protocol::Flightdeck,
        &s.ws_url(),
        team_sockets(team, burst_sockets(), 0),
        processes(),
        0,
    )
    .await;
    let mark = s.last_id().await;
    fleet.ask_all(&format!("mark {mark}")).await;
    let cpu = cpu_seconds(s.pid());
    let started = Instant::now();
    for site in &team.sites {
        let (_, _) = api_form(
            &s.http,
            &s.base(),
            Some(&team.cookies[0]),
            "trigger_deployment",
            &[("site_id", site), ("kind", "stop")],
        )
        .await;
    }
    wait_quiet(&s).await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(s.pid()) - cpu;
    let mut lines = Hist::default();
    for answer in fleet.ask_all("burst").await {
        lines.merge_encoded(&answer);
    }
    let team_id = team.team_id.clone();
    check(&s, &mut [&mut fleet], mark, &|_| Some(team_id.clone())).await;
    let rows = fleet.check().await;
    let per_socket_lines = rows.iter().map(|r| r[6]).min().unwrap_or(0);
    let gaps: u64 = rows.iter().map(|r| r[7]).sum();
    assert_eq!(gaps, 0, "burst lines arrived with gaps");
    fleet.quit().await;
    s.stop().await;
    BurstRow {
        lines,
        per_socket_lines,
        cpu_seconds: cpu,
        seconds,
    }
}

/// A number from the environment, or `default` when unset or unreadable.
fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn list_env(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--clients") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(clients_main());
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if let Some(i) = args.iter().position(|a| a == "--bare-server") {
        let port = args[i + 1].parse().expect("port");
        runtime.block_on(bare_server(port));
        return;
    }
    let sizes: Vec<usize> = list_env("FLIGHTDECK_LIVE_CLIENTS", "1000,2000,5000,10000")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let rounds_n: usize = env_number("FLIGHTDECK_LIVE_ROUNDS", 20);
    let scenarios = list_env("FLIGHTDECK_LIVE_SCENARIOS", "one,teams,bursts");
    let mut kinds: Vec<Kind> = list_env("FLIGHTDECK_LIVE_SERVERS", "flightdeck,bare,sockudo")
        .iter()
        .filter_map(|k| match k.as_str() {
            "flightdeck" => Some(Kind::Flightdeck),
            "bare" => Some(Kind::Bare),
            "sockudo" => Some(Kind::Sockudo),
            _ => None,
        })
        .collect();
    if sockudo_bin().is_none() && kinds.contains(&Kind::Sockudo) {
        eprintln!("SOCKUDO_BIN is not set: Sockudo is left out (./dev bench-live installs it)");
        kinds.retain(|k| *k != Kind::Sockudo);
    }
    let limit: u64 = env_number("FLIGHTDECK_LIVE_LIMIT_SECS", 2400);
    limit_run(Duration::from_secs(limit));
    runtime.block_on(async {
        let max_n = sizes.iter().copied().max().unwrap_or(0);
        // Flightdeck's accounts, once: one data folder per scenario.
        let one_dir = tempfile::tempdir().expect("dir");
        let teams_dir = tempfile::tempdir().expect("dir");
        let other_dir = tempfile::tempdir().expect("dir");
        for d in [&one_dir, &teams_dir] {
            std::fs::write(d.path().join("pipelines.toml"), PIPELINES).expect("pipelines");
        }
        let mut one_teams = Vec::new();
        let mut many_teams = Vec::new();
        if kinds.contains(&Kind::Flightdeck) {
            let s = Server::start(Kind::Flightdeck, one_dir.path(), 32).await;
            let sessions = max_n.max(1000).div_ceil(bus_limit());
            let t = Instant::now();
            one_teams = flightdeck_teams(&s, 1, sessions, 20).await;
            eprintln!("one team, {sessions} sessions, 20 sites: {:?}", t.elapsed());
            s.stop().await;
            if scenarios.iter().any(|s| s == "teams") {
                let s = Server::start(Kind::Flightdeck, teams_dir.path(), 32).await;
                let t = Instant::now();
                many_teams = flightdeck_teams(&s, 100, 100usize.div_ceil(bus_limit()), 1).await;
                eprintln!("100 teams: {:?}", t.elapsed());
                s.stop().await;
            }
        }
        let dir_for = |kind: Kind, teams: bool| match (kind, teams) {
            (Kind::Flightdeck, false) => one_dir.path().to_path_buf(),
            (Kind::Flightdeck, true) => teams_dir.path().to_path_buf(),
            _ => other_dir.path().to_path_buf(),
        };
        let fd_for = |kind: Kind, teams: &[FdTeam]| -> usize {
            if kind == Kind::Flightdeck { teams.len() } else { 0 }
        };
        if scenarios.iter().any(|s| s == "one") {
            println!("\n### One event to N sockets of one team ({rounds_n} rounds)\n");
            println!(
                "| server | sockets | p50 | p99 | max | delivered/s | RSS per idle socket | CPU s per 1,000 deliveries | connect (all live) |"
            );
            println!("|---|---|---|---|---|---|---|---|---|");
            for &n in &sizes {
                for &kind in &kinds {
                    let teams = &one_teams[..fd_for(kind, &one_teams)];
                    let r = one_to_n(kind, n, rounds_n, teams, &dir_for(kind, false)).await;
                    assert_eq!(r.rounds.missing, 0, "{}: events missing", kind.name());
                    println!(
                        "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} | {:.1} KiB | {:.4} | {:.2} s |",
                        r.kind.name(),
                        r.n,
                        r.rounds.hist.ms(0.5),
                        r.rounds.hist.ms(0.99),
                        r.rounds.hist.ms(1.0),
                        r.rounds.per_second,
                        r.kib_per_socket,
                        r.cpu_per_1000,
                        r.connect_ms as f64 / 1000.0
                    );
                }
            }
        }
        if scenarios.iter().any(|s| s == "teams") {
            println!("\n### One event to a team of 100, alone and among 100 teams of 100\n");
            println!("| server | alone p50 | alone p99 | among 100 teams p50 | p99 | max | p99 ratio |");
            println!("|---|---|---|---|---|---|---|");
            for &kind in &kinds {
                let teams_ = &many_teams[..fd_for(kind, &many_teams)];
                let r = teams(kind, rounds_n, teams_, &dir_for(kind, true)).await;
                println!(
                    "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}x |",
                    r.kind.name(),
                    r.alone.hist.ms(0.5),
                    r.alone.hist.ms(0.99),
                    r.among.hist.ms(0.5),
                    r.among.hist.ms(0.99),
                    r.among.hist.ms(1.0),
                    r.among.hist.ms(0.99) / r.alone.hist.ms(0.99)
                );
            }
        }
        if scenarios.iter().any(|s| s == "bursts") && kinds.contains(&Kind::Flightdeck) {
            let r = bursts(&one_teams, one_dir.path()).await;
            println!("\n### Output bursts: 20 steps x 200 lines/s for 10 s, 1,000 sockets\n");
            println!("| lines per socket | line latency p50 | p99 | max | server CPU | wall time |");
            println!("|---|---|---|---|---|---|");
            println!(
                "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} s | {:.1} s |",
                r.per_socket_lines,
                r.lines.ms(0.5),
                r.lines.ms(0.99),
                r.lines.ms(1.0),
                r.cpu_seconds,
                r.seconds
            );
        }
    });
}
