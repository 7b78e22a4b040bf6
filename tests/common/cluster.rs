//! Several instances of the real binary on one PostgreSQL database and one
//! data folder, as `./dev cluster` runs them: start, stop, kill, restart
//! any of them, a client signed in once for all, a live socket on any,
//! and a proxy that can cut one instance off from the database.

use super::binary::{self, Binary};
use super::db::{TestDb, postgres};
use super::eventually;
use flightdeck::model::{Deployment, DeploymentStatus, InstanceId, LiveMessage, SessionInfo};
use futures::StreamExt;
use reqwest::cookie::CookieStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The lease the instances hold: short, so a gone one shows in seconds.
pub const LEASE: Duration = Duration::from_secs(3);

/// What the steps do, by the branch deployed: `slow` runs 4 s, `long` a
/// minute, `stubborn` ignores TERM and leaves a grandchild; anything else
/// publishes a page at once. Every run prints `ran <id>` once.
pub const PIPELINES: &str = r#"
[pipelines.create_site]
operation_name = "Create {site}"
[[pipelines.create_site.steps]]
name = "Prepare"
run = 'true'

[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = '''
echo "ran $FLIGHTDECK_DEPLOYMENT_ID"
case "$FLIGHTDECK_BRANCH" in
  slow) sleep 4 ;;
  long) sleep 60 ;;
  stubborn) trap 'echo "got TERM, ignoring"' TERM; sleep 1000 & echo started; while true; do sleep 0.1; done ;;
  *) sleep 0.2 ;;
esac
'''
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'mkdir -p "$FLIGHTDECK_RELEASE_DIR" && echo "<h1>$FLIGHTDECK_DEPLOYMENT_ID</h1>" > "$FLIGHTDECK_RELEASE_DIR/index.html"'
"#;

/// How many clusters a test binary runs at once: each instance may open a
/// pool of connections, and the tests' PostgreSQL takes 100 in all.
static AT_ONCE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(3);

pub struct Cluster {
    pub pg: TestDb,
    pub dir: tempfile::TempDir,
    pub ports: Vec<u16>,
    pub nodes: Vec<Option<Binary>>,
    /// Extra flags per instance (`--sandbox=off`), and the database URL
    /// each one uses (through a proxy, for one that is to be cut off).
    pub flags: Vec<Vec<String>>,
    pub urls: Vec<String>,
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    /// Dropped last (fields drop in order): the next cluster starts once
    /// this one is gone.
    _turn: tokio::sync::SemaphorePermit<'static>,
}

impl Cluster {
    /// `n` instances' places; none started. `None` without PostgreSQL
    /// (outside CI, where it is required).
    pub async fn new(n: usize) -> Option<Self> {
        let turn = AT_ONCE.acquire().await.expect("open");
        let pg = postgres().await?;
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("pipelines.toml"), PIPELINES).expect("pipelines");
        let (client, jar) = super::server::client_with_jar();
        Some(Self {
            ports: (0..n).map(|_| binary::free_port()).collect(),
            nodes: (0..n).map(|_| None).collect(),
            flags: vec![Vec::new(); n],
            urls: vec![pg.url.clone(); n],
            pg,
            dir,
            client,
            jar,
            _turn: turn,
        })
    }

    /// Starts instance `i` (again) on its port and waits until it answers.
    pub async fn start(&mut self, i: usize) {
        let data = self.dir.path().join("data");
        let mut args = vec![
            format!("--database-url={}", self.urls[i]),
            format!("--data-dir={}", data.display()),
            format!(
                "--pipelines={}",
                self.dir.path().join("pipelines.toml").display()
            ),
            format!("--lease-secs={}", LEASE.as_secs()),
            "--signup=open".to_string(),
        ];
        args.extend(self.flags[i].iter().cloned());
        let node = binary::spawn(self.dir.path(), &args, &[], Some(self.ports[i])).await;
        self.nodes[i] = Some(node);
    }

    pub async fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i).await;
        }
    }

    pub fn node(&self, i: usize) -> &Binary {
        self.nodes[i].as_ref().expect("instance running")
    }

    /// SIGTERM, and the exit.
    pub async fn stop(&mut self, i: usize) {
        let mut node = self.nodes[i].take().expect("running");
        node.signal(nix::sys::signal::Signal::SIGTERM);
        let status = tokio::time::timeout(Duration::from_secs(60), node.child.wait())
            .await
            .expect("stops")
            .expect("status");
        assert!(status.success(), "a clean stop exits 0: {status:?}");
    }

    /// SIGKILL, and the exit.
    pub async fn kill(&mut self, i: usize) {
        let mut node = self.nodes[i].take().expect("running");
        node.child.kill().await.expect("SIGKILL");
    }

    /// Signs up the team's owner (on instance 0); the cookie then works on
    /// every instance, sessions being in the database.
    pub async fn sign_up(&self) {
        let _: SessionInfo = self
            .api(
                0,
                "sign_up",
                &[
                    ("email", "ops@example.com"),
                    ("password", "correct horse"),
                    ("name", "Ops"),
                    ("team", "Ops"),
                ],
            )
            .await;
    }

    /// A site, created through instance `i`, once its first operations ended.
    pub async fn site(&self, i: usize, name: &str) -> String {
        let site: flightdeck::model::Site = self
            .api(
                i,
                "create_site",
                &[
                    ("name", name),
                    ("repository", "https://github.com/acme/web"),
                    ("branch", "main"),
                    ("auto_deploy", "on"),
                ],
            )
            .await;
        let id = site.id.to_string();
        self.wait_idle(i, &id).await;
        id
    }

    pub async fn wait_idle(&self, i: usize, site: &str) {
        eventually("the site is idle", Duration::from_secs(60), || async {
            let s: flightdeck::model::Site = self.api(i, "get_site", &[("id", site)]).await;
            s.active_deployment.is_none().then_some(())
        })
        .await;
    }

    /// `POST /api/<name>` on instance `i`; must succeed.
    pub async fn api<T: serde::de::DeserializeOwned>(
        &self,
        i: usize,
        name: &str,
        form: &[(&str, &str)],
    ) -> T {
        let (status, body) = self.call(i, name, form).await;
        assert!(
            status.is_success(),
            "{name} on instance {i}: {status} {body}"
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body}"))
    }

    /// `POST /api/<name>` on instance `i`: the status and the body.
    pub async fn call(
        &self,
        i: usize,
        name: &str,
        form: &[(&str, &str)],
    ) -> (reqwest::StatusCode, String) {
        let res = self
            .client
            .post(format!("{}/api/{name}", self.node(i).base))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.text().await.expect("body"))
    }

    /// A manual deploy of `branch` through instance `i`.
    pub async fn deploy(&self, i: usize, site: &str, branch: &str) -> String {
        let d: Deployment = self
            .api(
                i,
                "trigger_deployment",
                &[("site_id", site), ("kind", "deploy"), ("git_ref", branch)],
            )
            .await;
        d.id.to_string()
    }

    pub async fn get(&self, i: usize, id: &str) -> Deployment {
        self.api(i, "get_deployment", &[("id", id)]).await
    }

    /// Waits (up to `within`) until a deployment has ended, read on `i`.
    pub async fn wait_finished(&self, i: usize, id: &str, within: Duration) -> Deployment {
        eventually(&format!("{id} ends"), within, || async {
            let d = self.get(i, id).await;
            d.is_finished().then_some(d)
        })
        .await
    }

    /// Waits until a deployment's first step runs.
    pub async fn wait_step_running(&self, i: usize, id: &str) {
        eventually(
            &format!("{id} runs its step"),
            Duration::from_secs(30),
            || async {
                let d = self.get(i, id).await;
                (d.status == DeploymentStatus::Running
                    && d.steps
                        .first()
                        .is_some_and(|s| s.status == flightdeck::model::StepStatus::Running))
                .then_some(())
            },
        )
        .await
    }

    /// Which instance (by index) claimed a deployment, by the process id
    /// its instance record holds.
    pub async fn owner(&self, id: &str) -> usize {
        let (pid,): (i64,) = sqlx::query_as(
            "select i.pid from deployments d join instances i on i.id = d.claimed_by where d.id = $1",
        )
        .bind(id)
        .fetch_one(&self.pg.db.pool)
        .await
        .expect("claimed");
        self.nodes
            .iter()
            .position(|n| n.as_ref().and_then(|n| n.child.id()) == Some(pid as u32))
            .expect("claimed by a running instance")
    }

    /// The instance record of instance `i` as it runs now.
    pub async fn instance_id(&self, i: usize) -> InstanceId {
        let pid = self.node(i).child.id().expect("running") as i64;
        let (id,): (InstanceId,) = sqlx::query_as(
            "select id from instances where pid = $1 order by started_at desc limit 1",
        )
        .bind(pid)
        .fetch_one(&self.pg.db.pool)
        .await
        .expect("instance");
        id
    }

    /// A live socket on instance `i`, past its hello.
    pub async fn socket(&self, i: usize) -> Socket {
        self.socket_after(i, None).await
    }

    /// A live socket on instance `i` resuming after `position` (what it
    /// missed comes before the hello), or from now.
    pub async fn socket_after(&self, i: usize, position: Option<i64>) -> Socket {
        let node = self.node(i);
        let query = position.map(|p| format!("?after={p}")).unwrap_or_default();
        let mut req = format!("ws://127.0.0.1:{}/ws{query}", node.port)
            .into_client_request()
            .expect("request");
        let cookie = self
            .jar
            .cookies(&node.base.parse().expect("url"))
            .expect("signed in");
        req.headers_mut().insert("cookie", cookie);
        let (socket, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        let mut socket = Socket {
            stream: socket,
            replay: Default::default(),
            position: 0,
        };
        // A resumed socket is sent what it missed first; kept for `until`.
        let mut replay = std::collections::VecDeque::new();
        loop {
            match socket.next().await.expect("hello") {
                LiveMessage::Hello { position, .. } => {
                    socket.replay = replay;
                    socket.position = position;
                    return socket;
                }
                missed => replay.push_back(missed),
            }
        }
    }
}

/// A live socket, the messages it was sent before its hello (a resumed
/// connection's replay) still to be read, and the position of the last
/// message read.
pub struct Socket {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    replay: std::collections::VecDeque<LiveMessage>,
    pub position: i64,
}

impl Socket {
    /// The next message (the replay first), `None` once the socket closed.
    pub async fn next(&mut self) -> Option<LiveMessage> {
        if let Some(message) = self.replay.pop_front() {
            self.position = message.position();
            return Some(message);
        }
        while let Some(frame) = self.stream.next().await {
            match frame.ok()? {
                tokio_tungstenite::tungstenite::Message::Text(text) => {
                    let message: LiveMessage = serde_json::from_str(&text).expect("a live message");
                    self.position = message.position();
                    return Some(message);
                }
                tokio_tungstenite::tungstenite::Message::Close(_) => return None,
                _ => continue,
            }
        }
        None
    }

    /// Waits (up to 10 s) for the event showing `id` with `status`.
    pub async fn until(&mut self, id: &str, status: DeploymentStatus) {
        let wait = async {
            loop {
                match self.next().await {
                    Some(LiveMessage::Deployment { deployment, .. })
                        if deployment.id.to_string() == id && deployment.status == status =>
                    {
                        return;
                    }
                    Some(_) => continue,
                    None => panic!("the socket closed"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("{id} {status} did not reach the socket"));
    }
}

/// The processes of this machine that run a step of deployment `id` (it
/// is in their environment, in a sandbox or not).
pub fn step_processes(id: &str) -> Vec<i32> {
    let mark = format!("FLIGHTDECK_DEPLOYMENT_ID={id}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')
                        .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            !zombie
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == mark.as_bytes()))
        })
        .collect()
}

/// A TCP proxy to PostgreSQL that can be cut: every connection through it
/// is dropped and new ones are refused until it is joined again.
pub struct Proxy {
    pub url: String,
    cut: watch::Sender<bool>,
}

impl Proxy {
    pub async fn to(database_url: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut cut = watching.clone();
                if *cut.borrow() {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        let url = database_url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1);
        assert_ne!(
            url, database_url,
            "the tests' PostgreSQL is at 127.0.0.1:5432"
        );
        Self { url, cut }
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn join(&self) {
        self.cut.send_replace(false);
    }
}
