//! Delivering what the outbox holds: notifications claimed with `FOR
//! UPDATE SKIP LOCKED` (one instance delivers each, each hook's in order)
//! and held for a while; a hold that runs out, because its instance died
//! mid-delivery, is taken over: delivery is at least once. Each try is
//! recorded, with the back-off to the next.

use crate::model::{
    DeliveryState, HookFormat, NotificationEvent, NotificationHookId, NotificationId, TeamId,
};
use crate::server::store::db::{Backend, Db, now_ms};
use std::time::Duration;

/// How many tries a notification gets before it fails and its hook is
/// disabled: 1 s doubling, so the last comes about 34 minutes after the first.
pub const MAX_ATTEMPTS: i64 = 12;
/// The wait before the first retry, doubled for each further one...
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// ...up to this.
pub const LONGEST_RETRY: Duration = Duration::from_secs(3600);

/// The wait after the `attempts`-th failed try.
pub fn retry_after(attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 32) as u32 - 1;
    FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(LONGEST_RETRY)
}

/// A notification claimed for delivery, with where and how to send it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: NotificationId,
    pub hook_id: NotificationHookId,
    pub team_id: TeamId,
    pub event: NotificationEvent,
    pub payload: String,
    /// Tries made before this one.
    pub attempts: i64,
    /// 1 for a test or a redelivery: tried once, never retried.
    pub manual: i64,
    pub url: String,
    pub format: HookFormat,
    pub secret: String,
}

pub(super) const CLAIMED_SELECT: &str = "select n.id, n.hook_id, n.team_id, n.event, n.payload, \
    n.attempts, n.manual, h.url, h.format, h.secret from notifications n \
    join notification_hooks h on h.id = n.hook_id";

/// Every hook's oldest pending notification, as SQL: only it may be
/// claimed, so each hook's go out in the order they were written.
const HEADS: &str =
    "select min(p.id) from notifications p where p.state = 'pending' group by p.hook_id";

/// Claims, for up to `hooks` enabled hooks whose oldest pending
/// notification is due and not held, that one and up to `per_hook - 1`
/// after it, held for `hold` (longer than their deliveries can take);
/// `claim` marks this claim. Only a hook's oldest is claimed with `SKIP
/// LOCKED`: the ones after it cannot be another instance's while it is
/// pending. Answers them by hook, each hook's in order.
pub async fn claim(
    db: &Db,
    claim: NotificationId,
    hold: Duration,
    hooks: i64,
    per_hook: i64,
) -> Result<Vec<Vec<Claimed>>, sqlx::Error> {
    let now = now_ms();
    let until = now + hold.as_millis() as i64;
    let skip_locked = match db.backend {
        Backend::Postgres => " for update of n skip locked",
        Backend::Sqlite => "",
    };
    let mut tx = db.pool.begin().await?;
    let heads: Vec<(NotificationId, NotificationHookId)> = sqlx::query_as(&format!(
        "update notifications set claimed_by = $1, claimed_until = $2 where id in (\
         select n.id from notifications n join notification_hooks h on h.id = n.hook_id \
         where n.id in ({HEADS}) and n.state = 'pending' and n.next_attempt_at <= $3 \
         and (n.claimed_until is null or n.claimed_until < $3) and h.disabled_at is null \
         order by n.next_attempt_at, n.id limit $4{skip_locked}) returning id, hook_id"
    ))
    .bind(claim)
    .bind(until)
    .bind(now)
    .bind(hooks)
    .fetch_all(&mut *tx)
    .await?;
    if per_hook > 1 {
        for (head, hook_id) in &heads {
            sqlx::query(
                "update notifications set claimed_by = $1, claimed_until = $2 where id in (\
                 select id from notifications where hook_id = $3 and state = 'pending' \
                 and id > $4 and next_attempt_at <= $5 \
                 and (claimed_until is null or claimed_until < $5) order by id limit $6)",
            )
            .bind(claim)
            .bind(until)
            .bind(hook_id)
            .bind(head)
            .bind(now)
            .bind(per_hook - 1)
            .execute(&mut *tx)
            .await?;
        }
    }
    let claimed: Vec<Claimed> = sqlx::query_as(&format!(
        "{CLAIMED_SELECT} where n.claimed_by = $1 and n.state = 'pending' order by n.hook_id, n.id"
    ))
    .bind(claim)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut by_hook: Vec<Vec<Claimed>> = Vec::new();
    for row in claimed {
        match by_hook.last_mut() {
            Some(group) if group[0].hook_id == row.hook_id => group.push(row),
            _ => by_hook.push(vec![row]),
        }
    }
    Ok(by_hook)
}

/// Lets go of what is left of a claim on a hook's notifications (after
/// one of them failed: the ones after it wait for it again).
pub async fn release(
    db: &Db,
    claim: NotificationId,
    hook_id: NotificationHookId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notifications set claimed_by = null, claimed_until = null \
         where claimed_by = $1 and hook_id = $2 and state = 'pending'",
    )
    .bind(claim)
    .bind(hook_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// When the next claimable notification is due: each enabled hook's
/// oldest pending one, or if it is held, when its hold runs out.
pub async fn next_due(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    let (due,): (Option<i64>,) = sqlx::query_as(&format!(
        "select min(case when n.claimed_until is not null and n.claimed_until > n.next_attempt_at \
         then n.claimed_until else n.next_attempt_at end) \
         from notifications n join notification_hooks h on h.id = n.hook_id \
         where n.id in ({HEADS}) and h.disabled_at is null"
    ))
    .fetch_one(&db.pool)
    .await?;
    Ok(due)
}

/// At the start of the only instance (SQLite): holds of a process that
/// died are let go at once.
pub async fn release_claims(db: &Db) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notifications set claimed_by = null, claimed_until = null \
         where claimed_by is not null",
    )
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// What one try of a delivery came to.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The receiver's status; `None` when it was not reached.
    pub status: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The start of the receiver's answer.
    pub response: Option<String>,
    pub duration_ms: i64,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What became of a claimed notification after a try.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// It will be tried again at this time.
    Retry(i64),
    /// That was its last try; its hook is now disabled.
    GaveUp,
    /// A test or a redelivery failed: the person who asked sees why.
    Failed,
    /// Its hold ran out meanwhile and another delivery took it over.
    LostClaim,
}

/// Records a try of a claimed notification: delivered, due again after
/// the back-off, or failed for good (and then its hook is disabled, with
/// the reason).
pub async fn record_attempt(
    db: &Db,
    claimed: &Claimed,
    claim: NotificationId,
    attempt: &Attempt,
) -> Result<Outcome, sqlx::Error> {
    let now = now_ms();
    let tries = claimed.attempts + 1;
    let outcome = if attempt.succeeded() {
        Outcome::Delivered
    } else if claimed.manual != 0 {
        Outcome::Failed
    } else if tries >= MAX_ATTEMPTS {
        Outcome::GaveUp
    } else {
        Outcome::Retry(now + retry_after(tries).as_millis() as i64)
    };
    let (state, next, delivered) = match outcome {
        Outcome::Delivered => (DeliveryState::Delivered, None, Some(now)),
        Outcome::Retry(at) => (DeliveryState::Pending, Some(at), None),
        _ => (DeliveryState::Failed, None, None),
    };
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "update notifications set state = $1, attempts = $2, next_attempt_at = coalesce($3, next_attempt_at), \
         delivered_at = $4, last_status = $5, last_error = $6, last_response = $7, \
         last_duration_ms = $8, claimed_by = null, claimed_until = null \
         where id = $9 and claimed_by = $10",
    )
    .bind(state)
    .bind(tries)
    .bind(next)
    .bind(delivered)
    .bind(attempt.status.map(i64::from))
    .bind(&attempt.error)
    .bind(&attempt.response)
    .bind(attempt.duration_ms)
    .bind(claimed.id)
    .bind(claim)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(Outcome::LostClaim);
    }
    sqlx::query(
        "insert into notification_attempts (id, notification_id, attempted_at, status_code, \
         error, response_excerpt, duration_ms) values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(NotificationId::new())
    .bind(claimed.id)
    .bind(now - attempt.duration_ms)
    .bind(attempt.status.map(i64::from))
    .bind(&attempt.error)
    .bind(&attempt.response)
    .bind(attempt.duration_ms)
    .execute(&mut *tx)
    .await?;
    if outcome == Outcome::GaveUp {
        let why = attempt
            .error
            .clone()
            .or_else(|| attempt.status.map(|s| format!("it answered {s}")))
            .unwrap_or_default();
        sqlx::query(
            "update notification_hooks set disabled_at = $1, disabled_reason = $2 \
             where id = $3 and disabled_at is null",
        )
        .bind(now)
        .bind(format!(
            "Disabled after {MAX_ATTEMPTS} failed tries of one delivery (last: {why}). \
             Fix the receiver, then enable the hook and redeliver."
        ))
        .bind(claimed.hook_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_one_second_doubling_up_to_an_hour() {
        assert_eq!(retry_after(1), Duration::from_secs(1));
        assert_eq!(retry_after(2), Duration::from_secs(2));
        assert_eq!(retry_after(5), Duration::from_secs(16));
        assert_eq!(retry_after(11), Duration::from_secs(1024));
        assert_eq!(retry_after(13), Duration::from_secs(3600));
        assert_eq!(retry_after(1000), Duration::from_secs(3600));
        let total: Duration = (1..MAX_ATTEMPTS).map(retry_after).sum();
        assert!(total < Duration::from_secs(35 * 60), "{total:?}");
    }
}
