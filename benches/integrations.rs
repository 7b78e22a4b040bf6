//! Integrations: what the notification outbox costs the change that
//! writes it, how fast notifications reach a receiver, and what an API
//! token costs a request. SQLite, and PostgreSQL when it answers. Run:
//! `cargo bench --features ssr --bench integrations`
//!
//! Write path: 1,000 lock/unlock changes of one site (each a transaction
//! with its `site_lock` event), with 0, 1 and 5 enabled hooks asking for
//! `site.locked` and `site.unlocked`: the time per change, as the caller
//! waits for it. The hooks point at a closed port, so their deliveries
//! wait for a retry instead of running beside the writes.
//!
//! Delivery: from each change's commit to its arrival at a receiver on
//! loopback that answers 200 at once: 100 changes 50 ms apart to one hook
//! (the latency when delivery keeps up); then 500 changes as fast as they
//! commit to one hook (delivered one after another, in order) and to 10
//! hooks (in parallel across hooks): notifications a second, and the
//! latency of a backlog draining.
//!
//! Tokens: 2,000 `list_sites` calls with a session cookie, then with an
//! API token: the time per call (p50, p95).

#[path = "../tests/common/mod.rs"]
mod common;

use common::db::postgres;
use common::receiver::Receiver;
use common::server::{Server, client, ok, sign_up, start_with_pipelines_and};
use flightdeck::model::{NewApiToken, NewNotificationHook, SiteId, TeamId, UserId};
use flightdeck::server::store::locks::{self, Locker};
use std::time::{Duration, Instant};

const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'echo ok'
"#;

struct Team {
    _db: Option<common::TestDb>,
    s: Server,
    c: reqwest::Client,
    team_id: TeamId,
    user_id: UserId,
    site_id: SiteId,
}

/// A team with one site, on a fresh database of its own.
async fn team(pg: bool) -> Team {
    let db = match pg {
        true => Some(postgres().await.expect("PostgreSQL")),
        false => None,
    };
    let mut args = vec![
        "--retention-secs=86400".to_string(),
        "--hooks-allow-private=1".to_string(),
    ];
    args.extend(db.as_ref().map(|db| format!("--database-url={}", db.url)));
    let s = start_with_pipelines_and(PIPELINES, &args).await;
    let c = client();
    let me = sign_up(&c, &s, "ada@example.com", "Bench").await;
    let site = common::server::new_site(&c, &s, "Docs").await;
    Team {
        _db: db,
        team_id: me.team.id,
        user_id: me.user.id,
        site_id: site.id,
        s,
        c,
    }
}

async fn add_hooks(t: &Team, url: &str, n: usize) {
    for _ in 0..n {
        let _: NewNotificationHook = ok(
            &t.c,
            &t.s,
            "create_notification_hook",
            &[("url", url), ("events", "site.locked,site.unlocked")],
        )
        .await;
    }
}

/// One lock or unlock, timed from the call to its commit.
async fn change(t: &Team, i: usize) -> Duration {
    let started = Instant::now();
    let by = Locker {
        user_id: t.user_id,
        name: "Ada",
    };
    if i.is_multiple_of(2) {
        locks::lock(&t.s.db, t.team_id, t.site_id, by, "bench")
            .await
            .expect("lock");
    } else {
        locks::unlock(&t.s.db, t.team_id, t.site_id)
            .await
            .expect("unlock");
    }
    started.elapsed()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn write_path(pg: bool, label: &str) {
    for hooks in [0usize, 1, 5] {
        let t = team(pg).await;
        // Hooks to a closed port: every notification is written, and the
        // first of each hook fails at once and waits for its retry, so no
        // delivery work runs beside the writes being timed.
        add_hooks(&t, "http://127.0.0.1:9/hook", hooks).await;
        // Warm up.
        for i in 0..20 {
            change(&t, i).await;
        }
        let mut times = Vec::new();
        let started = Instant::now();
        for i in 0..1000 {
            times.push(change(&t, i).await);
        }
        let total = started.elapsed();
        times.sort();
        println!(
            "{label} write path, {hooks} hook(s): {} per change (p50 {}, p95 {}), {:.0} changes/s",
            ms(total / 1000),
            ms(pct(&times, 0.5)),
            ms(pct(&times, 0.95)),
            1000.0 / total.as_secs_f64()
        );
    }
}

async fn delivery(pg: bool, label: &str) {
    for hooks in [1usize, 10] {
        let t = team(pg).await;
        let mut receiver = Receiver::start().await;
        add_hooks(&t, &receiver.url, hooks).await;
        let n = 500;
        let mut committed = Vec::with_capacity(n);
        let started = Instant::now();
        for i in 0..n {
            change(&t, i).await;
            committed.push(Instant::now());
        }
        let mut arrivals = Vec::with_capacity(n * hooks);
        while arrivals.len() < n * hooks {
            arrivals.push(receiver.next(Duration::from_secs(60)).await.at);
        }
        arrivals.sort();
        let total = *arrivals.last().expect("some") - started;
        // Each hook's arrivals are in commit order and the hooks run side
        // by side, so the k-th arrival tells of about the (k / hooks)-th
        // change: latency is arrival minus that change's commit.
        let mut by_rank: Vec<Duration> = arrivals
            .iter()
            .enumerate()
            .map(|(k, at)| at.saturating_duration_since(committed[(k / hooks).min(n - 1)]))
            .collect();
        by_rank.sort();
        println!(
            "{label} delivery, {hooks} hook(s): {} notifications in {:.2} s ({:.0}/s); commit to arrival p50 {}, p95 {}, max {}",
            n * hooks,
            total.as_secs_f64(),
            (n * hooks) as f64 / total.as_secs_f64(),
            ms(pct(&by_rank, 0.5)),
            ms(pct(&by_rank, 0.95)),
            ms(*by_rank.last().expect("some"))
        );
    }
}

/// Latency when the receiver keeps up: 100 changes, 50 ms apart, to one
/// hook; each arrival matched to its change by order.
async fn paced(pg: bool, label: &str) {
    let t = team(pg).await;
    let mut receiver = Receiver::start().await;
    add_hooks(&t, &receiver.url, 1).await;
    let mut latencies = Vec::new();
    for i in 0..100 {
        change(&t, i).await;
        let committed = Instant::now();
        let r = receiver.next(Duration::from_secs(30)).await;
        latencies.push(r.at.saturating_duration_since(committed));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    println!(
        "{label} delivery, 1 hook, one change every 50 ms: commit to arrival p50 {}, p95 {}, max {}",
        ms(pct(&latencies, 0.5)),
        ms(pct(&latencies, 0.95)),
        ms(*latencies.last().expect("some"))
    );
}

async fn tokens(pg: bool, label: &str) {
    let t = team(pg).await;
    let made: NewApiToken = ok(
        &t.c,
        &t.s,
        "create_api_token",
        &[("name", "bench"), ("role", "member")],
    )
    .await;
    let bearer = reqwest::Client::new();
    let url = format!("{}/api/list_sites", t.s.base);
    for (what, token) in [("session cookie", None), ("API token", Some(&made.token))] {
        let mut times = Vec::new();
        for i in 0..2100 {
            let started = Instant::now();
            let res = match token {
                Some(token) => bearer.post(&url).bearer_auth(token).send().await,
                None => t.c.post(&url).send().await,
            }
            .expect("request");
            assert!(res.status().is_success());
            res.bytes().await.expect("body");
            if i >= 100 {
                times.push(started.elapsed());
            }
        }
        times.sort();
        println!(
            "{label} list_sites with a {what}: p50 {}, p95 {}",
            ms(pct(&times, 0.5)),
            ms(pct(&times, 0.95))
        );
    }
}

#[tokio::main]
async fn main() {
    let mut backends = vec![(false, "SQLite")];
    if postgres().await.is_some() {
        backends.push((true, "PostgreSQL"));
    }
    // FLIGHTDECK_BENCH_ONLY=write|delivery|tokens runs one part.
    let only = std::env::var("FLIGHTDECK_BENCH_ONLY").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only == part;
    for (pg, label) in backends {
        if runs("write") {
            write_path(pg, label).await;
        }
        if runs("delivery") {
            paced(pg, label).await;
            delivery(pg, label).await;
        }
        if runs("tokens") {
            tokens(pg, label).await;
        }
    }
}
