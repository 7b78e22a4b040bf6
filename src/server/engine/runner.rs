//! Runs one claimed deployment: its steps in order as real processes (in
//! the sandbox unless a step is marked otherwise), each marked running and
//! then ended, until one fails, it is cancelled, or all complete; then the
//! final write and the clean-up. A database that stops answering mid-run
//! is waited out for a while, then the deployment ends failed, saying so:
//! nothing is left running by a database error.

use super::finish::{End, finish, record_release_size};
use super::process::{self, Outcome, StepCommand};
use super::retry::retrying;
use super::scheduler::Claimed;
use super::step_env::{self, Place, Shape, StepContext};
use super::{Engine, Stop, output, report};
use crate::model::{DeploymentStatus, StepId, StepStatus};
use crate::server::store::changes;
use crate::server::store::{Db, deployments, instances, sites};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How the steps ended.
enum StepsEnd {
    Completed,
    Failed(String),
    /// Cancelled, with a message when it was not a person's doing.
    Cancelled(Option<String>),
    /// The next step could not start: another instance ended the
    /// deployment, or this one's lease lapsed. The message is recorded
    /// only if nobody ended it yet.
    Gone(String),
}

/// The database stopped answering during the run, for longer than the
/// engine waits: the step it was in (running, to be failed) and why.
struct Lost {
    step: Option<(StepId, String)>,
    error: sqlx::Error,
}

/// A step to run, as stored when the deployment was created.
#[derive(sqlx::FromRow)]
struct StepRow {
    id: StepId,
    name: String,
    command: String,
    timeout_secs: i64,
    sort_order: i64,
    sandboxed: i64,
}

/// Everything the steps of one deployment share.
struct Prepared {
    workspace: PathBuf,
    /// The places that exist or were made, for the environment and the box.
    places: Vec<Place>,
    boxed_env: Vec<(String, String)>,
    host_env: Vec<(String, String)>,
}

impl Engine {
    pub(super) async fn run_deployment(&self, d: Claimed, stop: watch::Receiver<Option<Stop>>) {
        let config = &self.inner.config;
        let (status, error, failed_step) = match self.run_steps(&d, stop).await {
            Ok(StepsEnd::Completed) => (DeploymentStatus::Completed, None, None),
            Ok(StepsEnd::Failed(message)) => (DeploymentStatus::Failed, Some(message), None),
            Ok(StepsEnd::Cancelled(message)) => (DeploymentStatus::Cancelled, message, None),
            Ok(StepsEnd::Gone(message)) => (DeploymentStatus::Failed, Some(message), None),
            Err(lost) => {
                tracing::error!(deployment = %d.id, error = %lost.error, "the database stopped answering during a run");
                let during = match &lost.step {
                    Some((_, label)) => format!(" during {label}"),
                    None => String::new(),
                };
                let message = format!(
                    "Flightdeck lost its database{during} and stopped the deployment; run it again once the database answers."
                );
                (
                    DeploymentStatus::Failed,
                    Some(message),
                    lost.step.map(|(id, _)| id),
                )
            }
        };
        let end = End {
            status,
            error,
            preview_url: (status == DeploymentStatus::Completed && d.pipeline_type.publishes())
                .then(|| config.preview_hosts.url(d.id)),
            failed_step,
        };
        // Only a completed deploy is served; what an unfinished one
        // published is removed before anyone is told it ended.
        if status != DeploymentStatus::Completed {
            let _ = tokio::fs::remove_dir_all(config.data.release(d.id)).await;
        }
        // The final write must land, or the deployment would stay running
        // and its site refuse manual deploys: it is tried until it does,
        // for as long as this process runs. Should the server stop first,
        // recovery fails the deployment at the next start.
        let db = &self.inner.db;
        loop {
            match retrying(config.db_patience, || finish(db, &d, &end)).await {
                Ok(()) => break,
                Err(e) if self.inner.stopping.load(Ordering::SeqCst) => {
                    tracing::error!(deployment = %d.id, error = %e, "could not record the end of a deployment before shutting down; the next start fails it");
                    break;
                }
                Err(e) => {
                    tracing::error!(deployment = %d.id, error = %e, "still cannot record the end of a deployment; trying again");
                }
            }
        }
        let _ = tokio::fs::remove_dir_all(config.data.workspace(d.id)).await;
        let _ = tokio::fs::remove_file(config.data.report_file(d.id)).await;
        record_release_size(db, &config.data, &d, status).await;
    }

    async fn run_steps(
        &self,
        d: &Claimed,
        stop: watch::Receiver<Option<Stop>>,
    ) -> Result<StepsEnd, Lost> {
        let db = &self.inner.db;
        let patience = self.inner.config.db_patience;
        let lost = |step: Option<(StepId, String)>| move |error| Lost { step, error };
        let steps: Vec<StepRow> = retrying(patience, || {
            sqlx::query_as(
                "select id, name, command, timeout_secs, sort_order, sandboxed from deployment_steps \
                 where deployment_id = $1 order by sort_order",
            )
            .bind(d.id)
            .fetch_all(&db.pool)
        })
        .await
        .map_err(lost(None))?;
        let prepared = match self.prepare(d).await {
            Ok(Ok(prepared)) => prepared,
            Ok(Err(message)) => return Ok(StepsEnd::Failed(message)),
            Err(e) => return Err(lost(None)(e)),
        };
        let total = steps.len();
        for step in steps {
            let label = format!(
                "step {} of {total}, \u{201c}{}\u{201d}",
                step.sort_order, step.name
            );
            let stopped = *stop.borrow();
            match stopped {
                Some(Stop::ShuttingDown) => {
                    return Ok(StepsEnd::Cancelled(Some(format!(
                        "The server shut down before {label} started."
                    ))));
                }
                Some(Stop::LeaseLost) => {
                    return Ok(StepsEnd::Cancelled(Some(lease_lost(&label, false))));
                }
                Some(Stop::Cancelled) => return Ok(StepsEnd::Cancelled(None)),
                None => {}
            }
            if retrying(patience, || self.should_stop(d.id))
                .await
                .map_err(lost(None))?
            {
                return Ok(StepsEnd::Cancelled(None));
            }
            let started = retrying(patience, || {
                transition_step(db, step.id, StepStatus::Queued, StepStatus::Running)
            })
            .await
            .map_err(lost(None))?;
            if !started {
                return Ok(StepsEnd::Gone(lease_lost(&label, false)));
            }
            let running = Some((step.id, label.clone()));

            let outcome = self.run_step(d, &step, &prepared, stop.clone()).await;
            retrying(patience, || {
                report::record(db, &self.inner.config.data, d.id)
            })
            .await
            .map_err(lost(running.clone()))?;
            let stopped = *stop.borrow();
            let (step_status, end) = match outcome {
                Ok(Outcome::Succeeded) => (StepStatus::Completed, None),
                Ok(Outcome::Cancelled) if stopped == Some(Stop::LeaseLost) => (
                    StepStatus::Cancelled,
                    Some(StepsEnd::Cancelled(Some(lease_lost(&label, true)))),
                ),
                Ok(Outcome::Cancelled) if stopped == Some(Stop::ShuttingDown) => (
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
            retrying(patience, || {
                transition_step(db, step.id, StepStatus::Running, step_status)
            })
            .await
            .map_err(lost(running))?;
            if let Some(end) = end {
                return Ok(end);
            }
        }
        Ok(StepsEnd::Completed)
    }

    /// The workspace, the places the steps may use (folders they write made
    /// now, so the sandbox can show them) and the two environments: for a
    /// boxed step, and for one an operator marked `sandbox = false`.
    /// `Ok(Err(message))` when the workspace cannot be made.
    async fn prepare(&self, d: &Claimed) -> Result<Result<Prepared, String>, sqlx::Error> {
        let db = &self.inner.db;
        let config = &self.inner.config;
        let data = &config.data;
        let patience = config.db_patience;
        let workspace = data.workspace(d.id);
        if let Err(e) = tokio::fs::create_dir_all(&workspace).await {
            return Ok(Err(format!("Could not create the workspace: {e}")));
        }
        let deployment = retrying(patience, || deployments::for_run(db, d.id)).await?;
        let (slug, current) = retrying(patience, || sites::slug_and_current(db, d.site_id)).await?;
        let local_repository = deployment
            .repository
            .as_deref()
            .and_then(|r| data.team_repository(d.team_id, r));
        let cx = StepContext {
            deployment: &deployment,
            site_slug: &slug,
            current,
            data,
            preview_hosts: &config.preview_hosts,
            local_repository,
        };
        let mut places = Vec::new();
        for place in step_env::places(&cx) {
            if ready(&place).await {
                places.push(place);
            }
        }
        Ok(Ok(Prepared {
            boxed_env: step_env::deployment_env(&cx, &places, false),
            host_env: step_env::deployment_env(&cx, &places, true),
            workspace,
            places,
        }))
    }

    async fn run_step(
        &self,
        d: &Claimed,
        step: &StepRow,
        prepared: &Prepared,
        stop: watch::Receiver<Option<Stop>>,
    ) -> std::io::Result<Outcome> {
        let config = &self.inner.config;
        let boxed = match &config.sandbox {
            Some(sandbox) if step.sandboxed != 0 => Some(sandbox),
            _ => None,
        };
        let (command, base_env) = match boxed {
            Some(sandbox) => {
                let mounts: Vec<_> = prepared.places.iter().map(Place::mount).collect();
                let command = sandbox.command(&prepared.workspace, &mounts, &step.command);
                let command = StepCommand {
                    command,
                    boxed: true,
                };
                (command, &prepared.boxed_env)
            }
            None => (StepCommand::shell(&step.command), &prepared.host_env),
        };
        let mut env = base_env.clone();
        env.extend(step_env::step_vars(
            &step.name,
            step.sort_order,
            &prepared.workspace,
        ));
        let (out_tx, out_rx) = mpsc::channel(64);
        let writer = tokio::spawn(output::write_output(
            self.inner.db.clone(),
            step.id,
            out_rx,
            config.db_patience,
        ));
        let (watcher, cancelled) = self.watch_cancel(d.id, stop);
        // Without a PID namespace, the group is recorded so that an
        // instance restarted on this host can end it should this one die.
        let record_group = boxed.is_none();
        let (group_tx, group_rx) = tokio::sync::oneshot::channel::<i32>();
        let recorded = record_group.then(|| {
            let db = self.inner.db.clone();
            let step_id = step.id;
            tokio::spawn(async move {
                if let Ok(group) = group_rx.await {
                    let _ = instances::set_process_group(&db, step_id, Some(group.into())).await;
                }
            })
        });
        let outcome = process::run(
            command,
            &prepared.workspace,
            &env,
            Duration::from_secs(step.timeout_secs.max(1) as u64),
            config.grace,
            cancelled,
            out_tx,
            |group| {
                let _ = group_tx.send(group);
            },
        )
        .await;
        // The group is gone: its record goes, once it was written.
        if let Some(recorded) = recorded {
            let _ = recorded.await;
            let _ = instances::set_process_group(&self.inner.db, step.id, None).await;
        }
        watcher.abort();
        let _ = writer.await;
        outcome
    }
}

/// Makes a place the steps write (a folder, or the empty report file);
/// keeps one they only read when it exists. Returns whether it is there.
async fn ready(place: &Place) -> bool {
    use super::sandbox::Access;
    match (place.access, place.shape) {
        (Access::Write, Shape::Folder) => tokio::fs::create_dir_all(&place.path).await.is_ok(),
        (Access::Write, Shape::File) => {
            if let Some(parent) = place.path.parent() {
                let _ = tokio::fs::create_dir_all(parent).await;
            }
            tokio::fs::write(&place.path, b"").await.is_ok()
        }
        (Access::Read, _) => tokio::fs::try_exists(&place.path).await.unwrap_or(false),
    }
}

/// Moves a step from `from` to `to` in a transaction of its own; false
/// when it was refused (the deployment was ended by another instance).
async fn transition_step(
    db: &Db,
    id: StepId,
    from: StepStatus,
    to: StepStatus,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let moved = changes::transition_step(db, &mut tx, id, from, to).await?;
    changes::commit(db, tx).await?;
    Ok(moved)
}

/// Why a run stopped when this instance lost its lease: during a step
/// (which was stopped), or before one (which never started).
fn lease_lost(label: &str, during: bool) -> String {
    let what = if during {
        format!("during {label}; the step was stopped")
    } else {
        format!("before {label}; the step was not started")
    };
    format!(
        "This instance lost its lease on the database {what} so that another instance could \
         take over. Run it again."
    )
}

/// "step 2 of 3, …" as the start of a sentence.
fn capital(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
