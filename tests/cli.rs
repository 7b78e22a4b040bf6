//! The `flightdeck` command line against a real server, with an API
//! token: `deploy --wait` and its exit codes (0 completed, 1 failed with
//! the failing step's output, 2 refused), `logs --follow` printing output
//! as it is written, `status`, `cancel`, `rollback`, and Ctrl-C.

mod common;

use common::eventually;
use common::server::{
    SETTLE, Server, client, get_deployment, new_site, ok, sign_up, start_with_pipelines,
    wait_status,
};
use flightdeck::model::{Deployment, DeploymentStatus, NewApiToken, Site};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// `gradual` prints a line, waits, prints another; `slow` runs for 30 s;
/// `broken` fails.
const PIPELINES: &str = r#"
[pipelines.deploy]
operation_name = "Deploy {branch}"
[[pipelines.deploy.steps]]
name = "Build"
phase = "build"
run = 'echo "building $FLIGHTDECK_BRANCH"; if [ "$FLIGHTDECK_BRANCH" = slow ]; then sleep 30; fi; if [ "$FLIGHTDECK_BRANCH" = gradual ]; then echo first; sleep 3; echo second; fi; if [ "$FLIGHTDECK_BRANCH" = broken ]; then echo "compiler says no" >&2; exit 1; fi'
[[pipelines.deploy.steps]]
name = "Publish"
phase = "deploy"
run = 'mkdir -p "$FLIGHTDECK_RELEASE_DIR" && echo "release $FLIGHTDECK_BRANCH" > "$FLIGHTDECK_RELEASE_DIR/index.html"'
"#;

struct Team {
    s: Server,
    c: reqwest::Client,
    site: Site,
    token: String,
}

async fn team() -> Team {
    let s = start_with_pipelines(PIPELINES).await;
    let c = client();
    sign_up(&c, &s, "ada@example.com", "Ada's").await;
    let site = new_site(&c, &s, "Docs").await;
    let made: NewApiToken = ok(
        &c,
        &s,
        "create_api_token",
        &[("name", "ci"), ("role", "member")],
    )
    .await;
    Team {
        s,
        c,
        site,
        token: made.token,
    }
}

fn command(t: &Team, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    command
        .args(args)
        .env("FLIGHTDECK_URL", &t.s.base)
        .env("FLIGHTDECK_TOKEN", &t.token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs the command line to its end.
async fn run(t: &Team, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::time::timeout(SETTLE * 2, command(t, args).output())
        .await
        .expect("the command ends")
        .expect("runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

async fn trigger(t: &Team, branch: &str) -> Deployment {
    ok(
        &t.c,
        &t.s,
        "trigger_deployment",
        &[
            ("site_id", &t.site.id.to_string()),
            ("kind", "deploy"),
            ("git_ref", branch),
        ],
    )
    .await
}

#[tokio::test]
async fn deploy_wait_exits_0_on_success_1_on_failure_and_2_when_refused() {
    let t = team().await;
    let (code, out, err) = run(&t, &["deploy", "docs", "--wait"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    for expected in [
        "==> [1/2] Build",
        "building main",
        "<== Build completed",
        "==> [2/2] Publish",
        "✔ Deploy main completed",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    // Piped, it prints plain lines: no progress line, no colours.
    assert!(!out.contains('\r') && !out.contains("\x1b[2K"), "{out:?}");

    let (code, out, err) = run(&t, &["deploy", "Docs", "--ref", "broken", "--wait"]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("--- the last lines of Build ---"), "{out}");
    assert!(out.contains("compiler says no"), "{out}");
    assert!(out.contains("✖ Deploy broken failed"), "{out}");
    assert!(
        out.contains("Build"),
        "the error names the failing step: {out}"
    );

    // Busy: refused, naming what runs.
    let slow = trigger(&t, "slow").await;
    wait_status(&t.c, &t.s, &slow.id.to_string(), DeploymentStatus::Running).await;
    let (code, out, err) = run(&t, &["deploy", &t.site.id.to_string(), "--wait"]).await;
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("Deploy slow") && err.contains("running"),
        "{err}"
    );

    // Unknown sites and bad tokens are refused with the server's sentence.
    let (code, _, err) = run(&t, &["deploy", "nope"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("docs"),
        "the message lists the team's sites: {err}"
    );
    let mut bad = command(&t, &["status"]);
    bad.env("FLIGHTDECK_TOKEN", "fdt_wrong");
    let output = bad.output().await.expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not valid"));
    let mut none = command(&t, &["status"]);
    none.env_remove("FLIGHTDECK_TOKEN");
    assert_eq!(none.output().await.expect("runs").status.code(), Some(2));

    // Cancel it, with --json for scripts.
    let (code, out, err) = run(&t, &["cancel", &slow.id.to_string(), "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let cancelled: Deployment = serde_json::from_str(&out).expect("json deployment");
    assert_eq!(cancelled.status, DeploymentStatus::Cancelled);
}

#[tokio::test]
async fn logs_follow_prints_output_as_it_is_written() {
    let t = team().await;
    let d = trigger(&t, "gradual").await;
    let id = d.id.to_string();
    let mut child = command(&t, &["logs", &id, "--follow"])
        .spawn()
        .expect("spawns");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let first_at = loop {
        let line = tokio::time::timeout(SETTLE, lines.next_line())
            .await
            .expect("a line in time")
            .expect("reads")
            .expect("not closed before first");
        seen.push(line.clone());
        if line == "first" {
            break get_deployment(&t.c, &t.s, &id).await;
        }
    };
    // Printed while the step was still writing.
    assert_eq!(first_at.status, DeploymentStatus::Running, "{seen:?}");
    assert!(!first_at.steps[0].output.contains("second"));
    while let Some(line) = tokio::time::timeout(SETTLE, lines.next_line())
        .await
        .expect("in time")
        .expect("reads")
    {
        seen.push(line);
    }
    let status = child.wait().await.expect("exits");
    assert_eq!(status.code(), Some(0), "{seen:?}");
    let text = seen.join("\n");
    assert!(text.contains("second"), "{text}");
    assert_eq!(text.matches("first").count(), 1, "printed twice: {text}");

    // A finished deployment's logs print once and exit.
    let (code, out, _) = run(&t, &["logs", &d.id.short()]).await;
    assert_eq!(code, 0);
    assert!(out.contains("first\nsecond"), "{out}");
}

#[tokio::test]
async fn status_and_rollback_work_for_scripts() {
    let t = team().await;
    let (code, first, _) = run(&t, &["deploy", "docs", "--ref", "one", "--json"]).await;
    assert_eq!(code, 0);
    let first: Deployment = serde_json::from_str(&first).expect("json");
    common::server::wait_finished(&t.c, &t.s, &first.id.to_string()).await;
    let (code, _, _) = run(&t, &["deploy", "docs", "--ref", "two", "--wait"]).await;
    assert_eq!(code, 0);

    let (code, out, _) = run(&t, &["status", "--json"]).await;
    assert_eq!(code, 0);
    let sites: Vec<Site> = serde_json::from_str(&out).expect("json sites");
    assert_eq!(
        sites[0]
            .current_deployment
            .as_ref()
            .unwrap()
            .branch
            .as_deref(),
        Some("two")
    );
    let (code, out, _) = run(&t, &["status", "docs"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("Deploy two") && out.contains("CI token 'ci'"),
        "{out}"
    );

    let (code, out, err) = run(&t, &["rollback", &first.id.to_string(), "--wait"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("completed"), "{out}");
    let site: Site = ok(&t.c, &t.s, "get_site", &[("id", &t.site.id.to_string())]).await;
    let current = site.current_deployment.expect("current");
    assert_eq!(current.meta.rollback_of, Some(first.id));
}

#[tokio::test]
async fn ctrl_c_while_waiting_cancels_when_asked_to_and_exits_130() {
    let t = team().await;
    let mut child = command(
        &t,
        &[
            "deploy",
            "docs",
            "--ref",
            "slow",
            "--wait",
            "--cancel-on-interrupt",
        ],
    )
    .spawn()
    .expect("spawns");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    loop {
        let line = lines.next_line().await.expect("reads").expect("open");
        if line.contains("building slow") {
            break;
        }
    }
    let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let status = tokio::time::timeout(SETTLE, child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert_eq!(status.code(), Some(130));
    let page: flightdeck::model::DeploymentPage = ok(&t.c, &t.s, "list_deployments", &[]).await;
    let slow = page
        .deployments
        .iter()
        .find(|d| d.branch.as_deref() == Some("slow"))
        .expect("slow");
    eventually(
        "the deployment is cancelled",
        Duration::from_secs(15),
        || async {
            let d = get_deployment(&t.c, &t.s, &slow.id.to_string()).await;
            (d.status == DeploymentStatus::Cancelled).then_some(())
        },
    )
    .await;
}
