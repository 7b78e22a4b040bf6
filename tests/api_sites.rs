//! Creating and reading sites through the public API.

mod common;

use common::server::{
    Server, client, get_site, history, join_as_viewer, ok, refused, sign_up,
    start_with_test_pipelines, wait_idle,
};
use flightdeck::model::{DeploymentPage, DeploymentStatus, PipelineType, Site, TriggerKind};
use reqwest::StatusCode;

async fn count(s: &Server, table: &str) -> i64 {
    common::server::count(&s.db, table).await
}

#[tokio::test]
async fn a_new_site_runs_its_create_pipeline_and_first_deploy_by_itself() {
    let s = start_with_test_pipelines().await;
    let c = client();
    sign_up(&c, &s, "ops@example.com", "Ops").await;
    let site: Site = ok(
        &c,
        &s,
        "create_site",
        &[
            ("name", "  Landing page "),
            ("repository", "https://github.com/acme/landing"),
            ("branch", "main"),
            ("auto_deploy", "on"),
        ],
    )
    .await;
    assert_eq!(site.name, "Landing page");
    assert_eq!(site.slug, "landing-page");
    assert!(site.auto_deploy);
    let id = site.id.to_string();

    let site = wait_idle(&c, &s, &id).await;
    let current = site.current_deployment.expect("current");
    assert_eq!(current.pipeline_type, PipelineType::Deploy);
    assert_eq!(current.status, DeploymentStatus::Completed);
    assert_eq!(current.trigger_kind, TriggerKind::SiteCreated);
    assert_eq!(current.triggered_by, "Site created");
    assert_eq!(current.branch.as_deref(), Some("main"));
    assert_eq!(
        current.repository.as_deref(),
        Some("https://github.com/acme/landing")
    );

    let types: Vec<PipelineType> = history(&c, &s, &id)
        .await
        .iter()
        .map(|d| d.pipeline_type)
        .collect();
    assert_eq!(
        types,
        [PipelineType::Deploy, PipelineType::CreateSite],
        "newest first"
    );
}

/// A valid create_site form with some fields replaced (`Some`) or left out (`None`).
fn form(changes: &[(&'static str, Option<String>)]) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("name", "Other".to_string()),
        ("repository", "https://github.com/acme/web".to_string()),
        ("branch", "main".to_string()),
    ];
    for (key, value) in changes {
        f.retain(|(k, _)| k != key);
        if let Some(v) = value {
            f.push((key, v.clone()));
        }
    }
    f
}

#[tokio::test]
async fn bad_site_input_gets_a_clear_message_and_creates_nothing() {
    let s = start_with_test_pipelines().await;
    let c = client();
    sign_up(&c, &s, "ops@example.com", "Ops").await;
    let _: Site = ok(
        &c,
        &s,
        "create_site",
        &[
            ("name", "Web"),
            ("repository", "https://github.com/acme/web"),
            ("branch", "main"),
        ],
    )
    .await;
    let (sites, deployments) = (count(&s, "sites").await, count(&s, "deployments").await);

    let set = |key: &'static str, value: String| form(&[(key, Some(value))]);
    let without = |key: &'static str| form(&[(key, None)]);
    type Case = (Vec<(&'static str, String)>, StatusCode, &'static str);
    let cases: Vec<Case> = vec![
        (without("name"), StatusCode::BAD_REQUEST, "malformed"),
        (without("repository"), StatusCode::BAD_REQUEST, "malformed"),
        (without("branch"), StatusCode::BAD_REQUEST, "malformed"),
        (
            set("name", "   ".into()),
            StatusCode::BAD_REQUEST,
            "Enter a site name",
        ),
        (
            set("name", "n".repeat(200_000)),
            StatusCode::BAD_REQUEST,
            "under 100",
        ),
        (
            set("name", "Web".into()),
            StatusCode::CONFLICT,
            "already has a site",
        ),
        (
            set("repository", "--upload-pack=/tmp/pwned".into()),
            StatusCode::BAD_REQUEST,
            "git URL",
        ),
        (
            set("repository", "/srv/../etc".into()),
            StatusCode::BAD_REQUEST,
            "git URL",
        ),
        (
            set("repository", "https://x.com/a b".into()),
            StatusCode::BAD_REQUEST,
            "spaces",
        ),
        (
            set("branch", "b".repeat(200_000)),
            StatusCode::BAD_REQUEST,
            "too long",
        ),
        (
            set("branch", "$(reboot)".into()),
            StatusCode::BAD_REQUEST,
            "not a valid branch",
        ),
        (
            set("auto_deploy", "sometimes".into()),
            StatusCode::BAD_REQUEST,
            "on or off",
        ),
    ];
    for (form, status, message) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (got, err) = refused(&c, &s, "create_site", &form).await;
        let shown: Vec<_> = form
            .iter()
            .map(|(k, v)| (k, v.chars().take(40).collect::<String>()))
            .collect();
        assert_eq!(got, status, "{shown:?}: {err}");
        assert!(err.message.contains(message), "{shown:?}: {err}");
    }
    assert_eq!(count(&s, "sites").await, sites);
    // The first site's own operations may still be running; nothing new was queued.
    assert_eq!(count(&s, "deployments").await, deployments);
}

#[tokio::test]
async fn sites_are_private_to_their_team_and_viewers_cannot_create_them() {
    let s = start_with_test_pipelines().await;
    let owner = client();
    sign_up(&owner, &s, "owner@example.com", "Owners").await;
    let site: Site = ok(
        &owner,
        &s,
        "create_site",
        &[
            ("name", "Shop"),
            ("repository", "https://github.com/acme/shop"),
            ("branch", "main"),
        ],
    )
    .await;
    let site_id = site.id.to_string();

    let stranger = client();
    sign_up(&stranger, &s, "stranger@example.com", "Strangers").await;
    let (status, err) = refused(&stranger, &s, "get_site", &[("id", &site_id)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err.message, "Site not found.");
    let (status, _) = refused(&stranger, &s, "get_site", &[("id", "garbage")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let list: Vec<Site> = ok(&stranger, &s, "list_sites", &[]).await;
    assert_eq!(list, vec![]);
    let page: DeploymentPage = ok(&stranger, &s, "list_deployments", &[]).await;
    assert_eq!(page.deployments, vec![]);
    // Filtering by a foreign site shows nothing.
    assert_eq!(history(&stranger, &s, &site_id).await, vec![]);

    join_as_viewer(&owner, &stranger, &s, "stranger@example.com").await;
    get_site(&stranger, &s, &site_id).await; // a viewer watches
    let before = count(&s, "sites").await;
    let (status, err) = refused(
        &stranger,
        &s,
        "create_site",
        &[
            ("name", "Sneaky"),
            ("repository", "https://github.com/x/y"),
            ("branch", "main"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(count(&s, "sites").await, before);
}

#[tokio::test]
async fn history_filters_refuse_what_they_do_not_know() {
    let s = start_with_test_pipelines().await;
    let c = client();
    sign_up(&c, &s, "ops@example.com", "Ops").await;
    for (form, message) in [
        (vec![("status", "exploded")], "Unknown status"),
        (vec![("pipeline_type", "launch")], "Unknown pipeline type"),
        (vec![("cursor", "not-a-ulid")], "not a valid"),
        (vec![("site_id", "../../etc")], "not a valid"),
    ] {
        let (status, err) = refused(&c, &s, "list_deployments", &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {err}");
        assert!(err.message.contains(message), "{err}");
    }
    for name in ["get_deployment", "get_deployment_view"] {
        let (status, _) = refused(&c, &s, name, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name} without an id");
        let (status, _) = refused(&c, &s, name, &[("id", &"x".repeat(200_000))]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name} with a huge id");
    }
}
