//! The deployment engine: queued deployments are claimed (one running per
//! site, a global limit), their steps run as real processes in order, and
//! every change is written through `store::changes` with its event.
//!
//! - this file: the [`Engine`] handle (start, trigger, retry, cancel, shutdown);
//! - [`trigger`]: building and queueing a deployment, the one-operation rule;
//! - [`scheduler`]: the loop that claims queued work;
//! - [`runner`]: one claimed deployment, step after step;
//! - [`step_env`]: what a step sees in its environment;
//! - [`process`] and [`output`]: one step's process and its stored output;
//! - [`sandbox`]: the bubblewrap box a step runs in;
//! - [`report`]: what a step reports back (the commit it checked out);
//! - [`finish`]: the final write, current deployments, site state;
//! - [`recovery`]: deployments a stopped server left running;
//! - [`pipelines`]: the definitions, compiled in or from a file.

mod finish;
mod output;
pub mod pipelines;
pub mod process;
mod recovery;
mod report;
mod request;
mod retry;
mod runner;
pub mod sandbox;
mod scheduler;
pub mod step_env;
pub mod trigger;

use crate::model::{Actor, AppError, DeploymentId, DeploymentStatus, TeamId};
use crate::server::config::{DataDir, PreviewHosts};
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{Db, deployments, now_ms};
use pipelines::Pipelines;
pub use recovery::recover;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};

/// Tunables of the engine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub data: DataDir,
    /// Pipelines running at once across all sites.
    pub max_parallel: usize,
    /// How long a cancelled step gets between TERM and KILL.
    pub grace: Duration,
    /// Where completed deploys are served.
    pub preview_hosts: PreviewHosts,
    /// The box steps run in; `None` runs them on the host
    /// (`FLIGHTDECK_SANDBOX=off`).
    pub sandbox: Option<sandbox::Sandbox>,
    /// How long a run waits out a database that does not answer before it
    /// ends the deployment failed (its final write is tried until it lands
    /// or the server stops).
    pub db_patience: Duration,
}

impl EngineConfig {
    /// Defaults for a data folder: four pipelines at once, five seconds of
    /// grace, previews on `*.preview.localhost:3000`, no sandbox, 30 s of
    /// patience with the database.
    pub fn new(data: DataDir) -> Self {
        Self {
            data,
            max_parallel: 4,
            grace: Duration::from_secs(5),
            preview_hosts: PreviewHosts::local(3000),
            sandbox: None,
            db_patience: Duration::from_secs(30),
        }
    }
}

/// Why a running deployment is being stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// Someone cancelled it.
    Cancelled,
    /// This server is shutting down and the grace period is over.
    ShuttingDown,
}

/// Cheap to clone; one per server process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    pipelines: Pipelines,
    config: EngineConfig,
    /// Wakes the scheduler: something was queued or a slot came free.
    wake: Notify,
    slots: Arc<Semaphore>,
    /// The deployments this process runs, each with the channel that stops it.
    running: Mutex<HashMap<DeploymentId, watch::Sender<Option<Stop>>>>,
    /// Set at shutdown: nothing new is claimed.
    stopping: AtomicBool,
    /// Set once the shutdown's grace period is over: whatever runs, or is
    /// claimed from now on, is stopped.
    stop_all: AtomicBool,
}

impl Engine {
    /// Fails what a previous process left running, then starts the loop
    /// that claims queued deployments.
    pub async fn start(
        db: Db,
        pipelines: Pipelines,
        config: EngineConfig,
    ) -> Result<Self, AppError> {
        recover(&db).await?;
        process::adopt_orphans();
        let engine = Self {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(config.max_parallel.max(1))),
                db,
                pipelines,
                config,
                wake: Notify::new(),
                running: Mutex::new(HashMap::new()),
                stopping: AtomicBool::new(false),
                stop_all: AtomicBool::new(false),
            }),
        };
        let scheduler = engine.clone();
        tokio::spawn(async move { scheduler.claim_loop().await });
        Ok(engine)
    }

    pub fn pipelines(&self) -> &Pipelines {
        &self.inner.pipelines
    }

    /// Creates a deployment and wakes the scheduler.
    pub async fn trigger(&self, req: trigger::TriggerRequest) -> Result<DeploymentId, AppError> {
        let id = trigger::create(&self.inner.db, &self.inner.pipelines, req).await?;
        self.inner.wake.notify_one();
        Ok(id)
    }

    /// A new deployment with the same type, source and meta as an earlier
    /// one of the team: retry of a failed one, or redeploy of any finished one.
    pub async fn retry(&self, actor: &Actor, id: DeploymentId) -> Result<DeploymentId, AppError> {
        let Some(old) = deployments::get(&self.inner.db, actor.team_id, id).await? else {
            return Err(AppError::not_found("Deployment"));
        };
        if !old.is_finished() {
            return Err(AppError::conflict("This deployment has not finished yet."));
        }
        self.trigger(trigger::TriggerRequest::retry(actor, &old))
            .await
    }

    /// Approves a deployment waiting for approval (a fork's pull request):
    /// it is queued from now on, and runs when its site is free.
    pub async fn approve(&self, actor: &Actor, id: DeploymentId) -> Result<(), AppError> {
        trigger::approve(&self.inner.db, actor.team_id, id, actor.user_id).await?;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Cancels a deployment of a team. A queued one ends cancelled at once;
    /// a running one when its step's processes are gone. A deployment this
    /// process runs is stopped at once; one another instance runs sees the
    /// stored request.
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
                sqlx::query("update deployments set cancel_requested_at = $1 where id = $2 and cancel_requested_at is null")
                    .bind(now_ms())
                    .bind(id)
                    .execute(&db.pool)
                    .await?;
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

    /// Stops for a shutdown: nothing new is claimed, running deployments get
    /// `grace` to finish, then what is left is cancelled with a message
    /// (its steps get the usual TERM, then KILL). Returns once nothing of
    /// this process runs any more.
    pub async fn shutdown(&self, grace: Duration, skip_grace: impl Future<Output = ()>) {
        tokio::pin!(skip_grace);
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.wake.notify_one();
        let all = self.inner.config.max_parallel.max(1) as u32;
        let idle = || self.inner.slots.acquire_many(all);
        tokio::select! {
            _ = tokio::time::timeout(grace, idle()) => {}
            // A second Ctrl-C or SIGTERM: stop now.
            _ = &mut skip_grace => {}
        }
        self.inner.stop_all.store(true, Ordering::SeqCst);
        let left: Vec<_> = {
            let running = self.lock_running();
            running.values().for_each(|stop| {
                stop.send_replace(Some(Stop::ShuttingDown));
            });
            running.keys().copied().collect()
        };
        if !left.is_empty() {
            tracing::warn!(
                count = left.len(),
                "stopping the deployments still running after the grace period"
            );
        }
        // TERM, the kill grace, KILL, and the final write; the margin
        // covers a database that is slow to take it.
        let bound = self.inner.config.grace + Duration::from_secs(10);
        if tokio::time::timeout(bound, idle()).await.is_err() {
            tracing::error!("deployments did not stop in time");
        }
    }

    fn lock_running(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<DeploymentId, watch::Sender<Option<Stop>>>> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}
