//! Every write to a deployment or a step goes through here: the status
//! machine is checked, `version` is bumped and a change event is written in
//! the same transaction. The event log (`events`) is what the live channel
//! replays and publishes.

pub use super::db::Tx;
use super::db::{Backend, Db, now_ms};
use super::deployments::{DEPLOYMENT_COLUMNS, DeploymentRow, attach_steps_in, step_with_team};
use super::notifications;
use super::output_times::Pending;
use super::sites::LockColumns;
use crate::model::NotificationEvent;
use crate::model::integrations::NotifiedSite;
use crate::model::{
    Change, Deployment, DeploymentId, DeploymentStatus, InstanceId, SiteId, SiteLockState, StepId,
    StepStatus, TeamId,
};
use sqlx::Any;

/// What changes along with a deployment's status; `None` keeps the stored value.
#[derive(Default)]
pub struct DeploymentChange {
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error_message: Option<String>,
    pub superseded_by_id: Option<DeploymentId>,
    pub preview_url: Option<String>,
    /// The instance that claims it (queued to running).
    pub claimed_by: Option<InstanceId>,
}

/// Moves a deployment from `from` to `to` if it is still in `from`.
/// Returns false when another writer got there first.
pub async fn transition_deployment(
    db: &Db,
    tx: &mut Tx,
    id: DeploymentId,
    from: DeploymentStatus,
    to: DeploymentStatus,
    change: DeploymentChange,
) -> Result<bool, sqlx::Error> {
    if !from.can_transition_to(to) {
        return Err(sqlx::Error::Protocol(format!(
            "illegal deployment transition {from} -> {to}"
        )));
    }
    let replaced_by = change.superseded_by_id;
    let done = sqlx::query(
        "update deployments set status = $1, version = version + 1, \
         started_at = coalesce($2, started_at), finished_at = coalesce($3, finished_at), \
         error_message = coalesce($4, error_message), superseded_by_id = coalesce($5, superseded_by_id), \
         preview_url = coalesce($8, preview_url), claimed_by = coalesce($9, claimed_by) \
         where id = $6 and status = $7",
    )
    .bind(to)
    .bind(change.started_at)
    .bind(change.finished_at)
    .bind(change.error_message)
    .bind(change.superseded_by_id)
    .bind(id)
    .bind(from)
    .bind(change.preview_url)
    .bind(change.claimed_by)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    emit_deployment_as(db, tx, id, Some(to)).await?;
    // After the event: its lock guards the insights' totals too.
    match (to, replaced_by) {
        (DeploymentStatus::Superseded, Some(by)) => {
            super::insights::record::replaced(tx, id, by).await?
        }
        (DeploymentStatus::Superseded, None) => {}
        _ if to.is_finished() => super::insights::record::ended(tx, id).await?,
        _ => {}
    }
    Ok(true)
}

/// Moves a step from `from` to `to` if it is still in `from`.
pub async fn transition_step(
    db: &Db,
    tx: &mut Tx,
    id: StepId,
    from: StepStatus,
    to: StepStatus,
) -> Result<bool, sqlx::Error> {
    if !from.can_transition_to(to) {
        return Err(sqlx::Error::Protocol(format!(
            "illegal step transition {from} -> {to}"
        )));
    }
    let now = now_ms();
    let (started, finished) = match to {
        StepStatus::Running => (Some(now), None),
        _ => (None, Some(now)),
    };
    // A step starts only in a running deployment, and on PostgreSQL only
    // while the instance that claimed it holds its lease: an instance whose
    // work another one failed, or may fail, cannot start its next step.
    let running_deployment = match (to, db.backend) {
        (StepStatus::Running, Backend::Postgres) => format!(
            " and exists (select 1 from deployments d join instances i on i.id = d.claimed_by \
             where d.id = deployment_steps.deployment_id and d.status = 'running' \
             and i.stopped_at is null and i.lease_until >= {})",
            super::instances::clock(db)
        ),
        (StepStatus::Running, Backend::Sqlite) => {
            " and exists (select 1 from deployments d where d.id = deployment_steps.deployment_id \
             and d.status = 'running')"
                .to_string()
        }
        _ => String::new(),
    };
    let done = sqlx::query(&format!(
        "update deployment_steps set status = $1, version = version + 1, \
         started_at = coalesce($2, started_at), finished_at = coalesce($3, finished_at) \
         where id = $4 and status = $5{running_deployment}",
    ))
    .bind(to)
    .bind(started)
    .bind(finished)
    .bind(id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    emit_step(db, tx, id).await?;
    Ok(true)
}

/// Commits a transaction that wrote change events and wakes the publisher.
pub async fn commit(db: &Db, tx: Tx) -> Result<(), sqlx::Error> {
    tx.commit().await?;
    db.signals.events.notify_one();
    db.signals.committed();
    Ok(())
}

/// Asks for a running deployment to be cancelled: the instance running it
/// is told at commit (`NOTIFY`) and stops it at once; the stored request
/// is what its safety-net poll finds, should the notification be lost.
pub async fn request_cancel(db: &Db, id: DeploymentId) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "update deployments set cancel_requested_at = $1 where id = $2 and cancel_requested_at is null",
    )
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    notify_cancel(db, &mut *tx, id).await?;
    tx.commit().await?;
    let _ = db.signals.cancels.send(id);
    Ok(())
}

/// Tells the instance running `id` to stop it at once, now that another
/// instance has ended it (its lease ran out): it should not run its step
/// on until its next look.
pub async fn notify_stop(db: &Db, id: DeploymentId) -> Result<(), sqlx::Error> {
    notify_cancel(db, &db.pool, id).await?;
    let _ = db.signals.cancels.send(id);
    Ok(())
}

/// Tells the other instances (by `NOTIFY`, at commit when `executor` is a
/// transaction) to stop `id` if they run it.
async fn notify_cancel<'c, E>(db: &Db, executor: E, id: DeploymentId) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    if db.backend == Backend::Postgres {
        sqlx::query("select pg_notify($1, $2)")
            .bind(super::notify::CANCEL)
            .bind(id.to_string())
            .execute(executor)
            .await?;
    }
    Ok(())
}

/// The most text one `output` event carries.
pub const OUTPUT_EVENT_BYTES: usize = 16 * 1024;

/// `text` in pieces of at most `max` bytes, cut at character boundaries.
fn chunks(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

/// Appends output to a step and records it as `output` events with their
/// byte offsets.
pub async fn append_output(
    db: &Db,
    step_id: StepId,
    text: &str,
    times: &Pending,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    // Write first: a SQLite transaction that reads before writing can fail
    // to upgrade its lock under load. Only a running step takes output: a
    // late write of an instance whose work was failed changes nothing.
    let bytes = match db.backend {
        Backend::Sqlite => "length(cast(output as blob))",
        Backend::Postgres => "octet_length(output)",
    };
    let row: Option<(i64,)> = sqlx::query_as(&format!(
        "update deployment_steps set output = output || $1, output_times = output_times || $2 \
         where id = $3 and status = 'running' returning {bytes}"
    ))
    .bind(text)
    .bind(times.text())
    .bind(step_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((total,)) = row else { return Ok(()) };
    let (team_id,): (TeamId,) = sqlx::query_as(
        "select d.team_id from deployment_steps s join deployments d on d.id = s.deployment_id where s.id = $1",
    )
    .bind(step_id)
    .fetch_one(&mut *tx)
    .await?;
    // Each event carries a bounded chunk, so no one message is large, and
    // the times of the parts it holds.
    let mut offset = total - text.len() as i64;
    let marks = times.marks(offset);
    for chunk in chunks(text, OUTPUT_EVENT_BYTES) {
        let end = offset + chunk.len() as i64;
        let change = Change::Output {
            step_id,
            offset,
            text: chunk.to_string(),
            times: marks
                .iter()
                .filter(|m| offset <= m.offset && m.offset < end)
                .copied()
                .collect(),
        };
        insert_event(db, &mut tx, team_id, &change).await?;
        offset = end;
    }
    commit(db, tx).await
}

/// Writes a `deployment` event with the record as it now is (steps without output).
pub async fn emit_deployment(db: &Db, tx: &mut Tx, id: DeploymentId) -> Result<(), sqlx::Error> {
    emit_deployment_as(db, tx, id, None).await
}

/// Writes the `deployment` event of a deployment just created (queued),
/// with its notifications.
pub async fn emit_new_deployment(
    db: &Db,
    tx: &mut Tx,
    id: DeploymentId,
) -> Result<(), sqlx::Error> {
    emit_deployment_as(db, tx, id, Some(DeploymentStatus::Queued)).await
}

/// The `deployment` event, and when it `entered` a status, the
/// notifications that tells.
async fn emit_deployment_as(
    db: &Db,
    tx: &mut Tx,
    id: DeploymentId,
    entered: Option<DeploymentStatus>,
) -> Result<(), sqlx::Error> {
    let row: DeploymentRow = sqlx::query_as(&format!(
        "select {DEPLOYMENT_COLUMNS} from deployments d join sites s on s.id = d.site_id where d.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let mut list = vec![Deployment::from(row)];
    attach_steps_in(&mut **tx, &mut list, false).await?;
    let Some(deployment) = list.pop() else {
        return Err(sqlx::Error::RowNotFound);
    };
    let team_id = deployment.team_id;
    if let Some(status) = entered {
        let events = NotificationEvent::on_status(status, deployment.meta.rollback_of.is_some());
        notifications::outbox::enqueue_deployment(db, tx, &deployment, events).await?;
    }
    let change = Change::Deployment {
        deployment: Box::new(deployment),
    };
    insert_event(db, tx, team_id, &change).await
}

/// Writes a `site_lock` event with the site's lock as it now is, and the
/// notifications of the lock or unlock.
pub async fn emit_site_lock(db: &Db, tx: &mut Tx, id: SiteId) -> Result<(), sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        team_id: TeamId,
        name: String,
        version: i64,
        #[sqlx(flatten)]
        lock: LockColumns,
    }
    let row: Row = sqlx::query_as(
        "select team_id, name, version, locked_at, locked_by, locked_by_name, lock_reason \
         from sites where id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let site = SiteLockState {
        site_id: id,
        team_id: row.team_id,
        version: row.version,
        lock: row.lock.lock(),
    };
    let notified = NotifiedSite { id, name: row.name };
    notifications::outbox::enqueue_site_lock(db, tx, row.team_id, notified, site.lock.clone())
        .await?;
    insert_event(db, tx, row.team_id, &Change::SiteLock { site }).await
}

async fn emit_step(db: &Db, tx: &mut Tx, id: StepId) -> Result<(), sqlx::Error> {
    let (step, team_id) = step_with_team(&mut **tx, id).await?;
    insert_event(db, tx, team_id, &Change::Step { step }).await
}

/// Appends an event at the next position. Positions are taken under a lock
/// held until commit, so they follow commit order.
async fn insert_event(
    db: &Db,
    tx: &mut Tx,
    team_id: TeamId,
    change: &Change,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(change).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    if db.backend == Backend::Postgres {
        // With the lock, the notifications that wake the other instances
        // at commit (see `notify`).
        sqlx::query(super::notify::event_lock_sql(change))
            .execute(&mut **tx)
            .await?;
    }
    // On SQLite the transaction already wrote, so it holds the write lock.
    sqlx::query(
        "insert into events (position, team_id, kind, record_id, payload, created_at) \
         select coalesce(max(position), 0) + 1, $1, $2, $3, $4, $5 from events",
    )
    .bind(team_id)
    .bind(change.kind())
    .bind(change.record_id())
    .bind(payload)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_goes_out_in_bounded_chunks_cut_between_characters() {
        let text = format!("{}€{}", "a".repeat(9), "b".repeat(5));
        let parts: Vec<&str> = chunks(&text, 10).collect();
        assert_eq!(parts, ["aaaaaaaaa", "€bbbbb"]);
        assert!(parts.iter().all(|p| p.len() <= 10));
        assert_eq!(parts.concat(), text);
        assert_eq!(chunks("", 10).count(), 0);
    }
}
