//! A team's deployment history, and starting, cancelling and repeating
//! operations.

use crate::model::log::StepLog;
use crate::model::{AppError, Deployment, DeploymentPage};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::model::{DeploymentStatus, PipelineType};
    pub use crate::server::sites::{self, Operation};
    pub use crate::server::store::deployments::{self, Filter};
    pub use crate::server::web::context as cx;
    pub use std::time::Duration;

    /// A deployment an action just started, whose page a plain form goes to.
    pub async fn started(
        state: &crate::server::web::state::AppState,
        actor: &crate::model::Actor,
        id: crate::model::DeploymentId,
    ) -> Result<super::Deployment, super::AppError> {
        cx::redirect_plain_form(&format!("/deployments/{id}"));
        deployments::get(&state.db, actor.team_id, id)
            .await?
            .ok_or_else(super::AppError::internal)
    }

    /// A present, non-blank form field.
    pub fn present(v: Option<String>) -> Option<String> {
        v.filter(|s| !s.trim().is_empty())
    }
}

/// A page of the team's history, newest first. Every filter is optional;
/// `cursor` is the `next_cursor` of the previous page.
#[server(endpoint = "list_deployments")]
pub async fn list_deployments(
    site_id: Option<String>,
    status: Option<String>,
    pipeline_type: Option<String>,
    cursor: Option<String>,
) -> Result<DeploymentPage, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    let filter = Filter {
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
    deployments::list(&state.db, actor.team_id, &filter, cursor, 50).await
}

/// One deployment with its steps and their output.
#[server(endpoint = "get_deployment")]
pub async fn get_deployment(id: String) -> Result<Deployment, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    deployments::get(&state.db, actor.team_id, cx::id(&id, "Deployment")?)
        .await?
        .ok_or_else(|| AppError::not_found("Deployment"))
}

/// How much of each step's output a page arrives with: the tail, since
/// that is where a failure explains itself. The log viewer loads the rest
/// ([`get_step_log`]) when a reader opens, searches or links into it.
pub const PAGE_OUTPUT_BYTES: usize = 64 * 1024;

/// [`get_deployment`] for the detail page: each step's output is its last
/// [`PAGE_OUTPUT_BYTES`], with `output_offset` telling how much came before.
#[server(endpoint = "get_deployment_view")]
pub async fn get_deployment_view(id: String) -> Result<Deployment, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    let id = cx::id(&id, "Deployment")?;
    deployments::get_for_page(&state.db, actor.team_id, id, PAGE_OUTPUT_BYTES)
        .await?
        .ok_or_else(|| AppError::not_found("Deployment"))
}

/// One step's whole log, with when each part of it was written.
#[server(endpoint = "get_step_log")]
pub async fn get_step_log(deployment_id: String, step_id: String) -> Result<StepLog, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    let deployment_id = cx::id(&deployment_id, "Deployment")?;
    let step_id = cx::id(&step_id, "Step")?;
    deployments::step_output(&state.db, actor.team_id, deployment_id, step_id)
        .await?
        .map(|s| s.log)
        .ok_or_else(|| AppError::not_found("Step"))
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
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let site_id = cx::id(&site_id, "Site")?;
    let op = Operation {
        kind: &kind,
        git_ref: git_ref.as_deref(),
        capsule_id: capsule_id.as_deref(),
    };
    let d = sites::start(&state.db, &state.engine, &actor, site_id, op).await?;
    cx::redirect_plain_form(&format!("/deployments/{}", d.id));
    Ok(d)
}

/// Cancels a queued or running deployment, and answers once it has ended
/// (or after ten seconds, if its step is slow to stop).
#[server(endpoint = "cancel_deployment")]
pub async fn cancel_deployment(id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&id, "Deployment")?;
    state.engine.cancel(actor.team_id, id).await?;
    // A running step gets its grace period to stop; answering once it has
    // lets the caller show the final state at once.
    let limit = Duration::from_secs(10);
    state
        .bus
        .wait_finished(&state.db, actor.team_id, id, limit)
        .await?;
    cx::redirect_plain_form(&format!("/deployments/{id}"));
    Ok(())
}

/// Runs a finished deployment again, with the same source and meta, linked
/// to the one it repeats (retry of a failed one, redeploy of an earlier one).
#[server(endpoint = "retry_deployment")]
pub async fn retry_deployment(id: String) -> Result<Deployment, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let new_id = state
        .engine
        .retry(&actor, cx::id(&id, "Deployment")?)
        .await?;
    started(&state, &actor, new_id).await
}

/// Publishes an earlier deploy's kept release again, with no build, as a
/// deployment of its own ("Roll back to <short id>", `meta.rollback_of`)
/// that becomes the site's current one. Refused while the site is busy and
/// once the release is no longer kept.
#[server(endpoint = "rollback_deployment")]
pub async fn rollback_deployment(id: String) -> Result<Deployment, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let new_id = state
        .engine
        .rollback(&actor, cx::id(&id, "Deployment")?)
        .await?;
    started(&state, &actor, new_id).await
}

/// Makes a completed pull-request preview the site's current deployment,
/// exactly as it was reviewed (`meta.promoted_from`). Refused while the
/// site is busy or locked, and once the preview is no longer kept.
#[server(endpoint = "promote_deployment")]
pub async fn promote_deployment(id: String) -> Result<Deployment, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let new_id = state
        .engine
        .promote(&actor, cx::id(&id, "Deployment")?)
        .await?;
    started(&state, &actor, new_id).await
}

/// Approves a deployment waiting for approval (a pull request from a
/// fork): it is queued from now on and runs when its site is free.
#[server(endpoint = "approve_deployment")]
pub async fn approve_deployment(id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&id, "Deployment")?;
    state.engine.approve(&actor, id).await?;
    cx::redirect_plain_form(&format!("/deployments/{id}"));
    Ok(())
}
