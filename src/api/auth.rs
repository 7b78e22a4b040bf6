//! Signing up, in and out, and switching team.

use crate::model::{AppError, SessionInfo};
use leptos::prelude::*;

/// Creates an account and a team of its own, and signs it in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
    team: String,
) -> Result<SessionInfo, AppError> {
    let info = crate::server::auth::sign_up(&email, password, &name, &team).await?;
    crate::server::http::redirect_plain_form("/");
    Ok(info)
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<SessionInfo, AppError> {
    let info = crate::server::auth::sign_in(&email, password).await?;
    crate::server::http::redirect_plain_form("/");
    Ok(info)
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::server::auth::sign_out().await?;
    crate::server::http::redirect_plain_form("/signin");
    Ok(())
}

/// Who is signed in, or `null`.
#[server(endpoint = "current_session")]
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    crate::server::auth::current_session().await
}

/// Moves the session to another of the user's teams.
#[server(endpoint = "switch_team")]
pub async fn switch_team(team_id: String) -> Result<SessionInfo, AppError> {
    let team_id = team_id.parse()?;
    let info = crate::server::auth::switch_team(team_id).await?;
    crate::server::http::redirect_plain_form("/");
    Ok(info)
}
