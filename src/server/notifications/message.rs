//! What a hook is sent: the JSON body ([`NotificationBody`]) or a Slack
//! incoming-webhook message, and the signature over it.

use crate::model::integrations::{NotificationLinks, NotifiedSite};
use crate::model::{HookFormat, NotificationBody, NotificationEvent, NotificationId, TeamId};
use crate::server::store::notifications::{Payload, Subject};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// The body of one notification, with links on the dashboard at `origin`.
pub fn body(
    id: NotificationId,
    team_id: TeamId,
    event: NotificationEvent,
    payload: Payload,
    origin: &str,
) -> NotificationBody {
    let (site, deployment, lock, actor, dashboard, preview) = match payload.subject {
        Subject::Deployment { deployment } => (
            Some(NotifiedSite {
                id: deployment.site_id,
                name: deployment.site_name.clone(),
            }),
            Some(deployment.clone()),
            None,
            Some(deployment.triggered_by.clone()),
            format!("{origin}/deployments/{}", deployment.id),
            deployment.preview_url.clone(),
        ),
        Subject::SiteLock { site, lock } => {
            let dashboard = format!("{origin}/sites/{}", site.id);
            let actor = lock.as_ref().map(|l| l.by_name.clone());
            (Some(site), None, lock, actor, dashboard, None)
        }
        Subject::Test { by } => (None, None, None, Some(by), format!("{origin}/team"), None),
    };
    let mut body = NotificationBody {
        id,
        event,
        occurred_at: payload.occurred_at,
        team_id,
        site,
        deployment,
        lock,
        actor,
        links: NotificationLinks { dashboard, preview },
        text: String::new(),
    };
    body.text = text(&body);
    body
}

/// One line a person reads.
fn text(body: &NotificationBody) -> String {
    let site = body.site.as_ref().map_or("", |s| s.name.as_str());
    if let Some(d) = &body.deployment {
        let what = match body.event {
            NotificationEvent::DeploymentQueued => "is queued".to_string(),
            NotificationEvent::DeploymentStarted => "started".to_string(),
            NotificationEvent::DeploymentSucceeded => "succeeded".to_string(),
            NotificationEvent::DeploymentRolledBack => "rolled the site back".to_string(),
            NotificationEvent::DeploymentCancelled => "was cancelled".to_string(),
            NotificationEvent::DeploymentFailed => match &d.error_message {
                Some(error) => format!("failed: {error}"),
                None => "failed".to_string(),
            },
            _ => body.event.label().to_lowercase(),
        };
        return format!(
            "{site}: {} {what} (by {})",
            d.operation_name, d.triggered_by
        );
    }
    match (&body.event, &body.lock) {
        (NotificationEvent::SiteLocked, Some(lock)) => {
            format!("{site} was locked by {}: {}", lock.by_name, lock.reason)
        }
        (NotificationEvent::SiteUnlocked, _) => format!("{site} was unlocked"),
        _ => format!(
            "A test notification from Flightdeck, sent by {}.",
            body.actor.as_deref().unwrap_or("a member")
        ),
    }
}

/// The colour Slack shows beside the message.
fn colour(event: NotificationEvent) -> &'static str {
    match event {
        NotificationEvent::DeploymentSucceeded | NotificationEvent::DeploymentRolledBack => {
            "#1a7f37"
        }
        NotificationEvent::DeploymentFailed => "#cf222e",
        NotificationEvent::DeploymentStarted | NotificationEvent::DeploymentQueued => "#0969da",
        NotificationEvent::SiteLocked => "#bf8700",
        _ => "#6e7781",
    }
}

/// The bytes sent for `format`.
pub fn render(format: HookFormat, body: &NotificationBody) -> Vec<u8> {
    match format {
        HookFormat::Json => serde_json::to_vec(body).unwrap_or_default(),
        HookFormat::Slack => {
            let mut details = Vec::new();
            if let Some(d) = &body.deployment {
                if let Some(branch) = &d.branch {
                    details.push(format!("Branch `{branch}`"));
                }
                if let Some(sha) = &d.commit_sha {
                    details.push(format!(
                        "commit `{}`",
                        sha.chars().take(7).collect::<String>()
                    ));
                }
            }
            let mut links = format!("<{}|Open in Flightdeck>", body.links.dashboard);
            if let Some(preview) = &body.links.preview {
                links.push_str(&format!(" · <{preview}|Preview>"));
            }
            details.push(links);
            serde_json::to_vec(&json!({
                "text": body.text,
                "attachments": [{
                    "color": colour(body.event),
                    "fallback": body.text,
                    "text": details.join(" · "),
                    "footer": format!("Flightdeck · {}", body.event.as_str()),
                    "ts": body.occurred_at / 1000,
                }],
            }))
            .unwrap_or_default()
        }
    }
}

/// `X-Flightdeck-Signature-256`: `sha256=` and the hex HMAC-SHA256, with
/// the hook's secret, of the timestamp, a dot and the body. Signing the
/// timestamp with the body stops a captured delivery being replayed later
/// with a fresh timestamp.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SiteId;
    use crate::model::SiteLock;
    use crate::model::integrations::NotifiedSite;

    fn locked() -> NotificationBody {
        let site = NotifiedSite {
            id: SiteId(ulid::Ulid::from_parts(1, 1)),
            name: "Docs".into(),
        };
        let lock = SiteLock {
            by: None,
            by_name: "Ada".into(),
            reason: "release freeze".into(),
            at: 1_700_000_000_000,
        };
        body(
            NotificationId(ulid::Ulid::from_parts(2, 2)),
            TeamId(ulid::Ulid::from_parts(3, 3)),
            NotificationEvent::SiteLocked,
            Payload {
                occurred_at: 1_700_000_000_000,
                subject: Subject::SiteLock {
                    site,
                    lock: Some(lock),
                },
            },
            "https://deploys.example.com",
        )
    }

    #[test]
    fn a_body_says_what_happened_with_links_to_the_dashboard() {
        let b = locked();
        assert_eq!(b.text, "Docs was locked by Ada: release freeze");
        assert_eq!(b.actor.as_deref(), Some("Ada"));
        assert!(
            b.links
                .dashboard
                .starts_with("https://deploys.example.com/sites/")
        );
        let json: serde_json::Value =
            serde_json::from_slice(&render(HookFormat::Json, &b)).unwrap();
        assert_eq!(json["event"], "site.locked");
        assert_eq!(json["lock"]["reason"], "release freeze");
        assert!(json.get("deployment").is_none());
    }

    #[test]
    fn a_slack_message_is_an_incoming_webhook_payload() {
        let b = locked();
        let json: serde_json::Value =
            serde_json::from_slice(&render(HookFormat::Slack, &b)).unwrap();
        assert_eq!(json["text"], b.text);
        let attachment = &json["attachments"][0];
        assert_eq!(attachment["color"], "#bf8700");
        assert!(
            attachment["text"]
                .as_str()
                .unwrap()
                .contains("|Open in Flightdeck>")
        );
        assert_eq!(attachment["ts"], 1_700_000_000);
    }

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let a = signature("secret", 1_700_000_000, b"{\"a\":1}");
        assert!(a.starts_with("sha256="));
        assert_eq!(a.len(), "sha256=".len() + 64);
        assert_eq!(a, signature("secret", 1_700_000_000, b"{\"a\":1}"));
        assert_ne!(a, signature("secret", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(a, signature("secret", 1_700_000_000, b"{\"a\":2}"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{\"a\":1}"));
        // The published example (README), so receivers can check theirs.
        assert_eq!(
            signature(
                "It's a Secret to Everybody",
                1_700_000_000,
                b"Hello, World!"
            ),
            "sha256=76c83fd0acdf22faed320674fe8e04d528cfe8a17905e720a9611e40677c03b7"
        );
    }
}
