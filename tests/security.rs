//! Hostile requests at the edge: another site's host name (DNS rebinding),
//! oversized bodies, too many sockets, a fork's pull request, a replayed
//! delivery. Each is refused or held, and changes nothing.

mod common;

use common::github::{HookedSite, fixture, hooked_site};

use common::server::{
    Server, call, client, client_with_jar, get_deployment, history, ok, refused, sign_up,
    start_with, start_with_test_pipelines, wait_status,
};
use flightdeck::model::{Deployment, DeploymentStatus, Site, StepStatus, TriggerKind};
use flightdeck::server::github::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn another_sites_host_name_gets_no_answer_on_pages_the_api_or_the_socket() {
    let s = start_with(&[]).await;
    let (c, jar) = client_with_jar();
    sign_up(&c, &s, "ada@example.com", "Rockets").await;
    let port = s.base.rsplit(':').next().expect("port");
    let evil = format!("evil.example:{port}");
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/signin"),
        ("POST", "/api/list_sites"),
    ] {
        let req = match method {
            "GET" => c.get(format!("{}{path}", s.base)),
            _ => c.post(format!("{}{path}", s.base)),
        };
        let res = req
            .header("host", &evil)
            .header("origin", format!("http://{evil}"))
            .send()
            .await
            .expect("request");
        assert_eq!(
            res.status(),
            StatusCode::MISDIRECTED_REQUEST,
            "{method} {path}"
        );
        let body = res.text().await.expect("body");
        assert!(!body.contains("Rockets"), "{path} leaked: {body}");
    }
    // The socket too, even with the session cookie.
    use reqwest::cookie::CookieStore;
    let mut req = format!("{}/ws", s.base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    let cookie = jar.cookies(&s.base.parse().expect("url")).expect("cookie");
    req.headers_mut().insert("cookie", cookie);
    req.headers_mut()
        .insert("host", evil.parse().expect("host"));
    req.headers_mut()
        .insert("origin", format!("http://{evil}").parse().expect("origin"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 421)
        }
        other => panic!(
            "the socket opened for another host: {:?}",
            other.map(|_| ())
        ),
    }
    // The dashboard's own names are answered.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let res = c
            .post(format!("{}/api/list_sites", s.base))
            .header("host", host.as_str())
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn a_huge_form_is_refused_unread_and_the_server_keeps_answering() {
    let s = start_with(&[]).await;
    let c = client();
    let body = vec![b'a'; 20 * 1024 * 1024];
    let res = c
        .post(format!("{}/api/sign_in", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let err: flightdeck::model::AppError = res.json().await.expect("an AppError");
    assert!(err.message.contains("larger than"), "{err}");
    // Without a length, the body is cut off at the limit as it streams.
    let status = chunked_post(&s.base, "/api/sign_in", 80, 64 * 1024).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let info = sign_up(&c, &s, "ada@example.com", "Still here").await;
    assert_eq!(info.team.name, "Still here");
}

/// Sends `chunks` chunks of `size` bytes with `Transfer-Encoding: chunked`
/// and returns the status line, or what the server answered before the
/// body was all sent.
async fn chunked_post(base: &str, path: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("{size:x}\r\n{}\r\n", "a".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before everything is sent.
        if tcp.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = tcp.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 512];
    let n = tcp.read(&mut answer).await.unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn one_session_may_not_open_sockets_without_end() {
    let s = start_with(&[]).await;
    let (c, jar) = client_with_jar();
    sign_up(&c, &s, "ada@example.com", "Rockets").await;
    use reqwest::cookie::CookieStore;
    let cookie = jar.cookies(&s.base.parse().expect("url")).expect("cookie");
    let mut open = Vec::new();
    let mut refused_with = None;
    for _ in 0..20 {
        let mut req = format!("{}/ws", s.base.replace("http://", "ws://"))
            .into_client_request()
            .expect("request");
        req.headers_mut().insert("cookie", cookie.clone());
        match tokio_tungstenite::connect_async(req).await {
            Ok((socket, _)) => open.push(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                refused_with = Some(res.status().as_u16());
                break;
            }
            Err(e) => panic!("connect: {e}"),
        }
    }
    assert_eq!(
        open.len(),
        flightdeck::server::realtime::bus::SOCKETS_PER_SESSION
    );
    assert_eq!(refused_with, Some(429));
}

async fn deliver(
    s: &Server,
    site: &HookedSite,
    event: &str,
    delivery: &str,
    payload: &Value,
) -> (StatusCode, Value) {
    let body = serde_json::to_vec(payload).expect("json");
    let res = client()
        .post(format!("{}/hooks/github/{}", s.base, site.id))
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(site.secret.as_bytes(), &body))
        .body(body)
        .send()
        .await
        .expect("delivery");
    let status = res.status();
    (status, res.json().await.expect("json"))
}

fn from_fork(mut payload: Value) -> Value {
    payload["pull_request"]["head"]["repo"]["full_name"] = json!("mallory/Hello-World");
    payload
}

#[tokio::test]
async fn a_forks_pull_request_runs_nothing_until_a_member_approves_it() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let (status, body) = deliver(
        &s,
        &site,
        "pull_request",
        "fork-1",
        &from_fork(fixture("pull_request.opened")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("approval"),
        "{body}"
    );
    let id = body["deployment_id"].as_str().expect("id").to_string();
    let waiting = get_deployment(&c, &s, &id).await;
    assert!(waiting.awaiting_approval);
    assert_eq!(waiting.status, DeploymentStatus::Queued);
    // Nothing of it runs, and it does not keep the site busy.
    let manual: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site.id), ("kind", "deploy")],
    )
    .await;
    wait_status(&c, &s, &manual.id.to_string(), DeploymentStatus::Completed).await;
    let still = get_deployment(&c, &s, &id).await;
    assert_eq!(still.status, DeploymentStatus::Queued);
    assert!(still.steps.iter().all(|st| st.status == StepStatus::Queued));

    // A viewer and another team cannot approve it.
    let stranger = client();
    sign_up(&stranger, &s, "eve@example.com", "Eve").await;
    let (status, _) = refused(&stranger, &s, "approve_deployment", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let () = ok(&c, &s, "approve_deployment", &[("id", &id)]).await;
    let d = wait_status(&c, &s, &id, DeploymentStatus::Completed).await;
    assert!(!d.awaiting_approval);
    assert!(d.preview_url.is_some());
    let (status, _) = refused(&c, &s, "approve_deployment", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "approved once");

    // Another fork's PR can be cancelled unapproved: nothing ever ran.
    let (_, body) = deliver(
        &s,
        &site,
        "pull_request",
        "fork-2",
        &from_fork(fixture("pull_request.synchronize")),
    )
    .await;
    let other = body["deployment_id"].as_str().expect("id").to_string();
    let () = ok(&c, &s, "cancel_deployment", &[("id", &other)]).await;
    let d = get_deployment(&c, &s, &other).await;
    assert_eq!(d.status, DeploymentStatus::Cancelled);
    assert!(d.steps.iter().all(|st| st.status == StepStatus::Queued));

    // Retrying the rejected one holds it for approval again.
    let again: Deployment = ok(&c, &s, "retry_deployment", &[("id", &other)]).await;
    assert!(again.awaiting_approval, "{again:?}");
    assert_eq!(again.trigger_kind, TriggerKind::PullRequest);
    // Redeploying the approved preview runs it, and it stays a preview:
    // a fork's code never replaces what the site serves.
    let redeploy: Deployment = ok(&c, &s, "retry_deployment", &[("id", &id)]).await;
    assert!(!redeploy.awaiting_approval);
    let done = wait_status(
        &c,
        &s,
        &redeploy.id.to_string(),
        DeploymentStatus::Completed,
    )
    .await;
    assert_eq!(done.trigger_kind, TriggerKind::PullRequest);
    let served: Site = ok(&c, &s, "get_site", &[("id", &site.id)]).await;
    assert_eq!(
        served.current_deployment.map(|d| d.id),
        Some(manual.id),
        "the manual deploy is still what the site serves"
    );
}

#[tokio::test]
async fn a_replayed_delivery_changes_nothing() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let push = fixture("push");
    let (status, first) = deliver(&s, &site, "push", "the-same-delivery", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let before = history(&c, &s, &site.id).await.len();
    let (status, again) = deliver(&s, &site, "push", "the-same-delivery", &push).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(
        again["message"]
            .as_str()
            .unwrap_or_default()
            .contains("received before")
    );
    assert_eq!(history(&c, &s, &site.id).await.len(), before);
}

#[tokio::test]
async fn pull_requests_deploy_nothing_while_previews_or_auto_deploy_are_off() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let before = history(&c, &s, &site.id).await.len();
    for (auto_deploy, previews, why) in [
        (Some("on"), None, "previews are off"),
        (None, Some("on"), "auto-deploy is off"),
    ] {
        let mut form = vec![("site_id", site.id.as_str())];
        form.extend(auto_deploy.map(|v| ("auto_deploy", v)));
        form.extend(previews.map(|v| ("previews", v)));
        let updated: flightdeck::model::Site = ok(&c, &s, "update_site", &form).await;
        assert_eq!(
            (updated.auto_deploy, updated.previews),
            (auto_deploy.is_some(), previews.is_some())
        );
        let (status, body) = deliver(
            &s,
            &site,
            "pull_request",
            &ulid::Ulid::new().to_string(),
            &fixture("pull_request.opened"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body["message"].as_str().unwrap_or_default().contains(why),
            "{body}"
        );
    }
    assert_eq!(history(&c, &s, &site.id).await.len(), before);
    // A viewer changes nothing.
    let (status, _) = call(
        &client(),
        &s,
        "update_site",
        &[("site_id", site.id.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
