//! Integrations: the team's API tokens, and its notification hooks with
//! their delivery log. Owners and members manage both; viewers neither.

use crate::model::{
    ApiToken, AppError, Delivery, NewApiToken, NewNotificationHook, NotificationHook,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::notifications::{self, HookForm};
    pub use crate::server::store::api_tokens;
    pub use crate::server::{api_tokens as tokens, web::context as cx};

    /// A present, non-blank form field.
    pub fn present(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// `site_id` as a change reads it: absent keeps the hook's, blank
    /// makes it team-wide.
    pub fn site_field(
        raw: &Option<String>,
    ) -> Result<Option<Option<crate::model::SiteId>>, super::AppError> {
        match raw.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(id) => Ok(Some(Some(cx::id(id, "Site")?))),
        }
    }

    pub fn enabled_field(raw: &Option<String>) -> Result<Option<bool>, super::AppError> {
        match present(raw) {
            None => Ok(None),
            Some("1" | "true" | "on") => Ok(Some(true)),
            Some("0" | "false" | "off") => Ok(Some(false)),
            Some(_) => Err(super::AppError::invalid("enabled is true or false.")),
        }
    }
}

/// Makes a token for the team acting as `role` (owner, member or viewer,
/// no higher than the maker's own); the token is answered this once.
/// Only a signed-in member makes tokens, never another token.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(name: String, role: String) -> Result<NewApiToken, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::member(&state).await?.require_trigger()?;
    tokens::create(&state.db, &actor, &name, &role).await
}

/// The team's tokens, open ones first, with when each was last used;
/// never the tokens themselves.
#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    api_tokens::list(&state.db, actor.team_id).await
}

/// Revokes a token: every request with it is refused from now on.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    tokens::revoke(&state.db, &state.bus, &actor, cx::id(&id, "API token")?).await
}

/// A hook for the team (or, with `site_id`, one site): `url` (http or
/// https, a public address), `events` (comma-separated names), `format`
/// (`json`, the default, or `slack`). Answers its `id` and the `secret`
/// that signs its bodies, this once.
#[server(endpoint = "create_notification_hook")]
pub async fn create_notification_hook(
    url: String,
    events: String,
    format: Option<String>,
    site_id: Option<String>,
) -> Result<NewNotificationHook, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::member(&state).await?.require_trigger()?;
    let site_id = present(&site_id).map(|id| cx::id(id, "Site")).transpose()?;
    let form = HookForm {
        url: Some(&url),
        events: Some(&events),
        format: present(&format),
        site_id: Some(site_id),
        enabled: None,
    };
    notifications::create_hook(&state.db, &state.notifier, &actor, form).await
}

/// Changes a hook: each field given replaces the stored one (`site_id`
/// blank makes it team-wide; `enabled` true enables a disabled hook).
#[server(endpoint = "update_notification_hook")]
pub async fn update_notification_hook(
    id: String,
    url: Option<String>,
    events: Option<String>,
    format: Option<String>,
    site_id: Option<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::member(&state).await?.require_trigger()?;
    let form = HookForm {
        url: present(&url),
        events: present(&events),
        format: present(&format),
        site_id: site_field(&site_id)?,
        enabled: enabled_field(&enabled)?,
    };
    let id = cx::id(&id, "Notification hook")?;
    notifications::update_hook(&state.db, &state.notifier, &actor, id, form).await
}

/// The team's hooks, each with its latest deliveries; never their secrets.
#[server(endpoint = "list_notification_hooks")]
pub async fn list_notification_hooks() -> Result<Vec<NotificationHook>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    notifications::list_hooks(&state.db, &actor).await
}

/// Deletes a hook and what it still had to send.
#[server(endpoint = "delete_notification_hook")]
pub async fn delete_notification_hook(id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    notifications::delete_hook(&state.db, &actor, cx::id(&id, "Notification hook")?).await
}

/// Sends a `notification.test` to a hook now and answers how it went
/// (the delivery, as its log shows it).
#[server(endpoint = "send_test_notification")]
pub async fn send_test_notification(id: String) -> Result<Delivery, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&id, "Notification hook")?;
    notifications::send_test(&state.db, &state.notifier, &actor, id).await
}

/// Sends a delivery again now, as a new delivery of the same notification.
#[server(endpoint = "redeliver_notification")]
pub async fn redeliver_notification(id: String) -> Result<Delivery, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_trigger()?;
    let id = cx::id(&id, "Delivery")?;
    notifications::redeliver(&state.db, &state.notifier, &actor, id).await
}
