//! Deployments whose instance is gone can never finish: each is failed,
//! saying at which step its instance stopped. Only a gone instance's work
//! is touched: on PostgreSQL, one whose lease ran out (a survivor does this
//! without waiting for it to come back) or that stopped; on SQLite, one
//! instance by nature, whatever a previous run of this one left.

use crate::model::{AppError, DeploymentStatus, InstanceId, StepId, StepStatus};
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{Backend, Db, instances, now_ms};

/// Fails every running deployment of a gone instance; returns how many
/// there were. Safe to run at any time, on any instance.
pub async fn recover(db: &Db, me: InstanceId) -> Result<u64, AppError> {
    let mut n = 0;
    for abandoned in instances::abandoned(db, me).await? {
        let mut tx = db.pool.begin().await?;
        // The instance first: its row write takes the lock on SQLite, and
        // on PostgreSQL it orders this against the instance's own final
        // write (see `instances::holds_lease`).
        if let Some(owner) = abandoned.claimed_by
            && !instances::confirm_gone(db, &mut tx, owner).await?
        {
            continue; // it renewed its lease in the meantime
        }
        let step: Option<(StepId, String, i64)> = sqlx::query_as(
            "select id, name, sort_order from deployment_steps where deployment_id = $1 and status = 'running'",
        )
        .bind(abandoned.id)
        .fetch_optional(&mut *tx)
        .await?;
        let change = DeploymentChange {
            finished_at: Some(now_ms()),
            error_message: Some(message(db.backend, abandoned.host.as_deref(), &step)),
            ..Default::default()
        };
        let moved = changes::transition_deployment(
            db,
            &mut tx,
            abandoned.id,
            DeploymentStatus::Running,
            DeploymentStatus::Failed,
            change,
        )
        .await?;
        if !moved {
            continue; // it ended by itself in the meantime
        }
        if let Some((step_id, _, _)) = step {
            changes::transition_step(
                db,
                &mut tx,
                step_id,
                StepStatus::Running,
                StepStatus::Failed,
            )
            .await?;
        }
        changes::commit(db, tx).await?;
        n += 1;
    }
    if n > 0 {
        tracing::warn!("failed {n} deployment(s) left running by a stopped instance");
    }
    Ok(n)
}

/// "The instance running it (on web-2) stopped during step 2, “Test”; …"
fn message(backend: Backend, host: Option<&str>, step: &Option<(StepId, String, i64)>) -> String {
    // One instance on SQLite: its host goes without saying.
    let on = host
        .filter(|h| !h.is_empty() && backend == Backend::Postgres)
        .map(|h| format!(" (on {h})"))
        .unwrap_or_default();
    let during = match step {
        Some((_, name, order)) => format!("during step {order}, \u{201c}{name}\u{201d}"),
        None => "between steps".to_string(),
    };
    let when = match backend {
        Backend::Sqlite => "when Flightdeck started again",
        Backend::Postgres => "once its lease ran out",
    };
    format!("The instance running it{on} stopped {during}; the deployment was failed {when}.")
}
