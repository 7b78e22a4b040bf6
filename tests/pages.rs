//! Pages render on the server, whole, with every field a person needs, and
//! only for the team that owns what they show.

mod common;

use common::server::{Server, call, client, sign_up, start_with_test_pipelines};
use reqwest::StatusCode;
use serde_json::Value;
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

async fn finished(c: &reqwest::Client, s: &Server, id: &str) -> Value {
    for _ in 0..300 {
        let (_, d) = call(c, s, "get_deployment", &[("id", id)]).await;
        if !matches!(d["status"].as_str(), Some("queued" | "running")) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never finished");
}

/// A team with a site whose first operations have run.
async fn team_with_site(s: &Server, c: &reqwest::Client) -> String {
    sign_up(c, s, "ops@example.com", "Ops").await;
    let (_, site) = call(
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
    let id = site["id"].as_str().expect("id").to_string();
    let (_, page) = call(c, s, "list_deployments", &[("site_id", &id)]).await;
    for d in page["deployments"].as_array().expect("list") {
        finished(c, s, d["id"].as_str().expect("id")).await;
    }
    id
}

#[tokio::test]
async fn a_failed_deployment_page_shows_every_field_and_its_failing_step_open() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = team_with_site(&s, &c).await;
    let (_, d) = call(
        &c,
        &s,
        "trigger_deployment",
        &[
            ("site_id", &site),
            ("kind", "deploy"),
            ("git_ref", "broken"),
        ],
    )
    .await;
    let id = d["id"].as_str().expect("id").to_string();
    let d = finished(&c, &s, &id).await;
    assert_eq!(d["status"], "failed");

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
    let (_, page_data) = call(&owner, &s, "list_deployments", &[("site_id", &site)]).await;
    let d = &page_data["deployments"][0];
    let id = d["id"].as_str().expect("id").to_string();
    let step = d["steps"][0]["id"].as_str().expect("step").to_string();
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
    let (_, d) = call(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site), ("kind", "deploy"), ("git_ref", "slow")],
    )
    .await;
    let id = d["id"].as_str().expect("id").to_string();
    for _ in 0..300 {
        let (_, d) = call(&c, &s, "get_deployment", &[("id", &id)]).await;
        if d["steps"][0]["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = call(&c, &s, "cancel_deployment", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    // No waiting: the call returned once the deployment had ended.
    let (_, d) = call(&c, &s, "get_deployment", &[("id", &id)]).await;
    assert_eq!(d["status"], "cancelled");
    assert_eq!(d["steps"][0]["status"], "cancelled");
    assert_eq!(d["steps"][1]["status"], "queued");
}

#[tokio::test]
async fn a_long_log_shows_its_tail_and_links_the_whole() {
    let s = start_with_test_pipelines().await;
    let c = client();
    let site = team_with_site(&s, &c).await;
    let (_, page_data) = call(&c, &s, "list_deployments", &[("site_id", &site)]).await;
    let d = &page_data["deployments"][0];
    let id = d["id"].as_str().expect("id").to_string();
    let step = d["steps"][0]["id"].as_str().expect("step").to_string();
    let line = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
    let output = format!(
        "FIRST LINE\n{}LAST LINE\n",
        line.repeat(3 * 1024 * 1024 / line.len())
    );
    sqlx::query("update deployment_steps set output = $1 where id = $2")
        .bind(&output)
        .bind(&step)
        .execute(&s.db.pool)
        .await
        .expect("update");

    let (_, view) = call(&c, &s, "get_deployment_view", &[("id", &id)]).await;
    let shown = view["steps"][0]["output"].as_str().expect("output");
    let offset = view["steps"][0]["output_offset"].as_u64().expect("offset") as usize;
    assert!(shown.len() <= 512 * 1024 && shown.ends_with("LAST LINE\n"));
    assert_eq!(offset + shown.len(), output.len());
    assert!(shown.starts_with("0123"), "starts at a line");

    let (_, html) = page(&c, &s, &format!("/deployments/{id}")).await;
    assert!(html.contains("Showing the last") && html.contains("Open the full log"));
    assert!(!html.contains("FIRST LINE"));
    let (_, full) = page(&c, &s, &format!("/deployments/{id}/steps/{step}/log")).await;
    assert_eq!(full.len(), output.len());
}
