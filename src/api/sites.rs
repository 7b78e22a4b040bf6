//! A team's sites.

use crate::model::{AppError, Site, SiteHooks};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use super::{AppError, Site};
    pub use crate::model::{PipelineType, SiteId};
    pub use crate::server::store::sites as stored;
    pub use crate::server::web::context as cx;
    pub use crate::server::{sites, web::state::AppState};

    /// The site with the URL its current deployment is served at.
    pub fn with_url(state: &AppState, mut site: Site) -> Site {
        site.url = Some(state.config.preview_hosts.url(site.id));
        site
    }

    /// One site of the actor's team, with its URL.
    pub async fn one(
        state: &AppState,
        team: crate::model::TeamId,
        id: SiteId,
    ) -> Result<Site, AppError> {
        let site = stored::get(&state.db, team, id)
            .await?
            .ok_or_else(|| AppError::not_found("Site"))?;
        Ok(with_url(state, site))
    }

    /// A copy of a site, then its page (a form posted without JavaScript).
    pub async fn copy(
        site_id: String,
        name: Option<String>,
        kind: PipelineType,
    ) -> Result<Site, AppError> {
        let state = cx::state()?;
        let actor = cx::actor(&state).await?.require_trigger()?;
        let source = cx::id(&site_id, "Site")?;
        let id = sites::copy(
            &state.db,
            &state.engine,
            &actor,
            source,
            name.as_deref(),
            kind,
        )
        .await?;
        cx::redirect_plain_form(&format!("/sites/{id}"));
        one(&state, actor.team_id, id).await
    }
}

/// Every site of the team, by name, with what each serves and runs now.
#[server(endpoint = "list_sites")]
pub async fn list_sites() -> Result<Vec<Site>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    let list = stored::list(&state.db, actor.team_id).await?;
    Ok(list.into_iter().map(|s| with_url(&state, s)).collect())
}

/// One site of the team, with the disk its releases and capsules take.
#[server(endpoint = "get_site")]
pub async fn get_site(id: String) -> Result<Site, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    let id = cx::id(&id, "Site")?;
    let site = sites::get_with_disk(&state.db, &state.config.data_dir, actor.team_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    Ok(with_url(&state, site))
}

/// Locks a site with a reason (owners and members): manual deploys are
/// refused with "Locked by <name>: <reason>", pushes wait until it is
/// unlocked; restart, stop, time capsules, restores and rollbacks still run.
#[server(endpoint = "lock_site")]
pub async fn lock_site(site_id: String, reason: String) -> Result<Site, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&site_id, "Site")?;
    sites::lock(&state.db, &actor, id, &reason).await?;
    cx::redirect_plain_form(&format!("/sites/{id}"));
    one(&state, actor.team_id, id).await
}

/// Unlocks a site (owners and members); the pushes it held run, newest
/// first.
#[server(endpoint = "unlock_site")]
pub async fn unlock_site(site_id: String) -> Result<Site, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&site_id, "Site")?;
    sites::unlock(&state.db, &actor, id).await?;
    cx::redirect_plain_form(&format!("/sites/{id}"));
    one(&state, actor.team_id, id).await
}

/// Creates a site from a repository and branch; its `create_site` pipeline
/// and first deploy are queued at once and run by themselves.
/// `auto_deploy` is a checkbox: `on`/`true` or absent/`false`.
#[server(endpoint = "create_site")]
pub async fn create_site(
    name: String,
    repository: String,
    branch: String,
    auto_deploy: Option<String>,
) -> Result<Site, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let form = sites::SiteForm {
        name: &name,
        repository: &repository,
        branch: &branch,
        auto_deploy: auto_deploy.as_deref(),
    };
    let id = sites::create(
        &state.db,
        &state.engine,
        &state.config.data_dir,
        &actor,
        form,
    )
    .await?;
    cx::redirect_plain_form(&format!("/sites/{id}"));
    one(&state, actor.team_id, id).await
}

/// The site's webhook URL and secret: for owners and members, never viewers.
#[server(endpoint = "get_site_hooks")]
pub async fn get_site_hooks(id: String) -> Result<SiteHooks, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&id, "Site")?;
    let host = cx::request_host();
    sites::hooks(&state.db, &state.config, actor.team_id, id, host.as_deref()).await
}

/// Replaces the site's webhook secret; deliveries signed with the old one
/// are refused from now on.
#[server(endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: String) -> Result<SiteHooks, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&id, "Site")?;
    stored::rotate_secret(&state.db, actor.team_id, id).await?;
    let host = cx::request_host();
    sites::hooks(&state.db, &state.config, actor.team_id, id, host.as_deref()).await
}

/// What a site does by itself: deploy pushes to its branch
/// (`auto_deploy`), deploy previews of its own repository's pull requests
/// (`previews`). Checkboxes: `on`/`true`, or absent for off.
#[server(endpoint = "update_site")]
pub async fn update_site(
    site_id: String,
    auto_deploy: Option<String>,
    previews: Option<String>,
) -> Result<Site, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&site_id, "Site")?;
    let auto_deploy = crate::model::validate::flag(auto_deploy.as_deref(), "Auto-deploy")?;
    let previews = crate::model::validate::flag(previews.as_deref(), "Previews")?;
    stored::set_automation(&state.db, actor.team_id, id, auto_deploy, previews).await?;
    cx::redirect_plain_form(&format!("/sites/{id}"));
    one(&state, actor.team_id, id).await
}

/// A new site with a copy of what `site_id` serves now, under `name`.
/// Its clone pipeline starts at once; auto-deploy is off, so a push never
/// overwrites the copy.
#[server(endpoint = "clone_site")]
pub async fn clone_site(site_id: String, name: String) -> Result<Site, AppError> {
    use self::ssr::*;
    copy(site_id, Some(name), PipelineType::CloneSite).await
}

/// A staging copy of `site_id` (named "<site> staging", its parent the
/// site) with what the site serves now.
#[server(endpoint = "create_staging")]
pub async fn create_staging(site_id: String) -> Result<Site, AppError> {
    use self::ssr::*;
    copy(site_id, None, PipelineType::CreateStaging).await
}
