//! A team's members and invites.

use crate::model::{AppError, Invite, InviteSummary, MemberInfo, NewInvite};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::model::{Role, validate};
    pub use crate::server::passwords;
    pub use crate::server::store::{invites, members};
    pub use crate::server::{teams, web::context as cx};

    /// A role from a form field.
    pub fn parse_role(raw: &str) -> Result<Role, super::AppError> {
        Role::parse(raw.trim())
            .ok_or_else(|| super::AppError::invalid("Choose a role: owner, member or viewer."))
    }
}

#[server(endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<MemberInfo>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    members::list_members(&state.db, actor.team_id).await
}

/// Owners add an existing user to their team by email, with a role.
#[server(endpoint = "add_member")]
pub async fn add_member(email: String, role: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::member(&state).await?.require_owner()?;
    let email = validate::email(&email)?;
    members::add_member(&state.db, actor.team_id, &email, parse_role(&role)?).await
}

/// Owners change a member's role; the team's last owner stays one.
#[server(endpoint = "set_member_role")]
pub async fn set_member_role(user_id: String, role: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let owner = cx::actor(&state).await?.require_owner()?;
    let user = cx::id(&user_id, "Member")?;
    teams::set_role(&state.db, &owner, user, parse_role(&role)?).await
}

/// Owners remove a member (never the last owner); their sessions and open
/// pages in the team end at once.
#[server(endpoint = "remove_member")]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let owner = cx::actor(&state).await?.require_owner()?;
    let user = cx::id(&user_id, "Member")?;
    teams::remove(&state.db, &state.bus, &owner, user).await
}

/// Owners make an invite link for a person to join the team with `role`;
/// the link is answered this once, works once and for seven days.
#[server(endpoint = "create_invite")]
pub async fn create_invite(role: String) -> Result<NewInvite, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let owner = cx::member(&state).await?.require_owner()?;
    let host = cx::request_host();
    teams::invite(
        &state.db,
        &state.config,
        &owner,
        parse_role(&role)?,
        host.as_deref(),
    )
    .await
}

/// The team's invites, newest first, without their tokens.
#[server(endpoint = "list_invites")]
pub async fn list_invites() -> Result<Vec<Invite>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let owner = cx::actor(&state).await?.require_owner()?;
    invites::list(&state.db, owner.team_id).await
}

/// Revokes an unused invite: its link stops working.
#[server(endpoint = "revoke_invite")]
pub async fn revoke_invite(id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let owner = cx::actor(&state).await?.require_owner()?;
    teams::revoke_invite(&state.db, &owner, cx::id(&id, "Invite")?).await
}

/// What an invite link joins, for the sign-up page; no session needed
/// (the token is the secret). A used, revoked or expired one is not found.
#[server(endpoint = "invite_info")]
pub async fn invite_info(invite: String) -> Result<InviteSummary, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    invites::summary(&state.db, &passwords::token_hash(&invite))
        .await?
        .ok_or_else(|| AppError::not_found("Invite"))
}
