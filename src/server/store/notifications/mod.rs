//! Notification hooks, their delivery log, and (in [`outbox`]) the
//! notifications waiting to be sent. A notification is written in the
//! same transaction as the change it tells of (see `changes`), so a change
//! is never committed without its notifications nor told of without being
//! committed.

pub mod claims;
pub mod outbox;

use super::db::{Db, now_ms};
use crate::model::integrations::NotifiedSite;
use crate::model::{
    AppError, Delivery, DeliveryState, Deployment, HookFormat, NotificationEvent, NotificationHook,
    NotificationHookId, NotificationId, SiteId, SiteLock, TeamId, UserId,
};
use serde::{Deserialize, Serialize};

/// How many hooks a team may have.
pub const MAX_HOOKS: i64 = 50;
/// How many deliveries of each hook its log shows.
pub const LOG_LENGTH: i64 = 10;
/// What a notification is about, as stored in the outbox: the record as
/// it was at the change, rendered for its hook when it is sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Deployment {
        deployment: Box<Deployment>,
    },
    SiteLock {
        site: NotifiedSite,
        /// The lock taken; `None` when the site was unlocked.
        lock: Option<SiteLock>,
    },
    /// `send_test_notification`, by this person.
    Test {
        by: String,
    },
}

/// A stored notification's payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub occurred_at: i64,
    pub subject: Subject,
}

impl Payload {
    /// A few words on what it is about, for the delivery log.
    pub fn summary(&self) -> String {
        match &self.subject {
            Subject::Deployment { deployment: d } => {
                format!("{} on {}", d.operation_name, d.site_name)
            }
            Subject::SiteLock {
                site,
                lock: Some(_),
            } => format!("{} locked", site.name),
            Subject::SiteLock { site, lock: None } => format!("{} unlocked", site.name),
            Subject::Test { by } => format!("Test sent by {by}"),
        }
    }
}

pub(super) fn encode(payload: &Payload) -> Result<String, sqlx::Error> {
    serde_json::to_string(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A new hook as it is stored.
pub struct NewHook<'a> {
    pub team_id: TeamId,
    pub site_id: Option<SiteId>,
    pub url: &'a str,
    pub events: &'a [NotificationEvent],
    pub format: HookFormat,
    pub secret: &'a str,
    pub created_by: UserId,
}

/// Stores a hook; `NotFound` when its site is not the team's.
pub async fn create_hook(db: &Db, new: NewHook<'_>) -> Result<NotificationHookId, AppError> {
    let (count,): (i64,) =
        sqlx::query_as("select count(*) from notification_hooks where team_id = $1")
            .bind(new.team_id)
            .fetch_one(&db.pool)
            .await?;
    if count >= MAX_HOOKS {
        return Err(AppError::conflict(format!(
            "Your team already has {MAX_HOOKS} notification hooks; delete one you no longer use."
        )));
    }
    if let Some(site_id) = new.site_id {
        site_of_team(db, new.team_id, site_id).await?;
    }
    let id = NotificationHookId::new();
    sqlx::query(
        "insert into notification_hooks (id, team_id, site_id, url, events, format, secret, \
         created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(new.team_id)
    .bind(new.site_id)
    .bind(new.url)
    .bind(NotificationEvent::list_text(new.events))
    .bind(new.format)
    .bind(new.secret)
    .bind(new.created_by)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(id)
}

async fn site_of_team(db: &Db, team_id: TeamId, site_id: SiteId) -> Result<(), AppError> {
    let found: Option<(SiteId,)> =
        sqlx::query_as("select id from sites where id = $1 and team_id = $2")
            .bind(site_id)
            .bind(team_id)
            .fetch_optional(&db.pool)
            .await?;
    found.map(|_| ()).ok_or_else(|| AppError::not_found("Site"))
}

/// What an update changes; `None` keeps the stored value.
#[derive(Default)]
pub struct HookUpdate<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [NotificationEvent]>,
    pub format: Option<HookFormat>,
    /// `Some(None)` makes it team-wide.
    pub site_id: Option<Option<SiteId>>,
    /// `Some(true)` enables a disabled hook again, `Some(false)` disables it.
    pub enabled: Option<bool>,
}

/// Changes a hook of the team; `NotFound` for another team's.
pub async fn update_hook(
    db: &Db,
    team_id: TeamId,
    id: NotificationHookId,
    update: HookUpdate<'_>,
) -> Result<(), AppError> {
    if let Some(Some(site_id)) = update.site_id {
        site_of_team(db, team_id, site_id).await?;
    }
    let now = now_ms();
    let (disabled_at, disabled_reason, set_enabled) = match update.enabled {
        None => (None, None, 0),
        Some(true) => (None, None, 1),
        Some(false) => (Some(now), Some("Disabled by hand.".to_string()), 1),
    };
    let done = sqlx::query(
        "update notification_hooks set url = coalesce($1, url), events = coalesce($2, events), \
         format = coalesce($3, format), \
         site_id = case when $4 = 1 then $5 else site_id end, \
         disabled_at = case when $6 = 1 then $7 else disabled_at end, \
         disabled_reason = case when $6 = 1 then $8 else disabled_reason end \
         where id = $9 and team_id = $10",
    )
    .bind(update.url)
    .bind(update.events.map(NotificationEvent::list_text))
    .bind(update.format)
    .bind(i64::from(update.site_id.is_some()))
    .bind(update.site_id.flatten())
    .bind(set_enabled)
    .bind(disabled_at)
    .bind(disabled_reason)
    .bind(id)
    .bind(team_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("Notification hook"));
    }
    Ok(())
}

/// Deletes a hook of the team, with its outbox rows and log.
pub async fn delete_hook(db: &Db, team_id: TeamId, id: NotificationHookId) -> Result<(), AppError> {
    let done = sqlx::query("delete from notification_hooks where id = $1 and team_id = $2")
        .bind(id)
        .bind(team_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("Notification hook"));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct HookRow {
    id: NotificationHookId,
    url: String,
    events: String,
    format: HookFormat,
    site_id: Option<SiteId>,
    site_name: Option<String>,
    created_by: Option<String>,
    created_at: i64,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: NotificationId,
    hook_id: NotificationHookId,
    event: NotificationEvent,
    payload: String,
    state: DeliveryState,
    attempts: i64,
    created_at: i64,
    delivered_at: Option<i64>,
    next_attempt_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
    last_response: Option<String>,
    last_duration_ms: Option<i64>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        let summary = serde_json::from_str::<Payload>(&r.payload)
            .map(|p| p.summary())
            .unwrap_or_default();
        Self {
            id: r.id,
            hook_id: r.hook_id,
            event: r.event,
            summary,
            state: r.state,
            attempts: r.attempts,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            next_attempt_at: (r.state == DeliveryState::Pending)
                .then_some(r.next_attempt_at)
                .flatten(),
            last_status: r.last_status,
            last_error: r.last_error,
            last_response: r.last_response,
            last_duration_ms: r.last_duration_ms,
        }
    }
}

const HOOK_COLUMNS: &str = "h.id, h.url, h.events, h.format, h.site_id, s.name as site_name, \
    u.name as created_by, h.created_at, h.disabled_at, h.disabled_reason";
const HOOK_JOINS: &str = "notification_hooks h left join sites s on s.id = h.site_id \
    left join users u on u.id = h.created_by";
const DELIVERY_COLUMNS: &str = "id, hook_id, event, payload, state, attempts, created_at, delivered_at, \
    next_attempt_at, last_status, last_error, last_response, last_duration_ms";

/// The team's hooks, oldest first, each with its latest deliveries.
pub async fn list_hooks(db: &Db, team_id: TeamId) -> Result<Vec<NotificationHook>, AppError> {
    let rows: Vec<HookRow> = sqlx::query_as(&format!(
        "select {HOOK_COLUMNS} from {HOOK_JOINS} where h.team_id = $1 order by h.id limit 100"
    ))
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    let mut hooks = Vec::with_capacity(rows.len());
    for row in rows {
        let deliveries = deliveries(db, row.id, LOG_LENGTH).await?;
        hooks.push(NotificationHook {
            id: row.id,
            url: row.url,
            events: NotificationEvent::parse_list(&row.events).unwrap_or_default(),
            format: row.format,
            site_id: row.site_id,
            site_name: row.site_name,
            created_by: row.created_by,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            disabled_reason: row.disabled_reason,
            deliveries,
        });
    }
    Ok(hooks)
}

/// A hook's newest deliveries, newest first.
pub async fn deliveries(
    db: &Db,
    hook_id: NotificationHookId,
    limit: i64,
) -> Result<Vec<Delivery>, AppError> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "select {DELIVERY_COLUMNS} from notifications where hook_id = $1 order by id desc limit $2"
    ))
    .bind(hook_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(Delivery::from).collect())
}

/// One delivery of the team's.
pub async fn delivery(
    db: &Db,
    team_id: TeamId,
    id: NotificationId,
) -> Result<Option<Delivery>, AppError> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!(
        "select {DELIVERY_COLUMNS} from notifications where id = $1 and team_id = $2"
    ))
    .bind(id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(Delivery::from))
}

/// Whether the team has this hook, and whether it is enabled.
pub async fn hook_enabled(
    db: &Db,
    team_id: TeamId,
    id: NotificationHookId,
) -> Result<Option<bool>, AppError> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("select disabled_at from notification_hooks where id = $1 and team_id = $2")
            .bind(id)
            .bind(team_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(disabled,)| disabled.is_none()))
}
