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
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{Backend, now_ms, unique_violation};
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
     where d.status = 'queued' and d.awaiting_approval = 0 \
     and not exists (select 1 from deployments r where r.site_id = d.site_id and r.status = 'running') \
     and not exists (select 1 from deployments o where o.site_id = d.site_id and o.status = 'queued' \
     and o.awaiting_approval = 0 and o.id < d.id) \
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
                let id = claimed.id;
                engine.run_deployment(claimed, stop).await;
                engine.lock_running().remove(&id);
                drop(permit);
                engine.inner.db.signals.work.notify_one();
            });
        }
    }

    /// Takes the oldest queued deployment of a free site and marks it
    /// running, claimed by this instance and registered so a cancel
    /// reaches it at once.
    async fn claim_next(
        &self,
    ) -> Result<Option<(Claimed, watch::Receiver<Option<Stop>>)>, sqlx::Error> {
        let db = &self.inner.db;
        let me = self.instance_id();
        // Locked until the claim commits; other instances pass it by.
        let candidates = match db.backend {
            Backend::Postgres => format!("{CANDIDATES} for update of d skip locked"),
            Backend::Sqlite => CANDIDATES.to_string(),
        };
        for _ in 0..CLAIM_TRIES {
            let mut tx = db.pool.begin().await?;
            let Some(c) = sqlx::query_as::<_, Candidate>(&candidates)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            let change = DeploymentChange {
                started_at: Some(now_ms()),
                claimed_by: Some(me),
                ..Default::default()
            };
            match changes::transition_deployment(
                db,
                &mut tx,
                c.id,
                DeploymentStatus::Queued,
                DeploymentStatus::Running,
                change,
            )
            .await
            {
                Ok(true) => {
                    changes::commit(db, tx).await?;
                    let claimed = Claimed {
                        id: c.id,
                        team_id: c.team_id,
                        site_id: c.site_id,
                        pipeline_type: c.pipeline_type,
                        trigger_kind: c.trigger_kind,
                        claimed_by: me,
                    };
                    let (stop, stopped) = watch::channel(None);
                    let mut running = self.lock_running();
                    // Claimed just as the shutdown's grace ran out, or as
                    // the lease was lost: it stops before its first step.
                    if self.inner.stop_all.load(Ordering::SeqCst) {
                        stop.send_replace(Some(Stop::ShuttingDown));
                    } else if self.inner.lease_lost.load(Ordering::SeqCst) {
                        stop.send_replace(Some(Stop::LeaseLost));
                    }
                    running.insert(c.id, stop);
                    return Ok(Some((claimed, stopped)));
                }
                // Another claimer got there first (on SQLite, where
                // nothing is locked): look again.
                Ok(false) => continue,
                Err(e) if unique_violation(&e).is_some() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}
