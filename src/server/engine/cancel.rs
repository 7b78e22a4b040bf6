//! Cancelling a deployment, wherever it runs: a queued one ends at once;
//! a running one is stopped by the instance that runs it, which hears of
//! it at once (directly when it is this one, by `NOTIFY` from another), or
//! at worst finds the stored request at its next poll.

use super::{Engine, Stop};
use crate::model::{AppError, DeploymentId, DeploymentStatus, TeamId};
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{deployments, now_ms};
use std::time::Duration;
use tokio::sync::watch;

/// How often a running step looks for a cancel stored by another
/// instance: the safety net, as every cancel reaches the step at once
/// (directly, or by `NOTIFY` from the instance it was asked of).
const CANCEL_LOOK: Duration = Duration::from_secs(5);

impl Engine {
    /// Cancels a deployment of a team. A queued one ends cancelled at once;
    /// a running one when its step's processes are gone. A deployment this
    /// process runs is stopped at once, one another instance runs as soon
    /// as that instance hears of it (`NOTIFY`, or its poll of the stored
    /// request).
    pub async fn cancel(&self, team_id: TeamId, id: DeploymentId) -> Result<(), AppError> {
        let db = &self.inner.db;
        let Some(status) = deployments::status(db, team_id, id).await? else {
            return Err(AppError::not_found("Deployment"));
        };
        match status {
            DeploymentStatus::Queued => {
                let mut tx = db.pool.begin().await?;
                let change = DeploymentChange {
                    finished_at: Some(now_ms()),
                    ..Default::default()
                };
                let moved = changes::transition_deployment(
                    db,
                    &mut tx,
                    id,
                    DeploymentStatus::Queued,
                    DeploymentStatus::Cancelled,
                    change,
                )
                .await?;
                changes::commit(db, tx).await?;
                if moved {
                    return Ok(());
                }
                // It started in the meantime: cancel it as a running one.
                Box::pin(self.cancel(team_id, id)).await
            }
            DeploymentStatus::Running => {
                changes::request_cancel(db, id).await?;
                if let Some(stop) = self.lock_running().get(&id) {
                    stop.send_replace(Some(Stop::Cancelled));
                }
                Ok(())
            }
            _ => Err(AppError::conflict(format!(
                "This deployment already ended {status}; there is nothing to cancel."
            ))),
        }
    }

    /// Hands cancels requested on any instance to the runs of this one.
    pub(super) async fn cancel_listener(self) {
        let mut cancels = self.inner.db.signals.cancels.subscribe();
        loop {
            let id: DeploymentId = match cancels.recv().await {
                Ok(id) => id,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if let Some(stop) = self.lock_running().get(&id) {
                stop.send_if_modified(|s| {
                    if s.is_none() {
                        *s = Some(Stop::Cancelled);
                        true
                    } else {
                        false
                    }
                });
            }
        }
    }

    /// Whether the run should stop: a cancel was stored for the
    /// deployment, or it is no longer running (another instance failed it
    /// when this one's lease ran out).
    pub(super) async fn should_stop(&self, id: DeploymentId) -> Result<bool, sqlx::Error> {
        let (at, status): (Option<i64>, DeploymentStatus) =
            sqlx::query_as("select cancel_requested_at, status from deployments where id = $1")
                .bind(id)
                .fetch_one(&self.inner.db.pool)
                .await?;
        Ok(at.is_some() || status != DeploymentStatus::Running)
    }

    /// The grace a step's process gets once it is to stop: set at once
    /// when this instance stops the deployment, or when the poll finds a
    /// cancel stored by another instance that was not heard of.
    pub(super) fn watch_cancel(
        &self,
        id: DeploymentId,
        mut stop: watch::Receiver<Option<Stop>>,
    ) -> (
        tokio::task::JoinHandle<()>,
        watch::Receiver<Option<Duration>>,
    ) {
        let engine = self.clone();
        let grace = move |why: Stop| match why {
            Stop::LeaseLost => engine.lease_lost_grace(),
            Stop::Cancelled | Stop::ShuttingDown => engine.inner.config.grace,
        };
        let (tx, rx) = watch::channel(stop.borrow().map(&grace));
        let engine = self.clone();
        let handle = tokio::spawn(async move {
            // The poll runs inside the select: a database that hangs never
            // keeps a stop (a lost lease above all) from the step.
            let poll = || async {
                loop {
                    tokio::time::sleep(CANCEL_LOOK).await;
                    if engine.should_stop(id).await.unwrap_or(false) {
                        return;
                    }
                }
            };
            loop {
                tokio::select! {
                    changed = stop.changed() => {
                        if changed.is_err() { return; }
                        let why = *stop.borrow();
                        if let Some(why) = why { let _ = tx.send(Some(grace(why))); return; }
                    }
                    () = poll() => {
                        let _ = tx.send(Some(engine.inner.config.grace));
                        return;
                    }
                }
            }
        });
        (handle, rx)
    }
}
