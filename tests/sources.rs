//! A deploy for real: a site from a git repository on this machine is
//! fetched, built and published with the compiled-in pipelines, and served
//! at its preview URL on an origin of its own.

mod common;

use common::eventually;
use common::server::{
    SETTLE, Server, client, get_deployment, ok, refused, sign_up, start_with, wait_finished,
};
use flightdeck::model::{
    AppError, Deployment, DeploymentPage, DeploymentStatus, PipelineType, Site, SourceKind, TeamId,
    TriggerKind,
};
use reqwest::StatusCode;
use std::path::Path;
use std::process::Command;

const PREVIEW: &str = "--preview-url=http://{id}.preview.test/";

async fn server() -> Server {
    start_with(&[PREVIEW.to_string()]).await
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository in the team's folder under the server's `repos/`, with the
/// demo's page and build.
fn repository(s: &Server, team: TeamId, name: &str) -> std::path::PathBuf {
    let dir = s.data.join("repos").join(team.to_string()).join(name);
    flightdeck::server::demo::create_repo(&dir, "Rocket Shop", "Parts for every rocket")
        .expect("repo");
    dir
}

/// The site's newest deploy, once it has finished.
async fn newest_deploy(c: &reqwest::Client, s: &Server, site: &str) -> Deployment {
    newest_of(c, s, site, "deploy").await
}

/// The site's newest deployment of `kind`, once finished.
async fn newest_of(c: &reqwest::Client, s: &Server, site: &str, kind: &str) -> Deployment {
    let id = eventually(&format!("{site} has a {kind}"), SETTLE, || async {
        let page: DeploymentPage = ok(
            c,
            s,
            "list_deployments",
            &[("site_id", site), ("pipeline_type", kind)],
        )
        .await;
        page.deployments.first().map(|d| d.id.to_string())
    })
    .await;
    wait_finished(c, s, &id).await
}

/// Creates a site of the signed-in team.
async fn create_site(c: &reqwest::Client, s: &Server, name: &str, repository: &str) -> Site {
    ok(
        c,
        s,
        "create_site",
        &[
            ("name", name),
            ("repository", repository),
            ("branch", "main"),
        ],
    )
    .await
}

/// A GET to a preview host of this server.
async fn preview(s: &Server, label: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", s.base))
        .header("host", format!("{}.preview.test", label.to_lowercase()))
        .send()
        .await
        .expect("preview request")
}

#[tokio::test]
async fn a_site_from_a_local_repository_deploys_and_each_deploy_keeps_its_preview() {
    let s = server().await;
    let c = client();
    let team = sign_up(&c, &s, "ada@example.com", "Rockets").await.team.id;
    let repo = repository(&s, team, "shop");
    let site = create_site(&c, &s, "Rocket Shop", &repo.display().to_string()).await;
    let site_id = site.id.to_string();

    // The first deploy runs by itself, records the commit it built and
    // gets a preview URL of its own.
    let first = newest_deploy(&c, &s, &site_id).await;
    assert_eq!(first.status, DeploymentStatus::Completed, "{first:?}");
    assert_eq!(first.trigger_kind, TriggerKind::SiteCreated);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    assert_eq!(first.commit_sha.as_deref(), Some(head.as_str()));
    // With the time that commit was made: where its lead time starts.
    let made: i64 = git(&repo, &["log", "-1", "--format=%ct", "HEAD"])
        .parse()
        .expect("seconds");
    let (commit_at,): (Option<i64>,) =
        sqlx::query_as("select commit_at from deployments where id = $1")
            .bind(first.id.to_string())
            .fetch_one(&s.db.pool)
            .await
            .expect("commit_at");
    assert_eq!(commit_at, Some(made * 1000));
    let first_id = first.id.to_string();
    assert_eq!(
        first.preview_url,
        Some(format!("http://{}.preview.test/", first_id.to_lowercase()))
    );
    let build = &first.steps[1];
    assert!(
        build.output.contains("Built public/index.html"),
        "{build:?}"
    );

    let page = preview(&s, &first_id, "/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(page.headers().get("set-cookie").is_none());
    let html = page.text().await.expect("html");
    assert!(html.contains("<h1>Rocket Shop</h1>"), "{html}");
    assert!(
        html.contains(&head[..7]),
        "the build stamped its commit: {html}"
    );
    assert_eq!(
        preview(&s, &first_id, "/").await.headers()["cache-control"],
        "public, max-age=300"
    );
    let site_page = preview(&s, &site_id, "/").await;
    assert_eq!(site_page.headers()["cache-control"], "no-cache");
    assert!(site_page.headers().get("last-modified").is_none());
    let css = preview(&s, &first_id, "/style.css").await;
    assert_eq!(css.headers()["content-type"], "text/css");
    // The site's own URL serves its current deployment.
    let current = preview(&s, &site_id, "/").await.text().await.expect("html");
    assert_eq!(current, html);

    // A new commit, deployed by hand: it becomes current, the first is
    // superseded and its preview still serves the first version.
    std::fs::write(
        repo.join("index.html"),
        std::fs::read_to_string(repo.join("index.html"))
            .expect("page")
            .replace("Parts for every rocket", "Now with boosters"),
    )
    .expect("edit");
    git(&repo, &["commit", "-qam", "Boosters"]);
    let second: Deployment = ok(
        &c,
        &s,
        "trigger_deployment",
        &[("site_id", &site_id), ("kind", "deploy")],
    )
    .await;
    let second = wait_finished(&c, &s, &second.id.to_string()).await;
    assert_eq!(second.status, DeploymentStatus::Completed, "{second:?}");
    assert_eq!(second.commit_sha, Some(git(&repo, &["rev-parse", "HEAD"])));
    let first = get_deployment(&c, &s, &first_id).await;
    assert_eq!(first.status, DeploymentStatus::Superseded);
    let old = preview(&s, &first_id, "/")
        .await
        .text()
        .await
        .expect("html");
    assert!(old.contains("Parts for every rocket") && !old.contains("boosters"));
    let new = preview(&s, &site_id, "/").await.text().await.expect("html");
    assert!(new.contains("Now with boosters"), "{new}");
}

#[tokio::test]
async fn a_preview_host_serves_files_and_nothing_else() {
    let s = server().await;
    let c = client();
    let team = sign_up(&c, &s, "ada@example.com", "Rockets").await.team.id;
    let repo = repository(&s, team, "links");
    // A link to a file outside the release, one inside it, and a folder.
    std::os::unix::fs::symlink("/etc/hostname", repo.join("leak.txt")).expect("link");
    std::fs::create_dir_all(repo.join("docs")).expect("dir");
    std::fs::write(repo.join("docs/index.html"), "<p>docs</p>").expect("docs");
    std::fs::write(repo.join("about.html"), "<p>about</p>").expect("about");
    std::fs::remove_file(repo.join("build.sh")).expect("no build");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "Links"]);
    let site = create_site(&c, &s, "Links", &repo.display().to_string()).await;
    let d = newest_deploy(&c, &s, &site.id.to_string()).await;
    assert_eq!(d.status, DeploymentStatus::Completed, "{d:?}");
    let id = &d.id.to_string();

    assert_eq!(
        preview(&s, id, "/about").await.text().await.expect("body"),
        "<p>about</p>"
    );
    assert_eq!(
        preview(&s, id, "/docs/").await.text().await.expect("body"),
        "<p>docs</p>"
    );
    let folder = preview(&s, id, "/docs").await;
    assert_eq!(folder.status(), StatusCode::PERMANENT_REDIRECT);
    for path in [
        "/leak.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc/passwd",
        "/.git/config",
        "/nope",
    ] {
        let r = preview(&s, id, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The dashboard is not reachable on a preview host, with or without a cookie.
    let api = client()
        .post(format!("{}/api/list_sites", s.base))
        .header("host", format!("{}.preview.test", id.to_lowercase()))
        .send()
        .await
        .expect("request");
    assert_eq!(api.status(), StatusCode::METHOD_NOT_ALLOWED);
    let signin = preview(&s, id, "/signin").await;
    assert_eq!(signin.status(), StatusCode::NOT_FOUND);
    assert!(signin.headers().get("set-cookie").is_none());
    // Unknown, malformed and unfinished ids.
    assert_eq!(
        preview(&s, "01JZZZZZZZZZZZZZZZZZZZZZZZ", "/")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        preview(&s, "nope", "/").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_session_cookie_belongs_to_the_dashboard_host_only() {
    let s = server().await;
    let c = client();
    let res = c
        .post(format!("{}/api/sign_up", s.base))
        .form(&[
            ("email", "ada@example.com"),
            ("password", "correct horse"),
            ("name", "Ada"),
            ("team", "Rockets"),
        ])
        .send()
        .await
        .expect("sign up");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_lowercase();
    assert!(cookie.starts_with("flightdeck_session="), "{cookie}");
    // No Domain attribute: browsers send it to the dashboard's host alone,
    // never to *.preview hosts.
    assert!(!cookie.contains("domain="), "{cookie}");
    assert!(cookie.contains("httponly"), "{cookie}");
}

#[tokio::test]
async fn a_repository_path_outside_the_repos_folder_is_refused() {
    let s = server().await;
    let c = client();
    let team = sign_up(&c, &s, "ada@example.com", "Rockets").await.team.id;
    let elsewhere = tempfile::tempdir().expect("dir");
    flightdeck::server::demo::create_repo(elsewhere.path(), "X", "y").expect("repo");
    let not_a_repo = s.data.join("repos").join(team.to_string()).join("plain");
    std::fs::create_dir_all(&not_a_repo).expect("dir");
    let escape = format!("{}/repos/{team}/../", s.data.display());
    // Another team's repository, and one outside any team's folder.
    let eve = client();
    let theirs = sign_up(&eve, &s, "eve@example.com", "Eve").await.team.id;
    let other_team = repository(&s, theirs, "secret-site");
    let shared = s.data.join("repos").join("shared");
    flightdeck::server::demo::create_repo(&shared, "Shared", "y").expect("repo");
    for path in [
        elsewhere.path().display().to_string(),
        "/etc".to_string(),
        not_a_repo.display().to_string(),
        escape,
        other_team.display().to_string(),
        format!("{}/repos/{team}/../{theirs}/secret-site", s.data.display()),
        shared.display().to_string(),
    ] {
        let (status, err) = refused(
            &c,
            &s,
            "create_site",
            &[("name", "X"), ("repository", &path), ("branch", "main")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {err}");
        assert!(err.message.contains("repos"), "{err}");
    }
    let sites: Vec<Site> = ok(&c, &s, "list_sites", &[]).await;
    assert_eq!(sites, vec![]);
}

/// A zip of `(name, content)` entries; `None` content makes a link to /etc/hostname.
fn zip_of(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in entries {
        match content {
            Some(bytes) => {
                w.start_file(*name, opts).expect("entry");
                w.write_all(bytes).expect("write");
            }
            None => w.add_symlink(*name, "/etc/hostname", opts).expect("link"),
        }
    }
    w.finish().expect("zip").into_inner()
}

/// Sends an upload: the new deployment, or the status and error it was refused with.
async fn upload(
    c: &reqwest::Client,
    s: &Server,
    site: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Deployment, (StatusCode, AppError)> {
    let form = reqwest::multipart::Form::new()
        .text("site_id", site.to_string())
        .part(
            "archive",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    let res = c
        .post(format!("{}/api/upload_archive", s.base))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = res.status();
    let text = res.text().await.expect("body");
    if status.is_success() {
        Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
    } else {
        let err = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        Err((status, err))
    }
}

/// A signed-in team with an idle site to upload to.
async fn idle_site(s: &Server, c: &reqwest::Client) -> String {
    let team = sign_up(c, s, "ada@example.com", "Rockets").await.team.id;
    let repo = repository(s, team, "upload-target");
    let id = create_site(c, s, "Uploads", &repo.display().to_string())
        .await
        .id
        .to_string();
    newest_deploy(c, s, &id).await;
    id
}

#[tokio::test]
async fn an_uploaded_zip_deploys_like_a_repository_and_redeploys() {
    let s = server().await;
    let c = client();
    let site = idle_site(&s, &c).await;
    // GitHub's "Download ZIP" shape: everything inside one folder.
    let zip = zip_of(&[
        ("site-main/index.html", Some(b"<h1>From a zip</h1>")),
        ("site-main/css/app.css", Some(b"h1 { color: red }")),
    ]);
    let d = upload(&c, &s, &site, "site-main.zip", zip)
        .await
        .expect("accepted");
    assert_eq!(d.source_kind, SourceKind::Archive);
    assert_eq!(d.archive_name.as_deref(), Some("site-main.zip"));
    assert_eq!(d.operation_name, "Deploy archive");
    let d = wait_finished(&c, &s, &d.id.to_string()).await;
    assert_eq!(d.status, DeploymentStatus::Completed, "{d:?}");
    let id = d.id.to_string();
    assert_eq!(
        preview(&s, &id, "/").await.text().await.expect("html"),
        "<h1>From a zip</h1>"
    );
    assert_eq!(
        preview(&s, &id, "/css/app.css").await.headers()["content-type"],
        "text/css"
    );

    // A redeploy runs the same upload again.
    let again: Deployment = ok(&c, &s, "retry_deployment", &[("id", &id)]).await;
    let again = wait_finished(&c, &s, &again.id.to_string()).await;
    assert_eq!(again.status, DeploymentStatus::Completed, "{again:?}");
    assert_eq!(again.archive_name.as_deref(), Some("site-main.zip"));
    let again_id = again.id.to_string();
    assert_eq!(
        preview(&s, &again_id, "/")
            .await
            .text()
            .await
            .expect("html"),
        "<h1>From a zip</h1>"
    );
}

#[tokio::test]
async fn refused_uploads_get_a_reason_and_change_nothing() {
    let s = start_with(&[
        PREVIEW.to_string(),
        "--max-upload-mb=1".into(),
        "--max-unpacked-mb=2".into(),
    ])
    .await;
    let c = client();
    let site = idle_site(&s, &c).await;
    let page: DeploymentPage = ok(&c, &s, "list_deployments", &[]).await;
    let before = page.deployments.len();

    let noise: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let zeros = vec![0u8; 3 * 1024 * 1024];
    let fine = Some(&b"<p>ok</p>"[..]);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "escape",
            zip_of(&[("index.html", fine), ("../../evil.html", fine)]),
            StatusCode::BAD_REQUEST,
            "outside",
        ),
        (
            "absolute",
            zip_of(&[("/tmp/flightdeck-evil.html", fine)]),
            StatusCode::BAD_REQUEST,
            "outside",
        ),
        (
            "link",
            zip_of(&[("index.html", fine), ("leak.txt", None)]),
            StatusCode::BAD_REQUEST,
            "link",
        ),
        (
            "too large",
            {
                let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                use std::io::Write;
                w.start_file(
                    "noise.bin",
                    zip::write::SimpleFileOptions::default()
                        .compression_method(zip::CompressionMethod::Stored),
                )
                .expect("entry");
                w.write_all(&noise).expect("write");
                w.finish().expect("zip").into_inner()
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 1 MB",
        ),
        (
            "bomb",
            zip_of(&[("zeros.bin", Some(&zeros))]),
            StatusCode::BAD_REQUEST,
            "expands past 2 MB",
        ),
        (
            "not a zip",
            b"<html>surprise</html>".to_vec(),
            StatusCode::BAD_REQUEST,
            "not a zip",
        ),
        ("empty", Vec::new(), StatusCode::BAD_REQUEST, "empty"),
    ];
    for (what, bytes, status, message) in cases {
        let (got, err) = upload(&c, &s, &site, "site.zip", bytes)
            .await
            .expect_err(what);
        assert_eq!(got, status, "{what}: {err}");
        assert!(err.message.contains(message), "{what}: {err}");
    }
    // No site, another team's site, a viewer.
    let good = zip_of(&[("index.html", fine)]);
    let refused_with = |r: Result<Deployment, (StatusCode, AppError)>| r.expect_err("refused").0;
    let status = refused_with(upload(&c, &s, "not-an-id", "a.zip", good.clone()).await);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stranger = client();
    sign_up(&stranger, &s, "eve@example.com", "Eve").await;
    let status = refused_with(upload(&stranger, &s, &site, "a.zip", good.clone()).await);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let status = refused_with(upload(&client(), &s, &site, "a.zip", good).await);
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let page: DeploymentPage = ok(&c, &s, "list_deployments", &[]).await;
    assert_eq!(page.deployments.len(), before);
    let left: Vec<_> = std::fs::read_dir(s.data.join("archives"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing unpacked stays: {left:?}");
    assert!(!Path::new("/tmp/flightdeck-evil.html").exists());
    assert!(!s.data.join("evil.html").exists());
}

#[tokio::test]
async fn capsules_restores_clones_and_staging_copies_work_on_the_served_files() {
    let s = server().await;
    let c = client();
    let team = sign_up(&c, &s, "ada@example.com", "Rockets").await.team.id;
    let repo = repository(&s, team, "capsules");
    let site_id = create_site(&c, &s, "Rocket Shop", &repo.display().to_string())
        .await
        .id
        .to_string();
    newest_deploy(&c, &s, &site_id).await;
    let served = || async { preview(&s, &site_id, "/").await.text().await.expect("html") };
    let first = served().await;
    assert!(first.contains("Parts for every rocket"));

    // A capsule of what the site serves now.
    let run = |form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let s = &s;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let d: Deployment = ok(&c, s, "trigger_deployment", &form).await;
            wait_finished(&c, s, &d.id.to_string()).await
        }
    };
    let capsule = run(vec![
        ("site_id", site_id.clone()),
        ("kind", "time_capsule".into()),
    ])
    .await;
    assert_eq!(capsule.status, DeploymentStatus::Completed, "{capsule:?}");
    let capsule_id = capsule.meta.capsule_id.expect("capsule id").to_string();
    assert!(
        s.data
            .join("capsules")
            .join(&site_id)
            .join(format!("{capsule_id}.tar.gz"))
            .is_file()
    );
    // Running it again writes a capsule of its own; the first stays as it was.
    let capsule_file = |id: &str| {
        s.data
            .join("capsules")
            .join(&site_id)
            .join(format!("{id}.tar.gz"))
    };
    let first_bytes = std::fs::read(capsule_file(&capsule_id)).expect("capsule");
    let again: Deployment = ok(
        &c,
        &s,
        "retry_deployment",
        &[("id", capsule.id.to_string().as_str())],
    )
    .await;
    let again = wait_finished(&c, &s, &again.id.to_string()).await;
    assert_eq!(again.status, DeploymentStatus::Completed, "{again:?}");
    let again_id = again.meta.capsule_id.expect("capsule id").to_string();
    assert_ne!(again_id, capsule_id);
    assert!(capsule_file(&again_id).is_file());
    assert_eq!(
        std::fs::read(capsule_file(&capsule_id)).expect("capsule"),
        first_bytes
    );

    // A new version goes live, then the capsule brings the first one back.
    std::fs::write(repo.join("index.html"), "<h1>Version two</h1>").expect("edit");
    git(&repo, &["commit", "-qam", "Two"]);
    run(vec![
        ("site_id", site_id.clone()),
        ("kind", "deploy".into()),
    ])
    .await;
    assert_eq!(served().await, "<h1>Version two</h1>");
    let restored = run(vec![
        ("site_id", site_id.clone()),
        ("kind", "restore".into()),
        ("capsule_id", capsule_id.clone()),
    ])
    .await;
    assert_eq!(restored.status, DeploymentStatus::Completed, "{restored:?}");
    assert!(restored.is_current);
    assert_eq!(served().await, first);
    assert!(restored.preview_url.is_some());

    // A restore of anything but one of this site's capsules changes nothing.
    let before: DeploymentPage = ok(&c, &s, "list_deployments", &[]).await;
    for bad in [None, Some("nope"), Some("01JZZZZZZZZZZZZZZZZZZZZZZZ")] {
        let mut form = vec![("site_id", site_id.as_str()), ("kind", "restore")];
        if let Some(b) = bad {
            form.push(("capsule_id", b));
        }
        let (status, err) = refused(&c, &s, "trigger_deployment", &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(err.message.contains("time capsule"), "{err}");
    }
    let after: DeploymentPage = ok(&c, &s, "list_deployments", &[]).await;
    assert_eq!(before.deployments, after.deployments);

    // A clone and a staging copy serve what the site serves now.
    let clone: Site = ok(
        &c,
        &s,
        "clone_site",
        &[("site_id", &site_id), ("name", "Rocket Copy")],
    )
    .await;
    let clone_id = clone.id.to_string();
    assert!(!clone.auto_deploy);
    let d = newest_of(&c, &s, &clone_id, "clone_site").await;
    assert_eq!(d.status, DeploymentStatus::Completed, "{d:?}");
    assert_eq!(d.pipeline_type, PipelineType::CloneSite);
    assert_eq!(
        d.meta.source_site_id.map(|id| id.to_string()),
        Some(site_id.clone())
    );
    assert_eq!(
        preview(&s, &clone_id, "/")
            .await
            .text()
            .await
            .expect("html"),
        first
    );

    let staging: Site = ok(&c, &s, "create_staging", &[("site_id", &site_id)]).await;
    assert_eq!(staging.name, "Rocket Shop staging");
    assert_eq!(
        staging.parent_site_id.map(|id| id.to_string()),
        Some(site_id.clone())
    );
    let staging_id = staging.id.to_string();
    let d = newest_of(&c, &s, &staging_id, "create_staging").await;
    assert_eq!(d.status, DeploymentStatus::Completed, "{d:?}");
    assert_eq!(d.meta.staging_id, Some(staging.id));
    assert_eq!(
        preview(&s, &staging_id, "/")
            .await
            .text()
            .await
            .expect("html"),
        first
    );

    // A site with nothing deployed has nothing to copy; another team sees no site.
    let empty = create_site(&c, &s, "Empty", "https://github.com/acme/empty").await;
    let (status, err) = refused(
        &c,
        &s,
        "create_staging",
        &[("site_id", &empty.id.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err.message.contains("nothing deployed"), "{err}");
    let stranger = client();
    sign_up(&stranger, &s, "eve@example.com", "Eve").await;
    let (status, _) = refused(
        &stranger,
        &s,
        "clone_site",
        &[("site_id", &site_id), ("name", "Mine")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
