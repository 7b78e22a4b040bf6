//! Deploy controls: how long a rollback takes, from the call to the site's
//! URL serving the earlier files, for a 50 MB release; and how long the
//! retention task takes on a history of 100,000 deployments. SQLite, and
//! PostgreSQL when it answers. Run:
//! `cargo bench --features ssr --bench controls`
//!
//! Rollback: a site gets two deploys of 200 random files of 256 KiB each
//! (50 MiB), then is rolled back and forth between them 10 times. Each
//! round times the `rollback_deployment` call, the deployment's completion
//! (as the API reports it) and the first answer of the site's URL with
//! the other release's `index.html`, polled every 2 ms.
//!
//! Retention: 100,000 deployments of 20 sites, all published; all but the
//! newest 15 of each site already removed (as earlier runs leave them).
//! One run removes the 5 of each site beyond the 10 kept (100 releases,
//! with their events); a second finds nothing. Both are timed, with the
//! event log at 100,000 events beyond its window.

#[path = "../tests/common/mod.rs"]
mod common;

use common::server::{Server, client, ok, sign_up, start_with_pipelines_and};
use flightdeck::model::{Deployment, DeploymentStatus, Site};
use flightdeck::server::retention;
use std::time::{Duration, Instant};
use ulid::Ulid;

const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = '''
set -eu
mkdir -p "$FLIGHTDECK_RELEASE_DIR/assets"
i=0
while [ $i -lt 200 ]; do i=$((i+1)); head -c 262144 /dev/urandom > "$FLIGHTDECK_RELEASE_DIR/assets/blob-$i.bin"; done
printf "release %s\n" "$FLIGHTDECK_BRANCH" > "$FLIGHTDECK_RELEASE_DIR/index.html"
du -sh "$FLIGHTDECK_RELEASE_DIR"
'''
timeout_secs = 600
"#;

async fn server(pg: Option<&str>) -> Server {
    let mut args = vec!["--retention-secs=86400".to_string()];
    args.extend(pg.map(|url| format!("--database-url={url}")));
    start_with_pipelines_and(PIPELINES, &args).await
}

async fn finished(c: &reqwest::Client, s: &Server, id: &str) -> Deployment {
    loop {
        let d: Deployment = ok(c, s, "get_deployment", &[("id", id)]).await;
        if d.is_finished() {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn serves(s: &Server, site: &str) -> String {
    client()
        .get(format!("{}/", s.base))
        .header("host", format!("{}.preview.localhost", site.to_lowercase()))
        .send()
        .await
        .expect("site")
        .text()
        .await
        .expect("body")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

async fn rollback(backend: &str, pg: Option<&str>) {
    let s = server(pg).await;
    let c = client();
    sign_up(&c, &s, "bench@example.com", "Bench").await;
    let site: Site = ok(
        &c,
        &s,
        "create_site",
        &[
            ("name", "Big"),
            ("repository", "https://github.com/acme/big"),
            ("branch", "v0"),
        ],
    )
    .await;
    let site_id = site.id.to_string();
    // The first deploy (automatic), then v1 and v2.
    let mut releases = Vec::new();
    loop {
        let page: flightdeck::model::DeploymentPage =
            ok(&c, &s, "list_deployments", &[("site_id", &site_id)]).await;
        if page.deployments.iter().all(|d| d.is_finished()) && page.deployments.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for branch in ["v1", "v2"] {
        let d: Deployment = ok(
            &c,
            &s,
            "trigger_deployment",
            &[
                ("site_id", &site_id),
                ("kind", "deploy"),
                ("git_ref", branch),
            ],
        )
        .await;
        let d = finished(&c, &s, &d.id.to_string()).await;
        assert_eq!(
            d.status,
            DeploymentStatus::Completed,
            "{:?}",
            d.error_message
        );
        releases.push((d.id.to_string(), format!("release {branch}\n")));
    }
    let bytes =
        flightdeck::server::config::folder_bytes(&s.data.join("releases").join(&releases[0].0));
    let (mut answered, mut completed, mut serving) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..10 {
        let (target, page) = &releases[round % 2];
        let start = Instant::now();
        let d: Deployment = ok(&c, &s, "rollback_deployment", &[("id", target)]).await;
        answered.push(start.elapsed());
        let id = d.id.to_string();
        let watch = async {
            while serves(&s, &site_id).await != *page {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            start.elapsed()
        };
        let done = async {
            let d = finished(&c, &s, &id).await;
            assert_eq!(
                d.status,
                DeploymentStatus::Completed,
                "{:?}",
                d.error_message
            );
            start.elapsed()
        };
        let (served_at, done_at) = tokio::join!(watch, done);
        serving.push(served_at);
        completed.push(done_at);
    }
    for list in [&mut answered, &mut completed, &mut serving] {
        list.sort();
    }
    println!(
        "| {backend} | {:.1} MiB | {} / {} | {} / {} | {} / {} / {} |",
        bytes as f64 / (1024.0 * 1024.0),
        ms(percentile(&answered, 0.5)),
        ms(percentile(&answered, 0.95)),
        ms(percentile(&completed, 0.5)),
        ms(percentile(&completed, 0.95)),
        ms(percentile(&serving, 0.5)),
        ms(percentile(&serving, 0.95)),
        ms(*serving.last().expect("rounds")),
    );
}

const SITES: usize = 20;
const DEPLOYMENTS: usize = 100_000;

async fn cleanup(backend: &str, pg: Option<&str>) {
    let s = server(pg).await;
    let c = client();
    let team = sign_up(&c, &s, "bench@example.com", "Bench").await.team.id;
    let mut sites = Vec::new();
    for i in 0..SITES {
        let site: Site = ok(
            &c,
            &s,
            "create_site",
            &[
                ("name", &format!("Site {i}")),
                ("repository", "https://github.com/acme/site"),
                ("branch", "main"),
            ],
        )
        .await;
        sites.push(site.id.to_string());
    }
    // Wait out the sites' own first operations (their events must be
    // written before the seeded ones), then add the history.
    for site in &sites {
        common::server::wait_idle(&c, &s, site).await;
    }
    let now = flightdeck::model::time::now_ms() as u64;
    let seeded = Instant::now();
    let mut tx = s.db.pool.begin().await.expect("tx");
    for chunk in 0..DEPLOYMENTS / 100 {
        let mut sql = String::from(
            "insert into deployments (id, team_id, site_id, type, status, operation_name, source_kind, \
             trigger_kind, triggered_by, preview_url, created_at, finished_at, release_removed_at, \
             release_removed_reason, release_bytes) values ",
        );
        let mut binds = Vec::new();
        for k in 0..100 {
            let n = chunk * 100 + k;
            let at = now - ((DEPLOYMENTS - n) as u64) * 1_000;
            let id = Ulid::from_parts(at, n as u128).to_string();
            // The newest 15 of each site are still on disk.
            let kept = n >= DEPLOYMENTS - 15 * SITES;
            if k > 0 {
                sql.push(',');
            }
            let p = k * 8;
            sql.push_str(&format!(
                "(${}, ${}, ${}, 'deploy', 'superseded', 'Deploy main', 'git', 'push', 'GitHub', ${}, ${}, ${}, ${}, ${}, 1048576)",
                p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8
            ));
            binds.push((id, sites[n % SITES].clone(), at as i64, kept));
        }
        let mut q = sqlx::query(&sql);
        for (id, site, at, kept) in binds {
            q = q
                .bind(id.clone())
                .bind(team.to_string())
                .bind(site)
                .bind(format!("http://{id}.preview.localhost/"))
                .bind(at)
                .bind(at + 60_000)
                .bind((!kept).then_some(at + 120_000))
                .bind((!kept).then_some("expired"));
        }
        q.execute(&mut *tx).await.expect("deployments");
        if chunk % 100 == 99 {
            tx.commit().await.expect("commit");
            tx = s.db.pool.begin().await.expect("tx");
        }
    }
    tx.commit().await.expect("commit");
    // 200,000 old events, half of them beyond a 100,000-event window.
    let first = flightdeck::server::store::event_log::last_position(&s.db)
        .await
        .expect("position");
    let mut tx = s.db.pool.begin().await.expect("tx");
    for chunk in 0..2_000 {
        let mut sql = String::from(
            "insert into events (position, team_id, kind, record_id, payload, created_at) values ",
        );
        for k in 0..100 {
            if k > 0 {
                sql.push(',');
            }
            let position = first + 1 + (chunk * 100 + k) as i64;
            sql.push_str(&format!(
                "({position}, '{team}', 'output', 's', '{{\"type\":\"output\",\"step_id\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"offset\":0,\"text\":\"x\"}}', {now})"
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.expect("events");
    }
    tx.commit().await.expect("commit");
    let seeded = seeded.elapsed();
    let settings = &s.state.config.retention;
    let start = Instant::now();
    let report = retention::run_once(&s.db, &s.state.config.data_dir, settings, "bench")
        .await
        .expect("runs")
        .expect("free");
    let first_run = start.elapsed();
    let start = Instant::now();
    let again = retention::run_once(&s.db, &s.state.config.data_dir, settings, "bench")
        .await
        .expect("runs")
        .expect("free");
    let second_run = start.elapsed();
    assert_eq!(report.releases, 5 * SITES, "{report}");
    assert_eq!(again.releases, 0, "{again}");
    println!(
        "| {backend} | {DEPLOYMENTS} | {} releases, {} events | {} | {} | (seeded in {:.1} s) |",
        report.releases,
        report.events,
        ms(first_run),
        ms(second_run),
        seeded.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let pg = common::db::postgres().await;
    let only_cleanup = std::env::var("FLIGHTDECK_BENCH_ONLY").as_deref() == Ok("cleanup");
    if !only_cleanup {
        println!(
            "| backend | release | call p50 / p95 | completed p50 / p95 | URL serves it p50 / p95 / max |"
        );
        println!("|---|---|---|---|---|");
        rollback("SQLite", None).await;
        if let Some(pg) = &pg {
            rollback("PostgreSQL", Some(&pg.url)).await;
        }
    }
    let pg = common::db::postgres().await;
    println!();
    println!("| backend | deployments | first run removed | first run | second run | |");
    println!("|---|---|---|---|---|---|");
    cleanup("SQLite", None).await;
    if let Some(pg) = &pg {
        cleanup("PostgreSQL", Some(&pg.url)).await;
    }
}
