//! What the periodic cleanup reads and removes in the database (the files
//! are `server::retention`'s): which releases are no longer kept, marking
//! them removed, the event log's window, and the rows that only ever grow
//! (expired sessions, spent invites, old webhook delivery ids). One
//! instance at a time runs it, under the `maintenance` row's lease.

use super::changes::{self, Tx};
use super::db::{Db, now_ms};
use super::instances::clock;
use crate::model::{DeploymentId, DeploymentMeta, DeploymentStatus, RemovalReason, SiteId, TeamId};
use std::collections::{HashMap, HashSet};

/// How many rows one statement deletes at most, so no transaction holds
/// the database (SQLite's one writer) for long.
const BATCH: i64 = 5_000;

/// Takes the cleanup's lease for `for_ms` when nobody holds it (or this
/// holder already does); false when another instance runs it now.
pub async fn claim(db: &Db, holder: &str, for_ms: i64) -> Result<bool, sqlx::Error> {
    let now = clock(db);
    let done = sqlx::query(&format!(
        "update maintenance set holder = $1, held_until = {now} + $2 \
         where name = 'retention' and (held_until < {now} or holder = $1)"
    ))
    .bind(holder)
    .bind(for_ms)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease back and records what the run did.
pub async fn release(db: &Db, holder: &str, report: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update maintenance set held_until = 0, last_run_at = $1, last_report = $2 \
         where name = 'retention' and holder = $3",
    )
    .bind(now_ms())
    .bind(report)
    .bind(holder)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The releases the cleanup removes: of each site, everything published
/// but its current one, the `keep` newest others and, of each pull
/// request, its newest preview (a closed one's were removed at the close).
/// [`mark_removed`] leaves alone those a queued or running operation reads.
pub async fn expired_releases(db: &Db, keep: usize) -> Result<Vec<DeploymentId>, sqlx::Error> {
    let rows: Vec<(DeploymentId,)> = sqlx::query_as(
        "select id from (select d.id, d.trigger_kind, row_number() over (partition by d.site_id, \
         case when d.trigger_kind = 'pull_request' then d.pr_number else -1 end order by d.id desc) as n \
         from deployments d join sites s on s.id = d.site_id \
         where d.status in ('completed', 'superseded') and d.release_removed_at is null \
         and d.preview_url is not null \
         and (s.current_deployment_id is null or s.current_deployment_id <> d.id)) r \
         where (r.trigger_kind <> 'pull_request' and r.n > $1) or (r.trigger_kind = 'pull_request' and r.n > 1)",
    )
    .bind(keep as i64)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The uploads queued and running deploys will read.
pub async fn archives_in_use(db: &Db) -> Result<HashSet<ulid::Ulid>, sqlx::Error> {
    let metas: Vec<(DeploymentMeta,)> = sqlx::query_as(
        "select meta from deployments where status in ('queued', 'running') and source_kind = 'archive'",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(metas
        .into_iter()
        .filter_map(|(m,)| m.archive_id.map(|a| a.0))
        .collect())
}

/// Marks releases removed (each a `deployment` event), and returns those
/// it marked: a URL answers 410 from the commit on, before the files go.
/// The site's current release is never marked, nor one a queued or
/// running operation of the team names in its meta (a rollback's target,
/// a promotion's preview, a copy's source): checked in the same write, so
/// one queued meanwhile is seen. (The text match narrows; a ULID holds no
/// LIKE wildcard.)
pub async fn mark_removed(
    db: &Db,
    ids: &[DeploymentId],
    reason: RemovalReason,
) -> Result<Vec<DeploymentId>, sqlx::Error> {
    let mut marked = Vec::new();
    for chunk in ids.chunks(200) {
        let mut tx: Tx = db.pool.begin().await?;
        for id in chunk {
            let done = sqlx::query(
                "update deployments set release_removed_at = $1, release_removed_reason = $2, \
                 version = version + 1 where id = $3 and release_removed_at is null \
                 and not exists (select 1 from sites s where s.current_deployment_id = $3) \
                 and not exists (select 1 from deployments u where u.team_id = deployments.team_id \
                 and u.status in ('queued', 'running') and u.meta like $4)",
            )
            .bind(now_ms())
            .bind(reason)
            .bind(*id)
            .bind(format!("%{id}%"))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                changes::emit_deployment(db, &mut tx, *id).await?;
                marked.push(*id);
            }
        }
        changes::commit(db, tx).await?;
    }
    Ok(marked)
}

/// A pull request's deployments on a site: those still published, and
/// those queued or running (with their team, to cancel them).
pub async fn pull_request_deployments(
    db: &Db,
    site_id: SiteId,
    pr: i64,
) -> Result<(Vec<DeploymentId>, Vec<(DeploymentId, TeamId)>), sqlx::Error> {
    let published: Vec<(DeploymentId,)> = sqlx::query_as(
        "select id from deployments where site_id = $1 and trigger_kind = 'pull_request' \
         and pr_number = $2 and status in ('completed', 'superseded') and release_removed_at is null",
    )
    .bind(site_id)
    .bind(pr)
    .fetch_all(&db.pool)
    .await?;
    let active: Vec<(DeploymentId, TeamId)> = sqlx::query_as(
        "select id, team_id from deployments where site_id = $1 \
         and trigger_kind = 'pull_request' and pr_number = $2 and status in ('queued', 'running')",
    )
    .bind(site_id)
    .bind(pr)
    .fetch_all(&db.pool)
    .await?;
    Ok((published.into_iter().map(|(id,)| id).collect(), active))
}

/// Of these deployment ids (folders found on disk), those a deployment
/// has: its status and whether its release was removed. An id no
/// deployment has is left out.
pub async fn folder_owners(
    db: &Db,
    ids: &[DeploymentId],
) -> Result<HashMap<DeploymentId, (DeploymentStatus, bool)>, sqlx::Error> {
    let mut owners = HashMap::new();
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "select id, status, release_removed_at from deployments where id in ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (DeploymentId, DeploymentStatus, Option<i64>)>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for (id, status, removed) in query.fetch_all(&db.pool).await? {
            owners.insert(id, (status, removed.is_some()));
        }
    }
    Ok(owners)
}

/// Published releases whose size was never recorded (a crash between the
/// end and the measure), a few at a time.
pub async fn unmeasured_releases(db: &Db, limit: i64) -> Result<Vec<DeploymentId>, sqlx::Error> {
    let rows: Vec<(DeploymentId,)> = sqlx::query_as(
        "select id from deployments where status in ('completed', 'superseded') \
         and release_removed_at is null and preview_url is not null and release_bytes is null \
         order by id desc limit $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Deletes the oldest events beyond the window (more than `keep` events,
/// or older than `older_than` ms since the epoch), in batches; the newest
/// event always stays, so positions never start over. Returns how many
/// went.
pub async fn prune_events(db: &Db, keep: i64, older_than: i64) -> Result<u64, sqlx::Error> {
    let (first, last): (Option<i64>, Option<i64>) =
        sqlx::query_as("select min(position), max(position) from events")
            .fetch_one(&db.pool)
            .await?;
    let (Some(mut first), Some(last)) = (first, last) else {
        return Ok(0);
    };
    let by_count = last - keep;
    let mut removed = 0;
    while first < last {
        let upto = (first + BATCH).min(last);
        let done = sqlx::query(
            "delete from events where position < $1 and (position <= $2 or created_at < $3)",
        )
        .bind(upto)
        .bind(by_count)
        .bind(older_than)
        .execute(&db.pool)
        .await?;
        removed += done.rows_affected();
        // Positions follow time: once a batch keeps something, the rest is
        // inside the window too.
        if (done.rows_affected() as i64) < upto - first {
            break;
        }
        first = upto;
    }
    Ok(removed)
}

/// The oldest position the event log still holds (0 when it is empty): a
/// page resuming from before it may have missed what was pruned.
pub async fn first_event_position(db: &Db) -> Result<i64, sqlx::Error> {
    let (first,): (Option<i64>,) = sqlx::query_as("select min(position) from events")
        .fetch_one(&db.pool)
        .await?;
    Ok(first.unwrap_or(0))
}

/// Deletes rows that only ever grow: expired sessions, invites used,
/// revoked or expired more than a week ago (the team page shows recent
/// ones), webhook delivery ids older than 30 days (GitHub does not
/// redeliver after that). Returns (sessions, invites, deliveries).
pub async fn prune_rows(db: &Db) -> Result<(u64, u64, u64), sqlx::Error> {
    let now = now_ms();
    let week = now - 7 * 24 * 3600 * 1000;
    let sessions = super::sessions::DbSessionStore::new(db.clone())
        .delete_expired()
        .await?;
    let invites = sqlx::query(
        "delete from invites where coalesce(used_at, revoked_at, expires_at) < $1 \
         and (used_at is not null or revoked_at is not null or expires_at < $2)",
    )
    .bind(week)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let deliveries = sqlx::query("delete from webhook_deliveries where received_at < $1")
        .bind(now - 30 * 24 * 3600 * 1000)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok((sessions, invites, deliveries))
}

/// Notifications delivered or failed more than 30 days ago, with their
/// tries: a hook's log shows its latest ten, and a month is plenty to look
/// back on. Pending ones always stay.
pub async fn prune_notifications(db: &Db) -> Result<u64, sqlx::Error> {
    let month_ago = now_ms() - 30 * 24 * 3600 * 1000;
    sqlx::query(
        "delete from notification_attempts where notification_id in \
         (select id from notifications where state <> 'pending' and created_at < $1)",
    )
    .bind(month_ago)
    .execute(&db.pool)
    .await?;
    Ok(
        sqlx::query("delete from notifications where state <> 'pending' and created_at < $1")
            .bind(month_ago)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}
