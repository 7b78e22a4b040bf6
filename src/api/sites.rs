//! A team's sites.

use crate::model::{AppError, Site};
use leptos::prelude::*;

/// Every site of the team, by name, with what each serves and runs now.
#[server(endpoint = "list_sites")]
pub async fn list_sites() -> Result<Vec<Site>, AppError> {
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    let sites = crate::server::sites::list(&state.db, member.team_id).await?;
    Ok(sites.into_iter().map(|s| with_url(&state, s)).collect())
}

/// One site of the team.
#[server(endpoint = "get_site")]
pub async fn get_site(id: String) -> Result<Site, AppError> {
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    // A malformed id and another team's id answer alike: not found.
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Site"));
    };
    let site = crate::server::sites::get(&state.db, member.team_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    Ok(with_url(&state, site))
}

/// The site with the URL its current deployment is served at.
#[cfg(feature = "ssr")]
fn with_url(state: &crate::server::state::AppState, mut site: Site) -> Site {
    site.url = Some(state.config.preview_hosts.url(site.id));
    site
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
    use crate::model::validate::{self, GitRef};
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let input = crate::server::sites::SiteInput {
        name: validate::name(&name, "site name")?,
        repository: crate::server::sites::check_local_repository(
            &state.config.data_dir,
            &validate::repository(&repository)?,
        )?,
        branch: match validate::git_ref(&branch)? {
            GitRef::Branch(b) | GitRef::Commit(b) => b,
        },
        auto_deploy: validate::flag(auto_deploy.as_deref(), "Auto-deploy")?,
    };
    let id = crate::server::sites::create(&state.db, &state.engine, member.team_id, input).await?;
    crate::server::http::redirect_plain_form(&format!("/sites/{id}"));
    crate::server::sites::get(&state.db, member.team_id, id)
        .await?
        .ok_or_else(AppError::internal)
}

/// Where GitHub sends a site's events and the secret it signs them with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SiteHooks {
    pub webhook_url: String,
    pub secret: String,
}

/// The site's webhook URL and secret: for owners and members, never viewers.
#[server(endpoint = "get_site_hooks")]
pub async fn get_site_hooks(id: String) -> Result<SiteHooks, AppError> {
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Site"));
    };
    crate::server::sites::hooks(&state, member.team_id, id).await
}

/// Replaces the site's webhook secret; deliveries signed with the old one
/// are refused from now on.
#[server(endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: String) -> Result<SiteHooks, AppError> {
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Site"));
    };
    crate::server::sites::rotate_secret(&state.db, member.team_id, id).await?;
    crate::server::sites::hooks(&state, member.team_id, id).await
}

/// A new site with a copy of what `site_id` serves now, under `name`.
/// Its clone pipeline starts at once; auto-deploy is off, so a push never
/// overwrites the copy.
#[server(endpoint = "clone_site")]
pub async fn clone_site(site_id: String, name: String) -> Result<Site, AppError> {
    copy_site(site_id, Some(name), crate::model::PipelineType::CloneSite).await
}

/// A staging copy of `site_id` (named "<site> staging", its parent the
/// site) with what the site serves now.
#[server(endpoint = "create_staging")]
pub async fn create_staging(site_id: String) -> Result<Site, AppError> {
    copy_site(site_id, None, crate::model::PipelineType::CreateStaging).await
}

#[cfg(feature = "ssr")]
async fn copy_site(
    site_id: String,
    name: Option<String>,
    kind: crate::model::PipelineType,
) -> Result<Site, AppError> {
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(source) = site_id.parse() else {
        return Err(AppError::not_found("Site"));
    };
    let name = name
        .map(|n| crate::model::validate::name(&n, "site name"))
        .transpose()?;
    let user = crate::server::auth::current_session()
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let id = crate::server::sites::copy(
        &state.db,
        &state.engine,
        crate::server::sites::Copy {
            team_id: member.team_id,
            source,
            name,
            kind,
            user_id: member.user_id,
            triggered_by: user.user.name,
        },
    )
    .await?;
    crate::server::http::redirect_plain_form(&format!("/sites/{id}"));
    let site = crate::server::sites::get(&state.db, member.team_id, id)
        .await?
        .ok_or_else(AppError::internal)?;
    Ok(with_url(&state, site))
}
