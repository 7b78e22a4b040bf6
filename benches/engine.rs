//! Engine throughput and per-step overhead, on SQLite and (when it answers)
//! PostgreSQL. Run: `cargo bench --features ssr --bench engine`.
//!
//! - throughput: N pipelines of three trivial steps (`true`), spread over
//!   sites so several run at once, trigger to last completed;
//! - per-step overhead: one site, pipelines run back to back; the time per
//!   step minus the cost of spawning `sh -c true` by itself.
//!
//! `BENCH_SANDBOX=on` runs every step in the bubblewrap sandbox, as the
//! server does by default (`off`, the default here, measures the engine).

#[path = "../tests/common/mod.rs"]
mod common;

use flightdeck::model::{PipelineType, TeamId};
use flightdeck::server::config::DataDir;
use flightdeck::server::engine::pipelines::Pipelines;
use flightdeck::server::engine::sandbox::Sandbox;
use flightdeck::server::engine::trigger::TriggerRequest;
use flightdeck::server::engine::{Engine, EngineConfig};
use flightdeck::server::store::{Db, accounts, sites};
use std::time::{Duration, Instant};

const PIPELINE: &str = "[pipelines.restart]\noperation_name = \"Bench\"\n\
    [[pipelines.restart.steps]]\nname = \"one\"\nrun = \"true\"\n\
    [[pipelines.restart.steps]]\nname = \"two\"\nrun = \"true\"\n\
    [[pipelines.restart.steps]]\nname = \"three\"\nrun = \"true\"\n";

async fn run(name: &str, db: Db, pipelines: usize, sites_n: usize, parallel: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let (_, team) = accounts::create_account(&db, "bench@example.com", "B", "h", "B")
        .await
        .expect("account");
    let mut site_ids = Vec::new();
    for i in 0..sites_n {
        let name = format!("site {i}");
        site_ids.push(
            sites::insert(
                &db,
                sites::NewSite {
                    team_id: team,
                    name: &name,
                    repository: "r",
                    branch: "main",
                    auto_deploy: true,
                    parent_site_id: None,
                },
            )
            .await
            .expect("site"),
        );
    }
    let engine = Engine::start(
        db.clone(),
        Pipelines::with_overrides(PIPELINE).expect("pipelines"),
        EngineConfig {
            max_parallel: parallel,
            grace: Duration::from_secs(1),
            sandbox: sandboxed(dir.path()),
            ..EngineConfig::new(DataDir::new(dir.path()).expect("data dir"))
        },
    )
    .await
    .expect("engine");

    // Throughput across sites.
    let start = Instant::now();
    for i in 0..pipelines {
        engine
            .trigger(req(team, site_ids[i % sites_n]))
            .await
            .expect("trigger");
    }
    wait_all_done(&db).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<10} throughput: {pipelines} pipelines x 3 steps over {sites_n} sites, {parallel} at once: {secs:.2} s, {:.1} pipelines/s",
        pipelines as f64 / secs
    );

    // Per-step overhead on one site, back to back.
    let spawn = spawn_cost().await;
    let n = 20;
    let start = Instant::now();
    for _ in 0..n {
        engine
            .trigger(req(team, site_ids[0]))
            .await
            .expect("trigger");
        wait_all_done(&db).await;
    }
    let per_pipeline = start.elapsed() / n as u32;
    let per_step = per_pipeline / 3;
    println!(
        "{name:<10} latency: {:.1} ms per pipeline, {:.1} ms per step, of which `sh -c true` itself {:.1} ms: engine overhead {:.1} ms per step",
        ms(per_pipeline),
        ms(per_step),
        ms(spawn),
        ms(per_step.saturating_sub(spawn))
    );
}

/// An automatic restart, so that it queues behind a busy site.
fn req(team_id: TeamId, site_id: flightdeck::model::SiteId) -> TriggerRequest {
    TriggerRequest {
        pipeline_type: PipelineType::Restart,
        ..TriggerRequest::site_created(team_id, site_id)
    }
}

/// Waits (looking every 2 ms, so the wait itself adds little) until
/// nothing is queued or running.
async fn wait_all_done(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let (open,): (i64,) = sqlx::query_as(
            "select count(*) from deployments where status in ('queued', 'running')",
        )
        .fetch_one(&db.pool)
        .await
        .expect("count");
        if open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("pipelines still running after 5 minutes");
}

async fn spawn_cost() -> Duration {
    let n = 50;
    let start = Instant::now();
    for _ in 0..n {
        tokio::process::Command::new("sh")
            .arg("-c")
            .arg("true")
            .status()
            .await
            .expect("sh");
    }
    start.elapsed() / n
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The sandbox when `BENCH_SANDBOX=on`.
fn sandboxed(data: &std::path::Path) -> Option<Sandbox> {
    (std::env::var("BENCH_SANDBOX").as_deref() == Ok("on"))
        .then(|| Sandbox::detect(true, data).expect("bubblewrap"))
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_PIPELINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let sqlite = common::sqlite().await;
    run("SQLite", sqlite.db.clone(), n, 16, 8).await;
    match common::postgres().await {
        Some(pg) => run("PostgreSQL", pg.db.clone(), n, 16, 8).await,
        None => println!("PostgreSQL not reachable; skipped"),
    }
}
