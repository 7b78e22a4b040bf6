//! A real Flightdeck server on 127.0.0.1:0 and a client with a cookie jar.

use flightdeck::server::config::Config;
use flightdeck::server::db::Db;
use reqwest::StatusCode;
use serde_json::Value;

pub struct Server {
    pub base: String,
    pub db: Db,
    /// The server's data folder.
    pub data: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Server {
    start_with(&[]).await
}

/// Pipelines for tests: a deploy whose branch picks its behaviour
/// (`slow` runs for 30 s, `broken` fails, anything else passes quickly)
/// and prints coloured output.
pub const TEST_PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'printf "\033[32mbranch=%s\033[0m commit=%s\n" "$FLIGHTDECK_BRANCH" "$FLIGHTDECK_COMMIT"; if [ "$FLIGHTDECK_BRANCH" = slow ]; then sleep 30; fi; if [ "$FLIGHTDECK_BRANCH" = broken ]; then echo "build exploded" >&2; exit 1; fi'
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'echo ok'
"#;

/// A server running [`TEST_PIPELINES`].
pub async fn start_with_test_pipelines() -> Server {
    start_with_pipelines(TEST_PIPELINES).await
}

/// A server whose pipelines file holds `toml`.
pub async fn start_with_pipelines(toml: &str) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pipelines.toml");
    std::fs::write(&file, toml).expect("write pipelines");
    start_in(dir, &[format!("--pipelines={}", file.display())]).await
}

/// A server with extra flags (`--pipelines=...`).
pub async fn start_with(extra: &[String]) -> Server {
    start_in(tempfile::tempdir().expect("tempdir"), extra).await
}

async fn start_in(dir: tempfile::TempDir, extra: &[String]) -> Server {
    let mut args: Vec<String> = vec![
        format!("--data-dir={}", dir.path().display()),
        "--site-addr=127.0.0.1:0".into(),
        "--demo=0".into(),
    ];
    args.extend_from_slice(extra);
    let config = Config::from_sources(&args, |_| None).expect("config");
    let (router, state) = flightdeck::server::build(config)
        .await
        .expect("server builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        base,
        db: state.db,
        data: dir.path().to_path_buf(),
        _dir: dir,
    }
}

pub fn client() -> reqwest::Client {
    client_with_jar().0
}

/// A client and its cookie jar, to hand the session cookie to a WebSocket.
pub fn client_with_jar() -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    (client, jar)
}

pub async fn call(
    c: &reqwest::Client,
    s: &Server,
    name: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let res = c
        .post(format!("{}/api/{name}", s.base))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = res.status();
    let body = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

pub async fn sign_up(c: &reqwest::Client, s: &Server, email: &str, team: &str) -> Value {
    let (status, body) = call(
        c,
        s,
        "sign_up",
        &[
            ("email", email),
            ("password", "correct horse"),
            ("name", "Ada Lovelace"),
            ("team", team),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub async fn count_users(db: &Db) -> i64 {
    let (n,): (i64,) = sqlx::query_as("select count(*) from users")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    n
}

/// The owner adds `email` (signed in on `viewer`) to their team as a
/// viewer, and the viewer switches to that team.
pub async fn join_as_viewer(
    owner: &reqwest::Client,
    viewer: &reqwest::Client,
    s: &Server,
    email: &str,
) {
    let (status, body) = call(
        owner,
        s,
        "add_member",
        &[("email", email), ("role", "viewer")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = call(viewer, s, "current_session", &[]).await;
    let team = me["teams"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["role"] == "viewer"))
        .expect("viewer team")["id"]
        .as_str()
        .expect("id")
        .to_string();
    call(viewer, s, "switch_team", &[("team_id", &team)]).await;
}

/// Waits until a deployment has `status`, and returns it.
pub async fn wait_status(c: &reqwest::Client, s: &Server, id: &str, status: &str) -> Value {
    for _ in 0..600 {
        let (_, d) = call(c, s, "get_deployment", &[("id", id)]).await;
        if d["status"] == status {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{id} never became {status}");
}

/// Waits until the site has a current deployment and no queued or running
/// operation, and returns it.
pub async fn wait_idle(c: &reqwest::Client, s: &Server, site: &str) -> Value {
    for _ in 0..600 {
        let (_, body) = call(c, s, "get_site", &[("id", site)]).await;
        if body["active_deployment"].is_null() && !body["current_deployment"].is_null() {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("site {site} never became idle");
}
