//! A real Flightdeck server on 127.0.0.1:0, a client with a cookie jar,
//! and API calls that decode into the real types.

use super::eventually;
use flightdeck::model::{
    AppError, Deployment, DeploymentPage, DeploymentStatus, SessionInfo, Site, TeamId,
};
use flightdeck::server::config::Config;
use flightdeck::server::store::Db;
use flightdeck::server::web::state::AppState;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// How long a test waits for a deployment or a site to settle.
pub const SETTLE: Duration = Duration::from_secs(30);

pub struct Server {
    pub base: String,
    pub db: Db,
    pub state: AppState,
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
    start_with_pipelines_and(toml, &[]).await
}

/// A server whose pipelines file holds `toml`, with extra flags.
pub async fn start_with_pipelines_and(toml: &str, extra: &[String]) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pipelines.toml");
    std::fs::write(&file, toml).expect("write pipelines");
    let mut args = vec![format!("--pipelines={}", file.display())];
    args.extend_from_slice(extra);
    start_in(dir, &args).await
}

/// A server with extra flags (`--pipelines=...`, `--database-url=...`).
pub async fn start_with(extra: &[String]) -> Server {
    start_in(tempfile::tempdir().expect("tempdir"), extra).await
}

async fn start_in(dir: tempfile::TempDir, extra: &[String]) -> Server {
    let mut args: Vec<String> = vec![
        format!("--data-dir={}", dir.path().display()),
        "--site-addr=127.0.0.1:0".into(),
        "--demo=0".into(),
        // Tests sign up as many people as they like; the invite-only
        // default has tests of its own.
        "--signup=open".into(),
    ];
    args.extend_from_slice(extra);
    let config = Config::from_sources(&args, |_| None).expect("config");
    let (router, state) = flightdeck::server::startup::build(config)
        .await
        .expect("server builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Server {
        base,
        db: state.db.clone(),
        state,
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

/// `POST /api/<name>` with a form: the status and the body as JSON (or as
/// a JSON string when it is not JSON).
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

/// A call that must succeed, its answer decoded as `T`.
pub async fn ok<T: DeserializeOwned>(
    c: &reqwest::Client,
    s: &Server,
    name: &str,
    form: &[(&str, &str)],
) -> T {
    let (status, body) = call(c, s, name, form).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{name} answered what its type does not read ({e}): {body}"))
}

/// A call that must be refused: its status and the error a person reads.
pub async fn refused(
    c: &reqwest::Client,
    s: &Server,
    name: &str,
    form: &[(&str, &str)],
) -> (StatusCode, AppError) {
    let (status, body) = call(c, s, name, form).await;
    assert!(!status.is_success(), "{name} {form:?} was accepted: {body}");
    let error = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{name} refused without an AppError ({e}): {body}"));
    (status, error)
}

pub async fn sign_up(c: &reqwest::Client, s: &Server, email: &str, team: &str) -> SessionInfo {
    ok(
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
    .await
}

/// A site of `c`'s team (auto-deploy off), once its first operations are done.
pub async fn new_site(c: &reqwest::Client, s: &Server, name: &str) -> Site {
    let repository = format!(
        "https://github.com/example/{}",
        name.to_lowercase().replace(' ', "-")
    );
    let site: Site = ok(
        c,
        s,
        "create_site",
        &[
            ("name", name),
            ("repository", &repository),
            ("branch", "main"),
            ("auto_deploy", "off"),
        ],
    )
    .await;
    wait_idle(c, s, &site.id.to_string()).await
}

/// Runs `test` on a server with `pipelines` and `extra` flags on SQLite,
/// then, when it answers, on PostgreSQL (a database of its own).
pub async fn on_both_servers<F, Fut>(pipelines: &str, extra: &[&str], test: F)
where
    F: Fn(Server) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let flags: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    test(start_with_pipelines_and(pipelines, &flags).await).await;
    if let Some(pg) = super::db::postgres().await {
        let mut on_pg = flags.clone();
        on_pg.push(format!("--database-url={}", pg.url));
        test(start_with_pipelines_and(pipelines, &on_pg).await).await;
    }
}

pub async fn count(db: &Db, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("select count(*) from {table}"))
        .fetch_one(&db.pool)
        .await
        .expect("count");
    n
}

pub async fn count_users(db: &Db) -> i64 {
    count(db, "users").await
}

/// The owner adds `email` (signed in on `viewer`) to their team as a
/// viewer, and the viewer switches to that team.
pub async fn join_as_viewer(
    owner: &reqwest::Client,
    viewer: &reqwest::Client,
    s: &Server,
    email: &str,
) {
    let () = ok(
        owner,
        s,
        "add_member",
        &[("email", email), ("role", "viewer")],
    )
    .await;
    let me: Option<SessionInfo> = ok(viewer, s, "current_session", &[]).await;
    let team: TeamId = me
        .expect("signed in")
        .teams
        .iter()
        .find(|t| t.role == flightdeck::model::Role::Viewer)
        .expect("viewer team")
        .id;
    let _: SessionInfo = ok(viewer, s, "switch_team", &[("team_id", &team.to_string())]).await;
}

pub async fn get_deployment(c: &reqwest::Client, s: &Server, id: &str) -> Deployment {
    ok(c, s, "get_deployment", &[("id", id)]).await
}

pub async fn get_site(c: &reqwest::Client, s: &Server, id: &str) -> Site {
    ok(c, s, "get_site", &[("id", id)]).await
}

/// The history of a site, newest first (its first page).
pub async fn history(c: &reqwest::Client, s: &Server, site: &str) -> Vec<Deployment> {
    let page: DeploymentPage = ok(c, s, "list_deployments", &[("site_id", site)]).await;
    page.deployments
}

/// Waits until a deployment has `status`, and returns it.
pub async fn wait_status(
    c: &reqwest::Client,
    s: &Server,
    id: &str,
    status: DeploymentStatus,
) -> Deployment {
    eventually(&format!("{id} becomes {status}"), SETTLE, || async {
        let d = get_deployment(c, s, id).await;
        (d.status == status).then_some(d)
    })
    .await
}

/// Waits until a deployment has ended, and returns it.
/// A manual deploy of `branch` on `site`, once it has ended.
pub async fn deploy(s: &Server, c: &reqwest::Client, site: &str, branch: &str) -> Deployment {
    let d: Deployment = ok(
        c,
        s,
        "trigger_deployment",
        &[("site_id", site), ("kind", "deploy"), ("git_ref", branch)],
    )
    .await;
    wait_finished(c, s, &d.id.to_string()).await
}

pub async fn wait_finished(c: &reqwest::Client, s: &Server, id: &str) -> Deployment {
    eventually(&format!("{id} finishes"), SETTLE, || async {
        let d = get_deployment(c, s, id).await;
        d.is_finished().then_some(d)
    })
    .await
}

/// Waits until the site has a current deployment and no queued or running
/// operation, and returns it.
pub async fn wait_idle(c: &reqwest::Client, s: &Server, site: &str) -> Site {
    eventually(&format!("site {site} becomes idle"), SETTLE, || async {
        let body = get_site(c, s, site).await;
        (body.active_deployment.is_none() && body.current_deployment.is_some()).then_some(body)
    })
    .await
}
