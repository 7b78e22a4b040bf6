//! Deploy controls through the public API, on SQLite and PostgreSQL:
//! rollback and promote (what each refuses, what the site's URL serves
//! after), deploy locks (refused deploys, held pushes), pull-request
//! previews that go when the pull request closes, and retention (what
//! stays on disk, what never goes).

mod common;

use common::eventually;
use common::github::{fixture, hooked_site};
use common::server::{
    SETTLE, Server, client, deploy, get_deployment, get_site, history, join_as_viewer, ok, refused,
    sign_up, start_with_pipelines_and, wait_finished, wait_status,
};
use flightdeck::model::{
    Deployment, DeploymentStatus, PipelineType, RemovalReason, Site, TriggerKind,
};
use flightdeck::server::engine::trigger::TriggerRequest;
use flightdeck::server::github::sign;
use flightdeck::server::retention;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// Deploys publish one page naming their branch (`slow` takes 30 s).
const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'if [ "$FLIGHTDECK_BRANCH" = slow ]; then sleep 30; fi; echo built'
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'mkdir -p "$FLIGHTDECK_RELEASE_DIR" && printf "release %s\n" "$FLIGHTDECK_BRANCH" > "$FLIGHTDECK_RELEASE_DIR/index.html"'
"#;

/// A server on SQLite, or on the PostgreSQL database `pg` names, with
/// [`PIPELINES`] and `extra` flags. Retention runs only when a test asks.
async fn server(pg: Option<&str>, extra: &[&str]) -> Server {
    let mut args = vec!["--retention-secs=86400".to_string()];
    args.extend(pg.map(|url| format!("--database-url={url}")));
    args.extend(extra.iter().map(|a| a.to_string()));
    start_with_pipelines_and(PIPELINES, &args).await
}

/// Runs `test` on SQLite and, when it answers, on PostgreSQL, with
/// [`PIPELINES`] and `extra` flags. Retention runs only when a test asks.
async fn on_both<F, Fut>(extra: &[&str], test: F)
where
    F: Fn(Server) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let flags = [&["--retention-secs=86400"], extra].concat();
    common::server::on_both_servers(PIPELINES, &flags, test).await
}

/// Ada's team, signed in on `c`, with the site of GitHub's examples (its
/// first deploy done), and the site's webhook secret.
async fn team_site(s: &Server, c: &reqwest::Client) -> (Site, String) {
    let hooked = hooked_site(s, c).await;
    (get_site(c, s, &hooked.id).await, hooked.secret)
}

/// One run of the retention task as `holder`, on the server's settings;
/// `None` when another holds it.
async fn cleanup(s: &Server, holder: &str) -> Option<retention::Report> {
    retention::run_once(
        &s.db,
        &s.state.config.data_dir,
        &s.state.config.retention,
        holder,
    )
    .await
    .expect("runs")
}

/// Keeps the site busy: a deploy that runs for 30 s, running now.
async fn busy(s: &Server, c: &reqwest::Client, site: &str) -> Deployment {
    let slow: Deployment = ok(
        c,
        s,
        "trigger_deployment",
        &[("site_id", site), ("kind", "deploy"), ("git_ref", "slow")],
    )
    .await;
    wait_status(c, s, &slow.id.to_string(), DeploymentStatus::Running).await
}

/// A viewer of `c`'s team, and a member of another team only.
async fn outsiders(s: &Server, c: &reqwest::Client) -> (reqwest::Client, reqwest::Client) {
    let viewer = client();
    sign_up(&viewer, s, "vic@example.com", "Vic's").await;
    join_as_viewer(c, &viewer, s, "vic@example.com").await;
    let stranger = client();
    sign_up(&stranger, s, "eve@example.com", "Eve's").await;
    (viewer, stranger)
}

/// What a preview host answers for `label` (a deployment's or a site's id).
async fn serve(s: &Server, label: &str) -> (StatusCode, String) {
    let res = client()
        .get(format!("{}/", s.base))
        .header(
            "host",
            format!("{}.preview.localhost:3000", label.to_lowercase()),
        )
        .send()
        .await
        .expect("preview");
    (res.status(), res.text().await.expect("body"))
}

async fn deliver(s: &Server, site: &str, secret: &str, event: &str, body: &Value) -> Value {
    let body = serde_json::to_vec(body).expect("json");
    let res = client()
        .post(format!("{}/hooks/github/{site}", s.base))
        .header("x-github-event", event)
        .header("x-github-delivery", ulid::Ulid::new().to_string())
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(secret.as_bytes(), &body))
        .body(body)
        .send()
        .await
        .expect("delivery");
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.expect("reply")
}

fn released(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("releases"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_rollback_publishes_an_earlier_release_again_and_supersedes_the_current_one() {
    on_both(&[], |s| async move {
        let c = client();
        let (site, _) = team_site(&s, &c).await;
        let site_id = site.id.to_string();
        let v1 = deploy(&s, &c, &site_id, "v1").await;
        let v2 = deploy(&s, &c, &site_id, "v2").await;
        assert_eq!(serve(&s, &site_id).await.1, "release v2\n");

        let (status, err) =
            refused(&c, &s, "rollback_deployment", &[("id", &v2.id.to_string())]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{err}");
        assert!(err.message.contains("serves this deployment now"), "{err}");

        let back: Deployment =
            ok(&c, &s, "rollback_deployment", &[("id", &v1.id.to_string())]).await;
        assert_eq!(
            back.operation_name,
            format!("Roll back to {}", v1.id.short())
        );
        assert_eq!(back.meta.rollback_of, Some(v1.id));
        assert_eq!(back.pipeline_type, PipelineType::Deploy);
        assert_eq!(back.steps.len(), 1, "one step, no build");
        let back = wait_finished(&c, &s, &back.id.to_string()).await;
        assert_eq!(
            back.status,
            DeploymentStatus::Completed,
            "{:?}",
            back.error_message
        );
        assert!(back.is_current);
        assert_eq!(serve(&s, &site_id).await.1, "release v1\n");
        let v2 = get_deployment(&c, &s, &v2.id.to_string()).await;
        assert_eq!(v2.status, DeploymentStatus::Superseded);
        assert_eq!(v2.superseded_by_id, Some(back.id));
        // Rolling forward again is a rollback to v2.
        assert!(v2.rollback_refusal().is_none());

        // Refused while the site is busy, naming what runs.
        let slow = busy(&s, &c, &site_id).await;
        let (status, err) =
            refused(&c, &s, "rollback_deployment", &[("id", &v2.id.to_string())]).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(err.message.contains("Deploy slow"), "{err}");
        let () = ok(&c, &s, "cancel_deployment", &[("id", &slow.id.to_string())]).await;

        // A viewer may not; another team cannot even see it.
        let (viewer, stranger) = outsiders(&s, &c).await;
        let (status, _) = refused(
            &viewer,
            &s,
            "rollback_deployment",
            &[("id", &v2.id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for call in ["rollback_deployment", "promote_deployment"] {
            let (status, _) = refused(&stranger, &s, call, &[("id", &v2.id.to_string())]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{call}");
        }

        // Once its release is no longer kept, it is refused, saying why.
        let marked = flightdeck::server::store::retention::mark_removed(
            &s.db,
            &[v2.id],
            RemovalReason::Expired,
        )
        .await
        .expect("mark");
        assert_eq!(marked, [v2.id]);
        let (status, err) =
            refused(&c, &s, "rollback_deployment", &[("id", &v2.id.to_string())]).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(err.message.contains("no longer kept"), "{err}");
        let (status, body) = serve(&s, &v2.id.to_string()).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(body.contains("expired"), "{body}");
        // The current one is never marked.
        let marked = flightdeck::server::store::retention::mark_removed(
            &s.db,
            &[back.id],
            RemovalReason::Expired,
        )
        .await
        .expect("mark");
        assert!(marked.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_preview_is_promoted_as_reviewed_and_a_closed_pull_request_removes_its_previews() {
    on_both(&[], |s| async move {
        let c = client();
        let (site, secret) = team_site(&s, &c).await;
        let site_id = site.id.to_string();
        let opened = fixture("pull_request.opened");
        let pr = opened["number"].as_i64().expect("number");
        let branch = opened["pull_request"]["head"]["ref"]
            .as_str()
            .expect("ref")
            .to_string();
        let reply = deliver(&s, &site_id, &secret, "pull_request", &opened).await;
        let preview_id = reply["deployment_id"].as_str().expect("queued").to_string();
        let preview = wait_finished(&c, &s, &preview_id).await;
        assert_eq!(preview.status, DeploymentStatus::Completed);
        assert_eq!(preview.trigger_kind, TriggerKind::PullRequest);
        assert!(!preview.is_current, "a preview never goes live by itself");
        assert_eq!(
            serve(&s, &preview_id).await.1,
            format!("release {branch}\n")
        );
        assert_eq!(serve(&s, &site_id).await.1, "release master\n");

        let promoted: Deployment = ok(&c, &s, "promote_deployment", &[("id", &preview_id)]).await;
        assert_eq!(promoted.meta.promoted_from, Some(preview.id));
        assert_eq!(promoted.pr_number, Some(pr));
        assert_eq!(
            promoted.operation_name,
            format!("Promote PR #{pr} ({})", preview.id.short())
        );
        let promoted = wait_finished(&c, &s, &promoted.id.to_string()).await;
        assert_eq!(promoted.status, DeploymentStatus::Completed);
        assert!(promoted.is_current);
        assert_eq!(serve(&s, &site_id).await.1, format!("release {branch}\n"));

        // Closed: its preview answers 410 saying why, its files are gone,
        // its record stays; what was promoted stays live.
        let mut closed = fixture("pull_request.closed");
        closed["number"] = pr.into();
        let reply = deliver(&s, &site_id, &secret, "pull_request", &closed).await;
        assert!(
            reply["message"]
                .as_str()
                .expect("message")
                .contains("1 preview"),
            "{reply}"
        );
        let (status, body) = serve(&s, &preview_id).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(
            body.contains(&format!(
                "This preview was removed when pull request #{pr} closed"
            )),
            "{body}"
        );
        assert!(!s.data.join("releases").join(&preview_id).exists());
        let gone = get_deployment(&c, &s, &preview_id).await;
        assert_eq!(
            gone.release_removed.map(|r| r.reason),
            Some(RemovalReason::PullRequestClosed)
        );
        assert!(gone.promote_refusal().is_some());
        assert_eq!(serve(&s, &site_id).await.1, format!("release {branch}\n"));
        let (status, err) = refused(&c, &s, "promote_deployment", &[("id", &preview_id)]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{err}");
    })
    .await;
}

#[tokio::test]
async fn synchronized_pull_requests_coalesce_like_pushes() {
    let s = server(None, &[]).await;
    let c = client();
    let (site, secret) = team_site(&s, &c).await;
    let site_id = site.id.to_string();
    let slow = busy(&s, &c, &site_id).await;
    let sync = fixture("pull_request.synchronize");
    let pr = sync["number"].as_i64().expect("number");
    let first = deliver(&s, &site_id, &secret, "pull_request", &sync).await;
    let second = deliver(&s, &site_id, &secret, "pull_request", &sync).await;
    let first = get_deployment(&c, &s, first["deployment_id"].as_str().expect("id")).await;
    assert_eq!(first.status, DeploymentStatus::Cancelled);
    assert_eq!(
        first.error_message.as_deref(),
        Some(format!("skipped: a newer push to pull request #{pr} is queued").as_str())
    );
    let second = get_deployment(&c, &s, second["deployment_id"].as_str().expect("id")).await;
    assert_eq!(second.status, DeploymentStatus::Queued);
    let () = ok(&c, &s, "cancel_deployment", &[("id", &slow.id.to_string())]).await;
    let second = wait_finished(&c, &s, &second.id.to_string()).await;
    assert_eq!(second.status, DeploymentStatus::Completed);
}

#[tokio::test]
async fn a_locked_site_refuses_deploys_and_holds_pushes_until_it_is_unlocked() {
    on_both(&[], |s| async move {
        let c = client();
        let (site, secret) = team_site(&s, &c).await;
        let site_id = site.id.to_string();

        let (status, err) = refused(
            &c,
            &s,
            "lock_site",
            &[("site_id", &site_id), ("reason", "  ")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        let locked: Site = ok(
            &c,
            &s,
            "lock_site",
            &[("site_id", &site_id), ("reason", "release freeze")],
        )
        .await;
        let lock = locked.lock.expect("locked");
        assert_eq!(lock.by_name, "Ada Lovelace");
        assert_eq!(lock.reason, "release freeze");
        let (status, err) = refused(
            &c,
            &s,
            "lock_site",
            &[("site_id", &site_id), ("reason", "again")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            err.message.contains("Already locked by Ada Lovelace"),
            "{err}"
        );

        let (status, err) = refused(
            &c,
            &s,
            "trigger_deployment",
            &[("site_id", &site_id), ("kind", "deploy")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(err.message, "Locked by Ada Lovelace: release freeze");

        // A push waits, labelled, without making the site busy.
        let reply = deliver(&s, &site_id, &secret, "push", &fixture("push")).await;
        let push_id = reply["deployment_id"].as_str().expect("queued").to_string();
        let push = get_deployment(&c, &s, &push_id).await;
        assert!(push.waits_for_unlock(), "{push:?}");
        assert_eq!(
            push.progress().as_deref(),
            Some("waiting for unlock · 2 steps")
        );
        let restart: Deployment = ok(
            &c,
            &s,
            "trigger_deployment",
            &[("site_id", &site_id), ("kind", "stop")],
        )
        .await;
        let restart = wait_finished(&c, &s, &restart.id.to_string()).await;
        assert_eq!(
            restart.status,
            DeploymentStatus::Completed,
            "stop runs on a locked site"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            get_deployment(&c, &s, &push_id).await.status,
            DeploymentStatus::Queued
        );

        // A viewer cannot unlock; another team cannot see the site.
        let (viewer, stranger) = outsiders(&s, &c).await;
        let (status, _) = refused(&viewer, &s, "unlock_site", &[("site_id", &site_id)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for call in ["unlock_site", "get_site"] {
            let key = if call == "get_site" { "id" } else { "site_id" };
            let (status, _) = refused(&stranger, &s, call, &[(key, &site_id)]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{call}");
        }

        let unlocked: Site = ok(&c, &s, "unlock_site", &[("site_id", &site_id)]).await;
        assert!(unlocked.lock.is_none());
        assert!(unlocked.version > locked.version);
        let push = wait_finished(&c, &s, &push_id).await;
        assert_eq!(push.status, DeploymentStatus::Completed);
        assert!(!push.waiting_for_unlock);
        let (status, _) = refused(&c, &s, "unlock_site", &[("site_id", &site_id)]).await;
        assert_eq!(status, StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test]
async fn retention_keeps_the_current_and_the_latest_releases_and_nothing_in_use_goes() {
    on_both(&["--keep-releases=3"], |s| async move {
        let c = client();
        let (site, _) = team_site(&s, &c).await;
        let site_id = site.id.to_string();
        let mut ids = vec![site.current_deployment.expect("first deploy").id];
        for n in 1..10 {
            ids.push(deploy(&s, &c, &site_id, &format!("v{n}")).await.id);
        }
        assert_eq!(released(&s.data).len(), 10);
        // A capsule, what a crash left, and a deploy running now.
        let capsule: Deployment = ok(
            &c,
            &s,
            "trigger_deployment",
            &[("site_id", &site_id), ("kind", "time_capsule")],
        )
        .await;
        wait_finished(&c, &s, &capsule.id.to_string()).await;
        let orphan = ulid::Ulid::new().to_string();
        std::fs::create_dir_all(s.data.join("workspaces").join(&orphan)).expect("orphan");
        std::fs::create_dir_all(s.data.join("releases").join(&orphan)).expect("orphan");
        let slow = busy(&s, &c, &site_id).await;
        let workspace = s.data.join("workspaces").join(slow.id.to_string());
        eventually("the running deploy's workspace", SETTLE, || async {
            workspace.exists().then_some(())
        })
        .await;
        // A rollback queued behind it keeps its target, however old.
        let me: Option<flightdeck::model::SessionInfo> = ok(&c, &s, "current_session", &[]).await;
        let me = me.expect("signed in");
        let actor = flightdeck::model::Actor {
            user_id: me.user.id,
            team_id: me.team.id,
            role: flightdeck::model::Role::Owner,
            name: me.user.name.clone(),
        };
        let target = get_deployment(&c, &s, &ids[1].to_string()).await;
        let queued = s
            .state
            .engine
            .trigger(TriggerRequest {
                trigger: TriggerKind::Push,
                ..TriggerRequest::rollback(&actor, &target)
            })
            .await
            .expect("queued behind the running deploy");

        let report = cleanup(&s, "test").await.expect("not held");
        assert_eq!(report.releases, 5, "{report}");
        assert_eq!(report.workspaces, 2, "{report}");
        // The current, the 3 before it, the queued rollback's target, and
        // the folder the running deploy publishes into.
        let mut kept: Vec<String> = ids[6..]
            .iter()
            .chain([&ids[1], &slow.id])
            .map(|id| id.to_string())
            .collect();
        kept.sort();
        assert_eq!(released(&s.data), kept, "the current and the 3 before it");
        assert!(workspace.exists(), "a running deployment's workspace stays");
        let capsules = std::fs::read_dir(s.data.join("capsules").join(&site_id))
            .expect("capsules")
            .count();
        assert_eq!(capsules, 1, "capsules are never removed");
        let old = get_deployment(&c, &s, &ids[0].to_string()).await;
        assert_eq!(
            old.release_removed.map(|r| r.reason),
            Some(RemovalReason::Expired)
        );
        assert!(
            old.rollback_refusal()
                .expect("refused")
                .contains("no longer kept")
        );
        assert_eq!(serve(&s, &ids[0].to_string()).await.0, StatusCode::GONE);
        assert!(
            history(&c, &s, &site_id)
                .await
                .iter()
                .any(|d| d.id == ids[0]),
            "records stay"
        );
        let disk = get_site(&c, &s, &site_id).await.disk.expect("disk");
        assert_eq!(disk.releases, 5, "the kept 4 and the rollback's target");
        assert!(
            disk.release_bytes > 0 && disk.capsules == 1 && disk.capsule_bytes > 0,
            "{disk:?}"
        );

        // A second run finds nothing more; one holder at a time.
        let again = cleanup(&s, "test").await.expect("not held");
        assert_eq!((again.releases, again.workspaces), (0, 0), "{again}");
        assert!(
            flightdeck::server::store::retention::claim(&s.db, "one", 60_000)
                .await
                .expect("claim")
        );
        assert!(
            !flightdeck::server::store::retention::claim(&s.db, "two", 60_000)
                .await
                .expect("claim")
        );
        assert!(cleanup(&s, "two").await.is_none());
        let () = ok(&c, &s, "cancel_deployment", &[("id", &queued.to_string())]).await;
        let () = ok(&c, &s, "cancel_deployment", &[("id", &slow.id.to_string())]).await;
    })
    .await;
}
