//! Pages render on the server, whole, with every field a person needs, and
//! only for the team that owns what they show.

mod common;

use common::eventually;
use common::server::{
    Server, client, get_deployment, history, ok, sign_up, start_with_test_pipelines, wait_finished,
};
use flightdeck::model::{Deployment, DeploymentStatus, Site, StepStatus};
use reqwest::StatusCode;
use std::time::Duration;

async fn page(c: &reqwest::Client, s: &Server, path: &str) -> (StatusCode, String) {
    let res = c
        .get(format!("{}{path}", s.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    let status = res.status();
    (status, res.text().await.expect("body"))
}

/// A team with a site whose first operations have run.
async fn team_with_site(s: &Server, c: &reqwest::Client) -> String {
    sign_up(c, s, "ops@example.com", "Ops").await;
    let site: Site = ok(
        c,
        s,
        "create_site",
        &[
            ("name", "Web"),
            ("repository", "https://github.com/acme/web"),
            ("branch", "main"),
        ],
    )
    .await;
    let id = site.id.to_string();
    for d in history(c, s, &id).await {
        wait_finished(c, s, &d.id.to_string()).await;
    }
    id
}

async fn trigger(c: &reqwest::Client, s: &Server, site: &str, git_ref: &str) -> String {
    let d: Deployment = ok(
        c,
        s,
        "trigger_deployment",
        &[("site_id", site), ("kind", "deploy"), ("git_ref", git_ref)],
    )
    .await;
    d.id.to_string()
}

#[tokio::test]
async fn a_failed_deployment_page_shows_every_field_and_its_failing_step_open() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = team_with_site(&s, &c).await;
    let id = trigger(&c, &s, &site, "broken").await;
    let d = wait_finished(&c, &s, &id).await;
    assert_eq!(d.status, DeploymentStatus::Failed);

    let (status, html) = page(&c, &s, &format!("/deployments/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "Deploy broken",                    // operation name
        &id[id.len() - 8..].to_lowercase(), // short id
        "Web",                              // site
        "broken",                           // branch
        "Ada Lovelace",                     // triggered by
        "Build duration",
        "Failed: ", // the error message's label
        "Build",    // steps
        "Publish",
        "Did not run.",                // the step after the failure
        "Retry",                       // the action a failed one allows
        "https://github.com/acme/web", // repository link
    ] {
        assert!(html.contains(expected), "detail page lacks {expected:?}");
    }
    // The failing step is open and its coloured output is rendered, escaped.
    assert!(html.contains("<details open"), "failing step open");
    assert!(
        html.contains("<span class=\"ansi-fg-2\">branch=broken</span>"),
        "ANSI colours rendered"
    );
    assert!(html.contains("build exploded"));
    assert!(
        !html.contains("Cancel</button>"),
        "a finished one cannot be cancelled"
    );

    // The team's list and the site's page show it too.
    let (_, list) = page(&c, &s, "/").await;
    assert!(list.contains("Deploy broken") && list.contains(&format!("/deployments/{id}")));
    let (_, list) = page(&c, &s, "/?status=failed&type=deploy").await;
    assert!(list.contains("Deploy broken"));
    let (_, list) = page(&c, &s, "/?status=cancelled").await;
    assert!(list.contains("Nothing matches these filters"));
    let (_, site_page) = page(&c, &s, &format!("/sites/{site}")).await;
    assert!(site_page.contains("Deploy broken") && site_page.contains("Deploy</button>"));
}

#[tokio::test]
async fn another_team_gets_not_found_for_pages_and_logs() {
    let s = start_with_test_pipelines().await;
    let owner = client();
    let site = team_with_site(&s, &owner).await;
    let d = history(&owner, &s, &site).await.remove(0);
    let (id, step) = (d.id, d.steps[0].id);
    let log = format!("/deployments/{id}/steps/{step}/log");

    let (status, text) = page(&owner, &s, &log).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("branch=main"), "{text}");

    let stranger = client();
    sign_up(&stranger, &s, "stranger@example.com", "Elsewhere").await;
    for path in [format!("/deployments/{id}"), format!("/sites/{site}")] {
        let (status, html) = page(&stranger, &s, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("not found"), "{path}");
        assert!(!html.contains("Deploy main"), "{path} leaks nothing");
    }
    let (status, text) = page(&stranger, &s, &log).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!text.contains("branch=main"));
    let (status, _) = page(&stranger, &s, "/deployments/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Signed out, the log sends the reader to sign in.
    let (status, _) = page(&client(), &s, &log).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn cancelling_a_running_deployment_answers_with_it_cancelled() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = team_with_site(&s, &c).await;
    let id = trigger(&c, &s, &site, "slow").await;
    eventually("the slow step runs", Duration::from_secs(15), || async {
        (get_deployment(&c, &s, &id).await.steps[0].status == StepStatus::Running).then_some(())
    })
    .await;
    let () = ok(&c, &s, "cancel_deployment", &[("id", &id)]).await;
    // No waiting: the call returned once the deployment had ended.
    let d = get_deployment(&c, &s, &id).await;
    assert_eq!(d.status, DeploymentStatus::Cancelled);
    assert_eq!(d.steps[0].status, StepStatus::Cancelled);
    assert_eq!(d.steps[1].status, StepStatus::Queued);
}

#[tokio::test]
async fn a_long_log_shows_its_tail_and_links_the_whole() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = team_with_site(&s, &c).await;
    let d = history(&c, &s, &site).await.remove(0);
    let (id, step) = (d.id, d.steps[0].id);
    let line = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
    let output = format!(
        "FIRST LINE\n{}LAST LINE\n",
        line.repeat(3 * 1024 * 1024 / line.len())
    );
    sqlx::query("update deployment_steps set output = $1 where id = $2")
        .bind(&output)
        .bind(step.to_string())
        .execute(&s.db.pool)
        .await
        .expect("update");

    let view: Deployment = ok(&c, &s, "get_deployment_view", &[("id", &id.to_string())]).await;
    let shown = &view.steps[0].output;
    let offset = view.steps[0].output_offset as usize;
    assert!(shown.len() <= 64 * 1024 && shown.ends_with("LAST LINE\n"));
    assert_eq!(offset + shown.len(), output.len());
    assert!(shown.starts_with("0123"), "starts at a line");
    assert_eq!(
        view.steps[0].output_line as usize,
        output[..offset].matches('\n').count()
    );

    // A closed step costs the page its tail's data and a link to its raw log.
    let (_, html) = page(&c, &s, &format!("/deployments/{id}")).await;
    assert!(html.contains("Open this step"), "no link to the raw log");
    assert!(!html.contains("FIRST LINE") && !html.contains("id=\"step-1-L"));
    // An open one (a failed step opens) shows its last lines, numbered as
    // in the whole log, and links the rest.
    sqlx::query("update deployment_steps set status = 'failed' where id = $1")
        .bind(step.to_string())
        .execute(&s.db.pool)
        .await
        .expect("update");
    let (_, html) = page(&c, &s, &format!("/deployments/{id}")).await;
    let last = format!(
        "id=\"step-{}-L{}\"",
        d.steps[0].sort_order,
        output.lines().count()
    );
    assert!(html.contains(&last), "no {last}");
    assert!(html.contains("LAST LINE") && !html.contains("FIRST LINE"));
    assert!(html.contains("Showing the last 200 lines") && html.contains("Open the whole log"));
    let (_, full) = page(&c, &s, &format!("/deployments/{id}/steps/{step}/log")).await;
    assert_eq!(full.len(), output.len());
}
