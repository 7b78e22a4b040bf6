//! A database that stops answering while a deployment runs, on SQLite (a
//! second connection holds the write lock) and PostgreSQL (the database
//! refuses connections and its sessions are ended). Nothing may be left
//! running, and nothing the steps printed before the fault may be lost.

mod common;

use common::{TestDb, eventually, postgres, sqlite};
use flightdeck::model::{
    DeploymentId, DeploymentMeta, DeploymentStatus, PipelineType, SiteId, StepStatus, TeamId,
    TriggerKind,
};
use flightdeck::server::config::DataDir;
use flightdeck::server::engine::pipelines::Pipelines;
use flightdeck::server::engine::trigger::{Source, TriggerRequest};
use flightdeck::server::engine::{Engine, EngineConfig};
use flightdeck::server::store::{accounts, deployments, sites};
use sqlx::Connection;
use std::time::Duration;

const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
run = 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done'
[[pipelines.deploy.steps]]
name = "Publish"
run = 'echo published'
"#;

struct Fixture {
    test_db: TestDb,
    engine: Engine,
    team: TeamId,
    site: SiteId,
    _dir: tempfile::TempDir,
}

async fn fixture(test_db: TestDb, patience: Duration) -> Fixture {
    let db = test_db.db.clone();
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
        grace: Duration::from_millis(500),
        db_patience: patience,
        ..EngineConfig::new(DataDir::new(dir.path()).expect("data dir"))
    };
    let engine = Engine::start(
        db,
        Pipelines::with_overrides(PIPELINES).expect("pipelines"),
        config,
    )
    .await
    .expect("engine");
    Fixture {
        test_db,
        engine,
        team,
        site,
        _dir: dir,
    }
}

async fn deploy(f: &Fixture) -> DeploymentId {
    f.engine
        .trigger(TriggerRequest {
            team_id: f.team,
            site_id: f.site,
            pipeline_type: PipelineType::Deploy,
            trigger: TriggerKind::Manual,
            user_id: None,
            triggered_by: "Test".into(),
            source: Source {
                branch: Some("main".into()),
                repository: Some("https://github.com/acme/web".into()),
                ..Default::default()
            },
            pr_number: None,
            meta: DeploymentMeta::default(),
            retry_of: None,
            awaiting_approval: false,
        })
        .await
        .expect("a manual deploy is accepted")
}

async fn get(f: &Fixture, id: DeploymentId) -> flightdeck::model::Deployment {
    deployments::get(&f.test_db.db, f.team, id)
        .await
        .expect("get")
        .expect("exists")
}

async fn wait_until(
    f: &Fixture,
    id: DeploymentId,
    what: &str,
    done: impl Fn(&flightdeck::model::Deployment) -> bool,
) {
    eventually(what, Duration::from_secs(40), || async {
        let d = get(f, id).await;
        done(&d).then_some(())
    })
    .await;
}

/// The database stops answering writes (SQLite) or at all (PostgreSQL)
/// until [`Fault::heal`].
enum Fault {
    Locked(sqlx::sqlite::SqliteConnection),
    Refusing {
        admin: sqlx::postgres::PgConnection,
        database: String,
    },
}

impl Fault {
    async fn start(t: &TestDb) -> Fault {
        if t.name == "sqlite" {
            let mut conn = sqlx::sqlite::SqliteConnection::connect(&t.url)
                .await
                .expect("second connection");
            sqlx::raw_sql("begin exclusive")
                .execute(&mut conn)
                .await
                .expect("the write lock");
            return Fault::Locked(conn);
        }
        let database = t.url.rsplit('/').next().expect("name").to_string();
        let mut admin = sqlx::postgres::PgConnection::connect(&common::db::pg_admin_url())
            .await
            .expect("admin connection");
        // The name is the test's own, made of a ULID.
        sqlx::raw_sql(&format!(
            "alter database {database} with allow_connections false; \
             select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}';"
        ))
        .execute(&mut admin)
        .await
        .expect("refuse connections");
        Fault::Refusing { admin, database }
    }

    async fn heal(self) {
        match self {
            Fault::Locked(mut conn) => {
                sqlx::raw_sql("rollback")
                    .execute(&mut conn)
                    .await
                    .expect("release the lock");
            }
            Fault::Refusing {
                mut admin,
                database,
            } => {
                sqlx::raw_sql(&format!(
                    "alter database {database} with allow_connections true"
                ))
                .execute(&mut admin)
                .await
                .expect("accept connections");
            }
        }
    }
}

/// Each backend's test database, PostgreSQL's when a server answers.
async fn backends() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

#[tokio::test]
async fn a_short_fault_mid_step_loses_nothing_and_the_deployment_completes() {
    for t in backends().await {
        let f = fixture(t, Duration::from_secs(20)).await;
        let id = deploy(&f).await;
        wait_until(&f, id, "the first line is stored", |d| {
            d.steps[0].output.contains("line 1")
        })
        .await;
        let fault = Fault::start(&f.test_db).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        fault.heal().await;
        wait_until(&f, id, "the deployment ends", |d| d.status.is_finished()).await;
        let d = get(&f, id).await;
        assert_eq!(
            d.status,
            DeploymentStatus::Completed,
            "{}: {:?}",
            f.test_db.name,
            d.error_message
        );
        for i in 1..=6 {
            assert!(
                d.steps[0].output.contains(&format!("line {i}")),
                "{}: line {i} was lost: {:?}",
                f.test_db.name,
                d.steps[0].output
            );
        }
    }
}

#[tokio::test]
async fn a_long_fault_mid_run_fails_the_deployment_and_frees_the_site() {
    for t in backends().await {
        // SQLite waits 5 s on a locked database before each write gives
        // up; the fault outlasts the step's last writes and the run's
        // patience, so the run must stop and its end must still land.
        let hold = if t.name == "sqlite" {
            Duration::from_secs(20)
        } else {
            Duration::from_secs(4)
        };
        let f = fixture(t, Duration::from_millis(500)).await;
        let id = deploy(&f).await;
        wait_until(&f, id, "the first line is stored", |d| {
            d.steps[0].output.contains("line 1")
        })
        .await;
        let fault = Fault::start(&f.test_db).await;
        tokio::time::sleep(hold).await;
        fault.heal().await;
        wait_until(&f, id, "the deployment ends", |d| d.status.is_finished()).await;
        let d = get(&f, id).await;
        let name = f.test_db.name;
        assert_eq!(d.status, DeploymentStatus::Failed, "{name}");
        let message = d.error_message.clone().unwrap_or_default();
        assert!(
            message.contains("lost its database during step 1 of 2"),
            "{name}: {message}"
        );
        assert_eq!(d.steps[0].status, StepStatus::Failed, "{name}");
        assert_ne!(d.steps[1].status, StepStatus::Completed, "{name}");
        assert!(!d.steps[1].output.contains("published"), "{name}");
        assert!(d.steps[0].output.contains("line 1"), "{name}");
        // The site is free again: a manual deploy is taken and runs.
        let again = deploy(&f).await;
        wait_until(&f, again, "the next deploy completes", |d| {
            d.status == DeploymentStatus::Completed
        })
        .await;
    }
}
