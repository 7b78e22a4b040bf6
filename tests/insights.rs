//! Insights on SQLite and PostgreSQL: each DORA metric's definition on a
//! hand-built history with known answers (a failure and its restore, a
//! hotfix, a rollback, a preview and a staging copy that do not count),
//! scoped to the team and the site; and deployments that really run keep
//! the same totals a rebuild from their history makes.

mod common;

use common::db::on_each_backend;
use common::server::{client, deploy, ok, on_both_servers, refused, sign_up, wait_finished};
use flightdeck::model::insights::{DAY_MS, Insights, day_of};
use flightdeck::model::{Deployment, DeploymentStatus, SiteId, TeamId};
use flightdeck::server::insights;
use flightdeck::server::store::insights::rebuild::rebuild;
use flightdeck::server::store::{Db, accounts, now_ms, sites};
use reqwest::StatusCode;
use ulid::Ulid;

const H: i64 = 3_600_000;

/// Within the 4.5% a duration bucket may be off by.
fn near(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!(
        (got - want).abs() <= want * 0.045,
        "{got} is not about {want}"
    );
}

async fn team(db: &Db, email: &str, sites_named: &[&str]) -> (TeamId, Vec<SiteId>) {
    let (_, team) = accounts::create_account(db, email, "A", "h", "A")
        .await
        .expect("account");
    let mut ids = Vec::new();
    for name in sites_named {
        let site = sites::NewSite {
            team_id: team,
            name,
            repository: "https://github.com/acme/site",
            branch: "main",
            auto_deploy: false,
            parent_site_id: ids.first().copied().filter(|_| name.starts_with("staging")),
        };
        ids.push(sites::insert(db, site).await.expect("site"));
    }
    (team, ids)
}

/// One finished deploy, written as the engine leaves it.
struct Past {
    status: DeploymentStatus,
    finished_at: i64,
    commit_at: Option<i64>,
    meta: String,
    trigger: &'static str,
    /// Build, then Publish: how long each took.
    steps: [i64; 2],
}

fn past(status: DeploymentStatus, finished_at: i64) -> Past {
    Past {
        status,
        finished_at,
        commit_at: None,
        meta: "{}".into(),
        trigger: "push",
        steps: [60_000, 2_000],
    }
}

async fn insert(db: &Db, team: TeamId, site: SiteId, p: &Past) -> String {
    let id = Ulid::from_parts(p.finished_at as u64 - 120_000, rand::random()).to_string();
    let started = p.finished_at - p.steps.iter().sum::<i64>();
    sqlx::query(
        "insert into deployments (id, team_id, site_id, type, status, operation_name, meta, source_kind, \
         trigger_kind, triggered_by, created_at, started_at, finished_at, commit_at) \
         values ($1, $2, $3, 'deploy', $4, 'Deploy main', $5, 'git', $6, 'test', $7, $7, $8, $9)",
    )
    .bind(&id)
    .bind(team.to_string())
    .bind(site.to_string())
    .bind(p.status.as_str())
    .bind(&p.meta)
    .bind(p.trigger)
    .bind(started)
    .bind(p.finished_at)
    .bind(p.commit_at)
    .execute(&db.pool)
    .await
    .expect("deployment");
    let mut at = started;
    for (i, (name, ms)) in ["Build", "Publish"].iter().zip(p.steps).enumerate() {
        sqlx::query(
            "insert into deployment_steps (id, deployment_id, name, phase, status, sort_order, started_at, finished_at) \
             values ($1, $2, $3, 'build', 'completed', $4, $5, $6)",
        )
        .bind(Ulid::new().to_string())
        .bind(&id)
        .bind(*name)
        .bind(i as i64)
        .bind(at)
        .bind(at + ms)
        .execute(&db.pool)
        .await
        .expect("step");
        at += ms;
    }
    id
}

async fn supersede(db: &Db, id: &str, by: &str) {
    sqlx::query(
        "update deployments set status = 'superseded', superseded_by_id = $1 where id = $2",
    )
    .bind(by)
    .bind(id)
    .execute(&db.pool)
    .await
    .expect("supersede");
}

#[tokio::test]
async fn each_metric_on_a_hand_built_history_with_known_answers() {
    on_each_backend(|db| async move {
        let (team_id, ids) = team(&db, "ada@example.com", &["web", "docs", "staging web"]).await;
        let (web, docs, staging) = (ids[0], ids[1], ids[2]);
        // The first day of the last seven.
        let start = (day_of(now_ms()) - 6) * DAY_MS;
        use DeploymentStatus::*;

        // Day 0: a change goes live 2 h after its commit.
        let a = insert(&db, team_id, web, &Past {
            commit_at: Some(start + 8 * H),
            ..past(Completed, start + 10 * H)
        })
        .await;
        // Day 1: two deploys fail; day 2 one goes live after 6 h: the
        // site was down 40 h, one restore.
        insert(&db, team_id, web, &past(Failed, start + DAY_MS + 2 * H)).await;
        insert(&db, team_id, web, &past(Failed, start + DAY_MS + 5 * H)).await;
        let d = insert(&db, team_id, web, &Past {
            commit_at: Some(start + 2 * DAY_MS + 12 * H),
            ..past(Completed, start + 2 * DAY_MS + 18 * H)
        })
        .await;
        supersede(&db, &a, &d).await;
        // 30 min later a hotfix replaces it (lead time 30 min): the
        // change it replaced failed.
        let e = insert(&db, team_id, web, &Past {
            commit_at: Some(start + 2 * DAY_MS + 18 * H),
            steps: [600_000, 2_000],
            ..past(Completed, start + 2 * DAY_MS + 18 * H + H / 2)
        })
        .await;
        supersede(&db, &d, &e).await;
        // Day 4: a rollback to `d` undoes the hotfix; it is no change.
        let r = insert(&db, team_id, web, &Past {
            meta: format!(r#"{{"rollback_of":"{d}"}}"#),
            ..past(Completed, start + 4 * DAY_MS)
        })
        .await;
        supersede(&db, &e, &r).await;
        // Neither a preview nor a staging copy is production.
        insert(&db, team_id, web, &Past {
            trigger: "pull_request",
            ..past(Failed, start + 4 * DAY_MS + H)
        })
        .await;
        insert(&db, team_id, staging, &past(Failed, start + 4 * DAY_MS + H)).await;
        // The other site: one change, and one the week before.
        insert(&db, team_id, docs, &past(Completed, start + 5 * DAY_MS)).await;
        insert(&db, team_id, docs, &past(Completed, start - 3 * DAY_MS)).await;
        // The history starts before the week before: they compare.
        insert(&db, team_id, docs, &past(Completed, start - 8 * DAY_MS)).await;
        // A deploy still running counts for nothing yet.
        sqlx::query(
            "insert into deployments (id, team_id, site_id, type, status, operation_name, source_kind, \
             trigger_kind, triggered_by, created_at, started_at) \
             values ($1, $2, $3, 'deploy', 'running', 'Deploy main', 'git', 'push', 'test', $4, $4)",
        )
        .bind(Ulid::new().to_string())
        .bind(team_id.to_string())
        .bind(docs.to_string())
        .bind(now_ms())
        .execute(&db.pool)
        .await
        .expect("running");
        // Another team's history.
        let (other, other_sites) = team(&db, "eve@example.com", &["eve"]).await;
        insert(&db, other, other_sites[0], &past(Failed, start + DAY_MS)).await;

        assert_eq!(rebuild(&db).await.expect("rebuild"), 12);
        let all = insights::load(&db, team_id, None, 7).await.expect("insights");

        // Four changes went live in 7 days (a, d, e on web; one on docs).
        near(all.frequency.value, 4.0 / 7.0);
        near(all.frequency.previous, 1.0 / 7.0);
        assert_eq!(all.frequency.samples, 4);
        assert_eq!(
            all.frequency.points,
            [1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0].map(Some)
        );
        // Lead times 2 h, 6 h and 30 min: the median is 2 h.
        near(all.lead_time.value, (2 * H) as f64);
        assert_eq!(all.lead_time.samples, 3);
        // Six changes; two failed, one was replaced within the hour and
        // one was rolled back: 4 of 6.
        near(all.failure_rate.value, 4.0 / 6.0);
        assert_eq!(all.failure_rate.samples, 6);
        assert_eq!(all.failure_rate.points[1], Some(1.0));
        assert_eq!(all.failure_rate.points[2], Some(1.0));
        assert_eq!(all.failure_rate.points[3], None);
        assert_eq!(all.failure_rate.points[5], Some(0.0));
        assert_eq!(all.failure_rate.previous, Some(0.0));
        // One restore: from day 1, 02:00 to day 2, 18:00.
        near(all.restore.value, (40 * H) as f64);
        assert_eq!(all.restore.samples, 1);
        // Every finished deploy's steps, the preview's and staging's too.
        let deploy = &all.pipelines[0];
        let names: Vec<_> = deploy.steps.iter().map(|s| s.stats.name.as_str()).collect();
        assert_eq!(names, ["Build", "Publish"]);
        assert_eq!(deploy.steps[0].stats.runs, 9);
        near(Some(deploy.steps[0].stats.p50 as f64), 60_000.0);
        near(Some(deploy.steps[0].stats.p95 as f64), 600_000.0);
        assert_eq!(all.slowest[0].name, "Build");

        // One site: only its deploys.
        // 90 days come by week, the newest week whole: this one.
        let weekly = insights::load(&db, team_id, None, 90).await.expect("90 days");
        assert_eq!((weekly.point_days, weekly.frequency.points.len()), (7, 13));
        assert_eq!(weekly.point_starts[12], day_of(start));
        near(weekly.frequency.points[12], 4.0 / 7.0);
        near(weekly.lead_time.points[12], (2 * H) as f64);
        assert_eq!(weekly.frequency.samples, 6);
        near(weekly.failure_rate.value, 4.0 / 8.0);
        assert_eq!(weekly.restore.samples, 1);
        assert_eq!(weekly.pipelines[0].steps[0].stats.runs, 11);
        near(Some(weekly.pipelines[0].steps[0].stats.p95 as f64), 600_000.0);

        // Web's history starts within the week before: no comparison.
        let web_only = insights::load(&db, team_id, Some(web), 7).await.expect("web");
        assert_eq!(web_only.frequency.previous, None);
        assert_eq!(web_only.frequency.samples, 3);
        let one = insights::load(&db, team_id, Some(docs), 7).await.expect("docs");
        assert_eq!(one.frequency.samples, 1);
        assert_eq!(one.failure_rate.value, Some(0.0));
        assert_eq!(one.restore.samples, 0);
        assert_eq!(one.pipelines[0].steps[0].stats.runs, 1);

        // The other team sees its own failure only.
        let theirs = insights::load(&db, other, None, 7).await.expect("theirs");
        assert_eq!(theirs.frequency.samples, 0);
        assert_eq!(theirs.failure_rate.value, Some(1.0));
        assert_eq!(theirs.lead_time.value, None);
        let refused = insights::load(&db, other, Some(web), 7).await;
        assert!(refused.is_err(), "another team's site is not found");
        let refused = insights::load(&db, team_id, None, 12).await;
        assert!(refused.is_err(), "only 7, 30 or 90 days");

        // Rebuilding again gives the same.
        rebuild(&db).await.expect("again");
        assert_eq!(insights::load(&db, team_id, None, 7).await.expect("again"), all);
    })
    .await;
}

/// Deploys report their commit as made 2 h ago; `broken` fails.
const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'echo "commit=abc1234" >> "$FLIGHTDECK_REPORT"; echo "commit_time=$(( $(date +%s) - 7200 ))" >> "$FLIGHTDECK_REPORT"; if [ "$FLIGHTDECK_BRANCH" = broken ]; then exit 1; fi'
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'mkdir -p "$FLIGHTDECK_RELEASE_DIR" && echo "$FLIGHTDECK_BRANCH" > "$FLIGHTDECK_RELEASE_DIR/index.html"'
"#;

#[tokio::test]
async fn deployments_that_end_keep_the_totals_a_rebuild_makes() {
    on_both_servers(PIPELINES, &[], |s| async move {
        let c = client();
        sign_up(&c, &s, "ada@example.com", "Ada's").await;
        let site = common::server::new_site(&c, &s, "Web").await;
        let site_id = site.id.to_string();
        deploy(&s, &c, &site_id, "v1").await;
        assert_eq!(
            deploy(&s, &c, &site_id, "broken").await.status,
            DeploymentStatus::Failed
        );
        deploy(&s, &c, &site_id, "broken").await;
        let v2 = deploy(&s, &c, &site_id, "v2").await;
        // A hotfix within the hour, then a rollback to v2.
        deploy(&s, &c, &site_id, "v3").await;
        let back: Deployment =
            ok(&c, &s, "rollback_deployment", &[("id", &v2.id.to_string())]).await;
        assert_eq!(
            wait_finished(&c, &s, &back.id.to_string()).await.status,
            DeploymentStatus::Completed
        );

        let live: Insights = ok(&c, &s, "get_insights", &[("days", "7")]).await;
        // The site's first deploy, v1, v2 and v3 went live; each was
        // replaced within the hour (v3 by the rollback), and two failed.
        assert_eq!(live.frequency.samples, 4);
        assert_eq!(live.failure_rate.samples, 6);
        assert_eq!(live.failure_rate.value, Some(1.0));
        assert_eq!(live.restore.samples, 1);
        assert_eq!(live.lead_time.samples, 4);
        near(live.lead_time.value, (2 * H) as f64);
        assert!(
            live.pipelines
                .iter()
                .any(|p| p.steps.iter().any(|s| s.stats.name == "Build"))
        );

        rebuild(&s.db).await.expect("rebuild");
        let rebuilt: Insights = ok(&c, &s, "get_insights", &[("days", "7")]).await;
        assert_eq!(rebuilt, live, "the totals kept live are the history's");

        // One site, and bad input.
        let one: Insights = ok(
            &c,
            &s,
            "get_insights",
            &[("site_id", &site_id), ("days", "30")],
        )
        .await;
        assert_eq!(one.frequency.samples, 4);
        let (status, err) = refused(&c, &s, "get_insights", &[("days", "12")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("7, 30 or 90"), "{err}");
        // Another team sees nothing of it, and not the site.
        let eve = client();
        sign_up(&eve, &s, "eve@example.com", "Eve's").await;
        let theirs: Insights = ok(&eve, &s, "get_insights", &[]).await;
        assert_eq!((theirs.days, theirs.failure_rate.samples), (30, 0));
        assert!(
            theirs
                .pipelines
                .iter()
                .all(|p| p.steps.iter().all(|s| s.stats.name != "Build"))
        );
        let (status, _) = refused(&eve, &s, "get_insights", &[("site_id", &site_id)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Signed out: refused.
        let (status, _) = refused(&client(), &s, "get_insights", &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    })
    .await;
}
