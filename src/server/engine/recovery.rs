//! Deployments a stopped server left running can never finish: at start,
//! each is failed, saying at which step the server stopped.

use crate::model::{AppError, DeploymentId, DeploymentStatus, StepId, StepStatus};
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{Db, now_ms};

/// Fails every running deployment; returns how many there were. Run before
/// this process claims anything, so none of them is its own.
pub async fn recover(db: &Db) -> Result<u64, AppError> {
    let running: Vec<(DeploymentId,)> =
        sqlx::query_as("select id from deployments where status = 'running'")
            .fetch_all(&db.pool)
            .await?;
    let mut n = 0;
    for (id,) in running {
        let mut tx = db.pool.begin().await?;
        let step: Option<(StepId, String, i64)> = sqlx::query_as(
            "select id, name, sort_order from deployment_steps where deployment_id = $1 and status = 'running'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let message = match &step {
            Some((_, name, order)) => format!(
                "The server stopped during step {order}, \u{201c}{name}\u{201d}; the deployment was failed when it started again."
            ),
            None => {
                "The server stopped between steps; the deployment was failed when it started again."
                    .to_string()
            }
        };
        // The deployment first: its row write takes the lock on SQLite.
        let change = DeploymentChange {
            finished_at: Some(now_ms()),
            error_message: Some(message),
            ..Default::default()
        };
        changes::transition_deployment(
            db,
            &mut tx,
            id,
            DeploymentStatus::Running,
            DeploymentStatus::Failed,
            change,
        )
        .await?;
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
        tracing::warn!("failed {n} deployment(s) left running by a previous process");
    }
    Ok(n)
}
