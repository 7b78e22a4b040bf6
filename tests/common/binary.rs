//! The real `flightdeck` binary as a child process, for what only a
//! process shows: a SIGKILL, a SIGTERM, its default data folder, its memory.

use super::eventually;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct Binary {
    pub child: Child,
    pub port: u16,
    pub base: String,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts the binary in `cwd` with `args` and environment `env` on a free
/// port (or `port`), and waits until it answers.
pub async fn spawn(cwd: &Path, args: &[String], env: &[(&str, &str)], port: Option<u16>) -> Binary {
    let port = port.unwrap_or_else(free_port);
    let child = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(args)
        .arg(format!("--site-addr=127.0.0.1:{port}"))
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env_remove("FLIGHTDECK_DATA_DIR")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let signin = format!("{base}/signin");
    eventually("the server answers", Duration::from_secs(30), || async {
        reqwest::get(&signin).await.ok().map(|_| ())
    })
    .await;
    Binary { child, port, base }
}

impl Binary {
    /// Sends a signal (`nix::sys::signal::Signal::SIGTERM`, ...).
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = self.child.id().expect("running") as i32;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).expect("signal");
    }

    /// The resident memory of the process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id().expect("running"))
    }
}

/// The resident memory of a process, in KiB (0 once it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A client that keeps its cookies, for the binary's API.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// `POST /api/<name>` against the binary, the answer as JSON.
pub async fn api<T: serde::de::DeserializeOwned>(
    c: &reqwest::Client,
    b: &Binary,
    name: &str,
    form: &[(&str, &str)],
) -> T {
    let res = c
        .post(format!("{}/api/{name}", b.base))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let text = res.text().await.expect("body");
    assert!(status.is_success(), "{name}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text}"))
}
