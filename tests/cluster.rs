//! Three instances of the real binary on one PostgreSQL database and one
//! data folder: live changes cross instances, a rolling restart fails
//! nothing, a cancel reaches the instance that runs the step, a killed or
//! cut-off instance's work is failed by a survivor (once), and racing
//! triggers never run two deployments of one site.

mod common;

use common::cluster::{Cluster, LEASE, Proxy, step_processes};
use common::eventually;
use flightdeck::model::{DeploymentStatus, StepStatus};
use std::time::{Duration, Instant};

/// The statuses a deployment went through, as its events tell, each once
/// per change.
async fn statuses(c: &Cluster, id: &str) -> Vec<String> {
    let payloads: Vec<(String,)> = sqlx::query_as(
        "select payload from events where record_id = $1 and kind = 'deployment' order by position",
    )
    .bind(id)
    .fetch_all(&c.pg.db.pool)
    .await
    .expect("events");
    let mut out: Vec<String> = Vec::new();
    for (payload,) in payloads {
        let v: serde_json::Value = serde_json::from_str(&payload).expect("json");
        let status = v["deployment"]["status"]
            .as_str()
            .expect("status")
            .to_string();
        if out.last() != Some(&status) {
            out.push(status);
        }
    }
    out
}

/// The engine's grace between TERM and KILL for a cancelled step.
const GRACE: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_change_on_one_instance_reaches_sockets_on_the_others_and_every_instance_serves_sessions_and_previews()
 {
    let Some(mut c) = Cluster::new(3).await else {
        return;
    };
    c.start_all().await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let mut on_b = c.socket(1).await;
    let mut on_c = c.socket(2).await;
    let id = c.deploy(0, &site, "main").await;
    for socket in [&mut on_b, &mut on_c] {
        socket.until(&id, DeploymentStatus::Queued).await;
        socket.until(&id, DeploymentStatus::Completed).await;
    }
    // The same session on every instance.
    for i in 0..3 {
        assert_eq!(c.get(i, &id).await.status, DeploymentStatus::Completed);
    }
    // Whichever instance published it, every instance serves the preview:
    // the releases are in the shared data folder.
    for i in 0..3 {
        let node = c.node(i);
        let page = reqwest::Client::new()
            .get(format!("{}/", node.base))
            .header(
                "host",
                format!("{}.preview.localhost:{}", id.to_lowercase(), node.port),
            )
            .send()
            .await
            .expect("preview");
        assert_eq!(page.status(), 200, "instance {i}");
        assert!(
            page.text().await.expect("html").contains(&id),
            "instance {i}"
        );
    }
}

#[tokio::test]
async fn a_page_whose_instance_stopped_resumes_on_another_with_everything_it_missed() {
    let Some(mut c) = Cluster::new(2).await else {
        return;
    };
    c.start_all().await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let mut socket = c.socket(1).await;
    let first = c.deploy(0, &site, "main").await;
    socket.until(&first, DeploymentStatus::Completed).await;
    // Its instance goes away (closing the socket with 1001, going away);
    // the page has read all it was sent by then.
    c.stop(1).await;
    while socket.next().await.is_some() {}
    let seen = socket.position;
    // ...a deploy runs meanwhile...
    c.wait_idle(0, &site).await;
    let missed = c.deploy(0, &site, "main").await;
    c.wait_finished(0, &missed, Duration::from_secs(30)).await;
    // ...and the page, reconnecting through the load balancer to another
    // instance, is sent what it missed: the events table is shared.
    let mut resumed = c.socket_after(0, Some(seen)).await;
    resumed.until(&missed, DeploymentStatus::Queued).await;
    resumed.until(&missed, DeploymentStatus::Completed).await;
}

#[tokio::test]
async fn a_rolling_restart_fails_nothing_that_runs_on_another_instance() {
    let Some(mut c) = Cluster::new(3).await else {
        return;
    };
    c.start_all().await;
    c.sign_up().await;
    let mut sites = Vec::new();
    for name in ["A", "B", "C"] {
        sites.push(c.site(0, name).await);
    }
    let mut all = Vec::new();
    for restarting in 0..3 {
        let through = (restarting + 1) % 3;
        // A 4 s deploy on every site, spread over the instances.
        for site in &sites {
            c.wait_idle(through, site).await;
            all.push(c.deploy(through, site, "slow").await);
        }
        for id in &all[all.len() - 3..] {
            c.wait_step_running(through, id).await;
        }
        // A clean stop: what runs there finishes within the grace period;
        // what runs elsewhere is not touched.
        c.stop(restarting).await;
        c.start(restarting).await;
    }
    for id in &all {
        let d = c.wait_finished(0, id, Duration::from_secs(60)).await;
        // Completed (and, but for the last of each site, replaced since).
        assert!(
            matches!(
                d.status,
                DeploymentStatus::Completed | DeploymentStatus::Superseded
            ),
            "{id} {}: {:?}",
            d.status,
            d.error_message
        );
    }
}

#[tokio::test]
async fn a_cancel_sent_to_one_instance_ends_a_stubborn_step_running_on_another() {
    let Some(mut c) = Cluster::new(3).await else {
        return;
    };
    c.start_all().await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let id = c.deploy(0, &site, "stubborn").await;
    c.wait_step_running(0, &id).await;
    eventually(
        "the step and its grandchild run",
        Duration::from_secs(10),
        || async { (step_processes(&id).len() >= 2).then_some(()) },
    )
    .await;
    let owner = c.owner(&id).await;
    let elsewhere = (owner + 1) % 3;
    let asked = Instant::now();
    let () = c.api(elsewhere, "cancel_deployment", &[("id", &id)]).await;
    let d = c
        .wait_finished(elsewhere, &id, GRACE + Duration::from_secs(5))
        .await;
    let took = asked.elapsed();
    eprintln!("cancelled on instance {elsewhere}, run on {owner}: ended after {took:?}");
    assert_eq!(d.status, DeploymentStatus::Cancelled);
    assert_eq!(d.steps[0].status, StepStatus::Cancelled);
    assert!(
        took <= GRACE + Duration::from_secs(1),
        "cancelled on instance {elsewhere}, run on {owner}: ended after {took:?}"
    );
    assert!(
        step_processes(&id).is_empty(),
        "a process of the step is left"
    );
}

#[tokio::test]
async fn a_killed_instances_deployment_is_failed_by_a_survivor_within_two_leases_leaving_no_process()
 {
    let Some(mut c) = Cluster::new(3).await else {
        return;
    };
    c.start(0).await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let id = c.deploy(0, &site, "long").await;
    c.wait_step_running(0, &id).await;
    c.start(1).await;
    c.start(2).await;
    assert!(!step_processes(&id).is_empty());

    c.kill(0).await;
    let killed = Instant::now();
    let d = c
        .wait_finished(1, &id, LEASE * 2 + Duration::from_secs(2))
        .await;
    let took = killed.elapsed();
    eprintln!("SIGKILL to failed on a survivor: {took:?}");
    assert_eq!(d.status, DeploymentStatus::Failed);
    assert!(took <= LEASE * 2, "failed {took:?} after the kill");
    let message = d.error_message.unwrap_or_default();
    assert!(
        message.contains("instance running it")
            && message.contains("stopped during step 1, \u{201c}Build\u{201d}"),
        "{message}"
    );
    assert_eq!(d.steps[0].status, StepStatus::Failed);
    // The sandbox's PID namespace died with the instance.
    eventually(
        "no process of the step is left",
        Duration::from_secs(2),
        || async { step_processes(&id).is_empty().then_some(()) },
    )
    .await;
    // The site takes new work.
    let next = c.deploy(2, &site, "main").await;
    let d = c.wait_finished(1, &next, Duration::from_secs(30)).await;
    assert_eq!(d.status, DeploymentStatus::Completed);
}

#[tokio::test]
async fn without_a_pid_namespace_the_restarted_instance_ends_what_its_killed_predecessor_left() {
    let Some(mut c) = Cluster::new(1).await else {
        return;
    };
    c.flags[0] = vec!["--sandbox=off".to_string()];
    c.start(0).await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let id = c.deploy(0, &site, "long").await;
    c.wait_step_running(0, &id).await;
    c.kill(0).await;
    // Nothing ends a step outside a box when its server dies...
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left = step_processes(&id);
    assert!(!left.is_empty(), "the step's processes outlive the SIGKILL");
    // ...until an instance starts again on this host: it fails the
    // deployment (once the lease ran out) and ends the recorded group.
    c.start(0).await;
    let d = c
        .wait_finished(0, &id, LEASE * 2 + Duration::from_secs(2))
        .await;
    assert_eq!(d.status, DeploymentStatus::Failed);
    eventually("the left processes are ended", LEASE * 2, || async {
        step_processes(&id).is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn thirty_triggers_racing_across_three_instances_never_run_two_deployments_of_one_site() {
    let Some(mut c) = Cluster::new(3).await else {
        return;
    };
    c.start_all().await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let hooks: flightdeck::model::SiteHooks = c.api(0, "get_site_hooks", &[("id", &site)]).await;
    // Watch the whole time: never two running.
    let db = c.pg.db.clone();
    let watched = site.clone();
    let watcher = tokio::spawn(async move {
        let mut most = 0;
        for _ in 0..1000 {
            let (n,): (i64,) = sqlx::query_as(
                "select count(*) from deployments where site_id = $1 and status = 'running'",
            )
            .bind(&watched)
            .fetch_one(&db.pool)
            .await
            .expect("count");
            most = most.max(n);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        most
    });
    // 15 manual deploys and 15 pushes, all at once, over the three.
    let c = &c;
    let triggers = (0..30).map(|n| {
        let secret = hooks.secret.clone();
        let site = site.clone();
        async move {
            let i = n % 3;
            if n % 2 == 0 {
                let (status, body) = c
                    .call(
                        i,
                        "trigger_deployment",
                        &[("site_id", &site), ("kind", "deploy")],
                    )
                    .await;
                // Refused while the site is busy; accepted when it is free.
                assert!(status.is_success() || status == 409, "{status} {body}");
                None
            } else {
                let mut push = common::github::fixture("push");
                push["ref"] = "refs/heads/main".into();
                push["after"] = format!("{:040x}", n + 1).into();
                push["head_commit"]["id"] = push["after"].clone();
                let body = serde_json::to_vec(&push).expect("json");
                let res = reqwest::Client::new()
                    .post(format!("{}/hooks/github/{site}", c.node(i).base))
                    .header("x-github-event", "push")
                    .header("x-github-delivery", ulid::Ulid::new().to_string())
                    .header("content-type", "application/json")
                    .header(
                        "x-hub-signature-256",
                        flightdeck::server::github::sign(secret.as_bytes(), &body),
                    )
                    .body(body)
                    .send()
                    .await
                    .expect("delivery");
                assert_eq!(res.status(), 202);
                let reply: serde_json::Value = res.json().await.expect("json");
                Some(reply["deployment_id"].as_str().expect("queued").to_string())
            }
        }
    });
    let pushes: Vec<String> = futures::future::join_all(triggers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(pushes.len(), 15);
    c.wait_idle(0, &site).await;
    assert_eq!(watcher.await.expect("watcher"), 1, "never two running");

    // Every automatic deploy ran exactly once, or never (a newer push
    // replaced it while it waited): never twice.
    let mut ran = 0;
    for id in &pushes {
        let d = c.get(1, id).await;
        let starts = statuses(c, id)
            .await
            .iter()
            .filter(|s| *s == "running")
            .count();
        let output = &d.steps[0].output;
        match d.status {
            DeploymentStatus::Completed | DeploymentStatus::Superseded => {
                ran += 1;
                assert_eq!(starts, 1, "{id} started {starts} times");
                assert_eq!(output.matches("ran ").count(), 1, "{id}: {output}");
            }
            DeploymentStatus::Cancelled => {
                assert_eq!(starts, 0, "{id} was replaced after it started");
                assert_eq!(d.steps[0].status, StepStatus::Queued);
            }
            other => panic!("{id} ended {other}: {:?}", d.error_message),
        }
    }
    assert!(ran >= 1, "the newest push runs");
    let (claimers,): (i64,) =
        sqlx::query_as("select count(distinct claimed_by) from deployments where site_id = $1")
            .bind(&site)
            .fetch_one(&c.pg.db.pool)
            .await
            .expect("count");
    eprintln!("deployments of the site were claimed by {claimers} instances");
}

#[tokio::test]
async fn an_instance_cut_off_from_the_database_stops_and_a_survivor_fails_its_work_once() {
    let Some(mut c) = Cluster::new(3).await else {
        return;
    };
    let proxy = Proxy::to(&c.pg.url).await;
    c.urls[0] = proxy.url.clone();
    c.start(0).await;
    c.sign_up().await;
    let site = c.site(0, "Web").await;
    let other = c.site(0, "Other").await;
    let id = c.deploy(0, &site, "long").await;
    c.wait_step_running(0, &id).await;
    c.start(1).await;
    c.start(2).await;

    proxy.cut();
    let cut = Instant::now();
    // The cut-off instance stops its step before its lease runs out...
    eventually(
        "the cut-off instance stops its step",
        LEASE + Duration::from_secs(1),
        || async { step_processes(&id).is_empty().then_some(()) },
    )
    .await;
    // ...and a survivor fails the deployment once it has.
    let d = c.wait_finished(1, &id, LEASE * 3).await;
    assert_eq!(d.status, DeploymentStatus::Failed, "{:?}", d.error_message);
    assert!(
        cut.elapsed() >= LEASE - Duration::from_millis(500),
        "not before the lease ran out"
    );
    assert!(
        d.error_message
            .unwrap_or_default()
            .contains("instance running it")
    );
    // Work queued meanwhile is run by the others.
    let next = c.deploy(1, &other, "main").await;
    let done = c.wait_finished(2, &next, Duration::from_secs(30)).await;
    assert_eq!(done.status, DeploymentStatus::Completed);
    assert_ne!(
        c.owner(&next).await,
        0,
        "the cut-off instance claimed nothing"
    );

    // Joined again, its late writes change nothing: one end, the survivor's.
    proxy.join();
    let old = c.instance_id(0).await;
    eventually(
        "the instance joins again under a new id",
        Duration::from_secs(20),
        || async { (c.instance_id(0).await != old).then_some(()) },
    )
    .await;
    let after = c.get(1, &id).await;
    assert_eq!(after.status, DeploymentStatus::Failed);
    let ends: Vec<String> = statuses(&c, &id)
        .await
        .into_iter()
        .skip_while(|s| s != "running")
        .skip(1)
        .collect();
    assert_eq!(ends, ["failed"], "the deployment ended once, failed");
    // And it takes work again.
    let again = c.deploy(0, &site, "main").await;
    let d = c.wait_finished(0, &again, Duration::from_secs(30)).await;
    assert_eq!(d.status, DeploymentStatus::Completed);
}

#[tokio::test]
async fn an_instance_with_a_data_folder_of_its_own_is_refused_while_the_others_run() {
    let Some(mut c) = Cluster::new(1).await else {
        return;
    };
    c.start(0).await;
    let elsewhere = tempfile::tempdir().expect("dir");
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
            .arg(format!("--database-url={}", c.pg.url))
            .arg(format!("--data-dir={}", elsewhere.path().display()))
            .arg(format!(
                "--site-addr=127.0.0.1:{}",
                common::binary::free_port()
            ))
            .env_remove("DATABASE_URL")
            .output(),
    )
    .await
    .expect("it stops at once")
    .expect("runs");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("FLIGHTDECK_DATA_DIR must be one folder shared by every instance"),
        "{said}"
    );
}
