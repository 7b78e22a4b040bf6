//! Runs one claimed deployment: its steps in order as real processes, each
//! marked running and then ended, until one fails, it is cancelled, or all
//! complete; then the final write and the clean-up.

use super::finish::{End, finish};
use super::process::{self, Outcome};
use super::scheduler::Claimed;
use super::step_env::{self, StepContext};
use super::{Engine, Stop, output, report};
use crate::model::{DeploymentId, DeploymentStatus, StepId, StepStatus};
use crate::server::store::changes;
use crate::server::store::{deployments, sites};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often a running step looks for a cancel stored by another instance;
/// one made on this instance reaches the step at once.
const CANCEL_LOOK: Duration = Duration::from_millis(500);

/// How the steps ended.
enum StepsEnd {
    Completed,
    Failed(String),
    /// Cancelled, with a message when it was not a person's doing.
    Cancelled(Option<String>),
}

/// A step to run, as stored when the deployment was created.
#[derive(sqlx::FromRow)]
struct StepRow {
    id: StepId,
    name: String,
    command: String,
    timeout_secs: i64,
    sort_order: i64,
}

impl Engine {
    pub(super) async fn run_deployment(
        &self,
        d: Claimed,
        stop: watch::Receiver<Option<Stop>>,
    ) -> Result<(), sqlx::Error> {
        let (status, error) = match self.run_steps(&d, stop).await? {
            StepsEnd::Completed => (DeploymentStatus::Completed, None),
            StepsEnd::Failed(message) => (DeploymentStatus::Failed, Some(message)),
            StepsEnd::Cancelled(message) => (DeploymentStatus::Cancelled, message),
        };
        let config = &self.inner.config;
        let end = End {
            status,
            error,
            preview_url: (status == DeploymentStatus::Completed && d.pipeline_type.publishes())
                .then(|| config.preview_hosts.url(d.id)),
        };
        // The final write must land, or the deployment would stay running
        // forever: a transient failure (a busy database, a deadlock victim)
        // is retried.
        let mut attempt = 0;
        loop {
            match finish(&self.inner.db, &d, &end).await {
                Ok(()) => break,
                Err(e) if attempt < 8 => {
                    attempt += 1;
                    tracing::warn!(deployment = %d.id, error = %e, attempt, "retrying the final write");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
        let _ = tokio::fs::remove_dir_all(config.data.workspace(d.id)).await;
        let _ = tokio::fs::remove_file(config.data.report_file(d.id)).await;
        // Only a completed deploy is served; what an unfinished one
        // published is removed.
        if status != DeploymentStatus::Completed {
            let _ = tokio::fs::remove_dir_all(config.data.release(d.id)).await;
        }
        Ok(())
    }

    async fn run_steps(
        &self,
        d: &Claimed,
        stop: watch::Receiver<Option<Stop>>,
    ) -> Result<StepsEnd, sqlx::Error> {
        let db = &self.inner.db;
        let data = &self.inner.config.data;
        let steps: Vec<StepRow> = sqlx::query_as(
            "select id, name, command, timeout_secs, sort_order from deployment_steps \
             where deployment_id = $1 order by sort_order",
        )
        .bind(d.id)
        .fetch_all(&db.pool)
        .await?;
        let workspace = data.workspace(d.id);
        if let Err(e) = tokio::fs::create_dir_all(&workspace).await {
            return Ok(StepsEnd::Failed(format!(
                "Could not create the workspace: {e}"
            )));
        }
        let Some(deployment) = deployments::get(db, d.team_id, d.id)
            .await
            .map_err(|_| sqlx::Error::RowNotFound)?
        else {
            return Err(sqlx::Error::RowNotFound);
        };
        let (slug, current) = sites::slug_and_current(db, d.site_id).await?;
        let base_env = step_env::deployment_env(&StepContext {
            deployment: &deployment,
            site_slug: &slug,
            current,
            data,
            preview_hosts: &self.inner.config.preview_hosts,
        });
        let total = steps.len();
        for step in steps {
            let label = format!(
                "step {} of {total}, \u{201c}{}\u{201d}",
                step.sort_order, step.name
            );
            match *stop.borrow() {
                Some(Stop::ShuttingDown) => {
                    return Ok(StepsEnd::Cancelled(Some(format!(
                        "The server shut down before {label} started."
                    ))));
                }
                Some(Stop::Cancelled) => return Ok(StepsEnd::Cancelled(None)),
                None => {}
            }
            if self.cancel_requested(d.id).await? {
                return Ok(StepsEnd::Cancelled(None));
            }
            let mut tx = db.pool.begin().await?;
            changes::transition_step(
                db,
                &mut tx,
                step.id,
                StepStatus::Queued,
                StepStatus::Running,
            )
            .await?;
            changes::commit(db, tx).await?;

            let mut env = base_env.clone();
            env.extend(step_env::step_vars(&step.name, step.sort_order, &workspace));
            let (out_tx, out_rx) = mpsc::channel(64);
            let writer = tokio::spawn(output::write_output(db.clone(), step.id, out_rx));
            let (watcher, cancelled) = self.watch_cancel(d.id, stop.clone());
            let outcome = process::run(
                &step.command,
                &workspace,
                &env,
                Duration::from_secs(step.timeout_secs.max(1) as u64),
                self.inner.config.grace,
                cancelled,
                out_tx,
            )
            .await;
            watcher.abort();
            let _ = writer.await;
            report::record(db, data, d.id).await?;
            let shut_down = *stop.borrow() == Some(Stop::ShuttingDown);
            let (step_status, end) = match outcome {
                Ok(Outcome::Succeeded) => (StepStatus::Completed, None),
                Ok(Outcome::Cancelled) if shut_down => (
                    StepStatus::Cancelled,
                    Some(StepsEnd::Cancelled(Some(format!(
                        "The server shut down during {label}; the step was stopped."
                    )))),
                ),
                Ok(Outcome::Cancelled) => (StepStatus::Cancelled, Some(StepsEnd::Cancelled(None))),
                Ok(Outcome::Failed(why)) => (
                    StepStatus::Failed,
                    Some(StepsEnd::Failed(format!(
                        "{}, failed: it {why}.",
                        capital(&label)
                    ))),
                ),
                Ok(Outcome::TimedOut(t)) => (
                    StepStatus::Failed,
                    Some(StepsEnd::Failed(format!(
                        "{}, timed out after {}s.",
                        capital(&label),
                        t.as_secs()
                    ))),
                ),
                Err(e) => (
                    StepStatus::Failed,
                    Some(StepsEnd::Failed(format!(
                        "{}, could not start: {e}.",
                        capital(&label)
                    ))),
                ),
            };
            let mut tx = db.pool.begin().await?;
            changes::transition_step(db, &mut tx, step.id, StepStatus::Running, step_status)
                .await?;
            changes::commit(db, tx).await?;
            if let Some(end) = end {
                return Ok(end);
            }
        }
        Ok(StepsEnd::Completed)
    }

    async fn cancel_requested(&self, id: DeploymentId) -> Result<bool, sqlx::Error> {
        let (at,): (Option<i64>,) =
            sqlx::query_as("select cancel_requested_at from deployments where id = $1")
                .bind(id)
                .fetch_one(&self.inner.db.pool)
                .await?;
        Ok(at.is_some())
    }

    /// A flag for the step's process that turns true when this process
    /// stops the deployment (at once) or, for a cancel stored by another
    /// instance, when the poll finds it.
    fn watch_cancel(
        &self,
        id: DeploymentId,
        mut stop: watch::Receiver<Option<Stop>>,
    ) -> (tokio::task::JoinHandle<()>, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(stop.borrow().is_some());
        let engine = self.clone();
        let handle = tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = stop.changed() => {
                        if changed.is_err() { return; }
                        if stop.borrow().is_some() { let _ = tx.send(true); return; }
                    }
                    _ = tokio::time::sleep(CANCEL_LOOK) => {
                        if engine.cancel_requested(id).await.unwrap_or(false) {
                            let _ = tx.send(true);
                            return;
                        }
                    }
                }
            }
        });
        (handle, rx)
    }
}

/// "step 2 of 3, …" as the start of a sentence.
fn capital(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
