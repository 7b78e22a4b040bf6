//! The demo account a newcomer signs in to on a fresh database.

use super::{accounts, auth, db::Db, sites};
use crate::model::{AppError, SiteId, TeamId};

pub const DEMO_EMAIL: &str = "demo@flightdeck.dev";
pub const DEMO_PASSWORD: &str = "flightdeck-demo";
pub const DEMO_TEAM: &str = "Demo Team";

/// On an empty database, creates the demo team, user and two sites, and
/// returns them so the caller can queue their first deploys and print the
/// credentials once.
pub async fn seed_if_empty(db: &Db) -> Result<Option<(TeamId, Vec<SiteId>)>, AppError> {
    if accounts::count_users(db).await? > 0 {
        return Ok(None);
    }
    let hash = auth::hash_password(DEMO_PASSWORD.to_string()).await?;
    let (_, team_id) =
        accounts::create_account(db, DEMO_EMAIL, "Demo User", &hash, DEMO_TEAM).await?;
    let mut site_ids = Vec::new();
    for (name, repository) in [
        (
            "Marketing site",
            "https://github.com/flightdeck-demo/marketing-site",
        ),
        ("Docs", "https://github.com/flightdeck-demo/docs"),
    ] {
        let id = sites::insert(
            db,
            sites::NewSite {
                team_id,
                name,
                repository,
                branch: "main",
                auto_deploy: true,
                parent_site_id: None,
            },
        )
        .await?;
        site_ids.push(id);
    }
    Ok(Some((team_id, site_ids)))
}
