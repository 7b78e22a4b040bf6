//! Signing up, in and out, and switching team.

use crate::model::{AppError, SessionInfo};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::web::{context as cx, session};
}

/// Creates an account and a team of its own, and signs it in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
    team: String,
) -> Result<SessionInfo, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let session = session::current().await?;
    let info = session::sign_up(&state.db, &session, &email, password, &name, &team).await?;
    cx::redirect_plain_form("/");
    Ok(info)
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<SessionInfo, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let session = session::current().await?;
    let info = session::sign_in(&state.db, &session, &email, password).await?;
    cx::redirect_plain_form("/");
    Ok(info)
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use self::ssr::*;
    session::sign_out(&session::current().await?).await?;
    cx::redirect_plain_form("/signin");
    Ok(())
}

/// Who is signed in, or `null`.
#[server(endpoint = "current_session")]
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    session::info(&state.db, &session::current().await?, &state.config).await
}

/// Moves the session to another of the user's teams.
#[server(endpoint = "switch_team")]
pub async fn switch_team(team_id: String) -> Result<SessionInfo, AppError> {
    use self::ssr::*;
    let team_id = team_id.parse()?;
    let state = cx::state()?;
    let session = session::current().await?;
    let info = session::switch_team(&state.db, &session, team_id).await?;
    cx::redirect_plain_form("/");
    Ok(info)
}
