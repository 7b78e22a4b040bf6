//! Outgoing notifications: a team's hooks (where, which events, which
//! format) and their delivery. The outbox rows are written by the store
//! in the transaction of each change (`store::notifications`); this layer
//! checks what members ask for and sends what is due:
//!
//! - [`address`]: which URLs and addresses a hook may reach;
//! - [`message`]: the JSON and Slack bodies, and their signature;
//! - [`deliver`]: the worker, the HTTP client, and the log of each try.

pub mod address;
pub mod deliver;
pub mod message;

pub use deliver::Notifier;

use super::passwords;
use super::store::{Db, notifications as stored};
use crate::model::{
    Actor, AppError, Delivery, HookFormat, NewNotificationHook, NotificationEvent,
    NotificationHook, NotificationHookId, NotificationId, SiteId,
};

/// What a member fills in for a hook; `None` keeps what an update does
/// not change.
#[derive(Default)]
pub struct HookForm<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a str>,
    pub format: Option<&'a str>,
    /// `Some(None)`: team-wide.
    pub site_id: Option<Option<SiteId>>,
    pub enabled: Option<bool>,
}

fn format(raw: &str) -> Result<HookFormat, AppError> {
    HookFormat::parse(raw.trim())
        .ok_or_else(|| AppError::invalid("A hook's format is json or slack."))
}

/// A URL checked for its form and, after DNS resolution, for where it
/// leads.
async fn url(raw: &str, notifier: &Notifier) -> Result<String, AppError> {
    let url = address::parse_url(raw)?;
    address::check_url(&url, notifier.allows_private()).await?;
    Ok(url.to_string())
}

/// A new hook of the actor's team; its secret is answered this once.
pub async fn create_hook(
    db: &Db,
    notifier: &Notifier,
    actor: &Actor,
    form: HookForm<'_>,
) -> Result<NewNotificationHook, AppError> {
    let url = url(form.url.unwrap_or_default(), notifier).await?;
    let events = NotificationEvent::parse_list(form.events.unwrap_or_default())?;
    let format = format(form.format.unwrap_or("json"))?;
    let site_id = form.site_id.flatten();
    let (secret, _) = passwords::new_token();
    let id = stored::create_hook(
        db,
        stored::NewHook {
            team_id: actor.team_id,
            site_id,
            url: &url,
            events: &events,
            format,
            secret: &secret,
            created_by: actor.user_id,
        },
    )
    .await?;
    Ok(NewNotificationHook {
        id,
        secret,
        url,
        events,
        format,
        site_id,
    })
}

/// Changes a hook of the actor's team: only what the form gives.
pub async fn update_hook(
    db: &Db,
    notifier: &Notifier,
    actor: &Actor,
    id: NotificationHookId,
    form: HookForm<'_>,
) -> Result<(), AppError> {
    let url = match form.url {
        Some(raw) => Some(url(raw, notifier).await?),
        None => None,
    };
    let events = form.events.map(NotificationEvent::parse_list).transpose()?;
    let format = form.format.map(format).transpose()?;
    stored::update_hook(
        db,
        actor.team_id,
        id,
        stored::HookUpdate {
            url: url.as_deref(),
            events: events.as_deref(),
            format,
            site_id: form.site_id,
            enabled: form.enabled,
        },
    )
    .await
}

/// The team's hooks with their latest deliveries.
pub async fn list_hooks(db: &Db, actor: &Actor) -> Result<Vec<NotificationHook>, AppError> {
    stored::list_hooks(db, actor.team_id).await
}

/// Deletes a hook of the actor's team, with what it had still to send.
pub async fn delete_hook(db: &Db, actor: &Actor, id: NotificationHookId) -> Result<(), AppError> {
    stored::delete_hook(db, actor.team_id, id).await
}

/// Sends a test notification to a hook now, through the outbox (it is in
/// the log like any other), and answers how the receiver took it.
pub async fn send_test(
    db: &Db,
    notifier: &Notifier,
    actor: &Actor,
    id: NotificationHookId,
) -> Result<Delivery, AppError> {
    let (claimed, claim) =
        stored::outbox::enqueue_test(db, actor.team_id, id, &actor.name, deliver::HOLD).await?;
    notifier.deliver_now(claimed, claim).await
}

/// Sends a delivery again now, as a new delivery, and answers how it went.
pub async fn redeliver(
    db: &Db,
    notifier: &Notifier,
    actor: &Actor,
    id: NotificationId,
) -> Result<Delivery, AppError> {
    let (claimed, claim) = stored::outbox::redeliver(db, actor.team_id, id, deliver::HOLD).await?;
    notifier.deliver_now(claimed, claim).await
}
