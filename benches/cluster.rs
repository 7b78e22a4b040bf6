//! Several instances on one PostgreSQL. Run:
//! `cargo bench --features ssr --bench cluster` (PostgreSQL required).
//!
//! - delivery: three instances of the real binary; a change committed on
//!   instance 0 (a deploy triggered through its API) until the socket of
//!   a page on instance 1 has it, over 50 changes, next to a socket on
//!   instance 0 itself. Timed from the moment the request is sent, so the
//!   figure is an upper bound of commit-to-socket;
//! - throughput: pipelines of three trivial steps (`true`, no sandbox:
//!   the engine, not the box) over 12 sites, with one, two and three
//!   instances (engines with a pool, a listener and a lease each, in one
//!   process) sharing the queue: four pipelines at once per instance, then
//!   twelve at once in all split over the instances.

#[path = "../tests/common/mod.rs"]
mod common;

use common::cluster::Cluster;
use common::load::{PIPELINE, restart, team_with_sites, wait_all_done};
use flightdeck::model::{DeploymentStatus, LiveMessage};
use flightdeck::server::config::DataDir;
use flightdeck::server::engine::pipelines::Pipelines;
use flightdeck::server::engine::{Engine, EngineConfig};
use std::time::{Duration, Instant};

async fn delivery() {
    let Some(mut c) = Cluster::new(3).await else {
        println!("PostgreSQL not reachable; skipped");
        return;
    };
    c.start_all().await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let mut same = c.socket(0).await;
    let mut other = c.socket(1).await;
    let (mut local, mut remote, mut answers) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..50 {
        let sent = Instant::now();
        let trigger = async {
            let id = c.deploy(0, &site, "main").await;
            answers.push(sent.elapsed());
            id
        };
        // Both sockets read while the request is under way.
        let (id, (on_same, on_other)) = tokio::join!(
            trigger,
            futures::future::join(first_deployment(&mut same), first_deployment(&mut other))
        );
        for ((got, at), times) in [(on_same, &mut local), (on_other, &mut remote)] {
            assert_eq!(got, id, "the change that was made");
            times.push(at - sent);
        }
        c.wait_idle(0, &site).await;
    }
    let answered = percentiles(&answers);
    println!(
        "the trigger request itself (send to answer, after its commit): p50 {:.1} ms, max {:.1} ms",
        answered.0, answered.2
    );
    for (name, times) in [("same instance", local), ("another instance", remote)] {
        let (p50, p99, max) = percentiles(&times);
        println!(
            "delivery to a socket on {name:<16}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms over {} changes",
            times.len()
        );
    }
}

/// The id of the next queued deployment a socket hears of, and when.
async fn first_deployment(socket: &mut common::cluster::Socket) -> (String, Instant) {
    loop {
        if let LiveMessage::Deployment { deployment, .. } = socket.next().await.expect("open")
            && deployment.status == DeploymentStatus::Queued
        {
            return (deployment.id.to_string(), Instant::now());
        }
    }
}

/// p50, p99 and max, in milliseconds.
fn percentiles(times: &[Duration]) -> (f64, f64, f64) {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() * 99 / 100], ms[ms.len() - 1])
}

async fn throughput(instances: usize, per_instance: usize, pipelines: usize) {
    let Some(pg) = common::postgres().await else {
        return;
    };
    let db = pg.db.clone();
    let dir = tempfile::tempdir().expect("dir");
    let (team, site_ids) = team_with_sites(&db, 12).await;
    let mut engines = Vec::new();
    for _ in 0..instances {
        let pool = db.connect_again().await.expect("pool");
        engines.push(
            Engine::start(
                pool,
                Pipelines::with_overrides(PIPELINE).expect("pipelines"),
                EngineConfig {
                    max_parallel: per_instance,
                    grace: Duration::from_secs(1),
                    ..EngineConfig::new(DataDir::new(dir.path()).expect("data dir"))
                },
            )
            .await
            .expect("engine"),
        );
    }
    let start = Instant::now();
    for i in 0..pipelines {
        engines[i % instances]
            .trigger(restart(team, site_ids[i % site_ids.len()]))
            .await
            .expect("trigger");
    }
    wait_all_done(&db).await;
    let secs = start.elapsed().as_secs_f64();
    let (claimers,): (i64,) = sqlx::query_as("select count(distinct claimed_by) from deployments")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    println!(
        "throughput with {instances} instance(s), {per_instance} at once each: {pipelines} pipelines x 3 steps \
         over 12 sites: {secs:.2} s, {:.1} pipelines/s (claimed by {claimers} instances)",
        pipelines as f64 / secs
    );
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_PIPELINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    delivery().await;
    // Four at once per instance, as configured by default; then the same
    // twelve at once in all, split over the instances.
    for instances in 1..=3 {
        throughput(instances, 4, n).await;
    }
    for instances in 1..=3 {
        throughput(instances, 12 / instances, n).await;
    }
}
