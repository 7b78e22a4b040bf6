//! The loop that claims queued work: the oldest queued deployment of each
//! free site, while a slot of the global limit is free.

use super::{Engine, Stop};
use crate::model::{DeploymentId, DeploymentStatus, PipelineType, SiteId, TeamId, TriggerKind};
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{now_ms, unique_violation};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// A deployment this process has marked running and now runs.
#[derive(sqlx::FromRow, Clone, Copy)]
pub(super) struct Claimed {
    pub id: DeploymentId,
    pub team_id: TeamId,
    pub site_id: SiteId,
    #[sqlx(rename = "type")]
    pub pipeline_type: PipelineType,
    pub trigger_kind: TriggerKind,
}

/// How often the scheduler looks without being woken: the safety net for
/// work queued by another instance.
const IDLE_LOOK: Duration = Duration::from_secs(1);

impl Engine {
    pub(super) async fn claim_loop(self) {
        while !self.inner.stopping.load(Ordering::SeqCst) {
            self.claim_while_free().await;
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_LOOK) => {}
            }
        }
    }

    /// Starts claimed deployments until no slot or no work is left.
    async fn claim_while_free(&self) {
        loop {
            if self.inner.stopping.load(Ordering::SeqCst) {
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
                engine.inner.wake.notify_one();
            });
        }
    }

    /// Takes the oldest queued deployment of a free site and marks it
    /// running, registered so a cancel reaches it at once. The unique index
    /// on running deployments settles races between claimers.
    async fn claim_next(
        &self,
    ) -> Result<Option<(Claimed, watch::Receiver<Option<Stop>>)>, sqlx::Error> {
        let db = &self.inner.db;
        let candidates: Vec<Claimed> = sqlx::query_as(
            "select d.id, d.team_id, d.site_id, d.type, d.trigger_kind from deployments d where d.status = 'queued' \
             and d.awaiting_approval = 0 \
             and not exists (select 1 from deployments r where r.site_id = d.site_id and r.status = 'running') \
             and not exists (select 1 from deployments o where o.site_id = d.site_id and o.status = 'queued' \
             and o.awaiting_approval = 0 and o.id < d.id) \
             order by d.id limit 8",
        )
        .fetch_all(&db.pool)
        .await?;
        for c in candidates {
            let mut tx = db.pool.begin().await?;
            let change = DeploymentChange {
                started_at: Some(now_ms()),
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
                    let (stop, stopped) = watch::channel(None);
                    let mut running = self.lock_running();
                    // Claimed just as the shutdown's grace ran out: it
                    // stops before its first step.
                    if self.inner.stop_all.load(Ordering::SeqCst) {
                        stop.send_replace(Some(Stop::ShuttingDown));
                    }
                    running.insert(c.id, stop);
                    return Ok(Some((c, stopped)));
                }
                Ok(false) => continue,
                Err(e) if unique_violation(&e).is_some() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}
