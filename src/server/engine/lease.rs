//! This instance's lease on the database, and what it does for instances
//! that are gone.
//!
//! The protocol (written up in `docs/cluster.md`): an instance holds a
//! lease of `L` (`FLIGHTDECK_LEASE_SECS`) on the database's clock and
//! renews it every `L/3`. Should it go `2L/3` without a renewal (a
//! partition, a long pause), it stops claiming and stops its running steps
//! at once, with a grace that ends before the lease could run out, so that
//! nothing of its work still runs when a survivor may take it over. Each
//! renewal also sweeps: deployments of instances whose lease ran out are
//! failed (see [`super::recovery`]), and process groups that a gone
//! instance of this host left (steps run without a PID namespace) are
//! ended once they are shown to be that deployment's.
//!
//! An instance whose lease did run out (the database refused the renewal)
//! never continues under that id: once its own runs are over it joins
//! again as a new instance.

use super::recovery::fail_lost_runs;
use super::{Engine, Stop, process, recover};
use crate::model::InstanceId;
use crate::server::store::{Backend, instances};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

impl Engine {
    /// The instance this engine runs as now.
    pub fn instance_id(&self) -> InstanceId {
        *self
            .inner
            .instance
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn lease_ms(&self) -> i64 {
        self.inner.config.lease.as_millis() as i64
    }

    /// Renews the lease until the engine has stopped (through a shutdown's
    /// grace period: what still runs is still this instance's), stopping
    /// this instance's work when the lease cannot be kept.
    pub(super) async fn lease_loop(self, registered: Instant) {
        let lease = self.inner.config.lease;
        let every = lease / 3;
        // The last renewal known to have landed, by when it was sent: the
        // database's lease runs at least `lease` from then.
        let mut renewed = registered;
        // On SQLite nobody could take the work over: there is no lease to lose.
        let can_lose = self.inner.db.backend == Backend::Postgres;
        loop {
            let next = Instant::now() + every;
            let lose_at = renewed + lease * 2 / 3;
            if self.inner.stopped.load(Ordering::SeqCst) {
                return;
            }
            let sent = Instant::now();
            let id = self.instance_id();
            let attempt = tokio::time::timeout_at(
                lose_at.max(sent + Duration::from_millis(100)),
                instances::renew(&self.inner.db, id, self.lease_ms()),
            )
            .await;
            if self.inner.stopped.load(Ordering::SeqCst) {
                return;
            }
            match attempt {
                Ok(Ok(true)) => {
                    renewed = sent;
                    if self.inner.lease_lost.load(Ordering::SeqCst)
                        && self.lock_running().is_empty()
                    {
                        tracing::info!("the database answers again: claiming work again");
                        self.inner.lease_lost.store(false, Ordering::SeqCst);
                        self.inner.db.signals.work.notify_one();
                    }
                    self.spawn_sweep();
                }
                Ok(Ok(false)) => {
                    // The lease ran out, or a survivor found this instance
                    // gone: its work may be failed already. Stop it all,
                    // and join again under a new id once it has ended.
                    self.lose_lease("the database says this instance's lease ran out");
                    if self.rejoin().await {
                        renewed = Instant::now();
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "could not renew this instance's lease"),
                Err(_) => tracing::warn!("renewing this instance's lease takes too long"),
            }
            if can_lose && Instant::now() >= renewed + lease * 2 / 3 {
                self.lose_lease("this instance could not renew its lease");
            }
            tokio::time::sleep_until(next).await;
        }
    }

    /// Stops claiming and stops every running step, within a grace that
    /// ends before another instance could take the work over.
    fn lose_lease(&self, why: &str) {
        if self.inner.lease_lost.swap(true, Ordering::SeqCst) {
            return;
        }
        let running = self.lock_running();
        tracing::error!(
            running = running.len(),
            "{why}: claiming nothing and stopping what runs here"
        );
        for stop in running.values() {
            stop.send_replace(Some(Stop::LeaseLost));
        }
    }

    /// The grace a step gets when the lease is lost: the usual one, but
    /// over well before the lease runs out.
    pub(super) fn lease_lost_grace(&self) -> Duration {
        self.inner.config.grace.min(self.inner.config.lease / 6)
    }

    /// Once nothing of this instance runs: registers it again under a new
    /// id. True when it did.
    async fn rejoin(&self) -> bool {
        while !self.lock_running().is_empty() {
            if self.inner.stopping.load(Ordering::SeqCst) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if self.inner.stopping.load(Ordering::SeqCst) {
            return false;
        }
        let id = InstanceId::new();
        match instances::register(&self.inner.db, id, &self.inner.host, self.lease_ms()).await {
            Ok(()) => {
                tracing::info!(instance = %id, "joined again as a new instance");
                *self
                    .inner
                    .instance
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = id;
                self.inner.lease_lost.store(false, Ordering::SeqCst);
                self.inner.db.signals.work.notify_one();
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not join again yet");
                false
            }
        }
    }

    /// Sweeps in a task of its own, one at a time: however long it takes
    /// (rows locked, a slow `/proc`), the renewals go on.
    fn spawn_sweep(&self) {
        if self.inner.sweeping.swap(true, Ordering::SeqCst) {
            return;
        }
        let engine = self.clone();
        tokio::spawn(async move {
            engine.sweep().await;
            engine.inner.sweeping.store(false, Ordering::SeqCst);
        });
    }

    /// What the living do for the gone: fail their deployments, end the
    /// process groups they left on this host, forget the long gone; and
    /// fail what this instance claimed but runs nowhere.
    async fn sweep(&self) {
        let db = &self.inner.db;
        let me = self.instance_id();
        if let Err(e) = recover(db, me).await {
            tracing::warn!(error = %e.message, "could not fail the work of stopped instances");
        }
        let runs = |id| self.lock_running().contains_key(&id);
        if let Err(e) = fail_lost_runs(db, me, runs).await {
            tracing::warn!(error = %e.message, "could not fail the runs this instance lost");
        }
        self.end_left_groups(me).await;
        let _ = instances::forget_old(db).await;
    }

    /// Ends the process groups that gone instances of this host recorded,
    /// each only once its processes are shown to be that deployment's
    /// steps (a group id may have been reused since).
    pub(super) async fn end_left_groups(&self, me: InstanceId) {
        let db = &self.inner.db;
        let groups = match instances::left_groups(db, me, &self.inner.host).await {
            Ok(groups) => groups,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the process groups left by stopped instances");
                return;
            }
        };
        for left in groups {
            let ended = process::end_left_group(left.process_group, left.deployment_id).await;
            if ended > 0 {
                tracing::warn!(
                    deployment = %left.deployment_id,
                    processes = ended,
                    "ended the processes a stopped instance left running"
                );
            }
            let _ = instances::set_process_group(db, left.step_id, None).await;
        }
    }
}
