//! The wallboard: what one screen shows, and the read-only links that
//! open it on a screen signed in to nothing.

use crate::model::{AppError, NewWallboardLink, Wallboard, WallboardLink};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::model::{ErrorKind, wallboard::parse_site_filter};
    pub use crate::server::{wallboard, web::context as cx};

    /// What a revoked or unknown link answers, wherever it is used.
    pub fn link_not_found() -> super::AppError {
        super::AppError::new(
            ErrorKind::NotFound,
            "This wallboard link was revoked or does not exist.",
        )
    }
}

/// The team's wallboard: every site (or those of `sites`, ids separated by
/// commas) with what each serves and runs and whether it broke, and the
/// latest operations. A signed-in member's, or, with `token`, a wallboard
/// link's: the one call a link opens, and only for reading its own team.
#[server(endpoint = "get_wallboard")]
pub async fn get_wallboard(
    token: Option<String>,
    sites: Option<String>,
) -> Result<Wallboard, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    // Read before any data, so the screen's socket resumes from here.
    let position = cx::stream_position_at_request().unwrap_or_else(|| state.bus.position());
    let only = parse_site_filter(sites.as_deref().unwrap_or_default())?;
    let (team_id, team_name) = match token.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(token) => {
            let link = wallboard::open_link(&state.db, token)
                .await?
                .ok_or_else(link_not_found)?;
            (link.team_id, link.team_name)
        }
        None => {
            let actor = cx::actor(&state).await?;
            let name = wallboard::team_name(&state.db, actor.team_id).await?;
            (actor.team_id, name)
        }
    };
    wallboard::board(
        &state.db,
        team_id,
        team_name,
        &only,
        position,
        &state.build.0,
    )
    .await
}

/// Owners and members make a named link that opens the team's wallboard
/// on a screen signed in to nothing; its URL is answered this once.
#[server(endpoint = "create_wallboard_link")]
pub async fn create_wallboard_link(name: String) -> Result<NewWallboardLink, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::member(&state).await?.require_trigger()?;
    let host = cx::request_host();
    wallboard::create_link(&state.db, &state.config, &actor, &name, host.as_deref()).await
}

/// The team's wallboard links, open ones first, with when each was last
/// seen; never their tokens.
#[server(endpoint = "list_wallboard_links")]
pub async fn list_wallboard_links() -> Result<Vec<WallboardLink>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    crate::server::store::wallboard_links::list(&state.db, actor.team_id).await
}

/// Revokes a link: it opens nothing from now on, and the screens showing
/// it say so within seconds.
#[server(endpoint = "revoke_wallboard_link")]
pub async fn revoke_wallboard_link(id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    wallboard::revoke_link(
        &state.db,
        &state.bus,
        &actor,
        cx::id(&id, "Wallboard link")?,
    )
    .await
}
