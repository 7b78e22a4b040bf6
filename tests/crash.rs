//! The real binary stopped in the middle of a step. Killed with SIGKILL,
//! started again, it leaves that deployment failed with a message; sent
//! SIGTERM, it stops the step itself within its grace period. Either way
//! nothing is left running. And a newcomer's first start, from any folder
//! with the default data folder, deploys both demo sites. A notification
//! whose delivery a SIGKILL cut off is delivered after the restart.

mod common;

use common::binary::{self, Binary, api, spawn};
use common::eventually;
use flightdeck::model::{
    Deployment, DeploymentPage, DeploymentStatus, PipelineType, SessionInfo, Site, StepStatus,
    TriggerKind,
};
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Long build"
phase = "build"
run = 'echo started; sleep 3'
"#;

/// A step that would run for a minute unless stopped.
const ENDLESS: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Endless build"
phase = "build"
run = 'echo started; sleep 60'
"#;

async fn start(dir: &Path, pipelines: &str, extra: &[&str], port: Option<u16>) -> Binary {
    std::fs::write(dir.join("pipelines.toml"), pipelines).expect("write");
    let mut args = vec![
        format!("--data-dir={}", dir.display()),
        format!("--pipelines={}", dir.join("pipelines.toml").display()),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    spawn(dir, &args, &[("FLIGHTDECK_DEMO", "1")], port).await
}

async fn sign_in_demo(c: &reqwest::Client, b: &Binary) {
    let _: SessionInfo = api(
        c,
        b,
        "sign_in",
        &[
            ("email", "demo@flightdeck.dev"),
            ("password", "flightdeck-demo"),
        ],
    )
    .await;
}

/// One of the demo sites' first deploys, once its step runs.
async fn running_first_deploy(c: &reqwest::Client, b: &Binary) -> Deployment {
    eventually(
        "a first deploy runs its step",
        Duration::from_secs(20),
        || async {
            let page: DeploymentPage = api(c, b, "list_deployments", &[]).await;
            page.deployments.into_iter().find(|d| {
                d.pipeline_type == PipelineType::Deploy
                    && d.steps
                        .first()
                        .is_some_and(|s| s.status == StepStatus::Running)
            })
        },
    )
    .await
}

#[tokio::test]
async fn a_server_killed_mid_step_fails_that_deployment_when_it_starts_again() {
    let dir = tempfile::tempdir().expect("dir");
    let port = binary::free_port();
    let mut server = start(dir.path(), PIPELINES, &[], Some(port)).await;
    let c = binary::client();
    sign_in_demo(&c, &server).await;
    // Each demo site deploys once by itself at first start; kill the server
    // while one of those deploys is in its step.
    let d = running_first_deploy(&c, &server).await;
    assert_eq!(d.triggered_by, "Site created");
    let id = d.id.to_string();

    server.child.kill().await.expect("SIGKILL");
    let server = start(dir.path(), PIPELINES, &[], Some(port)).await;

    // Sessions live in the database, so the same cookie still works.
    let d: Deployment = api(&c, &server, "get_deployment", &[("id", &id)]).await;
    assert_eq!(d.status, DeploymentStatus::Failed, "{d:?}");
    let message = d.error_message.unwrap_or_default();
    assert!(
        message.contains("instance running it")
            && message.contains("stopped during step 1")
            && message.contains("Long build")
            && message.contains("when Flightdeck started again"),
        "{message}"
    );
    assert_eq!(d.steps[0].status, StepStatus::Failed);
}

#[tokio::test]
async fn a_notification_cut_off_by_sigkill_is_delivered_after_the_restart() {
    use common::receiver::{Receiver, Reply};
    use flightdeck::model::{DeliveryState, NewNotificationHook, NotificationHook};
    let dir = tempfile::tempdir().expect("dir");
    let port = binary::free_port();
    let allow = ("FLIGHTDECK_HOOKS_ALLOW_PRIVATE", "1");
    let args = [
        format!("--data-dir={}", dir.path().display()),
        "--demo=1".to_string(),
    ];
    let mut server = spawn(dir.path(), &args, &[allow], Some(port)).await;
    let c = binary::client();
    sign_in_demo(&c, &server).await;
    let mut receiver = Receiver::start().await;
    // The first try never gets an answer: the server dies waiting for it.
    receiver.script(&[Reply::Hang]);
    let hook: NewNotificationHook = api(
        &c,
        &server,
        "create_notification_hook",
        &[("url", &receiver.url), ("events", "site.locked")],
    )
    .await;
    let sites: Vec<Site> = api(&c, &server, "list_sites", &[]).await;
    let site = sites[0].id.to_string();
    let _: Site = api(
        &c,
        &server,
        "lock_site",
        &[("site_id", &site), ("reason", "release freeze")],
    )
    .await;
    let cut = receiver.next(Duration::from_secs(20)).await;
    assert_eq!(cut.event(), "site.locked");

    server.child.kill().await.expect("SIGKILL");
    let server = spawn(dir.path(), &args, &[allow], Some(port)).await;

    let again = receiver.next(Duration::from_secs(30)).await;
    assert_eq!(
        again.delivery(),
        cut.delivery(),
        "the same notification, delivered again"
    );
    assert!(again.signed_with(&hook.secret));
    let hooks: Vec<NotificationHook> = eventually(
        "the delivery is logged",
        Duration::from_secs(10),
        || async {
            let hooks: Vec<NotificationHook> =
                api(&c, &server, "list_notification_hooks", &[]).await;
            (hooks[0].deliveries[0].state == DeliveryState::Delivered).then_some(hooks)
        },
    )
    .await;
    assert_eq!(hooks[0].deliveries.len(), 1, "one notification");
    assert!(receiver.drain(Duration::from_secs(2)).await.is_empty());
}

#[tokio::test]
async fn sigterm_stops_running_steps_within_the_grace_period_and_leaves_nothing_running() {
    let dir = tempfile::tempdir().expect("dir");
    let port = binary::free_port();
    let grace = Duration::from_secs(2);
    let mut server = start(
        dir.path(),
        ENDLESS,
        &["--shutdown-grace-secs=2"],
        Some(port),
    )
    .await;
    let (c, jar) = common::server::client_with_jar();
    sign_in_demo(&c, &server).await;
    let d = running_first_deploy(&c, &server).await;
    let id = d.id.to_string();
    let mut socket = live_socket(&server, &jar).await;

    let asked = Instant::now();
    server.signal(Signal::SIGTERM);
    // Open pages hear at once that the server is going away, and reconnect.
    let close = tokio::time::timeout(Duration::from_secs(2), going_away(&mut socket))
        .await
        .expect("the socket is closed at once");
    assert_eq!(close, Some(1001), "closed as going away");
    let status = tokio::time::timeout(grace + Duration::from_secs(5), server.child.wait())
        .await
        .expect("the server exits within the grace period plus 5 s")
        .expect("exit status");
    let took = asked.elapsed();
    assert!(status.success(), "a clean shutdown exits 0: {status:?}");
    assert!(
        took >= grace,
        "running steps got their grace period ({took:?})"
    );

    let server = start(dir.path(), ENDLESS, &[], Some(port)).await;
    let d: Deployment = api(&c, &server, "get_deployment", &[("id", &id)]).await;
    assert_eq!(d.status, DeploymentStatus::Cancelled, "{d:?}");
    let message = d.error_message.unwrap_or_default();
    assert!(
        message.contains("server shut down during step 1") && message.contains("Endless build"),
        "{message}"
    );
    assert_eq!(d.steps[0].status, StepStatus::Cancelled);
    // Nothing was left for recovery: every deployment that ran ended by
    // the shutdown's own hand.
    let page: DeploymentPage = api(&c, &server, "list_deployments", &[]).await;
    for d in &page.deployments {
        let message = d.error_message.as_deref().unwrap_or_default();
        assert!(
            !message.contains("instance running it"),
            "{}: {message}",
            d.id
        );
    }
}

/// A signed-in page's live channel, past its `hello`.
async fn live_socket(
    b: &Binary,
    jar: &reqwest::cookie::Jar,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures::StreamExt;
    use reqwest::cookie::CookieStore;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://127.0.0.1:{}/ws", b.port)
        .into_client_request()
        .expect("request");
    let cookie = jar.cookies(&b.base.parse().expect("url")).expect("cookie");
    req.headers_mut().insert("cookie", cookie);
    let (mut socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    let hello = socket.next().await.expect("hello").expect("frame");
    assert!(
        hello.to_text().expect("text").contains("\"hello\""),
        "{hello:?}"
    );
    socket
}

/// Reads until the socket closes; the close code, if one came.
async fn going_away(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<u16> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    while let Some(frame) = socket.next().await {
        match frame {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
    None
}

#[tokio::test]
async fn a_first_start_with_the_default_data_dir_deploys_both_demo_sites_from_any_folder() {
    // A newcomer's `./dev run`: no flags, the data folder relative to where
    // the server starts, and the demo account `./dev run` asks for.
    let cwd = tempfile::tempdir().expect("dir");
    let server = spawn(cwd.path(), &[], &[("FLIGHTDECK_DEMO", "1")], None).await;
    assert!(cwd.path().join("data/flightdeck.db").is_file());
    let c = binary::client();
    sign_in_demo(&c, &server).await;
    let sites: Vec<Site> = eventually(
        "both demo sites deploy",
        Duration::from_secs(60),
        || async {
            let sites: Vec<Site> = api(&c, &server, "list_sites", &[]).await;
            let settled = sites.len() == 2
                && sites
                    .iter()
                    .all(|s| s.active_deployment.is_none() && s.current_deployment.is_some());
            settled.then_some(sites)
        },
    )
    .await;
    for site in sites {
        let current = site.current_deployment.expect("current");
        assert_eq!(current.status, DeploymentStatus::Completed, "{}", site.name);
        assert_eq!(current.trigger_kind, TriggerKind::SiteCreated);
        assert!(
            current.commit_sha.is_some(),
            "the checked-out commit is recorded"
        );
        // The site's own URL serves what the deploy published.
        let url = site.url.expect("url");
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let page = reqwest::Client::new()
            .get(format!("{}/", server.base))
            .header("host", host)
            .send()
            .await
            .expect("preview");
        assert_eq!(page.status(), 200, "{}", site.name);
        let html = page.text().await.expect("html");
        assert!(html.contains(&format!("<h1>{}</h1>", site.name)), "{html}");
    }
}

#[tokio::test]
async fn a_server_whose_log_reader_went_away_still_stops_cleanly() {
    // `flightdeck | tee log` with the tee stopped by Ctrl-C, a journal that
    // restarted: every line the server writes from then on fails.
    let dir = tempfile::tempdir().expect("dir");
    let port = binary::free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .arg(format!("--data-dir={}", dir.path().display()))
        .arg(format!("--site-addr=127.0.0.1:{port}"))
        .arg("--demo=1")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let base = format!("http://127.0.0.1:{port}");
    eventually("the server answers", Duration::from_secs(30), || async {
        reqwest::get(format!("{base}/signin"))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    drop(child.stdout.take());
    drop(child.stderr.take());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id().expect("running") as i32),
        Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("it stops")
        .expect("status");
    assert!(
        status.success(),
        "a clean stop, though nobody reads its log: {status:?}"
    );
}
