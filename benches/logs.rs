//! The log viewer on a 100,000-line log, on SQLite and (when it answers)
//! PostgreSQL. Run: `cargo bench --features ssr --bench logs`; with
//! `cargo leptos build --release` first, the browser half measures the
//! release bundle in `target/site`.
//!
//! A deployment whose failed step (open on its page) holds 100,000 lines
//! (1.1 MB: as much as a step can store at that many lines; a warning in
//! colour every tenth, the first 1,000 in a `::group::`, a time mark every
//! 100 lines) is written straight into the database. The
//! bench then requests, over HTTP from a signed-in client:
//! - the detail page's HTML, 5 times to warm up, then 30 times (p50, p95);
//! - the whole log as the viewer loads it (`get_step_log`), 10 times;
//!
//! and runs `end2end/bench-logs.mjs` in Chromium: the page loaded and
//! hydrated, the whole log loaded and drawn, the document's node count,
//! searches timed in the page, and scrolling through the log.

#[path = "../tests/common/mod.rs"]
mod common;

use common::server::{
    Server, client, new_site, ok, sign_up, start_with_pipelines_and, wait_finished,
};
use flightdeck::model::Deployment;
use std::time::{Duration, Instant};

const LINES: usize = 100_000;

/// A step that fails at once on the branch `broken`, so its page opens it.
const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'echo start; if [ "$FLIGHTDECK_BRANCH" = broken ]; then exit 1; fi'
"#;

/// 100,000 lines, as many as a step can store at that count (the engine
/// keeps 1 MiB of a step's output and its last 256 KiB): short lines, every
/// tenth a coloured warning, the first 1,000 in a `::group::`, and their
/// times: one mark per 100 lines, 50 ms apart.
fn big_log(started: i64) -> (String, String) {
    let mut output = String::new();
    let mut times = String::new();
    let mut mark_at = 0;
    for i in 1..=LINES {
        if i == 1 {
            output.push_str("::group::Resolving dependencies\n");
        }
        if i % 10 == 0 {
            output.push_str(&format!("\u{1b}[33mwarn\u{1b}[0m {i}\n"));
        } else {
            output.push_str(&format!("ok {i}\n"));
        }
        if i == 1000 {
            output.push_str("::endgroup::\n");
        }
        if i % 100 == 0 || i == LINES {
            times.push_str(&format!(
                "{} {}\n",
                started + (i as i64 / 100) * 50,
                output.len() - mark_at
            ));
            mark_at = output.len();
        }
    }
    (output, times)
}

async fn timed<F, Fut>(runs: usize, mut f: F) -> (Duration, Duration, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut bytes = 0;
    for _ in 0..(runs / 5).max(2) {
        bytes = f().await;
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        bytes = f().await;
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[times.len() * 95 / 100], bytes)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(name: &str, extra: &[String]) {
    println!("\n{name}");
    let s: Server = start_with_pipelines_and(PIPELINES, extra).await;
    let c = client();
    sign_up(&c, &s, "bench@example.com", "Bench").await;
    let site = new_site(&c, &s, "Big log").await;
    let started: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[
            ("site_id", &site.id.to_string()),
            ("kind", "deploy"),
            ("git_ref", "broken"),
        ],
    )
    .await;
    let d = wait_finished(&c, &s, &started.id.to_string()).await;
    let step = &d.steps[0];
    let (output, times) = big_log(step.started_at.unwrap_or_default());
    sqlx::query("update deployment_steps set output = $1, output_times = $2 where id = $3")
        .bind(&output)
        .bind(&times)
        .bind(step.id.to_string())
        .execute(&s.db.pool)
        .await
        .expect("big log");
    println!(
        "  a failed step of {} lines ({:.2} MB)",
        output.lines().count(),
        output.len() as f64 / 1e6
    );

    let page = format!("{}/deployments/{}", s.base, d.id);
    let (p50, p95, bytes) = timed(30, || async {
        let res = c.get(&page).send().await.expect("page");
        assert!(res.status().is_success());
        res.bytes().await.expect("body").len()
    })
    .await;
    println!(
        "  detail page HTML      p50 {:>7.2} ms   p95 {:>7.2} ms   {:>7.1} KB",
        ms(p50),
        ms(p95),
        bytes as f64 / 1024.0
    );
    let form = [
        ("deployment_id", d.id.to_string()),
        ("step_id", step.id.to_string()),
    ];
    let api = format!("{}/api/get_step_log", s.base);
    let (p50, p95, bytes) = timed(10, || async {
        let res = c.post(&api).form(&form).send().await.expect("log");
        assert!(res.status().is_success());
        res.bytes().await.expect("body").len()
    })
    .await;
    println!(
        "  whole log (JSON)      p50 {:>7.2} ms   p95 {:>7.2} ms   {:>7.1} KB",
        ms(p50),
        ms(p95),
        bytes as f64 / 1024.0
    );

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/bench-logs.mjs");
    let site_root = concat!(env!("CARGO_MANIFEST_DIR"), "/target/site");
    if !std::path::Path::new(site_root).join("pkg").exists() {
        println!("  browser: no bundle in target/site (run cargo leptos build), skipped");
        return;
    }
    let out = tokio::process::Command::new("node")
        .arg(script)
        .arg(&s.base)
        .arg(d.id.to_string())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/end2end"))
        .output()
        .await;
    match out {
        Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => println!(
            "  browser run failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!("  browser: node did not start ({e}), skipped"),
    }
}

#[tokio::main]
async fn main() {
    // The browser loads the bundle the server serves.
    let site = format!(
        "--site-root={}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/site")
    );
    run("SQLite", std::slice::from_ref(&site)).await;
    match common::postgres().await {
        Some(pg) => run("PostgreSQL", &[site, format!("--database-url={}", pg.url)]).await,
        None => println!("\nPostgreSQL: not reachable at 127.0.0.1:5432, skipped"),
    }
}
