//! Deployments whose instance is gone can never finish: each is failed,
//! saying at which step its instance stopped. Only a gone instance's work
//! is touched: on PostgreSQL, one whose lease ran out (a survivor does this
//! without waiting for it to come back) or that stopped; on SQLite, one
//! instance by nature, whatever a previous run of this one left. And a run
//! of this instance that the database has running but nothing here runs
//! (a claim whose answer was lost, a runner that panicked) is failed too.

use crate::model::{AppError, DeploymentId, DeploymentStatus, InstanceId, StepId, StepStatus};
use crate::server::store::changes::{self, DeploymentChange};
use crate::server::store::{Backend, Db, instances, now_ms};

/// The step a deployment was in: id, name, number.
type RunningStep = Option<(StepId, String, i64)>;

/// Fails every running deployment of a gone instance; returns how many
/// there were. Safe to run at any time, on any instance.
pub async fn recover(db: &Db, me: InstanceId) -> Result<u64, AppError> {
    let mut n = 0;
    for abandoned in instances::abandoned(db, me).await? {
        let host = abandoned.host.as_deref();
        let failed = fail(db, abandoned.id, abandoned.claimed_by, |step| {
            stopped_message(db.backend, host, step)
        })
        .await?;
        n += u64::from(failed);
    }
    if n > 0 {
        tracing::warn!("failed {n} deployment(s) left running by a stopped instance");
    }
    Ok(n)
}

/// Fails this instance's running deployments that it does not run (per
/// `runs`): their runner is gone, nothing would ever end them.
pub(super) async fn fail_lost_runs(
    db: &Db,
    me: InstanceId,
    runs: impl Fn(DeploymentId) -> bool,
) -> Result<u64, AppError> {
    let mut n = 0;
    for id in instances::running_of(db, me).await? {
        if runs(id) {
            continue;
        }
        tracing::error!(deployment = %id, "a deployment of this instance runs nowhere");
        let failed = fail(db, id, None, |step| {
            let during = during(step);
            format!(
                "Flightdeck lost track of this run {during} (its runner stopped unexpectedly); \
                 the deployment was failed. Run it again."
            )
        })
        .await?;
        n += u64::from(failed);
    }
    Ok(n)
}

/// Fails one running deployment, and the step it was in, if its instance
/// `owner` is gone (or with no owner to ask). False when it was not
/// failed: the owner renewed its lease, or the run ended meanwhile.
async fn fail(
    db: &Db,
    id: DeploymentId,
    owner: Option<InstanceId>,
    message: impl FnOnce(&RunningStep) -> String,
) -> Result<bool, AppError> {
    // Read first, outside the transaction: nothing of a gone run moves,
    // and the transaction below then starts with a write (SQLite's lock).
    let step: RunningStep = sqlx::query_as(
        "select id, name, sort_order from deployment_steps where deployment_id = $1 and status = 'running'",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let mut tx = db.pool.begin().await?;
    // The instance first: it orders this against the instance's own
    // completion (see `instances::holds_lease`).
    if let Some(owner) = owner
        && !instances::confirm_gone(db, &mut tx, owner).await?
    {
        return Ok(false);
    }
    // The step's row before any event is written: a late write of the
    // gone instance (its step row, then the event lock) waits instead of
    // deadlocking with this one.
    if db.backend == Backend::Postgres
        && let Some((step_id, _, _)) = &step
    {
        sqlx::query("select id from deployment_steps where id = $1 for update")
            .bind(step_id)
            .fetch_optional(&mut *tx)
            .await?;
    }
    let change = DeploymentChange {
        finished_at: Some(now_ms()),
        error_message: Some(message(&step)),
        ..Default::default()
    };
    let moved = changes::transition_deployment(
        db,
        &mut tx,
        id,
        DeploymentStatus::Running,
        DeploymentStatus::Failed,
        change,
    )
    .await?;
    if !moved {
        return Ok(false); // it ended by itself in the meantime
    }
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
    // Should its instance be alive after all (cut off, paused), its step
    // stops now rather than at its next look; and the site is free.
    let _ = changes::notify_stop(db, id).await;
    db.signals.work.notify_one();
    Ok(true)
}

/// "during step 2, “Test”" or "between steps".
fn during(step: &RunningStep) -> String {
    match step {
        Some((_, name, order)) => format!("during step {order}, \u{201c}{name}\u{201d}"),
        None => "between steps".to_string(),
    }
}

/// "The instance running it (on web-2) stopped during step 2, “Test”; …"
fn stopped_message(backend: Backend, host: Option<&str>, step: &RunningStep) -> String {
    // One instance on SQLite: its host goes without saying.
    let on = host
        .filter(|h| !h.is_empty() && backend == Backend::Postgres)
        .map(|h| format!(" (on {h})"))
        .unwrap_or_default();
    let when = match backend {
        Backend::Sqlite => "when Flightdeck started again",
        Backend::Postgres => "once its lease ran out",
    };
    format!(
        "The instance running it{on} stopped {}; the deployment was failed {when}.",
        during(step)
    )
}
