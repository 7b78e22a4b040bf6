//! Integrations as the pages, the API and the command line see them: a
//! team's API tokens, its notification hooks with their delivery log, the
//! events a hook can receive, and the body a hook is sent.

use super::account::Role;
use super::deployment::Deployment;
use super::error::AppError;
use super::ids::{ApiTokenId, NotificationHookId, NotificationId, SiteId, TeamId};
use super::site::SiteLock;
use super::status::DeploymentStatus;
use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// A team's API token as its members see it; the token itself is shown
/// once, when it is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub role: Role,
    /// Who made it, while they have an account.
    pub created_by: Option<String>,
    pub created_at: i64,
    /// When it was last used (recorded at most once a minute).
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token just made: `token` is shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub role: Role,
    pub token: String,
    pub created_at: i64,
}

/// What a token's actions are recorded under ("triggered by").
pub fn token_actor_name(token_name: &str) -> String {
    format!("CI token '{token_name}'")
}

/// Something a notification hook can be told of, named as in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationEvent {
    #[serde(rename = "deployment.queued")]
    DeploymentQueued,
    #[serde(rename = "deployment.started")]
    DeploymentStarted,
    #[serde(rename = "deployment.succeeded")]
    DeploymentSucceeded,
    #[serde(rename = "deployment.failed")]
    DeploymentFailed,
    #[serde(rename = "deployment.cancelled")]
    DeploymentCancelled,
    /// A rollback completed: the site serves an earlier release again
    /// (sent along with `deployment.succeeded`).
    #[serde(rename = "deployment.rolled_back")]
    DeploymentRolledBack,
    #[serde(rename = "site.locked")]
    SiteLocked,
    #[serde(rename = "site.unlocked")]
    SiteUnlocked,
    /// `send_test_notification`: sent to one hook whatever its events.
    #[serde(rename = "notification.test")]
    Test,
}

text_enum!(NotificationEvent {
    DeploymentQueued => "deployment.queued",
    DeploymentStarted => "deployment.started",
    DeploymentSucceeded => "deployment.succeeded",
    DeploymentFailed => "deployment.failed",
    DeploymentCancelled => "deployment.cancelled",
    DeploymentRolledBack => "deployment.rolled_back",
    SiteLocked => "site.locked",
    SiteUnlocked => "site.unlocked",
    Test => "notification.test",
});

impl NotificationEvent {
    /// The events a hook may ask for (every one but the test).
    pub const SUBSCRIBABLE: &'static [Self] = &[
        Self::DeploymentQueued,
        Self::DeploymentStarted,
        Self::DeploymentSucceeded,
        Self::DeploymentFailed,
        Self::DeploymentCancelled,
        Self::DeploymentRolledBack,
        Self::SiteLocked,
        Self::SiteUnlocked,
    ];

    /// What a deployment entering `status` tells (a rollback's completion
    /// tells two things). Superseded is not news: the newer one is.
    pub fn on_status(status: DeploymentStatus, is_rollback: bool) -> &'static [Self] {
        match status {
            DeploymentStatus::Queued => &[Self::DeploymentQueued],
            DeploymentStatus::Running => &[Self::DeploymentStarted],
            DeploymentStatus::Completed if is_rollback => {
                &[Self::DeploymentSucceeded, Self::DeploymentRolledBack]
            }
            DeploymentStatus::Completed => &[Self::DeploymentSucceeded],
            DeploymentStatus::Failed => &[Self::DeploymentFailed],
            DeploymentStatus::Cancelled => &[Self::DeploymentCancelled],
            DeploymentStatus::Superseded => &[],
        }
    }

    /// A hook's `events` field: names separated by commas, each known,
    /// at least one; repeats are dropped and the order is kept.
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, AppError> {
        let mut events = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let event = Self::parse(name)
                .filter(|e| Self::SUBSCRIBABLE.contains(e))
                .ok_or_else(|| {
                    let known: Vec<&str> = Self::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect();
                    AppError::invalid(format!(
                        "Unknown event {:?}: events are {}.",
                        name.chars().take(60).collect::<String>(),
                        known.join(", ")
                    ))
                })?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Err(AppError::invalid(
                "Choose at least one event for the hook to receive.",
            ));
        }
        Ok(events)
    }

    /// The stored form of a list: the names joined by commas.
    pub fn list_text(events: &[Self]) -> String {
        events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// How a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::DeploymentQueued => "Queued",
            Self::DeploymentStarted => "Started",
            Self::DeploymentSucceeded => "Succeeded",
            Self::DeploymentFailed => "Failed",
            Self::DeploymentCancelled => "Cancelled",
            Self::DeploymentRolledBack => "Rolled back",
            Self::SiteLocked => "Site locked",
            Self::SiteUnlocked => "Site unlocked",
            Self::Test => "Test",
        }
    }
}

/// What a hook's body looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookFormat {
    /// [`NotificationBody`], signed.
    Json,
    /// A Slack incoming-webhook message.
    Slack,
}

text_enum!(HookFormat {
    Json => "json",
    Slack => "slack",
});

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet: its next try is due at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every try failed; the hook was disabled.
    Failed,
}

text_enum!(DeliveryState {
    Pending => "pending",
    Delivered => "delivered",
    Failed => "failed",
});

/// A team's notification hook, with its latest deliveries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationHook {
    pub id: NotificationHookId,
    pub url: String,
    pub events: Vec<NotificationEvent>,
    pub format: HookFormat,
    /// Only this site's events; the whole team's when `None`.
    pub site_id: Option<SiteId>,
    pub site_name: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    /// Set when its deliveries kept failing (or by hand); it receives
    /// nothing until it is enabled again.
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
    /// Its newest deliveries, newest first.
    pub deliveries: Vec<Delivery>,
}

impl NotificationHook {
    /// The URL as a page shows it: a Slack webhook's path is its secret,
    /// so only its first characters and its last four are shown.
    pub fn display_url(&self) -> String {
        if self.format != HookFormat::Slack {
            return self.url.clone();
        }
        let keep = self
            .url
            .find("/services/")
            .map_or(24, |i| i + "/services/".len() + 4);
        let chars: Vec<char> = self.url.chars().collect();
        if chars.len() <= keep + 8 {
            return self.url.clone();
        }
        let head: String = chars[..keep].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

/// A hook just made: `secret`, which signs its bodies, is shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewNotificationHook {
    pub id: NotificationHookId,
    pub secret: String,
    pub url: String,
    pub events: Vec<NotificationEvent>,
    pub format: HookFormat,
    pub site_id: Option<SiteId>,
}

/// One notification to one hook, as its delivery log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Sent as `X-Flightdeck-Delivery`: the same on every try.
    pub id: NotificationId,
    pub hook_id: NotificationHookId,
    pub event: NotificationEvent,
    /// What it is about, in a few words ("Deploy main on Docs").
    pub summary: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    /// When the next try is due, while pending.
    pub next_attempt_at: Option<i64>,
    /// The last try: the receiver's status (none when it was not reached),
    /// why it failed, the start of what it answered, and how long it took.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
    pub last_duration_ms: Option<i64>,
}

/// The body a `json` hook is sent: what happened, to what, by whom, with
/// links; signed as the README describes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationBody {
    /// The delivery id (also `X-Flightdeck-Delivery`): the same on every
    /// try, so a receiver can drop repeats.
    pub id: NotificationId,
    pub event: NotificationEvent,
    /// When the change happened (ms since the epoch).
    pub occurred_at: i64,
    pub team_id: TeamId,
    /// The site it is about (none for a test).
    pub site: Option<NotifiedSite>,
    /// For `deployment.*` events: the record as the API answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Box<Deployment>>,
    /// For `site.locked`: the lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<SiteLock>,
    /// Who did it: the deployment's "triggered by", or who locked.
    pub actor: Option<String>,
    pub links: NotificationLinks,
    /// One line a person reads ("Docs: Deploy main succeeded").
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotifiedSite {
    pub id: SiteId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationLinks {
    /// The deployment's page, the site's for site events, the team's for a test.
    pub dashboard: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_are_checked_deduplicated_and_kept_in_order() {
        let events = NotificationEvent::parse_list(
            " deployment.failed, deployment.succeeded,deployment.failed ,",
        )
        .unwrap();
        assert_eq!(
            events,
            [
                NotificationEvent::DeploymentFailed,
                NotificationEvent::DeploymentSucceeded
            ]
        );
        assert_eq!(
            NotificationEvent::list_text(&events),
            "deployment.failed,deployment.succeeded"
        );
        let unknown = NotificationEvent::parse_list("deployment.exploded").unwrap_err();
        assert!(unknown.message.contains("deployment.exploded"));
        assert!(unknown.message.contains("site.unlocked"));
        assert!(NotificationEvent::parse_list(" , ").is_err());
        // The test event is sent on request, never subscribed to.
        assert!(NotificationEvent::parse_list("notification.test").is_err());
    }

    #[test]
    fn a_slack_webhooks_secret_path_is_not_shown() {
        let mut hook = NotificationHook {
            id: NotificationHookId(ulid::Ulid::from_parts(1, 1)),
            url: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXabcd".into(),
            events: vec![NotificationEvent::DeploymentFailed],
            format: HookFormat::Slack,
            site_id: None,
            site_name: None,
            created_by: None,
            created_at: 0,
            disabled_at: None,
            disabled_reason: None,
            deliveries: vec![],
        };
        assert_eq!(
            hook.display_url(),
            "https://hooks.slack.com/services/T000…abcd"
        );
        hook.format = HookFormat::Json;
        assert_eq!(hook.display_url(), hook.url);
    }

    #[test]
    fn event_names_on_the_wire_are_the_api_names() {
        for event in NotificationEvent::ALL {
            let json = serde_json::to_string(event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
        }
    }

    #[test]
    fn a_rollback_completing_tells_both_success_and_rollback() {
        use DeploymentStatus::*;
        assert_eq!(
            NotificationEvent::on_status(Completed, true),
            [
                NotificationEvent::DeploymentSucceeded,
                NotificationEvent::DeploymentRolledBack
            ]
        );
        assert_eq!(
            NotificationEvent::on_status(Completed, false),
            [NotificationEvent::DeploymentSucceeded]
        );
        assert!(NotificationEvent::on_status(Superseded, false).is_empty());
        assert_eq!(
            NotificationEvent::on_status(Running, false),
            [NotificationEvent::DeploymentStarted]
        );
    }
}
