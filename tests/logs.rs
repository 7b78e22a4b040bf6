//! Step logs as the log viewer and scripts read them: when each line was
//! written, the page's tail with its line numbers, the whole log on
//! request, and the raw text downloads, scoped to the team. On SQLite and
//! PostgreSQL.

mod common;

use common::server::{
    Server, client, get_deployment, new_site, ok, on_both_servers, refused, sign_up, wait_finished,
};
use flightdeck::model::log::{LogModel, StepLog};
use flightdeck::model::{Change, Deployment, DeploymentStatus};
use reqwest::StatusCode;

/// One step that writes a line, waits over a second, writes another, then
/// enough lines that a page gets only their tail.
const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build & test"
phase = "build"
run = 'echo first; sleep 1.2; echo second; echo "::group::Numbers"; seq 1 20000; echo "::endgroup::"; echo last'
"#;

async fn deployed(s: &Server, c: &reqwest::Client) -> Deployment {
    let site = new_site(c, s, "Logged").await;
    let started: Deployment = ok(
        c,
        s,
        "trigger_deployment",
        &[
            ("site_id", &site.id.to_string()),
            ("kind", "deploy"),
            ("git_ref", "main"),
        ],
    )
    .await;
    let done = wait_finished(c, s, &started.id.to_string()).await;
    assert_eq!(
        done.status,
        DeploymentStatus::Completed,
        "{:?}",
        done.error_message
    );
    done
}

#[tokio::test]
async fn each_line_knows_when_it_was_written_and_a_page_gets_the_tail_numbered_as_in_the_whole() {
    on_both_servers(PIPELINES, &[], |s| async move {
        let c = client();
        sign_up(&c, &s, "lou@example.com", "Logs").await;
        let d = deployed(&s, &c).await;
        let (id, step) = (d.id.to_string(), d.steps[0].id.to_string());
        let stored = get_deployment(&c, &s, &id).await.steps[0].output.clone();

        let log: StepLog = ok(
            &c,
            &s,
            "get_step_log",
            &[("deployment_id", &id), ("step_id", &step)],
        )
        .await;
        assert_eq!(log.output, stored);
        let whole = LogModel::whole(&log);
        let at = |text: &str| {
            let i = (0..whole.lines().len() as u32)
                .find(|&i| whole.text(i) == text)
                .unwrap_or_else(|| panic!("no line {text:?}"));
            (
                whole.number(i),
                whole.lines()[i as usize].at.expect("a time"),
            )
        };
        let (first_line, first_at) = at("first");
        let (second_line, second_at) = at("second");
        assert_eq!((first_line, second_line), (1, 2));
        assert!(second_at - first_at >= 1_000, "{first_at} then {second_at}");
        let started = d.steps[0].started_at.expect("started");
        assert!((first_at - started).abs() < 5_000);
        assert_eq!(whole.groups().len(), 1);
        let (last_line, _) = at("last");
        assert_eq!(last_line, 20_005);

        // The page comes with the tail, its lines numbered as in the whole log.
        let page: Deployment = ok(&c, &s, "get_deployment_view", &[("id", &id)]).await;
        let tail = &page.steps[0];
        assert!(tail.output_offset > 0);
        assert_eq!(&stored[tail.output_offset as usize..], tail.output);
        let shown = LogModel::new(
            tail.output_offset,
            tail.output_line as u32,
            &tail.output,
            &tail.output_times,
        );
        let last = shown.lines().len() as u32 - 1;
        assert_eq!(shown.text(last), "last");
        assert_eq!(shown.number(last), 20_005);
        assert!(shown.lines().iter().all(|l| l.at.is_some()));

        // Output events carry the times of what they hold.
        let payloads: Vec<(String,)> =
            sqlx::query_as("select payload from events where kind = 'output' and record_id = $1")
                .bind(&step)
                .fetch_all(&s.db.pool)
                .await
                .expect("events");
        let mut marks = 0;
        for (payload,) in payloads {
            let Change::Output {
                offset,
                text,
                times,
                ..
            } = serde_json::from_str(&payload).expect("change")
            else {
                panic!("not output: {payload}");
            };
            assert!(
                times
                    .iter()
                    .all(|m| offset <= m.offset && m.offset < offset + text.len() as i64)
            );
            marks += times.len();
        }
        assert!(marks >= 2, "{marks} marks");
    })
    .await;
}

#[tokio::test]
async fn raw_logs_download_byte_for_byte_and_only_for_the_team() {
    on_both_servers(PIPELINES, &[], |s| async move {
        let c = client();
        sign_up(&c, &s, "ray@example.com", "Raw").await;
        let d = deployed(&s, &c).await;
        let (id, step) = (d.id.to_string(), d.steps[0].id.to_string());
        let stored = get_deployment(&c, &s, &id).await.steps[0].output.clone();

        let res = c
            .get(format!(
                "{}/deployments/{id}/steps/{step}/log?download",
                s.base
            ))
            .send()
            .await
            .expect("log");
        assert_eq!(res.status(), StatusCode::OK);
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .to_string();
        assert_eq!(
            disposition,
            format!(
                "attachment; filename=\"{}-step-1-build-test.txt\"",
                d.id.short()
            )
        );
        assert_eq!(res.bytes().await.expect("body"), stored.as_bytes());

        let all = c
            .get(format!("{}/deployments/{id}/log?download", s.base))
            .send()
            .await
            .expect("log");
        assert_eq!(all.status(), StatusCode::OK);
        let all = all.text().await.expect("body");
        assert!(
            all.starts_with("===== Step 1 · Build & test · completed =====\nfirst\n"),
            "{}",
            &all[..80]
        );
        assert!(all.ends_with("last\n"));

        // Another team sees none of it.
        let other = client();
        sign_up(&other, &s, "eve@example.com", "Other").await;
        for path in [
            format!("/deployments/{id}/steps/{step}/log"),
            format!("/deployments/{id}/log?download"),
        ] {
            let res = other
                .get(format!("{}{path}", s.base))
                .send()
                .await
                .expect("log");
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(!res.text().await.expect("body").contains("second"));
        }
        let (status, _) = refused(
            &other,
            &s,
            "get_step_log",
            &[("deployment_id", &id), ("step_id", &step)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = refused(
            &other,
            &s,
            "get_step_log",
            &[("deployment_id", &id), ("step_id", "not-an-id")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    })
    .await;
}
