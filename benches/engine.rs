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

use common::load::{PIPELINE, restart, team_with_sites, wait_all_done};
use flightdeck::server::config::DataDir;
use flightdeck::server::engine::pipelines::Pipelines;
use flightdeck::server::engine::sandbox::Sandbox;
use flightdeck::server::engine::{Engine, EngineConfig};
use flightdeck::server::store::Db;
use std::time::{Duration, Instant};

async fn run(name: &str, db: Db, pipelines: usize, sites_n: usize, parallel: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let (team, site_ids) = team_with_sites(&db, sites_n).await;
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
            .trigger(restart(team, site_ids[i % sites_n]))
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
            .trigger(restart(team, site_ids[0]))
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
