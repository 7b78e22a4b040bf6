//! The deployment engine: queued deployments are claimed (one running per
//! site, a global limit), their steps run as real processes in order, and
//! every change is written through `store::changes` with its event.
//!
//! - this file: the [`Engine`] handle (start, trigger, retry, rollback,
//!   promote, shutdown);
//! - [`cancel`]: cancelling, wherever the deployment runs;
//! - [`trigger`]: building and queueing a deployment, the one-operation rule;
//! - [`scheduler`]: the loop that claims queued work;
//! - [`runner`]: one claimed deployment, step after step;
//! - [`step_env`]: what a step sees in its environment;
//! - [`process`] and [`output`]: one step's process and its stored output;
//! - [`sandbox`]: the bubblewrap box a step runs in;
//! - [`report`]: what a step reports back (the commit it checked out);
//! - [`finish`]: the final write, current deployments, site state;
//! - [`recovery`]: deployments a stopped instance left running;
//! - [`lease`]: this instance's lease on the database, and the sweep for
//!   instances that are gone;
//! - [`pipelines`]: the definitions, compiled in or from a file.

mod cancel;
mod finish;
mod lease;
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

use crate::model::{Actor, AppError, Deployment, DeploymentId, InstanceId};
use crate::server::config::{DataDir, PreviewHosts};
use crate::server::store::instances::{self, Host};
use crate::server::store::{Db, deployments};
use pipelines::Pipelines;
pub use recovery::recover;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

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
    /// How long this instance's lease on the database lasts
    /// (`FLIGHTDECK_LEASE_SECS`); it is renewed at a third of it.
    pub lease: Duration,
}

impl EngineConfig {
    /// Defaults for a data folder: four pipelines at once, five seconds of
    /// grace, previews on `*.preview.localhost:3000`, no sandbox, 30 s of
    /// patience with the database, a lease of 30 s.
    pub fn new(data: DataDir) -> Self {
        Self {
            data,
            max_parallel: 4,
            grace: Duration::from_secs(5),
            preview_hosts: PreviewHosts::local(3000),
            sandbox: None,
            db_patience: Duration::from_secs(30),
            lease: Duration::from_secs(30),
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
    /// This instance could not keep its lease on the database: another
    /// instance may take its work over soon.
    LeaseLost,
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
    /// The instance this engine runs as (a new one after a lost lease).
    instance: Mutex<InstanceId>,
    host: Host,
    /// Set while the lease is not held: nothing new is claimed.
    lease_lost: AtomicBool,
    /// Set while a sweep for gone instances runs.
    sweeping: AtomicBool,
    slots: Arc<Semaphore>,
    /// The deployments this process runs, each with the channel that stops it.
    running: Mutex<HashMap<DeploymentId, watch::Sender<Option<Stop>>>>,
    /// Set at shutdown: nothing new is claimed.
    stopping: AtomicBool,
    /// Set once the shutdown's grace period is over: whatever runs, or is
    /// claimed from now on, is stopped.
    stop_all: AtomicBool,
    /// Set once nothing of this instance runs any more at shutdown: the
    /// lease, kept until then, is given up.
    stopped: AtomicBool,
}

impl Engine {
    /// Registers this instance with its lease, fails what gone instances
    /// left running and ends what they left of their steps on this host,
    /// then starts the loops that claim queued deployments, keep the lease
    /// and hear cancels from other instances.
    pub async fn start(
        db: Db,
        pipelines: Pipelines,
        config: EngineConfig,
    ) -> Result<Self, AppError> {
        let id = InstanceId::new();
        let host = Host::this();
        let registered = tokio::time::Instant::now();
        instances::register(&db, id, &host, config.lease.as_millis() as i64).await?;
        recover(&db, id).await?;
        process::adopt_orphans();
        let engine = Self {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(config.max_parallel.max(1))),
                db,
                pipelines,
                config,
                instance: Mutex::new(id),
                host,
                lease_lost: AtomicBool::new(false),
                sweeping: AtomicBool::new(false),
                running: Mutex::new(HashMap::new()),
                stopping: AtomicBool::new(false),
                stop_all: AtomicBool::new(false),
                stopped: AtomicBool::new(false),
            }),
        };
        engine.end_left_groups(id).await;
        tokio::spawn(engine.clone().claim_loop());
        tokio::spawn(engine.clone().lease_loop(registered));
        tokio::spawn(engine.clone().cancel_listener());
        Ok(engine)
    }

    /// The data folder the engine's steps publish into.
    pub fn data_dir(&self) -> &DataDir {
        &self.inner.config.data
    }

    pub fn pipelines(&self) -> &Pipelines {
        &self.inner.pipelines
    }

    /// Creates a deployment and wakes the scheduler.
    pub async fn trigger(&self, req: trigger::TriggerRequest) -> Result<DeploymentId, AppError> {
        let id = trigger::create(&self.inner.db, &self.inner.pipelines, req).await?;
        self.inner.db.signals.work.notify_one();
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

    /// Publishes an earlier deploy of a site again, with no build, as a
    /// deploy of its own that becomes current. Refused (409) while the
    /// site is busy, for the deploy the site serves now and for one whose
    /// release is no longer kept; 404 for another team's.
    pub async fn rollback(
        &self,
        actor: &Actor,
        id: DeploymentId,
    ) -> Result<DeploymentId, AppError> {
        let target = self
            .republishable(actor, id, Deployment::rollback_refusal)
            .await?;
        self.trigger(trigger::TriggerRequest::rollback(actor, &target))
            .await
    }

    /// Makes a completed pull-request preview the site's current
    /// deployment, its release published as it was reviewed. Refused like
    /// [`Engine::rollback`], and while the site is locked.
    pub async fn promote(&self, actor: &Actor, id: DeploymentId) -> Result<DeploymentId, AppError> {
        let preview = self
            .republishable(actor, id, Deployment::promote_refusal)
            .await?;
        self.trigger(trigger::TriggerRequest::promote(actor, &preview))
            .await
    }

    /// The team's deployment `id`, when `refusal` finds nothing against
    /// publishing its release again and its files are on disk.
    async fn republishable(
        &self,
        actor: &Actor,
        id: DeploymentId,
        refusal: fn(&Deployment) -> Option<String>,
    ) -> Result<Deployment, AppError> {
        let Some(old) = deployments::get(&self.inner.db, actor.team_id, id).await? else {
            return Err(AppError::not_found("Deployment"));
        };
        if let Some(why) = refusal(&old) {
            return Err(AppError::conflict(why));
        }
        let release = self.inner.config.data.release(old.id);
        if !tokio::fs::metadata(&release)
            .await
            .is_ok_and(|m| m.is_dir())
        {
            return Err(AppError::conflict(
                "Its release is no longer on this server, so it cannot be published again.",
            ));
        }
        Ok(old)
    }

    /// Approves a deployment waiting for approval (a fork's pull request):
    /// it is queued from now on, and runs when its site is free.
    pub async fn approve(&self, actor: &Actor, id: DeploymentId) -> Result<(), AppError> {
        trigger::approve(&self.inner.db, actor.team_id, id, actor.user_id).await?;
        self.inner.db.signals.work.notify_one();
        Ok(())
    }

    /// Stops for a shutdown: nothing new is claimed, running deployments get
    /// `grace` to finish, then what is left is cancelled with a message
    /// (its steps get the usual TERM, then KILL). Returns once nothing of
    /// this process runs any more.
    pub async fn shutdown(&self, grace: Duration, skip_grace: impl Future<Output = ()>) {
        tokio::pin!(skip_grace);
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.db.signals.work.notify_one();
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
        // The lease ends now: whatever this instance could not end is
        // failed by the others at once, not once the lease runs out.
        self.inner.stopped.store(true, Ordering::SeqCst);
        if let Err(e) = instances::stop(&self.inner.db, self.instance_id()).await {
            tracing::warn!(error = %e, "could not record that this instance stopped");
        }
    }

    fn lock_running(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<DeploymentId, watch::Sender<Option<Stop>>>> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}
