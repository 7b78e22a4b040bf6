//! A real Flightdeck server on 127.0.0.1:0 and a client with a cookie jar.

use flightdeck::server::config::Config;
use flightdeck::server::db::Db;
use reqwest::StatusCode;
use serde_json::Value;

pub struct Server {
    pub base: String,
    pub db: Db,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Server {
    start_with(&[]).await
}

/// A server with extra flags (`--pipelines=...`).
pub async fn start_with(extra: &[String]) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
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
        _dir: dir,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
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
