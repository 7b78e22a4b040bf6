//! A team's deployment history.

use crate::model::{AppError, Deployment, DeploymentPage};
use leptos::prelude::*;

/// A page of the team's history, newest first. Every filter is optional;
/// `cursor` is the `next_cursor` of the previous page.
#[server(endpoint = "list_deployments")]
pub async fn list_deployments(
    site_id: Option<String>,
    status: Option<String>,
    pipeline_type: Option<String>,
    cursor: Option<String>,
) -> Result<DeploymentPage, AppError> {
    use crate::model::{DeploymentStatus, PipelineType};
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let filter = crate::server::deployments::Filter {
        site_id: present(site_id).map(|s| s.parse()).transpose()?,
        status: present(status)
            .map(|s| {
                DeploymentStatus::parse(&s)
                    .ok_or_else(|| AppError::invalid("Unknown status filter."))
            })
            .transpose()?,
        pipeline_type: present(pipeline_type)
            .map(|s| {
                PipelineType::parse(&s)
                    .ok_or_else(|| AppError::invalid("Unknown pipeline type filter."))
            })
            .transpose()?,
    };
    let cursor = present(cursor).map(|c| c.parse()).transpose()?;
    crate::server::deployments::list(&state.db, member.team_id, &filter, cursor, 50).await
}

/// One deployment with its steps and their output.
#[server(endpoint = "get_deployment")]
pub async fn get_deployment(id: String) -> Result<Deployment, AppError> {
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    // A malformed id and another team's id answer alike: not found.
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Deployment"));
    };
    crate::server::deployments::get(&state.db, member.team_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Deployment"))
}
