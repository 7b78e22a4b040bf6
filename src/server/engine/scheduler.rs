//! The loop that claims queued work: the oldest queued deployment of each
//! free site, while a slot of this instance's limit is free. Several
//! instances share the queue: on PostgreSQL a claim locks its candidate
//! with `FOR UPDATE SKIP LOCKED`, so two instances never wait on, nor
//! start, the same deployment; the unique index on running deployments
//! stays the last guard.

use super::{Engine, Stop};
use crate::model::{
    DeploymentId, DeploymentStatus, InstanceId, PipelineType, SiteId, TeamId, TriggerKind,
};
use crate::server::store::changes::{self, DeploymentChange, Tx};
use crate::server::store::{Backend, instances, now_ms, unique_violation};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// A queued deployment that may be claimed.
#[derive(sqlx::FromRow, Clone, Copy)]
struct Candidate {
    id: DeploymentId,
    team_id: TeamId,
    site_id: SiteId,
    #[sqlx(rename = "type")]
    pipeline_type: PipelineType,
    trigger_kind: TriggerKind,
}

/// A deployment this process has marked running and now runs.
#[derive(Clone, Copy)]
pub(super) struct Claimed {
    pub id: DeploymentId,
    pub team_id: TeamId,
    pub site_id: SiteId,
    pub pipeline_type: PipelineType,
    pub trigger_kind: TriggerKind,
    /// The instance that claimed it; only while it holds its lease may the
    /// run make the deployment completed.
    pub claimed_by: InstanceId,
}

/// How often the scheduler looks without being woken: the safety net.
/// Work queued or freed anywhere wakes it at once (`NOTIFY` from other
/// instances).
const IDLE_LOOK: Duration = Duration::from_secs(5);

/// How many claims a scheduler round tries before it waits to be woken:
/// a lost race (another instance took the site first) costs one each.
const CLAIM_TRIES: usize = 8;

/// The oldest queued deployment of each free site, oldest first.
const CANDIDATES: &str = "select d.id, d.team_id, d.site_id, d.type, d.trigger_kind from deployments d \
     where d.status = 'queued' and d.awaiting_approval = 0 and d.waiting_for_unlock = 0 \
     and not exists (select 1 from deployments r where r.site_id = d.site_id and r.status = 'running') \
     and not exists (select 1 from deployments o where o.site_id = d.site_id and o.status = 'queued' \
     and o.awaiting_approval = 0 and o.waiting_for_unlock = 0 and o.id < d.id) \
     order by d.id limit 1";

impl Engine {
    pub(super) async fn claim_loop(self) {
        while !self.inner.stopping.load(Ordering::SeqCst) {
            self.claim_while_free().await;
            tokio::select! {
                _ = self.inner.db.signals.work.notified() => {}
                _ = tokio::time::sleep(IDLE_LOOK) => {}
            }
        }
    }

    /// Starts claimed deployments until no slot or no work is left.
    async fn claim_while_free(&self) {
        loop {
            if self.inner.stopping.load(Ordering::SeqCst)
                || self.inner.lease_lost.load(Ordering::SeqCst)
            {
                return;
            }
            let Ok(permit) = self.inner.slots.clone().try_acquire_owned() else {
                return;
            };
            let (claimed, stop) = match self.claim_next().await {
                Ok(Some(claimed)) => claimed,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim a deployment");
                    return;
                }
            };
            let engine = self.clone();
            tokio::spawn(async move {
                // Even should the run panic, its entry and its slot are
                // given back (the sweep then fails what it left running).
                let _done = Done {
                    engine: engine.clone(),
                    id: claimed.id,
                    permit: Some(permit),
                };
                engine.run_deployment(claimed, stop).await;
            });
        }
    }

    /// Takes the oldest queued deployment of a free site and marks it
    /// running, claimed by this instance, only while it holds its lease,
    /// and registered (before the commit, so that the sweep never takes a
    /// claim being made for a lost one) so a cancel reaches it at once.
    async fn claim_next(
        &self,
    ) -> Result<Option<(Claimed, watch::Receiver<Option<Stop>>)>, sqlx::Error> {
        let db = &self.inner.db;
        let me = self.instance_id();
        for _ in 0..CLAIM_TRIES {
            let (mut tx, candidate) = match db.backend {
                Backend::Postgres => {
                    let mut tx = db.pool.begin().await?;
                    if !instances::holds_lease(db, &mut tx, me).await? {
                        return Ok(None);
                    }
                    // Locked until the claim commits; other instances pass it by.
                    let candidate = sqlx::query_as::<_, Candidate>(&format!(
                        "{CANDIDATES} for update of d skip locked"
                    ))
                    .fetch_optional(&mut *tx)
                    .await?;
                    (tx, candidate)
                }
                // One claimer; read first, so the transaction below starts
                // with its write (SQLite's lock is taken, never upgraded).
                Backend::Sqlite => {
                    let candidate = sqlx::query_as::<_, Candidate>(CANDIDATES)
                        .fetch_optional(&db.pool)
                        .await?;
                    (db.pool.begin().await?, candidate)
                }
            };
            let Some(c) = candidate else {
                return Ok(None);
            };
            let (stop, stopped) = watch::channel(None);
            self.lock_running().insert(c.id, stop);
            let claimed = self.claim(&mut tx, &c, me).await;
            let claimed = match claimed {
                Ok(true) => changes::commit(db, tx).await.map(|()| true),
                other => other,
            };
            let mut running = self.lock_running();
            match claimed {
                Ok(true) => {
                    let stop = &running[&c.id];
                    // Claimed just as the shutdown's grace ran out, or as
                    // the lease was lost or renewed under a new id: it
                    // stops before its first step.
                    if self.inner.stop_all.load(Ordering::SeqCst) {
                        stop.send_replace(Some(Stop::ShuttingDown));
                    } else if self.inner.lease_lost.load(Ordering::SeqCst)
                        || self.instance_id() != me
                    {
                        stop.send_replace(Some(Stop::LeaseLost));
                    }
                    let claimed = Claimed {
                        id: c.id,
                        team_id: c.team_id,
                        site_id: c.site_id,
                        pipeline_type: c.pipeline_type,
                        trigger_kind: c.trigger_kind,
                        claimed_by: me,
                    };
                    return Ok(Some((claimed, stopped)));
                }
                // Another claimer got there first (on SQLite, where
                // nothing is locked): look again.
                Ok(false) => {
                    running.remove(&c.id);
                    continue;
                }
                Err(e) => {
                    running.remove(&c.id);
                    if unique_violation(&e).is_some() {
                        continue;
                    }
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    /// Moves the candidate to running, claimed by `me`; on SQLite (where
    /// the write came first) only while the lease holds.
    async fn claim(&self, tx: &mut Tx, c: &Candidate, me: InstanceId) -> Result<bool, sqlx::Error> {
        let db = &self.inner.db;
        let change = DeploymentChange {
            started_at: Some(now_ms()),
            claimed_by: Some(me),
            ..Default::default()
        };
        let moved = changes::transition_deployment(
            db,
            tx,
            c.id,
            DeploymentStatus::Queued,
            DeploymentStatus::Running,
            change,
        )
        .await?;
        Ok(
            moved
                && (db.backend == Backend::Postgres || instances::holds_lease(db, tx, me).await?),
        )
    }
}

/// A run's end, however it ends: its entry and its slot are given back and
/// the scheduler looks again.
struct Done {
    engine: Engine,
    id: DeploymentId,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for Done {
    fn drop(&mut self) {
        self.engine.lock_running().remove(&self.id);
        // The slot is free before the scheduler is woken to use it.
        drop(self.permit.take());
        self.engine.inner.db.signals.work.notify_one();
    }
}
