//! Triggering, cancelling and retrying through the public API.

mod common;

use common::server::{
    Server, client, count, get_deployment, join_as_viewer, ok, refused, sign_up,
    start_with_test_pipelines, wait_status,
};
use flightdeck::model::{Deployment, DeploymentStatus, PipelineType, StepStatus};
use flightdeck::server::store::sites;
use reqwest::StatusCode;

async fn server() -> Server {
    start_with_test_pipelines().await
}

async fn team_site(s: &Server, c: &reqwest::Client, email: &str) -> String {
    let team_id = sign_up(c, s, email, "Team").await.team.id;
    let site = sites::insert(
        &s.db,
        sites::NewSite {
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

    let d: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy"), ("git_ref", "slow")],
    )
    .await;
    assert_eq!(d.operation_name, "Deploy slow");
    assert_eq!(d.pipeline_type, PipelineType::Deploy);
    assert_eq!(d.triggered_by, "Ada Lovelace");
    let id = d.id.to_string();

    // A second manual deploy is refused while the first runs, naming it.
    wait_status(&c, &s, &id, DeploymentStatus::Running).await;
    let (status, err) = refused(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(err.message.contains("Deploy slow"), "{err}");

    let () = ok(&c, &s, "cancel_deployment", &[("id", &id)]).await;
    let d = wait_status(&c, &s, &id, DeploymentStatus::Cancelled).await;
    assert_eq!(d.steps[0].status, StepStatus::Cancelled);
    assert_eq!(d.steps[1].status, StepStatus::Queued);

    let retry: Deployment = ok(&c, &s, "retry_deployment", &[("id", &id)]).await;
    assert_eq!(retry.retry_of_id, Some(d.id));
    assert_eq!(retry.branch.as_deref(), Some("slow"));
    let retry_id = retry.id.to_string();
    let () = ok(&c, &s, "cancel_deployment", &[("id", &retry_id)]).await;
    wait_status(&c, &s, &retry_id, DeploymentStatus::Cancelled).await;

    // A commit deploys by its SHA and completes.
    let d: Deployment = ok(
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
    let d = wait_status(&c, &s, &d.id.to_string(), DeploymentStatus::Completed).await;
    assert_eq!(d.commit_sha.as_deref(), Some("abcdef1234"));
    assert!(d.steps[0].output.contains("commit=abcdef1234"));
}

#[tokio::test]
async fn bad_trigger_input_gets_a_clear_message_and_changes_nothing() {
    let s = server().await;
    let c = client();
    let site = team_site(&s, &c, "ops@example.com").await;
    // Under the body limit (a larger body is refused whole, see http.rs).
    let huge = "b".repeat(200_000);
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
        let (got, err) = refused(&c, &s, "trigger_deployment", form).await;
        assert_eq!(got, *status, "{form:?}: {err}");
        assert!(err.message.contains(message), "{err}");
    }
    for (name, id) in [
        ("cancel_deployment", "nope"),
        ("retry_deployment", "01HZZZZZZZZZZZZZZZZZZZZZZZ"),
    ] {
        let (got, _) = refused(&c, &s, name, &[("id", id)]).await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{name}");
    }
    assert_eq!(count(&s.db, "deployments").await, 0);
}

#[tokio::test]
async fn another_team_and_a_viewer_cannot_touch_a_deployment() {
    let s = server().await;
    let owner = client();
    let site = team_site(&s, &owner, "owner@example.com").await;
    let d: Deployment = ok(
        &owner,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy"), ("git_ref", "slow")],
    )
    .await;
    let id = d.id.to_string();

    let stranger = client();
    sign_up(&stranger, &s, "stranger@example.com", "Elsewhere").await;
    for name in ["get_deployment", "cancel_deployment", "retry_deployment"] {
        let (status, err) = refused(&stranger, &s, name, &[("id", &id)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {err}");
        assert_eq!(err.message, "Deployment not found.");
    }
    let (status, _) = refused(
        &stranger,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Make the stranger a viewer of the owner's team: they watch, never act.
    join_as_viewer(&owner, &stranger, &s, "stranger@example.com").await;
    get_deployment(&stranger, &s, &id).await;
    for (name, form) in [
        ("cancel_deployment", vec![("id", id.as_str())]),
        ("retry_deployment", vec![("id", id.as_str())]),
        (
            "trigger_deployment",
            vec![("site_id", site.as_str()), ("kind", "deploy")],
        ),
    ] {
        let (status, err) = refused(&stranger, &s, name, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {err}");
    }
    let d = get_deployment(&owner, &s, &id).await;
    assert!(
        matches!(
            d.status,
            DeploymentStatus::Queued | DeploymentStatus::Running
        ),
        "untouched: {:?}",
        d.status
    );
    let () = ok(&owner, &s, "cancel_deployment", &[("id", &id)]).await;
}
