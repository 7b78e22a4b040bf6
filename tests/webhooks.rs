//! GitHub webhooks with GitHub's own example payloads, signed as GitHub
//! signs them: what is queued, what is ignored, and what is refused
//! without changing anything.

mod common;

use common::github::{HookedSite, fixture, hooked_site};

use common::server::{
    Server, client, get_deployment, get_site, history, join_as_viewer, ok, refused, sign_up,
    start_with_test_pipelines, wait_status,
};
use flightdeck::model::{
    AppError, Deployment, DeploymentId, DeploymentStatus, SiteHooks, TriggerKind,
};
use flightdeck::server::github::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What a delivery is answered with: `{message, deployment_id}`.
#[derive(serde::Deserialize, Debug)]
struct Reply {
    message: String,
    deployment_id: Option<DeploymentId>,
}

impl Reply {
    fn deployment(&self) -> String {
        self.deployment_id.expect("a deployment").to_string()
    }
}

fn reply(body: &Value) -> Reply {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn error(body: &Value) -> AppError {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

async fn deliver(
    s: &Server,
    site: &str,
    event: &str,
    body: &[u8],
    signature: Option<String>,
) -> (StatusCode, Value) {
    let mut req = client()
        .post(format!("{}/hooks/github/{site}", s.base))
        .header("x-github-event", event)
        // Each delivery has an id of its own, as GitHub's do.
        .header("x-github-delivery", ulid::Ulid::new().to_string())
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    let res = req.send().await.expect("delivery");
    let status = res.status();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn signed(
    s: &Server,
    site: &HookedSite,
    event: &str,
    payload: &Value,
) -> (StatusCode, Value) {
    let body = serde_json::to_vec(payload).expect("json");
    deliver(
        s,
        &site.id,
        event,
        &body,
        Some(sign(site.secret.as_bytes(), &body)),
    )
    .await
}

async fn deployments(c: &reqwest::Client, s: &Server, site: &str) -> Vec<Deployment> {
    history(c, s, site).await
}

#[tokio::test]
async fn ping_answers_and_a_push_to_the_sites_branch_deploys_that_commit() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let (status, body) = signed(&s, &site, "ping", &fixture("ping")).await;
    assert_eq!(
        (status, reply(&body).message.as_str()),
        (StatusCode::OK, "pong")
    );

    let push = fixture("push");
    let (status, body) = signed(&s, &site, "push", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let d = wait_status(
        &c,
        &s,
        &reply(&body).deployment(),
        DeploymentStatus::Completed,
    )
    .await;
    assert_eq!(d.trigger_kind, TriggerKind::Push);
    assert_eq!(d.triggered_by, "Push by Codertocat");
    assert_eq!(d.branch.as_deref(), Some("master"));
    assert_eq!(d.commit_sha.as_deref(), push["after"].as_str());
    assert_eq!(d.user_id, None);

    // Pushes elsewhere, a deleted branch, a tag, and events Flightdeck does not use.
    let before = deployments(&c, &s, &site.id).await.len();
    let mut other_branch = push.clone();
    other_branch["ref"] = json!("refs/heads/feature");
    for (event, payload) in [
        ("push", other_branch),
        ("push", fixture("push.tag")),
        ("push", fixture("push.deleted")),
        ("issues", json!({"action": "opened"})),
    ] {
        let (status, body) = signed(&s, &site, event, &payload).await;
        assert_eq!(status, StatusCode::OK, "{event}: {body}");
        let reply = reply(&body);
        assert!(reply.message.starts_with("Ignored"), "{reply:?}");
        assert_eq!(reply.deployment_id, None);
    }
    // A closed pull request deploys nothing: it removes its previews.
    let (status, body) = signed(&s, &site, "pull_request", &fixture("pull_request.closed")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = reply(&body);
    assert_eq!(
        reply.message,
        "Pull request #2 closed: 0 preview(s) removed."
    );
    assert_eq!(reply.deployment_id, None);
    assert_eq!(deployments(&c, &s, &site.id).await.len(), before);
}

#[tokio::test]
async fn pushes_to_a_busy_site_wait_and_only_the_newest_runs() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    // A person's slow deploy keeps the site busy.
    let slow: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[
            ("site_id", &site.id),
            ("kind", "deploy"),
            ("git_ref", "slow"),
        ],
    )
    .await;
    let slow_id = slow.id.to_string();
    wait_status(&c, &s, &slow_id, DeploymentStatus::Running).await;

    let mut push = fixture("push");
    let (status, first) = signed(&s, &site, "push", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    push["after"] = json!("0123456789abcdef0123456789abcdef01234567");
    let (status, second) = signed(&s, &site, "push", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let first = wait_status(
        &c,
        &s,
        &reply(&first).deployment(),
        DeploymentStatus::Cancelled,
    )
    .await;
    assert_eq!(
        first.error_message.as_deref(),
        Some("skipped: a newer push is queued")
    );
    let second = reply(&second).deployment();
    let queued = get_deployment(&c, &s, &second).await;
    assert_eq!(queued.status, DeploymentStatus::Queued);

    // When the site is free, the newest push deploys by itself.
    let () = ok(&c, &s, "cancel_deployment", &[("id", &slow_id)]).await;
    let d = wait_status(&c, &s, &second, DeploymentStatus::Completed).await;
    assert_eq!(
        d.commit_sha.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
}

#[tokio::test]
async fn a_pull_request_deploys_a_preview_that_never_becomes_current() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let current = get_site(&c, &s, &site.id)
        .await
        .current_deployment
        .expect("current")
        .id;

    for action in ["opened", "synchronize", "reopened"] {
        let payload = fixture(&format!("pull_request.{action}"));
        let (status, body) = signed(&s, &site, "pull_request", &payload).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{action}: {body}");
        let d = wait_status(
            &c,
            &s,
            &reply(&body).deployment(),
            DeploymentStatus::Completed,
        )
        .await;
        assert_eq!(d.trigger_kind, TriggerKind::PullRequest);
        assert_eq!(d.pr_number, payload["number"].as_i64());
        assert_eq!(
            d.branch.as_deref(),
            payload["pull_request"]["head"]["ref"].as_str()
        );
        assert_eq!(
            d.commit_sha.as_deref(),
            payload["pull_request"]["head"]["sha"].as_str()
        );
        assert!(
            d.preview_url
                .as_deref()
                .is_some_and(|u| u.contains(&d.id.to_string().to_lowercase()))
        );
        assert!(!d.is_current);
    }
    let after = get_site(&c, &s, &site.id).await;
    assert_eq!(after.current_deployment.expect("current").id, current);
}

#[tokio::test]
async fn unsigned_badly_signed_oversized_or_malformed_deliveries_change_nothing() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let body = serde_json::to_vec(&fixture("push")).expect("json");
    let before = deployments(&c, &s, &site.id).await.len();

    let (status, err) = deliver(&s, &site.id, "push", &body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert!(error(&err).message.contains("not signed"));
    let wrong = sign(b"not the secret", &body);
    let (status, err) = deliver(&s, &site.id, "push", &body, Some(wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert!(error(&err).message.contains("does not match"));
    // A signature of another body, or a mangled one.
    let other = sign(site.secret.as_bytes(), b"{}");
    for sig in [
        other,
        "sha256=nothex".into(),
        format!("sha1={}", "0".repeat(40)),
    ] {
        let (status, _) = deliver(&s, &site.id, "push", &body, Some(sig)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Too large to read, even when signed.
    let huge = vec![b' '; 6 * 1024 * 1024];
    let (status, _) = deliver(
        &s,
        &site.id,
        "push",
        &huge,
        Some(sign(site.secret.as_bytes(), &huge)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Signed, but not GitHub's JSON.
    for bad in [
        &b"{not json"[..],
        br#"{"ref": "refs/heads/master"}"#,
        br#"{"ref":"refs/heads/master","after":"; rm -rf /"}"#,
    ] {
        let (status, err) = deliver(
            &s,
            &site.id,
            "push",
            bad,
            Some(sign(site.secret.as_bytes(), bad)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        error(&err);
    }
    // Unknown and malformed sites.
    let (status, _) = deliver(&s, "01JZZZZZZZZZZZZZZZZZZZZZZZ", "push", &body, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = deliver(&s, "../../etc", "push", &body, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(deployments(&c, &s, &site.id).await.len(), before);
}

#[tokio::test]
async fn a_rotated_secret_refuses_the_old_one_and_viewers_never_see_it() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = hooked_site(&s, &c).await;
    let rotated: SiteHooks = ok(&c, &s, "rotate_webhook_secret", &[("id", &site.id)]).await;
    let new_secret = rotated.secret.as_str();
    assert_ne!(new_secret, site.secret);
    assert_eq!(new_secret.len(), 64);
    let (status, _) = signed(&s, &site, "ping", &fixture("ping")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let rotated_site = HookedSite {
        id: site.id.clone(),
        secret: new_secret.to_string(),
    };
    let (status, _) = signed(&s, &rotated_site, "ping", &fixture("ping")).await;
    assert_eq!(status, StatusCode::OK);

    let viewer = client();
    sign_up(&viewer, &s, "viewer@example.com", "Own").await;
    join_as_viewer(&c, &viewer, &s, "viewer@example.com").await;
    for name in ["get_site_hooks", "rotate_webhook_secret"] {
        let (status, _) = refused(&viewer, &s, name, &[("id", &site.id)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    // Another team's member: not found, exactly like an id that does not exist.
    let stranger = client();
    sign_up(&stranger, &s, "eve@example.com", "Eve").await;
    for name in ["get_site_hooks", "rotate_webhook_secret"] {
        let (status, _) = refused(&stranger, &s, name, &[("id", &site.id)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
}
