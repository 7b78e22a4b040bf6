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

/// How much of each step's output a page shows: the tail, since that is
/// where a failure explains itself. The whole log is a link away.
pub const PAGE_OUTPUT_BYTES: usize = 512 * 1024;

/// [`get_deployment`] for the detail page: each step's output is its last
/// [`PAGE_OUTPUT_BYTES`], with `output_offset` telling how much came before.
#[server(endpoint = "get_deployment_view")]
pub async fn get_deployment_view(id: String) -> Result<Deployment, AppError> {
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Deployment"));
    };
    crate::server::deployments::get_for_page(&state.db, member.team_id, id, PAGE_OUTPUT_BYTES)
        .await?
        .ok_or_else(|| AppError::not_found("Deployment"))
}

/// Starts an operation on a site by hand: `kind` is `deploy` (optionally of
/// `git_ref`, a branch or commit), `restart`, `stop`, `time_capsule`, or
/// `restore` of one of the site's capsules (`capsule_id`).
/// Refused while the site is busy.
#[server(endpoint = "trigger_deployment")]
pub async fn trigger_deployment(
    site_id: String,
    kind: String,
    git_ref: Option<String>,
    capsule_id: Option<String>,
) -> Result<Deployment, AppError> {
    use crate::model::validate::{GitRef, git_ref as parse_ref};
    use crate::model::{PipelineType, TriggerKind};
    use crate::server::engine::trigger::{Source, TriggerRequest};
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(site_id) = site_id.parse() else {
        return Err(AppError::not_found("Site"));
    };
    let pipeline_type = match PipelineType::parse(kind.trim()) {
        Some(
            t @ (PipelineType::Deploy
            | PipelineType::Restart
            | PipelineType::Stop
            | PipelineType::TimeCapsule
            | PipelineType::Restore),
        ) => t,
        Some(other) => {
            return Err(AppError::invalid(format!(
                "{} cannot be started this way.",
                other.label()
            )));
        }
        None => {
            return Err(AppError::invalid(
                "Choose what to run: deploy, restart, stop, time_capsule or restore.",
            ));
        }
    };
    let site = crate::server::sites::get(&state.db, member.team_id, site_id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    let mut source = Source::default();
    if pipeline_type == PipelineType::Deploy {
        source.repository = Some(site.repository.clone());
        match git_ref
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(parse_ref)
            .transpose()?
        {
            Some(GitRef::Commit(sha)) => source.commit_sha = Some(sha),
            Some(GitRef::Branch(branch)) => source.branch = Some(branch),
            None => source.branch = Some(site.branch.clone()),
        }
    }
    let meta = match pipeline_type {
        PipelineType::TimeCapsule => {
            serde_json::json!({ "capsule_id": ulid::Ulid::new().to_string() })
        }
        PipelineType::Restore => {
            let capsule = crate::server::deployments::capsule_of(
                &state.db,
                site_id,
                capsule_id.as_deref().unwrap_or_default(),
            )
            .await?;
            serde_json::json!({ "capsule_id": capsule })
        }
        _ => serde_json::json!({}),
    };
    let user = crate::server::auth::current_session()
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let id = state
        .engine
        .trigger(TriggerRequest {
            team_id: member.team_id,
            site_id,
            pipeline_type,
            trigger: TriggerKind::Manual,
            user_id: Some(member.user_id),
            triggered_by: user.user.name,
            source,
            pr_number: None,
            meta,
            retry_of: None,
        })
        .await?;
    crate::server::http::redirect_plain_form(&format!("/deployments/{id}"));
    crate::server::deployments::get(&state.db, member.team_id, id)
        .await?
        .ok_or_else(AppError::internal)
}

/// Cancels a queued or running deployment, and answers once it has ended
/// (or after ten seconds, if its step is slow to stop).
#[server(endpoint = "cancel_deployment")]
pub async fn cancel_deployment(id: String) -> Result<(), AppError> {
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Deployment"));
    };
    state.engine.cancel(member.team_id, id).await?;
    // A running step gets its grace period to stop; answering once it has
    // lets the caller show the final state at once.
    crate::server::deployments::wait_finished(
        &state.db,
        member.team_id,
        id,
        std::time::Duration::from_secs(10),
    )
    .await?;
    crate::server::http::redirect_plain_form(&format!("/deployments/{id}"));
    Ok(())
}

/// Runs a finished deployment again, with the same source and meta, linked
/// to the one it repeats (retry of a failed one, redeploy of an earlier one).
#[server(endpoint = "retry_deployment")]
pub async fn retry_deployment(id: String) -> Result<Deployment, AppError> {
    let member = crate::server::auth::require_member()
        .await?
        .require_trigger()?;
    let state = crate::server::state::AppState::from_context()?;
    let Ok(id) = id.parse() else {
        return Err(AppError::not_found("Deployment"));
    };
    let user = crate::server::auth::current_session()
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let new_id = state
        .engine
        .retry(member.team_id, id, Some(member.user_id), user.user.name)
        .await?;
    crate::server::http::redirect_plain_form(&format!("/deployments/{new_id}"));
    crate::server::deployments::get(&state.db, member.team_id, new_id)
        .await?
        .ok_or_else(AppError::internal)
}
