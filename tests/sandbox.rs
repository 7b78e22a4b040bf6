//! A hostile repository, deployed with the compiled-in pipelines: its
//! build tries to read the database and the server's home, to write
//! outside its workspace and into another deployment, to leave a process
//! behind, and to publish links to the host. Every attempt fails, and the
//! published site shows none of it.

mod common;

use common::eventually;
use common::server::{
    Server, client, ok, sign_up, start_with, start_with_pipelines, wait_finished,
};
use flightdeck::model::{Deployment, DeploymentPage, DeploymentStatus, SessionInfo, Site, TeamId};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PREVIEW: &str = "--preview-url=http://{id}.preview.test/";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
}

/// A repository of the team with these files (`build.sh` among them).
fn repository(s: &Server, team: TeamId, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = s.data.join("repos").join(team.to_string()).join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("file");
    }
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "Hostile"]);
    dir
}

async fn deploy_site(c: &reqwest::Client, s: &Server, name: &str, repo: &Path) -> Deployment {
    let site: Site = ok(
        c,
        s,
        "create_site",
        &[
            ("name", name),
            ("repository", &repo.display().to_string()),
            ("branch", "main"),
        ],
    )
    .await;
    let site = site.id.to_string();
    let id = eventually(
        "the first deploy is queued",
        Duration::from_secs(10),
        || async {
            let page: DeploymentPage = ok(
                c,
                s,
                "list_deployments",
                &[("site_id", &site), ("pipeline_type", "deploy")],
            )
            .await;
            page.deployments.first().map(|d| d.id.to_string())
        },
    )
    .await;
    wait_finished(c, s, &id).await
}

async fn preview(s: &Server, id: &str, path: &str) -> (u16, String) {
    let res = client()
        .get(format!("{}{path}", s.base))
        .header("host", format!("{}.preview.test", id.to_lowercase()))
        .send()
        .await
        .expect("preview");
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// Whether a process whose command line holds `marker` runs on this machine.
fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .any(|cmd| {
            String::from_utf8_lossy(&cmd)
                .replace('\0', " ")
                .contains(marker)
        })
}

#[tokio::test]
async fn a_hostile_build_reaches_nothing_of_the_server_and_publishes_none_of_it() {
    let s = start_with(&[PREVIEW.to_string()]).await;
    let c = client();
    let team = sign_up(&c, &s, "ada@example.com", "Rockets").await.team.id;

    // An honest site first: its release is what the hostile build aims at.
    let honest = repository(&s, team, "honest", &[("index.html", "<h1>Honest</h1>")]);
    let victim = deploy_site(&c, &s, "Honest", &honest).await;
    assert_eq!(victim.status, DeploymentStatus::Completed, "{victim:?}");
    let victim_page = s
        .data
        .join("releases")
        .join(victim.id.to_string())
        .join("index.html");
    assert_eq!(
        std::fs::read_to_string(&victim_page).expect("page"),
        "<h1>Honest</h1>"
    );

    let data = s.data.display().to_string();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let marker = format!("sleep 3133{}", std::process::id() % 10);
    let build = format!(
        r#"#!/bin/sh
mkdir -p public
cat '{data}/flightdeck.db' > public/db.txt 2>&1
ls -a '{home}' > public/home.txt 2>&1
ls -a '{data}' > public/data.txt 2>&1
env > public/env.txt
echo pwned > '{data}/pwned.txt' 2> public/write-data.txt
echo pwned > '{victim}' 2> public/write-victim.txt
echo pwned > /etc/pwned 2> public/write-etc.txt
ls /proc > public/proc.txt
setsid sh -c '{marker}' > /dev/null 2>&1 < /dev/null &
ln -s /etc public/etc-link
ln -s '{data}/flightdeck.db' public/db-link
echo '<h1>Hostile</h1>' > public/index.html
"#,
        victim = victim_page.display()
    );
    let hostile = repository(&s, team, "hostile", &[("build.sh", &build)]);
    let d = deploy_site(&c, &s, "Hostile", &hostile).await;
    assert_eq!(d.status, DeploymentStatus::Completed, "{d:?}");
    let id = d.id.to_string();

    let (status, page) = preview(&s, &id, "/").await;
    assert_eq!((status, page.as_str()), (200, "<h1>Hostile</h1>\n"));
    let (_, db) = preview(&s, &id, "/db.txt").await;
    assert!(
        !db.contains("SQLite format"),
        "the database leaked: {db:.200}"
    );
    assert!(db.contains("No such file"), "{db}");
    let (_, listing) = preview(&s, &id, "/home.txt").await;
    assert!(
        !listing.contains(".cache"),
        "the server's home leaked: {listing}"
    );
    let (_, listing) = preview(&s, &id, "/data.txt").await;
    assert!(
        !listing.contains("flightdeck.db"),
        "the data folder leaked: {listing}"
    );
    let (_, env) = preview(&s, &id, "/env.txt").await;
    assert!(!env.contains("FLIGHTDECK_DATA_DIR"), "{env}");
    assert!(
        !env.contains(&format!("HOME={home}\n")),
        "the server's home is named: {env}"
    );
    let (_, procs) = preview(&s, &id, "/proc.txt").await;
    let pids: Vec<&str> = procs
        .lines()
        .filter(|l| l.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert!(
        pids.len() < 10,
        "the step sees only its own processes: {pids:?}"
    );
    for link in ["/etc-link/passwd", "/etc-link", "/db-link"] {
        let (status, _) = preview(&s, &id, link).await;
        assert_eq!(status, 404, "{link} was published");
    }
    // Nothing was written outside, and nothing of the step still runs.
    assert!(!s.data.join("pwned.txt").exists());
    assert!(!Path::new("/etc/pwned").exists());
    assert_eq!(
        std::fs::read_to_string(&victim_page).expect("page"),
        "<h1>Honest</h1>"
    );
    eventually(
        "the detached process is gone",
        Duration::from_secs(5),
        || async { (!running(&marker)).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_output_folder_that_links_out_publishes_nothing() {
    let s = start_with(&[PREVIEW.to_string()]).await;
    let c = client();
    let team = sign_up(&c, &s, "ada@example.com", "Rockets").await.team.id;
    let repo = repository(&s, team, "links", &[("index.html", "<h1>Link</h1>")]);
    std::os::unix::fs::symlink("/etc", repo.join("dist")).expect("link");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "dist is /etc"]);
    let d = deploy_site(&c, &s, "Links", &repo).await;
    assert_eq!(d.status, DeploymentStatus::Failed, "{d:?}");
    let message = d.error_message.unwrap_or_default();
    assert!(message.contains("Publish"), "{message}");
    let output = &d.steps[2].output;
    assert!(output.contains("is a link"), "{output}");
    assert!(!s.data.join("releases").join(d.id.to_string()).exists());
    let (status, _) = preview(&s, &d.id.to_string(), "/passwd").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_operators_step_marked_unsandboxed_reaches_the_host() {
    let s = start_with_pipelines(
        r#"
[pipelines.restart]
operation_name = "Restart {site}"
[[pipelines.restart.steps]]
name = "Boxed"
run = 'echo "data=${FLIGHTDECK_DATA_DIR:-none}"; touch "$FLIGHTDECK_SITE_DIR/boxed-was-here"'
[[pipelines.restart.steps]]
name = "On the host"
sandbox = false
run = 'echo "data=$FLIGHTDECK_DATA_DIR"; touch "$FLIGHTDECK_DATA_DIR/host-was-here"'
"#,
    )
    .await;
    let c = client();
    sign_up(&c, &s, "ada@example.com", "Ops").await;
    let site: Site = ok(
        &c,
        &s,
        "create_site",
        &[
            ("name", "Web"),
            ("repository", "https://github.com/acme/web"),
            ("branch", "main"),
        ],
    )
    .await;
    // Its first deploy (of a repository on the web) fails offline; wait it out.
    eventually("the site is free", Duration::from_secs(30), || async {
        let site = common::server::get_site(&c, &s, &site.id.to_string()).await;
        site.active_deployment.is_none().then_some(())
    })
    .await;
    let d: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site.id.to_string()), ("kind", "restart")],
    )
    .await;
    let d = wait_finished(&c, &s, &d.id.to_string()).await;
    assert_eq!(d.status, DeploymentStatus::Completed, "{d:?}");
    assert_eq!(d.steps[0].output, "data=none\n", "a boxed step is not told");
    assert_eq!(d.steps[1].output, format!("data={}\n", s.data.display()));
    assert!(s.data.join("host-was-here").exists());
    assert!(
        s.data
            .join("sites")
            .join(site.id.to_string())
            .join("boxed-was-here")
            .exists()
    );
}

#[tokio::test]
async fn without_a_sandbox_every_page_says_so() {
    let s = start_with(&["--sandbox=off".to_string()]).await;
    let c = client();
    sign_up(&c, &s, "ada@example.com", "Ops").await;
    let info: Option<SessionInfo> = ok(&c, &s, "current_session", &[]).await;
    let notices = info.expect("signed in").notices;
    assert!(
        notices
            .iter()
            .any(|n| n.message.contains("without a sandbox")),
        "{notices:?}"
    );
    let boxed = start_with(&[]).await;
    let c = client();
    sign_up(&c, &boxed, "ada@example.com", "Ops").await;
    let info: Option<SessionInfo> = ok(&c, &boxed, "current_session", &[]).await;
    assert_eq!(info.expect("signed in").notices, Vec::new());
}

#[tokio::test]
async fn the_server_refuses_to_start_without_bubblewrap_unless_told_to() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |sandbox: Option<&str>| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"));
        cmd.arg(format!("--data-dir={}", dir.path().display()))
            .arg("--site-addr=127.0.0.1:0")
            .arg("--demo=0")
            // No bwrap on this PATH (nor anything else).
            .env("PATH", dir.path())
            .env("RUST_LOG", "error")
            .kill_on_drop(true);
        if let Some(s) = sandbox {
            cmd.arg(format!("--sandbox={s}"));
        }
        cmd
    };
    let out = run(None).output().await.expect("runs");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("bubblewrap") && said.contains("FLIGHTDECK_SANDBOX=off"),
        "{said}"
    );
    // Told to, it starts and keeps running.
    let mut child = run(Some("off"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let ended = tokio::time::timeout(Duration::from_millis(1500), child.wait()).await;
    assert!(ended.is_err(), "it keeps running: {ended:?}");
}
