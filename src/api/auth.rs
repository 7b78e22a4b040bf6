//! Signing up, in and out, and switching team.

use crate::model::{AppError, SessionInfo};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::server::web::{context as cx, session};
}

/// Creates an account and signs it in: with `invite` (an invite link's
/// token) into that team with its role; otherwise with a team of its own
/// named `team` (only the first account, unless `FLIGHTDECK_SIGNUP=open`).
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
    team: Option<String>,
    invite: Option<String>,
) -> Result<SessionInfo, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let session = session::current().await?;
    let form = session::SignUpForm {
        email: &email,
        password,
        name: &name,
        team: team.as_deref(),
        invite: invite.as_deref(),
    };
    let info = session::sign_up(&state.db, &session, &state.config, form).await?;
    cx::redirect_plain_form("/");
    Ok(info)
}

/// Whether a person without an invite link may create an account here
/// now (`FLIGHTDECK_SIGNUP=open`, or no account exists yet), for the
/// sign-up page to say so before anything is typed.
#[server(endpoint = "sign_up_open")]
pub async fn sign_up_open() -> Result<bool, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    session::open_to_strangers(&state.db, &state.config).await
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<SessionInfo, AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let session = session::current().await?;
    let address = cx::client_address().await;
    let info = session::sign_in(
        &state.db,
        &session,
        &state.throttle,
        address,
        &email,
        password,
    )
    .await?;
    cx::redirect_plain_form("/");
    Ok(info)
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    session::sign_out(&session::current().await?, &state.bus).await?;
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

/// Changes the signed-in person's password; their other sessions end.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = cx::state()?;
    let session = session::current().await?;
    let attempt = session::Attempt {
        throttle: &state.throttle,
        address: cx::client_address().await,
    };
    session::change_password(&state.db, &session, &state.bus, attempt, current, new).await
}
