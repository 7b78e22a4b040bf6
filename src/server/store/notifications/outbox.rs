//! The outbox: one notification per matching hook, written in the
//! transaction of the change it tells of; and the ones a person asks for
//! (a test, a redelivery), written already claimed for their request to
//! deliver at once. Delivery is in [`super::claims`].

use super::claims::{CLAIMED_SELECT, Claimed};
use super::{Payload, Subject, encode, hook_enabled};
use crate::model::integrations::NotifiedSite;
use crate::model::{
    AppError, Deployment, NotificationEvent, NotificationHookId, NotificationId, SiteId, SiteLock,
    TeamId,
};
use crate::server::store::changes::Tx;
use crate::server::store::db::{Backend, Db, now_ms};
use std::time::Duration;

/// Inside the transaction of a change to `deployment`: one notification
/// per event and enabled hook of its team (and of its site) asking for it.
pub async fn enqueue_deployment(
    db: &Db,
    tx: &mut Tx,
    deployment: &Deployment,
    events: &[NotificationEvent],
) -> Result<(), sqlx::Error> {
    let mut payload = None;
    for &event in events {
        let hooks = matching_hooks(tx, deployment.team_id, deployment.site_id, event).await?;
        if hooks.is_empty() {
            continue;
        }
        let text = match &payload {
            Some(text) => text,
            None => payload.insert(encode(&Payload {
                occurred_at: now_ms(),
                subject: Subject::Deployment {
                    deployment: Box::new(deployment.clone()),
                },
            })?),
        };
        insert(db, tx, deployment.team_id, &hooks, event, text).await?;
    }
    Ok(())
}

/// Inside the transaction that locked or unlocked a site.
pub async fn enqueue_site_lock(
    db: &Db,
    tx: &mut Tx,
    team_id: TeamId,
    site: NotifiedSite,
    lock: Option<SiteLock>,
) -> Result<(), sqlx::Error> {
    let event = match lock {
        Some(_) => NotificationEvent::SiteLocked,
        None => NotificationEvent::SiteUnlocked,
    };
    let hooks = matching_hooks(tx, team_id, site.id, event).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let payload = encode(&Payload {
        occurred_at: now_ms(),
        subject: Subject::SiteLock { site, lock },
    })?;
    insert(db, tx, team_id, &hooks, event, &payload).await
}

/// A test notification to one enabled hook of the team, written with a
/// claim of its own for the caller to deliver at once (if the caller dies
/// first, the claim runs out and the worker delivers it).
pub async fn enqueue_test(
    db: &Db,
    team_id: TeamId,
    hook_id: NotificationHookId,
    by: &str,
    hold: Duration,
) -> Result<(Claimed, NotificationId), AppError> {
    match hook_enabled(db, team_id, hook_id).await? {
        None => return Err(AppError::not_found("Notification hook")),
        Some(false) => {
            return Err(AppError::conflict(
                "This hook is disabled: enable it first, then send a test.",
            ));
        }
        Some(true) => {}
    }
    let payload = encode(&Payload {
        occurred_at: now_ms(),
        subject: Subject::Test { by: by.to_string() },
    })?;
    let claimed = insert_claimed(
        db,
        team_id,
        hook_id,
        NotificationEvent::Test,
        &payload,
        hold,
    )
    .await?;
    Ok(claimed)
}

/// A delivery of the team sent again as a new delivery (a new id) of the
/// same notification, claimed for the caller like a test. `NotFound` for
/// another team's.
pub async fn redeliver(
    db: &Db,
    team_id: TeamId,
    id: NotificationId,
    hold: Duration,
) -> Result<(Claimed, NotificationId), AppError> {
    let row: Option<(NotificationHookId, NotificationEvent, String)> = sqlx::query_as(
        "select hook_id, event, payload from notifications where id = $1 and team_id = $2",
    )
    .bind(id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    let (hook_id, event, payload) = row.ok_or_else(|| AppError::not_found("Delivery"))?;
    if hook_enabled(db, team_id, hook_id).await? != Some(true) {
        return Err(AppError::conflict(
            "This hook is disabled: enable it first, then redeliver.",
        ));
    }
    Ok(insert_claimed(db, team_id, hook_id, event, &payload, hold).await?)
}

async fn insert_claimed(
    db: &Db,
    team_id: TeamId,
    hook_id: NotificationHookId,
    event: NotificationEvent,
    payload: &str,
    hold: Duration,
) -> Result<(Claimed, NotificationId), sqlx::Error> {
    let (id, claim, now) = (NotificationId::new(), NotificationId::new(), now_ms());
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "insert into notifications (id, hook_id, team_id, event, payload, state, attempts, \
         next_attempt_at, created_at, claimed_by, claimed_until, manual) \
         values ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $7, $8, 1)",
    )
    .bind(id)
    .bind(hook_id)
    .bind(team_id)
    .bind(event)
    .bind(payload)
    .bind(now)
    .bind(claim)
    .bind(now + hold.as_millis() as i64)
    .execute(&mut *tx)
    .await?;
    let claimed: Claimed = sqlx::query_as(&format!("{CLAIMED_SELECT} where n.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((claimed, claim))
}

async fn matching_hooks(
    tx: &mut Tx,
    team_id: TeamId,
    site_id: SiteId,
    event: NotificationEvent,
) -> Result<Vec<NotificationHookId>, sqlx::Error> {
    let rows: Vec<(NotificationHookId,)> = sqlx::query_as(
        "select id from notification_hooks where team_id = $1 and disabled_at is null \
         and (site_id is null or site_id = $2) and (',' || events || ',') like $3",
    )
    .bind(team_id)
    .bind(site_id)
    .bind(format!("%,{},%", event.as_str()))
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Writes one due notification per hook. Marks the outbox as written to,
/// so the commit wakes the deliverer.
async fn insert(
    db: &Db,
    tx: &mut Tx,
    team_id: TeamId,
    hooks: &[NotificationHookId],
    event: NotificationEvent,
    payload: &str,
) -> Result<(), sqlx::Error> {
    // One statement for every hook, the payload sent once.
    let rows: Vec<String> = (0..hooks.len())
        .map(|i| {
            let (id, hook) = (5 + 2 * i, 6 + 2 * i);
            format!("(${id}, ${hook}, $1, $2, $3, 'pending', 0, $4, $4)")
        })
        .collect();
    let sql = format!(
        "insert into notifications (id, hook_id, team_id, event, payload, state, attempts, \
         next_attempt_at, created_at) values {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql)
        .bind(team_id)
        .bind(event)
        .bind(payload)
        .bind(now_ms());
    for &hook_id in hooks {
        query = query.bind(NotificationId::new()).bind(hook_id);
    }
    query.execute(&mut **tx).await?;
    if db.backend == Backend::Postgres {
        // Delivered at commit, to every instance (this one included).
        sqlx::query("select pg_notify($1, '')")
            .bind(crate::server::store::notify::OUTBOX)
            .execute(&mut **tx)
            .await?;
    } else {
        db.signals.outbox_written();
    }
    Ok(())
}
