//! GitHub webhooks with GitHub's own example payloads, signed as GitHub
//! signs them: what is queued, what is ignored, and what is refused
//! without changing anything.

mod common;

use common::server::{
    Server, call, client, join_as_viewer, sign_up, start_with_test_pipelines, wait_idle,
    wait_status,
};
use flightdeck::server::webhooks::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/github/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

struct Site {
    id: String,
    secret: String,
}

/// A team whose site deploys `master`, the branch of GitHub's examples.
async fn site(s: &Server, c: &reqwest::Client) -> Site {
    sign_up(c, s, "ada@example.com", "Hello").await;
    let (status, site) = call(
        c,
        s,
        "create_site",
        &[
            ("name", "Hello World"),
            ("repository", "https://github.com/Codertocat/Hello-World"),
            ("branch", "master"),
            ("auto_deploy", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{site}");
    let id = site["id"].as_str().expect("id").to_string();
    let (status, hooks) = call(c, s, "get_site_hooks", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{hooks}");
    assert!(
        hooks["webhook_url"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("/hooks/github/{id}"))
    );
    let secret = hooks["secret"].as_str().expect("secret").to_string();
    wait_idle(c, s, &id).await;
    Site { id, secret }
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
        .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
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

async fn signed(s: &Server, site: &Site, event: &str, payload: &Value) -> (StatusCode, Value) {
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

async fn deployments(c: &reqwest::Client, s: &Server, site: &str) -> Vec<Value> {
    let (_, page) = call(c, s, "list_deployments", &[("site_id", site)]).await;
    page["deployments"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn ping_answers_and_a_push_to_the_sites_branch_deploys_that_commit() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = site(&s, &c).await;
    let (status, body) = signed(&s, &site, "ping", &fixture("ping")).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::OK, Some("pong"))
    );

    let push = fixture("push");
    let (status, body) = signed(&s, &site, "push", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let d = wait_status(
        &c,
        &s,
        body["deployment_id"].as_str().expect("id"),
        "completed",
    )
    .await;
    assert_eq!(d["trigger_kind"], "push");
    assert_eq!(d["triggered_by"], "Push by Codertocat");
    assert_eq!(d["branch"], "master");
    assert_eq!(d["commit_sha"], push["after"]);
    assert_eq!(d["user_id"], Value::Null);

    // Pushes elsewhere, a deleted branch, a tag, and events Flightdeck does not use.
    let before = deployments(&c, &s, &site.id).await.len();
    let mut other_branch = push.clone();
    other_branch["ref"] = json!("refs/heads/feature");
    for (event, payload) in [
        ("push", other_branch),
        ("push", fixture("push.tag")),
        ("push", fixture("push.deleted")),
        ("pull_request", fixture("pull_request.closed")),
        ("issues", json!({"action": "opened"})),
    ] {
        let (status, body) = signed(&s, &site, event, &payload).await;
        assert_eq!(status, StatusCode::OK, "{event}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Ignored"),
            "{body}"
        );
    }
    assert_eq!(deployments(&c, &s, &site.id).await.len(), before);
}

#[tokio::test]
async fn pushes_to_a_busy_site_wait_and_only_the_newest_runs() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = site(&s, &c).await;
    // A person's slow deploy keeps the site busy.
    let (status, slow) = call(
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
    assert_eq!(status, StatusCode::OK, "{slow}");
    let slow_id = slow["id"].as_str().expect("id").to_string();
    wait_status(&c, &s, &slow_id, "running").await;

    let mut push = fixture("push");
    let (status, first) = signed(&s, &site, "push", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    push["after"] = json!("0123456789abcdef0123456789abcdef01234567");
    let (status, second) = signed(&s, &site, "push", &push).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let first = wait_status(
        &c,
        &s,
        first["deployment_id"].as_str().expect("id"),
        "cancelled",
    )
    .await;
    assert_eq!(first["error_message"], "skipped: a newer push is queued");
    let (_, queued) = call(
        &c,
        &s,
        "get_deployment",
        &[("id", second["deployment_id"].as_str().expect("id"))],
    )
    .await;
    assert_eq!(queued["status"], "queued");

    // When the site is free, the newest push deploys by itself.
    call(&c, &s, "cancel_deployment", &[("id", &slow_id)]).await;
    let d = wait_status(
        &c,
        &s,
        second["deployment_id"].as_str().expect("id"),
        "completed",
    )
    .await;
    assert_eq!(d["commit_sha"], "0123456789abcdef0123456789abcdef01234567");
}

#[tokio::test]
async fn a_pull_request_deploys_a_preview_that_never_becomes_current() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = site(&s, &c).await;
    let (_, before) = call(&c, &s, "get_site", &[("id", &site.id)]).await;
    let current = before["current_deployment"]["id"].clone();
    assert!(current.is_string());

    for action in ["opened", "synchronize", "reopened"] {
        let payload = fixture(&format!("pull_request.{action}"));
        let (status, body) = signed(&s, &site, "pull_request", &payload).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{action}: {body}");
        let d = wait_status(
            &c,
            &s,
            body["deployment_id"].as_str().expect("id"),
            "completed",
        )
        .await;
        assert_eq!(d["trigger_kind"], "pull_request");
        assert_eq!(d["pr_number"], payload["number"]);
        assert_eq!(d["branch"], payload["pull_request"]["head"]["ref"]);
        assert_eq!(d["commit_sha"], payload["pull_request"]["head"]["sha"]);
        assert!(
            d["preview_url"]
                .as_str()
                .is_some_and(|u| u.contains(&d["id"].as_str().expect("id").to_lowercase()))
        );
        assert_eq!(d["is_current"], false);
    }
    let (_, after) = call(&c, &s, "get_site", &[("id", &site.id)]).await;
    assert_eq!(after["current_deployment"]["id"], current);
}

#[tokio::test]
async fn unsigned_badly_signed_oversized_or_malformed_deliveries_change_nothing() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = site(&s, &c).await;
    let body = serde_json::to_vec(&fixture("push")).expect("json");
    let before = deployments(&c, &s, &site.id).await.len();

    let (status, err) = deliver(&s, &site.id, "push", &body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not signed")
    );
    let wrong = sign(b"not the secret", &body);
    let (status, err) = deliver(&s, &site.id, "push", &body, Some(wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not match")
    );
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
    let site = site(&s, &c).await;
    let (status, rotated) = call(&c, &s, "rotate_webhook_secret", &[("id", &site.id)]).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().expect("secret");
    assert_ne!(new_secret, site.secret);
    assert_eq!(new_secret.len(), 64);
    let (status, _) = signed(&s, &site, "ping", &fixture("ping")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let rotated_site = Site {
        id: site.id.clone(),
        secret: new_secret.to_string(),
    };
    let (status, _) = signed(&s, &rotated_site, "ping", &fixture("ping")).await;
    assert_eq!(status, StatusCode::OK);

    let viewer = client();
    sign_up(&viewer, &s, "viewer@example.com", "Own").await;
    join_as_viewer(&c, &viewer, &s, "viewer@example.com").await;
    for name in ["get_site_hooks", "rotate_webhook_secret"] {
        let (status, _) = call(&viewer, &s, name, &[("id", &site.id)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    // Another team's member: not found, exactly like an id that does not exist.
    let stranger = client();
    sign_up(&stranger, &s, "eve@example.com", "Eve").await;
    for name in ["get_site_hooks", "rotate_webhook_secret"] {
        let (status, _) = call(&stranger, &s, name, &[("id", &site.id)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
}
