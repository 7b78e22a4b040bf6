//! A team's members.

use crate::model::{AppError, MemberInfo};
use leptos::prelude::*;

#[server(endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<MemberInfo>, AppError> {
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    crate::server::accounts::list_members(&state.db, member.team_id).await
}

/// Owners add an existing user to their team by email, with a role.
#[server(endpoint = "add_member")]
pub async fn add_member(email: String, role: String) -> Result<(), AppError> {
    let member = crate::server::auth::require_member()
        .await?
        .require_owner()?;
    let state = crate::server::state::AppState::from_context()?;
    let email = crate::model::validate::email(&email)?;
    let role = crate::model::Role::parse(&role)
        .ok_or_else(|| AppError::invalid("Choose a role: owner, member or viewer."))?;
    crate::server::accounts::add_member(&state.db, member.team_id, &email, role).await
}
