//! The deployment engine with real shell steps, on SQLite and on
//! PostgreSQL with two instances (two engines, each with a pool of its
//! own, sharing the database and the data folder, as two servers would).

mod common;

use common::{eventually, on_each_backend};
use flightdeck::model::{
    CapsuleId, DeploymentId, DeploymentMeta, DeploymentStatus, ErrorKind, InstanceId, PipelineType,
    SiteId, StepStatus, TeamId, TriggerKind,
};
use flightdeck::server::config::DataDir;
use flightdeck::server::engine::pipelines::Pipelines;
use flightdeck::server::engine::trigger::{SKIPPED_FOR_NEWER_PUSH, Source, TriggerRequest};
use flightdeck::server::engine::{Engine, EngineConfig, recover};
use flightdeck::server::store::{Backend, Db, accounts, deployments, sites};
use std::time::Duration;

const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'echo "building $FLIGHTDECK_BRANCH"; echo oops >&2; echo done'
[[pipelines.deploy.steps]]
name = "Test"
phase = "build"
run = 'if [ "$FLIGHTDECK_BRANCH" = broken ]; then echo "tests failed"; exit 3; fi; if [ "$FLIGHTDECK_BRANCH" = slow ]; then sleep 30; fi'
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'echo published'

[pipelines.restart]
operation_name = "Restart {site}"
[[pipelines.restart.steps]]
name = "Stubborn"
run = '''
trap 'echo "got TERM, ignoring"' TERM
sleep 1000 &
echo $! > "$FLIGHTDECK_DATA_DIR/grandchild-$FLIGHTDECK_DEPLOYMENT_ID.pid"
echo started
while true; do sleep 0.1; done
'''
[[pipelines.restart.steps]]
name = "Never reached"
run = 'true'

[pipelines.time_capsule]
operation_name = "Flood"
[[pipelines.time_capsule.steps]]
name = "Flood"
run = 'echo THE-START; head -c 20000000 /dev/zero | tr "\000" x; echo; echo THE-END'

[pipelines.stop]
operation_name = "Stop {site}"
[[pipelines.stop.steps]]
name = "Slow"
run = 'sleep 5'
timeout_secs = 1
"#;

struct Fixture {
    db: Db,
    engine: Engine,
    /// On PostgreSQL, a second instance: either may claim any deployment.
    second: Option<Engine>,
    team: TeamId,
    site: SiteId,
    dir: tempfile::TempDir,
}

async fn fixture(db: Db) -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let (_, team) = accounts::create_account(&db, "ops@example.com", "Ops", "hash", "Ops")
        .await
        .expect("account");
    let site = sites::insert(
        &db,
        sites::NewSite {
            team_id: team,
            name: "Web",
            repository: "https://github.com/acme/web",
            branch: "main",
            auto_deploy: true,
            parent_site_id: None,
        },
    )
    .await
    .expect("site");
    let config = EngineConfig {
        max_parallel: 4,
        grace: Duration::from_millis(500),
        lease: LEASE,
        ..EngineConfig::new(DataDir::new(dir.path()).expect("data dir"))
    };
    let pipelines = || Pipelines::with_overrides(PIPELINES).expect("pipelines");
    let engine = Engine::start(db.clone(), pipelines(), config.clone())
        .await
        .expect("engine");
    let second = match db.backend {
        Backend::Postgres => {
            let other = db.connect_again().await.expect("second pool");
            Some(
                Engine::start(other, pipelines(), config)
                    .await
                    .expect("second engine"),
            )
        }
        Backend::Sqlite => None,
    };
    Fixture {
        db,
        engine,
        second,
        team,
        site,
        dir,
    }
}

/// Any type of pipeline, started any way (the named constructors cover
/// the ways the product starts them; the engine takes every combination).
fn request(f: &Fixture, t: PipelineType, trigger: TriggerKind, branch: &str) -> TriggerRequest {
    TriggerRequest {
        team_id: f.team,
        site_id: f.site,
        pipeline_type: t,
        trigger,
        user_id: None,
        triggered_by: "Test".into(),
        source: Source {
            branch: Some(branch.into()),
            repository: Some("https://github.com/acme/web".into()),
            ..Default::default()
        },
        pr_number: None,
        meta: DeploymentMeta {
            capsule_id: Some(CapsuleId::new()),
            ..Default::default()
        },
        retry_of: None,
        awaiting_approval: false,
    }
}

/// The tests' lease: short, so a lost one shows within seconds.
const LEASE: Duration = Duration::from_secs(6);

impl Fixture {
    fn engines(&self) -> Vec<&Engine> {
        std::iter::once(&self.engine).chain(&self.second).collect()
    }

    /// The instance that claimed a deployment.
    async fn owner(&self, id: DeploymentId) -> InstanceId {
        let (owner,): (InstanceId,) =
            sqlx::query_as("select claimed_by from deployments where id = $1")
                .bind(id)
                .fetch_one(&self.db.pool)
                .await
                .expect("claimed");
        owner
    }

    /// An engine that does not run `id` (on PostgreSQL, the other
    /// instance), so that what it is asked must reach the one that does.
    async fn elsewhere(&self, id: DeploymentId) -> &Engine {
        let owner = self.owner(id).await;
        self.engines()
            .into_iter()
            .find(|e| e.instance_id() != owner)
            .unwrap_or(&self.engine)
    }
}

async fn get(f: &Fixture, id: DeploymentId) -> flightdeck::model::Deployment {
    deployments::get(&f.db, f.team, id)
        .await
        .expect("get")
        .expect("exists")
}

/// Waits (up to 20 s) until the deployment reaches `status`.
async fn wait_for(
    f: &Fixture,
    id: DeploymentId,
    status: DeploymentStatus,
) -> flightdeck::model::Deployment {
    eventually(
        &format!("{id} becomes {status}"),
        Duration::from_secs(20),
        || async {
            let d = get(f, id).await;
            (d.status == status).then_some(d)
        },
    )
    .await
}

async fn wait_step_running(f: &Fixture, id: DeploymentId, n: usize) {
    eventually(
        &format!("step {n} runs"),
        Duration::from_secs(20),
        || async { (get(f, id).await.steps[n].status == StepStatus::Running).then_some(()) },
    )
    .await
}

#[tokio::test]
async fn a_deploy_runs_its_steps_in_order_and_becomes_current() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let id = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("trigger");
        let d = wait_for(&f, id, DeploymentStatus::Completed).await;
        assert_eq!(d.operation_name, "Deploy main");
        assert!(d.steps.iter().all(|s| s.status == StepStatus::Completed));
        assert!(d.is_current);
        assert!(d.started_at.is_some() && d.finished_at.is_some());
        let order: Vec<_> = d
            .steps
            .iter()
            .map(|s| s.started_at.expect("started"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(
            d.steps[0].output, "building main\noops\ndone\n",
            "stdout and stderr in order"
        );
        assert!(d.version > 1);
        let (events,): (i64,) = sqlx::query_as("select count(*) from events where record_id = $1")
            .bind(id.to_string())
            .fetch_one(&f.db.pool)
            .await
            .expect("events");
        assert!(events >= 3, "every change writes an event");
    })
    .await;
}

#[tokio::test]
async fn a_failing_step_fails_the_deployment_and_later_steps_stay_queued() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let id = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "broken",
            ))
            .await
            .expect("trigger");
        let d = wait_for(&f, id, DeploymentStatus::Failed).await;
        let error = d.error_message.clone().expect("error message");
        assert!(
            error.contains("Test") && error.contains("status 3"),
            "{error}"
        );
        assert_eq!(
            d.steps.iter().map(|s| s.status).collect::<Vec<_>>(),
            [
                StepStatus::Completed,
                StepStatus::Failed,
                StepStatus::Queued
            ]
        );
        assert_eq!(d.steps[1].output, "tests failed\n");
        assert!(!d.is_current);
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_queued_deployment_runs_no_step() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let first = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "slow",
            ))
            .await
            .expect("first");
        let queued = f
            .engine
            .trigger(request(&f, PipelineType::Deploy, TriggerKind::Push, "main"))
            .await
            .expect("queued");
        f.engine.cancel(f.team, queued).await.expect("cancel");
        let d = wait_for(&f, queued, DeploymentStatus::Cancelled).await;
        assert!(d.steps.iter().all(|s| s.status == StepStatus::Queued));
        f.engine.cancel(f.team, first).await.expect("cancel first");
        wait_for(&f, first, DeploymentStatus::Cancelled).await;
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_running_step_kills_its_whole_group_even_when_it_ignores_term() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let id = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Restart,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("trigger");
        wait_step_running(&f, id, 0).await;
        let pid_file = f.dir.path().join(format!("grandchild-{id}.pid"));
        let grandchild: i32 = eventually(
            "the step writes its pid",
            Duration::from_secs(5),
            || async { std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok() },
        )
        .await;
        // On PostgreSQL, asked of the instance that does not run it.
        let asked = std::time::Instant::now();
        f.elsewhere(id)
            .await
            .cancel(f.team, id)
            .await
            .expect("cancel");
        let d = wait_for(&f, id, DeploymentStatus::Cancelled).await;
        assert!(
            asked.elapsed() < Duration::from_millis(500) + Duration::from_secs(3),
            "the cancel reached the running instance at once: {:?}",
            asked.elapsed()
        );
        assert_eq!(d.steps[0].status, StepStatus::Cancelled);
        assert_eq!(d.steps[1].status, StepStatus::Queued);
        assert!(
            !std::path::Path::new(&format!("/proc/{grandchild}")).exists(),
            "the grandchild outlived the cancel"
        );
        let err = f
            .engine
            .cancel(f.team, id)
            .await
            .expect_err("already ended");
        assert_eq!(err.kind, ErrorKind::Conflict);
    })
    .await;
}

#[tokio::test]
async fn a_manual_trigger_on_a_busy_site_is_refused_and_an_automatic_one_waits() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let first = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "slow",
            ))
            .await
            .expect("first");
        wait_step_running(&f, first, 1).await;
        let err = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect_err("busy");
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert!(err.message.contains("Deploy slow"), "{}", err.message);
        let auto = f
            .engine
            .trigger(request(&f, PipelineType::Deploy, TriggerKind::Push, "main"))
            .await
            .expect("queued");
        assert_eq!(get(&f, auto).await.status, DeploymentStatus::Queued);
        f.engine.cancel(f.team, first).await.expect("cancel");
        wait_for(&f, auto, DeploymentStatus::Completed).await;
    })
    .await;
}

#[tokio::test]
async fn queued_pushes_of_one_branch_coalesce_to_the_newest() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let first = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "slow",
            ))
            .await
            .expect("first");
        wait_step_running(&f, first, 1).await;
        let a = f
            .engine
            .trigger(request(&f, PipelineType::Deploy, TriggerKind::Push, "main"))
            .await
            .expect("a");
        let b = f
            .engine
            .trigger(request(&f, PipelineType::Deploy, TriggerKind::Push, "main"))
            .await
            .expect("b");
        let a = get(&f, a).await;
        assert_eq!(a.status, DeploymentStatus::Cancelled);
        assert_eq!(a.error_message.as_deref(), Some(SKIPPED_FOR_NEWER_PUSH));
        assert_eq!(get(&f, b).await.status, DeploymentStatus::Queued);
        f.engine.cancel(f.team, first).await.expect("cancel");
        wait_for(&f, b, DeploymentStatus::Completed).await;
    })
    .await;
}

#[tokio::test]
async fn a_completed_deploy_supersedes_the_current_one_leaving_exactly_one_current() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let one = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("one");
        wait_for(&f, one, DeploymentStatus::Completed).await;
        let two = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("two");
        wait_for(&f, two, DeploymentStatus::Completed).await;
        let old = wait_for(&f, one, DeploymentStatus::Superseded).await;
        assert_eq!(old.superseded_by_id, Some(two));
        let page = deployments::list(&f.db, f.team, &Default::default(), None, 10)
            .await
            .expect("list");
        assert_eq!(page.deployments.iter().filter(|d| d.is_current).count(), 1);
    })
    .await;
}

#[tokio::test]
async fn racing_triggers_never_run_two_deployments_of_one_site() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let mut handles = Vec::new();
        for i in 0..6 {
            let engines = f.engines();
            let engine = engines[i % engines.len()].clone();
            let req = request(&f, PipelineType::Deploy, TriggerKind::SiteCreated, "main");
            handles.push(tokio::spawn(async move { engine.trigger(req).await }));
        }
        let mut ids = Vec::new();
        for h in handles {
            ids.push(h.await.expect("join").expect("trigger"));
        }
        eventually("every racing deploy ends", Duration::from_secs(20), || async {
            let (running,): (i64,) = sqlx::query_as("select count(*) from deployments where site_id = $1 and status = 'running'")
                .bind(f.site).fetch_one(&f.db.pool).await.expect("count");
            assert!(running <= 1);
            let (open,): (i64,) = sqlx::query_as("select count(*) from deployments where site_id = $1 and status in ('queued','running')")
                .bind(f.site).fetch_one(&f.db.pool).await.expect("count");
            (open == 0).then_some(())
        })
        .await;
        let page = deployments::list(&f.db, f.team, &Default::default(), None, 10).await.expect("list");
        assert_eq!(page.deployments.len(), ids.len());
        assert!(page.deployments.iter().all(|d| matches!(d.status, DeploymentStatus::Completed | DeploymentStatus::Superseded)));
        assert_eq!(page.deployments.iter().filter(|d| d.is_current).count(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_step_that_overruns_its_timeout_fails_the_deployment() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let id = f
            .engine
            .trigger(request(&f, PipelineType::Stop, TriggerKind::Manual, "main"))
            .await
            .expect("trigger");
        let d = wait_for(&f, id, DeploymentStatus::Failed).await;
        assert!(
            d.error_message
                .as_deref()
                .unwrap_or_default()
                .contains("timed out after 1s")
        );
        assert_eq!(d.steps[0].status, StepStatus::Failed);
    })
    .await;
}

#[tokio::test]
async fn a_deployment_whose_instance_is_gone_is_failed_naming_the_step_and_its_late_writes_change_nothing()
 {
    on_each_backend(|db| async move {
        let f = fixture(db.clone()).await;
        let id = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "slow",
            ))
            .await
            .expect("trigger");
        wait_step_running(&f, id, 1).await;
        let owner = f.owner(id).await;
        // What a crash, a partition or a long pause looks like from the
        // outside: the owner's lease ran out. Another instance (on SQLite,
        // the next start) fails its work.
        sqlx::query("update instances set lease_until = 0 where id = $1")
            .bind(owner)
            .execute(&db.pool)
            .await
            .expect("expire");
        let failed = recover(&db, InstanceId::new()).await.expect("recover");
        assert_eq!(failed, 1);
        let d = get(&f, id).await;
        assert_eq!(d.status, DeploymentStatus::Failed);
        let message = d.error_message.clone().expect("message");
        assert!(
            message.contains("instance running it")
                && message.contains("stopped during step 2")
                && message.contains("Test"),
            "{message}"
        );
        assert_eq!(d.steps[1].status, StepStatus::Failed);
        assert_eq!(d.steps[2].status, StepStatus::Queued);

        // The owner finds at its next renewal that its lease is gone: it
        // stops its step, records nothing over the survivor's verdict, and
        // joins again under a new id.
        let owner_engine = f
            .engines()
            .into_iter()
            .find(|e| e.instance_id() == owner)
            .expect("owner")
            .clone();
        eventually("the owner joins again", LEASE * 2, || async {
            (owner_engine.instance_id() != owner).then_some(())
        })
        .await;
        let after = get(&f, id).await;
        assert_eq!(after.status, DeploymentStatus::Failed);
        assert_eq!(after.error_message.as_deref(), Some(message.as_str()));
        assert_eq!(after.steps[1].status, StepStatus::Failed);
        assert_eq!(after.steps[2].status, StepStatus::Queued);
        assert!(!after.is_current);
        // And the site takes new work.
        let next = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("the site is free");
        wait_for(&f, next, DeploymentStatus::Completed).await;
    })
    .await;
}

#[tokio::test]
async fn a_step_that_prints_megabytes_keeps_its_head_and_tail_and_says_what_was_cut() {
    on_each_backend(|db| async move {
        let f = fixture(db).await;
        let id = f
            .engine
            .trigger(request(
                &f,
                PipelineType::TimeCapsule,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("trigger");
        let d = wait_for(&f, id, DeploymentStatus::Completed).await;
        let output = &d.steps[0].output;
        assert!(
            output.len() < 2 * 1024 * 1024,
            "stored {} bytes",
            output.len()
        );
        assert!(output.starts_with("THE-START\n"));
        assert!(output.contains("bytes of output cut"));
        assert!(output.ends_with("THE-END\n"));
    })
    .await;
}

#[tokio::test]
async fn a_run_the_database_has_running_but_no_runner_runs_is_failed_by_its_own_instance() {
    on_each_backend(|db| async move {
        let f = fixture(db.clone()).await;
        // What a claim whose commit landed but whose answer was lost leaves
        // behind: running, claimed by a live instance that runs nothing.
        let mut req = request(&f, PipelineType::Deploy, TriggerKind::Push, "main");
        req.awaiting_approval = true;
        let id = f.engine.trigger(req).await.expect("trigger");
        sqlx::query("update deployments set status = 'running', claimed_by = $1 where id = $2")
            .bind(f.engine.instance_id())
            .bind(id)
            .execute(&db.pool)
            .await
            .expect("lost claim");
        let d = wait_for(&f, id, DeploymentStatus::Failed).await;
        let message = d.error_message.expect("message");
        assert!(
            message.contains("lost track of this run between steps"),
            "{message}"
        );
        // And the site takes new work.
        let next = f
            .engine
            .trigger(request(
                &f,
                PipelineType::Deploy,
                TriggerKind::Manual,
                "main",
            ))
            .await
            .expect("the site is free");
        wait_for(&f, next, DeploymentStatus::Completed).await;
    })
    .await;
}
