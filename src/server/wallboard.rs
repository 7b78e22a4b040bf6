//! The wallboard: the links that open it on a screen signed in to nothing,
//! and what one screen shows. Storage is `store::wallboard_links` and the
//! site and deployment reads; the rules of a tile are `model::wallboard`.

use super::config::Config;
use super::passwords;
use super::realtime::bus::{Ended, EventBus};
use super::store::deployments::{self, Filter};
use super::store::{Db, accounts, sites, wallboard_links};
use crate::model::wallboard::{RECENT, Tile};
use crate::model::{
    Actor, AppError, NewWallboardLink, SiteId, TeamId, Wallboard, WallboardLinkId, validate,
};

/// A new named link to the actor's team's wallboard: its URL carries the
/// token, shown this once (only its hash is kept).
pub async fn create_link(
    db: &Db,
    config: &Config,
    actor: &Actor,
    name: &str,
    request_host: Option<&str>,
) -> Result<NewWallboardLink, AppError> {
    let name = validate::name(name, "name for the link")?;
    let (token, hash) = passwords::new_token();
    let (id, created_at) =
        wallboard_links::create(db, actor.team_id, &name, actor.user_id, &hash).await?;
    Ok(NewWallboardLink {
        id,
        name,
        url: format!("{}/wallboard/{token}", config.origin(request_host)),
        created_at,
    })
}

/// Revokes a link of the actor's team: it opens nothing from now on, and
/// the screens connected with it are told at once (on this instance; the
/// others notice within [`crate::server::realtime::socket::LINK_RECHECK`]).
pub async fn revoke_link(
    db: &Db,
    bus: &EventBus,
    actor: &Actor,
    id: WallboardLinkId,
) -> Result<(), AppError> {
    wallboard_links::revoke(db, actor.team_id, id).await?;
    bus.end(Ended::WallboardLink(id));
    Ok(())
}

/// A screen holding an open link.
#[derive(Clone, Debug)]
pub struct LinkHolder {
    pub link_id: WallboardLinkId,
    pub team_id: TeamId,
    pub team_name: String,
}

/// The open link a token belongs to, recording that it was used; `None`
/// for a revoked or unknown one.
pub async fn open_link(db: &Db, token: &str) -> Result<Option<LinkHolder>, AppError> {
    let token = token.trim();
    // Tokens are 64 hex characters; anything else is not worth a query.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some((link_id, team_id, team_name)) =
        wallboard_links::open_by_hash(db, &passwords::token_hash(token)).await?
    else {
        return Ok(None);
    };
    wallboard_links::seen(db, link_id).await?;
    Ok(Some(LinkHolder {
        link_id,
        team_id,
        team_name,
    }))
}

/// The team's name, for a member's wallboard.
pub async fn team_name(db: &Db, team_id: TeamId) -> Result<String, AppError> {
    accounts::team_name(db, team_id)
        .await?
        .ok_or_else(|| AppError::not_found("Team"))
}

/// What the screen shows now: every site of the team (or those of
/// `only`, when given) with what each serves, runs and whether it broke,
/// and the team's latest operations. `position` is the live channel's
/// position read before any of it, so the screen's socket resumes there.
pub async fn board(
    db: &Db,
    team_id: TeamId,
    team_name: String,
    only: &[SiteId],
    position: i64,
    build: &str,
) -> Result<Wallboard, AppError> {
    let mut sites = sites::list(db, team_id).await?;
    let failures = sites::failures(db, team_id).await?;
    let wanted = |id: &SiteId| only.is_empty() || only.contains(id);
    let unknown_sites = only
        .iter()
        .filter(|id| !sites.iter().any(|s| s.id == **id))
        .count();
    sites.retain(|s| wanted(&s.id));
    let tiles = sites
        .into_iter()
        .map(|site| Tile {
            failure: failures.iter().find(|d| d.site_id == site.id).cloned(),
            site_id: site.id,
            name: site.name,
            site_state: site.state,
            current: site.current_deployment,
            active: site.active_deployment,
            lock: site.lock,
        })
        .collect();
    // Enough of the history that a filtered board still fills its strip.
    let look_back = if only.is_empty() { RECENT } else { RECENT * 8 };
    let mut recent = deployments::list(db, team_id, &Filter::default(), None, look_back)
        .await?
        .deployments;
    recent.retain(|d| wanted(&d.site_id));
    recent.truncate(RECENT as usize);
    Ok(Wallboard {
        team_name,
        position,
        build: build.to_string(),
        now: super::store::now_ms(),
        tiles,
        recent,
        unknown_sites,
    })
}
