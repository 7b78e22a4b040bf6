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
    let sites = api(&c, port, "list_sites", &[]).await;
    let site = sites[0]["id"].as_str().expect("site").to_string();
    let d = api(
        &c,
        port,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    let id = d["id"].as_str().expect("id").to_string();
    for _ in 0..200 {
        let d = api(&c, port, "get_deployment", &[("id", &id)]).await;
        if d["steps"][0]["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

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
