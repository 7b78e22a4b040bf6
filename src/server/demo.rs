//! The demo account a newcomer signs in to on a fresh database, with two
//! sites whose sources are real git repositories on this machine.

use super::config::DataDir;
use super::passwords;
use super::store::{Db, accounts, sites};
use crate::model::{AppError, TeamId};
use std::path::Path;
use std::process::Command;

pub const DEMO_EMAIL: &str = "demo@flightdeck.dev";
pub const DEMO_PASSWORD: &str = "flightdeck-demo";
pub const DEMO_TEAM: &str = "Demo Team";
/// The branch every demo site deploys.
pub const DEMO_BRANCH: &str = "main";

/// A demo site just created, whose first operations are still to be queued.
pub struct DemoSite {
    pub id: crate::model::SiteId,
    pub repository: String,
}

/// On an empty database, creates the demo team, user and two sites (each
/// with a git repository of its own under the data folder), and returns
/// them so the caller can queue their first deploys and print the
/// credentials once.
pub async fn seed_if_empty(
    db: &Db,
    data: &DataDir,
) -> Result<Option<(TeamId, Vec<DemoSite>)>, AppError> {
    if accounts::count_users(db).await? > 0 {
        return Ok(None);
    }
    let hash = passwords::hash(DEMO_PASSWORD.to_string()).await?;
    let (user_id, team_id) =
        accounts::create_account(db, DEMO_EMAIL, "Demo User", &hash, DEMO_TEAM).await?;
    // Every page says so until the password is changed.
    accounts::mark_password_published(db, user_id).await?;
    let mut site_ids = Vec::new();
    for (name, slug, tagline) in [
        (
            "Marketing site",
            "marketing-site",
            "Ship faster with Flightdeck",
        ),
        ("Docs", "docs", "Everything about the product, in one place"),
    ] {
        let dir = data.team_repos(team_id).join(slug);
        let repository = match create_repo(&dir, name, tagline) {
            Ok(()) => dir.display().to_string(),
            Err(e) => {
                tracing::warn!(error = %e, "could not create the demo repository {}", dir.display());
                format!("https://github.com/flightdeck-demo/{slug}")
            }
        };
        let id = sites::insert(
            db,
            sites::NewSite {
                team_id,
                name,
                repository: &repository,
                branch: DEMO_BRANCH,
                auto_deploy: true,
                parent_site_id: None,
            },
        )
        .await?;
        site_ids.push(DemoSite { id, repository });
    }
    Ok(Some((team_id, site_ids)))
}

/// A git repository with one commit on `main`: a page, a stylesheet and a
/// `build.sh` that renders the page into `public/`. Git is run with its
/// arguments as a list; nothing passes through a shell.
pub fn create_repo(dir: &Path, name: &str, tagline: &str) -> std::io::Result<()> {
    if dir.join(".git").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{name}</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n\
         <main>\n  <h1>{name}</h1>\n  <p class=\"tagline\">{tagline}</p>\n\
         <p class=\"meta\">Built BUILT_AT from commit COMMIT</p>\n</main>\n</html>\n"
    );
    std::fs::write(dir.join("index.html"), page)?;
    std::fs::write(
        dir.join("style.css"),
        "body { margin: 0; font: 18px/1.5 system-ui, sans-serif; background: #0f172a; color: #e2e8f0; }\n\
         main { max-width: 40rem; margin: 20vh auto; padding: 0 1.5rem; }\n\
         h1 { font-size: 2.5rem; margin: 0 0 .5rem; }\n\
         .tagline { font-size: 1.25rem; color: #93c5fd; }\n\
         .meta { color: #94a3b8; font-size: .9rem; }\n",
    )?;
    std::fs::write(
        dir.join("build.sh"),
        "#!/bin/sh\n# Renders the page into public/ with the build time and commit.\nset -eu\n\
         mkdir -p public\n\
         commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\n\
         sed -e \"s/BUILT_AT/$(date -u +%Y-%m-%dT%H:%M:%SZ)/\" -e \"s/COMMIT/$commit/\" index.html > public/index.html\n\
         cp style.css public/\n\
         echo \"Built public/index.html at commit $commit\"\n",
    )?;
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(
        dir,
        &[
            "-c",
            "user.name=Flightdeck Demo",
            "-c",
            "user.email=demo@flightdeck.dev",
            "commit",
            "-q",
            "-m",
            &format!("First version of {name}"),
        ],
    )
}

fn git(dir: &Path, args: &[&str]) -> std::io::Result<()> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
