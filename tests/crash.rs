//! The real binary killed with SIGKILL in the middle of a step: started
//! again, it leaves that deployment failed with a message, never running.

use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Long build"
phase = "build"
run = 'echo started; sleep 3'
"#;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn spawn(dir: &std::path::Path, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .arg(format!("--data-dir={}", dir.display()))
        .arg(format!("--site-addr=127.0.0.1:{port}"))
        .arg(format!(
            "--pipelines={}",
            dir.join("pipelines.toml").display()
        ))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/signin"))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not come up");
}

async fn api(
    c: &reqwest::Client,
    port: u16,
    name: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    c.post(format!("http://127.0.0.1:{port}/api/{name}"))
        .form(form)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_server_killed_mid_step_fails_that_deployment_when_it_starts_again() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("pipelines.toml"), PIPELINES).expect("write");
    let port = free_port();
    let mut server = spawn(dir.path(), port).await;
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    api(
        &c,
        port,
        "sign_in",
        &[
            ("email", "demo@flightdeck.dev"),
            ("password", "flightdeck-demo"),
        ],
    )
    .await;
    // Each demo site deploys once by itself at first start; kill the server
    // while one of those deploys is in its step.
    let mut id = String::new();
    for _ in 0..200 {
        let page = api(&c, port, "list_deployments", &[]).await;
        if let Some(d) = page["deployments"]
            .as_array()
            .and_then(|list| list.iter().find(|d| d["steps"][0]["status"] == "running"))
        {
            assert_eq!(d["triggered_by"], "Site created");
            id = d["id"].as_str().expect("id").to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!id.is_empty(), "no first deploy started");

    server.kill().await.expect("SIGKILL");
    let _server = spawn(dir.path(), port).await;

    // Sessions live in the database, so the same cookie still works.
    let d = api(&c, port, "get_deployment", &[("id", &id)]).await;
    assert_eq!(d["status"], "failed", "{d}");
    let message = d["error_message"].as_str().unwrap_or_default();
    assert!(
        message.contains("server stopped during step 1") && message.contains("Long build"),
        "{message}"
    );
    assert_eq!(d["steps"][0]["status"], "failed");
}
