//! Server render time of the dashboard pages on a long history, on SQLite
//! and (when it answers) PostgreSQL. Run:
//! `cargo bench --features ssr --bench pages`
//!
//! One team with 20 sites gets 100,000 and then 1,000,000 deployments of
//! three steps each, inserted in bulk. At each size the bench requests,
//! over HTTP from a signed-in client, the whole HTML of:
//! - the deployments page, first page and a page 90% deep (keyset cursor);
//! - the same page filtered by a rare status;
//! - a site's page;
//! - a detail page whose step output is 10 MB (the page shows its tail);
//! - the insights page over 7, 30 and 90 days, and for one site, after
//!   building its totals from the history (timed too).
//!
//! Deployments are 10 s apart, newest first: 100,000 cover 12 days,
//! 1,000,000 cover 116.
//!
//! Each is requested 5 times to warm up, then 30 times; p50 and p95 are
//! printed. Set `FLIGHTDECK_BENCH_SIZES=100000` for a quicker run.

#[path = "../tests/common/mod.rs"]
mod common;

use common::server::Server;
use flightdeck::server::store::insights::rebuild::rebuild;
use flightdeck::server::store::{Db, sites};
use std::time::{Duration, Instant};
use ulid::Ulid;

const SITES: usize = 20;
/// Rows per insert statement, and per transaction.
const BATCH: usize = 100;
const TX_ROWS: usize = 10_000;
const STEPS: [&str; 3] = ["Prepare workspace", "Build", "Publish"];

struct Bench {
    base: String,
    db: Db,
    client: reqwest::Client,
    team_id: String,
    site_ids: Vec<String>,
    _server: Server,
}

/// The test toolkit's server, on `database_url` (SQLite by default), with
/// a signed-in team of [`SITES`] sites.
async fn start(database_url: Option<String>) -> Bench {
    let args: Vec<String> = database_url
        .map(|url| format!("--database-url={url}"))
        .into_iter()
        .collect();
    let server = common::server::start_with(&args).await;
    let client = common::server::client();
    let team = common::server::sign_up(&client, &server, "bench@example.com", "Bench")
        .await
        .team
        .id;
    let mut site_ids = Vec::new();
    for i in 0..SITES {
        let id = sites::insert(
            &server.db,
            sites::NewSite {
                team_id: team,
                name: &format!("Site {i:02}"),
                repository: "https://github.com/acme/site",
                branch: "main",
                auto_deploy: true,
                parent_site_id: None,
            },
        )
        .await
        .expect("site");
        site_ids.push(id.to_string());
    }
    Bench {
        base: server.base.clone(),
        db: server.db.clone(),
        client,
        team_id: team.to_string(),
        site_ids,
        _server: server,
    }
}

async fn seed(b: &Bench, from: usize, to: usize) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let started = Instant::now();
    let mut i = from;
    let mut tx = b.db.pool.begin().await.expect("tx");
    while i < to {
        let end = (i + BATCH).min(to);
        let mut dsql = String::from(
            "insert into deployments (id, team_id, site_id, type, status, operation_name, meta, source_kind, \
             branch, commit_sha, repository, trigger_kind, triggered_by, error_message, version, created_at, \
             started_at, finished_at, commit_at) values ",
        );
        let mut ssql = String::from(
            "insert into deployment_steps (id, deployment_id, name, phase, status, sort_order, output, \
             version, started_at, finished_at) values ",
        );
        let mut rows = Vec::new();
        for n in i..end {
            // Newest first: each size adds older history.
            let at = now - (n as u64 + 1) * 10_000;
            let id = Ulid::from_parts(at, rand_bits(n as u128)).to_string();
            // Mostly completed deploys; a few failures and cancellations.
            let (kind, status) = match n % 100 {
                0..=2 => ("deploy", "failed"),
                3 => ("deploy", "cancelled"),
                4..=9 => ("restart", "completed"),
                10..=11 => ("time_capsule", "completed"),
                _ => ("deploy", "superseded"),
            };
            rows.push((id, n % SITES, kind, status, at as i64));
        }
        for (k, _) in rows.iter().enumerate() {
            let p = k * 11;
            if k > 0 {
                dsql.push(',');
            }
            dsql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, '{{}}', 'git', 'main', 'abcdef1234567', \
                 'https://github.com/acme/site', 'push', 'GitHub push', ${}, 3, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8,
                p + 9,
                p + 10,
                p + 11
            ));
        }
        let mut q = sqlx::query(&dsql);
        for (id, site, kind, status, at) in &rows {
            q = q
                .bind(id.clone())
                .bind(b.team_id.clone())
                .bind(b.site_ids[*site].clone())
                .bind(*kind)
                .bind(*status)
                .bind(if *kind == "deploy" {
                    "Deploy main"
                } else {
                    "Restart site"
                })
                .bind(
                    (*status == "failed")
                        .then(|| "Step 2 of 3, \u{201c}Build\u{201d}, failed".to_string()),
                )
                .bind(*at)
                .bind(*at + 1_000)
                .bind(*at + 95_000)
                // Committed up to 6 h before it went live.
                .bind(*at + 95_000 - (rand_bits(*at as u128) % 21_600_000) as i64);
        }
        q.execute(&mut *tx).await.expect("deployments");
        let mut k = 0;
        for (_, _, _, _, at) in &rows {
            for s in 0..STEPS.len() {
                let p = k * 7;
                if k > 0 {
                    ssql.push(',');
                }
                ssql.push_str(&format!(
                    "(${}, ${}, ${}, 'build', ${}, ${}, ${}, 2, ${}, {})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    // 2 to 29 s: steps of every duration, as real ones are.
                    at + 1_000
                        + 30_000 * s as i64
                        + 2_000
                        + (rand_bits((s as u128) << 96 | *at as u128) % 27_000) as i64
                ));
                k += 1;
            }
        }
        let mut q = sqlx::query(&ssql);
        for (id, _, _, status, at) in &rows {
            for (s, name) in STEPS.iter().enumerate() {
                let step_status = match (*status, s) {
                    ("failed", 1) => "failed",
                    ("failed", 2) | ("cancelled", 2) => "queued",
                    ("cancelled", 1) => "cancelled",
                    _ => "completed",
                };
                q = q
                    .bind(
                        Ulid::from_parts(*at as u64, rand_bits((s as u128) << 64 | *at as u128))
                            .to_string(),
                    )
                    .bind(id.clone())
                    .bind(*name)
                    .bind(step_status)
                    .bind(s as i64 + 1)
                    .bind(format!("\u{1b}[32m✔\u{1b}[0m {name} finished\n"))
                    .bind(at + 1_000 + 30_000 * s as i64);
            }
        }
        q.execute(&mut *tx).await.expect("steps");
        if end.is_multiple_of(TX_ROWS) {
            tx.commit().await.expect("commit");
            tx = b.db.pool.begin().await.expect("tx");
        }
        i = end;
    }
    tx.commit().await.expect("commit");
    eprintln!(
        "  seeded {} deployments ({} steps) in {:.1} s",
        to - from,
        (to - from) * 3,
        started.elapsed().as_secs_f64()
    );
}

/// Deterministic random bits for a ULID, so reruns seed the same ids.
fn rand_bits(seed: u128) -> u128 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) ^ 0xA5A5_5A5A;
    x ^= x >> 67;
    x.wrapping_mul(0xD6E8_FEB8_6659_FD93) & ((1u128 << 80) - 1)
}

async fn measure(b: &Bench, label: &str, path: &str) {
    let url = format!("{}{path}", b.base);
    time(label, || b.client.get(&url).header("accept", "text/html")).await;
}

/// A server function's answer alone, without the page around it.
async fn measure_api(b: &Bench, label: &str, name: &str, form: &[(&str, &str)]) {
    let url = format!("{}/api/{name}", b.base);
    time(label, || b.client.post(&url).form(form)).await;
}

async fn time(label: &str, request: impl Fn() -> reqwest::RequestBuilder) {
    let mut bytes = 0;
    for _ in 0..5 {
        let res = request().send().await.expect("request");
        assert!(res.status().is_success(), "{label}: {}", res.status());
        bytes = res.bytes().await.expect("body").len();
    }
    let mut times = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let res = request().send().await.expect("request");
        let body = res.bytes().await.expect("body");
        times.push(t.elapsed());
        assert!(!body.is_empty());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {label:<44} p50 {:>7.2} ms   p95 {:>7.2} ms   {:>7.1} KB",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        bytes as f64 / 1024.0
    );
}

async fn run(name: &str, database_url: Option<String>, sizes: &[usize]) {
    println!("\n{name}");
    let b = start(database_url).await;
    let mut seeded = 0;
    for &size in sizes {
        seed(&b, seeded, size).await;
        seeded = size;
        // A database that has been running has statistics; a bulk load has none yet.
        sqlx::query("analyze")
            .execute(&b.db.pool)
            .await
            .expect("analyze");
        // A deep cursor: the id 90% of the way down the history.
        let (deep,): (String,) = sqlx::query_as(&format!(
            "select id from deployments order by id desc limit 1 offset {}",
            size * 9 / 10
        ))
        .fetch_one(&b.db.pool)
        .await
        .expect("deep id");
        let (big,): (String,) = sqlx::query_as(
            "select id from deployments where status = 'failed' order by id desc limit 1",
        )
        .fetch_one(&b.db.pool)
        .await
        .expect("failed one");
        let log_line = "\u{1b}[2m12:00:01\u{1b}[0m \u{1b}[36minfo\u{1b}[0m compiling module src/components/very_long_name.rs (42 of 1337)\n";
        let output = log_line.repeat(10 * 1024 * 1024 / log_line.len());
        sqlx::query(
            "update deployment_steps set output = $1 where deployment_id = $2 and sort_order = 2",
        )
        .bind(&output)
        .bind(&big)
        .execute(&b.db.pool)
        .await
        .expect("big output");
        println!("  {size} deployments:");
        measure(&b, "deployments, first page", "/").await;
        measure(
            &b,
            "deployments, page 90% deep",
            &format!("/?cursor={deep}"),
        )
        .await;
        measure(&b, "deployments, status=cancelled", "/?status=cancelled").await;
        measure(
            &b,
            "deployments, site + type filter, deep",
            &format!("/?site={}&type=deploy&cursor={deep}", b.site_ids[3]),
        )
        .await;
        measure(&b, "site page", &format!("/sites/{}", b.site_ids[0])).await;
        measure(
            &b,
            "detail page, 10 MB step output",
            &format!("/deployments/{big}"),
        )
        .await;
        // The insights' totals as a first start after the upgrade builds
        // them from this history; then the page over each window.
        let t = Instant::now();
        let read = rebuild(&b.db).await.expect("rebuild");
        println!(
            "  insights built from {read} deployments in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        sqlx::query("analyze")
            .execute(&b.db.pool)
            .await
            .expect("analyze");
        for days in [7, 30, 90] {
            measure(
                &b,
                &format!("insights, {days} days"),
                &format!("/insights?days={days}"),
            )
            .await;
        }
        measure_api(
            &b,
            "get_insights, 90 days",
            "get_insights",
            &[("days", "90")],
        )
        .await;
        measure(
            &b,
            "insights, 90 days, one site",
            &format!("/insights?days=90&site={}", b.site_ids[3]),
        )
        .await;
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("FLIGHTDECK_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    let backends =
        std::env::var("FLIGHTDECK_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        run("SQLite", None, &sizes).await;
    }
    if !backends.contains("postgres") {
        return;
    }
    match common::postgres().await {
        Some(pg) => run("PostgreSQL", Some(pg.url.clone()), &sizes).await,
        None => println!("\nPostgreSQL: not reachable at 127.0.0.1:5432, skipped"),
    }
}
