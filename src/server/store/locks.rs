//! Deploy locks: a member holds a site so that nothing new goes live.
//! Locking holds the site's queued pushes (`waiting_for_unlock`); unlocking
//! lets them go, newest first as ever (older pushes of a branch were
//! already skipped). Each change is a `site_lock` event, and each held or
//! released deployment a `deployment` event, in the same transaction.

use super::changes::{self, Tx};
use super::db::{Db, now_ms};
use crate::model::{AppError, DeploymentId, SiteId, TeamId, UserId};

/// Who locks, as the refusal will name them.
pub struct Locker<'a> {
    pub user_id: UserId,
    pub name: &'a str,
}

/// Locks a site of the team. `Conflict` when it is locked already (saying
/// by whom), `NotFound` for another team's.
pub async fn lock(
    db: &Db,
    team_id: TeamId,
    site_id: SiteId,
    by: Locker<'_>,
    reason: &str,
) -> Result<(), AppError> {
    let mut tx: Tx = db.pool.begin().await?;
    let done = sqlx::query(
        "update sites set locked_at = $1, locked_by = $2, locked_by_name = $3, lock_reason = $4, \
         version = version + 1 where id = $5 and team_id = $6 and locked_at is null",
    )
    .bind(now_ms())
    .bind(by.user_id)
    .bind(by.name)
    .bind(reason)
    .bind(site_id)
    .bind(team_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        drop(tx);
        return Err(match holder(db, team_id, site_id).await? {
            None => AppError::not_found("Site"),
            Some(Some((name, why))) => AppError::conflict(format!(
                "Already locked by {name}: {why}. Unlock it first to change the reason."
            )),
            Some(None) => AppError::conflict("The site changed meanwhile; try again."),
        });
    }
    hold_pushes(db, &mut tx, site_id, true).await?;
    changes::commit(db, tx).await?;
    Ok(())
}

/// Unlocks a site of the team and lets its held pushes go. `Conflict` when
/// it is not locked, `NotFound` for another team's.
pub async fn unlock(db: &Db, team_id: TeamId, site_id: SiteId) -> Result<(), AppError> {
    let mut tx: Tx = db.pool.begin().await?;
    let done = sqlx::query(
        "update sites set locked_at = null, locked_by = null, locked_by_name = null, \
         lock_reason = null, version = version + 1 where id = $1 and team_id = $2 \
         and locked_at is not null",
    )
    .bind(site_id)
    .bind(team_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        drop(tx);
        return Err(match holder(db, team_id, site_id).await? {
            None => AppError::not_found("Site"),
            Some(_) => AppError::conflict("This site is not locked."),
        });
    }
    hold_pushes(db, &mut tx, site_id, false).await?;
    changes::commit(db, tx).await?;
    db.signals.work.notify_one();
    Ok(())
}

/// Holds the site's queued pushes (and a first deploy still queued), or
/// lets the held ones go, each with its event, then tells of the lock.
async fn hold_pushes(db: &Db, tx: &mut Tx, site_id: SiteId, hold: bool) -> Result<(), AppError> {
    let sql = if hold {
        "update deployments set waiting_for_unlock = 1, version = version + 1 \
         where site_id = $1 and status = 'queued' and type = 'deploy' \
         and trigger_kind in ('push', 'site_created') and waiting_for_unlock = 0 returning id"
    } else {
        "update deployments set waiting_for_unlock = 0, version = version + 1 \
         where site_id = $1 and status = 'queued' and waiting_for_unlock = 1 returning id"
    };
    let changed: Vec<(DeploymentId,)> = sqlx::query_as(sql)
        .bind(site_id)
        .fetch_all(&mut **tx)
        .await?;
    for (id,) in changed {
        changes::emit_deployment(db, tx, id).await?;
    }
    changes::emit_site_lock(db, tx, site_id).await?;
    Ok(())
}

/// `None` when the team has no such site; else who holds it, if anyone.
async fn holder(
    db: &Db,
    team_id: TeamId,
    site_id: SiteId,
) -> Result<Option<Option<(String, String)>>, AppError> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "select locked_by_name, lock_reason from sites where id = $1 and team_id = $2",
    )
    .bind(site_id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(name, reason)| name.map(|n| (n, reason.unwrap_or_default()))))
}
