//! Triggering, cancelling and retrying through the public API.

mod common;

use common::server::{
    Server, call, client, join_as_viewer, sign_up, start_with_test_pipelines, wait_status,
};
use reqwest::StatusCode;

async fn server() -> Server {
    start_with_test_pipelines().await
}

async fn team_site(s: &Server, c: &reqwest::Client, email: &str) -> String {
    let info = sign_up(c, s, email, "Team").await;
    let team_id: flightdeck::model::TeamId = info["team"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("ulid");
    let site = flightdeck::server::sites::insert(
        &s.db,
        flightdeck::server::sites::NewSite {
            team_id,
            name: "Web",
            repository: "https://github.com/acme/web",
            branch: "main",
            auto_deploy: true,
            parent_site_id: None,
        },
    )
    .await
    .expect("site");
    site.to_string()
}

#[tokio::test]
async fn trigger_cancel_and_retry_through_the_api() {
    let s = server().await;
    let c = client();
    let site = team_site(&s, &c, "ops@example.com").await;

    let (status, d) = call(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy"), ("git_ref", "slow")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["operation_name"], "Deploy slow");
    assert_eq!(d["type"], "deploy");
    assert_eq!(d["triggered_by"], "Ada Lovelace");
    let id = d["id"].as_str().expect("id").to_string();

    // A second manual deploy is refused while the first runs, naming it.
    wait_status(&c, &s, &id, "running").await;
    let (status, err) = call(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Deploy slow"),
        "{err}"
    );

    let (status, _) = call(&c, &s, "cancel_deployment", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    let d = wait_status(&c, &s, &id, "cancelled").await;
    assert_eq!(d["steps"][0]["status"], "cancelled");
    assert_eq!(d["steps"][1]["status"], "queued");

    let (status, retry) = call(&c, &s, "retry_deployment", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{retry}");
    assert_eq!(retry["retry_of_id"], id.as_str());
    assert_eq!(retry["branch"], "slow");
    let retry_id = retry["id"].as_str().expect("id").to_string();
    call(&c, &s, "cancel_deployment", &[("id", &retry_id)]).await;
    wait_status(&c, &s, &retry_id, "cancelled").await;

    // A commit deploys by its SHA and completes.
    let (_, d) = call(
        &c,
        &s,
        "trigger_deployment",
        &[
            ("site_id", &site),
            ("kind", "deploy"),
            ("git_ref", "ABCDEF1234"),
        ],
    )
    .await;
    let d = wait_status(&c, &s, d["id"].as_str().expect("id"), "completed").await;
    assert_eq!(d["commit_sha"], "abcdef1234");
    assert!(
        d["steps"][0]["output"]
            .as_str()
            .unwrap_or_default()
            .contains("commit=abcdef1234")
    );
}

#[tokio::test]
async fn bad_trigger_input_gets_a_clear_message_and_changes_nothing() {
    let s = server().await;
    let c = client();
    let site = team_site(&s, &c, "ops@example.com").await;
    let huge = "b".repeat(1_000_000);
    type Case<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str);
    let cases: &[Case] = &[
        (&[("kind", "deploy")], StatusCode::BAD_REQUEST, "malformed"),
        (&[("site_id", &site)], StatusCode::BAD_REQUEST, "malformed"),
        (
            &[("site_id", "not-an-id"), ("kind", "deploy")],
            StatusCode::NOT_FOUND,
            "Site not found",
        ),
        (
            &[
                ("site_id", "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
                ("kind", "deploy"),
            ],
            StatusCode::NOT_FOUND,
            "Site not found",
        ),
        (
            &[("site_id", &site), ("kind", "launch")],
            StatusCode::BAD_REQUEST,
            "Choose what to run",
        ),
        (
            &[("site_id", &site), ("kind", "clone_site")],
            StatusCode::BAD_REQUEST,
            "cannot be started",
        ),
        (
            &[
                ("site_id", &site),
                ("kind", "deploy"),
                ("git_ref", "x; rm -rf /"),
            ],
            StatusCode::BAD_REQUEST,
            "not a valid branch",
        ),
        (
            &[("site_id", &site), ("kind", "deploy"), ("git_ref", &huge)],
            StatusCode::BAD_REQUEST,
            "too long",
        ),
    ];
    for (form, status, message) in cases {
        let (got, body) = call(&c, &s, "trigger_deployment", form).await;
        assert_eq!(got, *status, "{form:?}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(message),
            "{body}"
        );
    }
    for (name, id) in [
        ("cancel_deployment", "nope"),
        ("retry_deployment", "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
    ] {
        let (got, _) = call(&c, &s, name, &[("id", id)]).await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{name}");
    }
    let (n,): (i64,) = sqlx::query_as("select count(*) from deployments")
        .fetch_one(&s.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn another_team_and_a_viewer_cannot_touch_a_deployment() {
    let s = server().await;
    let owner = client();
    let site = team_site(&s, &owner, "owner@example.com").await;
    let (_, d) = call(
        &owner,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy"), ("git_ref", "slow")],
    )
    .await;
    let id = d["id"].as_str().expect("id").to_string();

    let stranger = client();
    sign_up(&stranger, &s, "stranger@example.com", "Elsewhere").await;
    for name in ["get_deployment", "cancel_deployment", "retry_deployment"] {
        let (status, body) = call(&stranger, &s, name, &[("id", &id)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {body}");
        assert_eq!(body["message"], "Deployment not found.");
    }
    let (status, _) = call(
        &stranger,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Make the stranger a viewer of the owner's team: they watch, never act.
    join_as_viewer(&owner, &stranger, &s, "stranger@example.com").await;
    let (status, _) = call(&stranger, &s, "get_deployment", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    for (name, form) in [
        ("cancel_deployment", vec![("id", id.as_str())]),
        ("retry_deployment", vec![("id", id.as_str())]),
        (
            "trigger_deployment",
            vec![("site_id", site.as_str()), ("kind", "deploy")],
        ),
    ] {
        let (status, body) = call(&stranger, &s, name, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
    }
    let (_, d) = call(&owner, &s, "get_deployment", &[("id", &id)]).await;
    assert!(
        d["status"] == "queued" || d["status"] == "running",
        "untouched: {d}"
    );
    call(&owner, &s, "cancel_deployment", &[("id", &id)]).await;
}
