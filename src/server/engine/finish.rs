//! The final write of a deployment: its end status in one transaction with
//! what it changes on its site (the current deployment, running or stopped).

use super::scheduler::Claimed;
use crate::model::{
    DeploymentId, DeploymentStatus, PipelineType, SiteId, SiteState, StepId, StepStatus,
    TriggerKind,
};
use crate::server::config::{DataDir, folder_bytes};
use crate::server::store::changes::{self, DeploymentChange, Tx};
use crate::server::store::{Db, instances, now_ms, releases};

/// How a deployment's run ended.
pub(super) struct End {
    pub status: DeploymentStatus,
    pub error: Option<String>,
    pub preview_url: Option<String>,
    /// A step left running when the run was cut short (the database went
    /// away), failed along with the deployment.
    pub failed_step: Option<StepId>,
}

/// Ends a deployment; a completed deploy becomes its site's current one.
/// Refused (no change) unless the deployment is still running, and a
/// completion also unless this instance still holds its lease: one whose
/// lease ran out leaves the deployment to the survivor that fails it.
pub(super) async fn finish(db: &Db, d: &Claimed, end: &End) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let completed = end.status == DeploymentStatus::Completed;
    // A pull request's deploy is a preview: it never replaces what the site serves.
    let becomes_current =
        completed && d.pipeline_type.publishes() && d.trigger_kind != TriggerKind::PullRequest;
    // A completed stop or restart sets whether the site serves traffic.
    let new_state = match d.pipeline_type {
        PipelineType::Stop if completed => Some(SiteState::Stopped),
        PipelineType::Restart if completed => Some(SiteState::Running),
        _ => None,
    };
    // Lock order everywhere: the site's row first, then the instance's
    // (shared), then the event lock that every status change takes.
    // Triggers lock the site first too, and recovery takes no site, so none
    // of them can deadlock. Being a write, it also takes SQLite's lock
    // before anything is read.
    sqlx::query("update sites set name = name where id = $1")
        .bind(d.site_id)
        .execute(&mut *tx)
        .await?;
    if completed && !instances::holds_lease(db, &mut tx, d.claimed_by).await? {
        tracing::error!(deployment = %d.id, "this instance's lease ran out before the deployment completed; another instance fails it");
        return Ok(());
    }
    let change = DeploymentChange {
        finished_at: Some(now_ms()),
        error_message: end.error.clone(),
        preview_url: end.preview_url.clone(),
        ..Default::default()
    };
    let moved = changes::transition_deployment(
        db,
        &mut tx,
        d.id,
        DeploymentStatus::Running,
        end.status,
        change,
    )
    .await?;
    if !moved {
        // Someone else ended it (recovery by another instance): nothing of
        // this run may change the site.
        return Ok(());
    }
    if let Some(step) = end.failed_step {
        changes::transition_step(db, &mut tx, step, StepStatus::Running, StepStatus::Failed)
            .await?;
    }
    if becomes_current {
        make_current(db, &mut tx, d.site_id, d.id).await?;
    }
    if let Some(state) = new_state {
        sqlx::query("update sites set state = $1 where id = $2")
            .bind(state)
            .bind(d.site_id)
            .execute(&mut *tx)
            .await?;
    }
    changes::commit(db, tx).await
}

/// A completed deploy (or restore, clone, staging copy) becomes its site's
/// current one; the previous current is superseded and remembers which one
/// replaced it.
async fn make_current(
    db: &Db,
    tx: &mut Tx,
    site_id: SiteId,
    id: DeploymentId,
) -> Result<(), sqlx::Error> {
    let (previous,): (Option<DeploymentId>,) =
        sqlx::query_as("select current_deployment_id from sites where id = $1")
            .bind(site_id)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("update sites set current_deployment_id = $1 where id = $2")
        .bind(id)
        .bind(site_id)
        .execute(&mut **tx)
        .await?;
    if let Some(prev) = previous.filter(|p| *p != id) {
        let change = DeploymentChange {
            superseded_by_id: Some(id),
            ..Default::default()
        };
        changes::transition_deployment(
            db,
            tx,
            prev,
            DeploymentStatus::Completed,
            DeploymentStatus::Superseded,
            change,
        )
        .await?;
    }
    // The new current one's event must show it current, with a version
    // newer than its completion's, or pages would keep the older state.
    sqlx::query("update deployments set version = version + 1 where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    changes::emit_deployment(db, tx, id).await
}

/// Records what a completed deployment's release takes on disk, for the
/// site's page and retention: measured after the end is told, so it never
/// delays it (retention measures one a crash left unmeasured).
pub(super) async fn record_release_size(
    db: &Db,
    data: &DataDir,
    d: &Claimed,
    status: DeploymentStatus,
) {
    if status != DeploymentStatus::Completed || !d.pipeline_type.publishes() {
        return;
    }
    let (id, folder) = (d.id, data.release(d.id));
    if let Ok(bytes) = tokio::task::spawn_blocking(move || folder_bytes(&folder)).await
        && let Err(e) = releases::set_release_bytes(db, id, bytes).await
    {
        tracing::warn!(deployment = %id, error = %e, "could not record the size of a release");
    }
}
