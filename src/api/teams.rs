//! A team's members.

use crate::model::{AppError, MemberInfo};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::{store::accounts, web::context as cx};
}

#[server(endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<MemberInfo>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    accounts::list_members(&state.db, actor.team_id).await
}

/// Owners add an existing user to their team by email, with a role.
#[server(endpoint = "add_member")]
pub async fn add_member(email: String, role: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?.require_owner()?;
    let email = crate::model::validate::email(&email)?;
    let role = crate::model::Role::parse(&role)
        .ok_or_else(|| AppError::invalid("Choose a role: owner, member or viewer."))?;
    accounts::add_member(&state.db, actor.team_id, &email, role).await
}
