//! Sessions: who is signed in, and signing up, in and out. Every
//! team-scoped call starts from [`actor_of`], which reads the role from the
//! database each time.

use crate::model::{Actor, AppError, SessionInfo, TeamId, UserId, validate};
use crate::server::config::Config;
use crate::server::passwords;
use crate::server::store::{Db, accounts};
use tower_sessions::Session;

const USER_KEY: &str = "user_id";
const TEAM_KEY: &str = "team_id";

/// The session of the request a server function answers.
pub async fn current() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::internal()
    })
}

async fn ids(session: &Session) -> Option<(UserId, TeamId)> {
    let user = session.get::<UserId>(USER_KEY).await.ok()??;
    let team = session.get::<TeamId>(TEAM_KEY).await.ok()??;
    Some((user, team))
}

fn write_failed(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session write failed");
    AppError::internal()
}

/// Whether a request carries a session whose user still belongs to its
/// team; a stale session is cleared so the person can sign in again.
pub async fn is_signed_in(db: &Db, session: &Session) -> bool {
    let Some((user_id, team_id)) = ids(session).await else {
        return false;
    };
    match accounts::role_in(db, user_id, team_id).await {
        Ok(Some(_)) => true,
        Ok(None) => {
            let _ = session.flush().await;
            false
        }
        // A database hiccup is not a reason to sign anyone out.
        Err(_) => true,
    }
}

/// The member behind a session, acting in its team; `None` when signed
/// out or no longer a member.
pub async fn actor_of(db: &Db, session: &Session) -> Result<Option<Actor>, AppError> {
    let Some((user_id, team_id)) = ids(session).await else {
        return Ok(None);
    };
    accounts::actor(db, user_id, team_id).await
}

/// Who is signed in, or `None`, with the warnings every page shows them.
pub async fn info(
    db: &Db,
    session: &Session,
    config: &Config,
) -> Result<Option<SessionInfo>, AppError> {
    let Some((user_id, team_id)) = ids(session).await else {
        return Ok(None);
    };
    let Some(mut info) = accounts::session_info(db, user_id, team_id).await? else {
        return Ok(None);
    };
    if !config.sandbox {
        info.notices.push(
            "Steps run without a sandbox (FLIGHTDECK_SANDBOX=off): a repository's build can reach \
             everything this server can, other teams' files and the database included."
                .into(),
        );
    }
    Ok(Some(info))
}

/// Starts a session for a user in a team; the session id changes so a
/// fixated id is worthless.
async fn start(session: &Session, user_id: UserId, team_id: TeamId) -> Result<(), AppError> {
    session.cycle_id().await.map_err(write_failed)?;
    session
        .insert(USER_KEY, user_id)
        .await
        .map_err(write_failed)?;
    session
        .insert(TEAM_KEY, team_id)
        .await
        .map_err(write_failed)?;
    Ok(())
}

/// Creates an account with a team of its own and signs it in.
pub async fn sign_up(
    db: &Db,
    session: &Session,
    email: &str,
    password: String,
    name: &str,
    team: &str,
) -> Result<SessionInfo, AppError> {
    let email = validate::email(email)?;
    let name = validate::name(name, "name")?;
    let team = validate::name(team, "team name")?;
    validate::new_password(&password)?;
    let hash = passwords::hash(password).await?;
    let (user_id, team_id) = accounts::create_account(db, &email, &name, &hash, &team).await?;
    start(session, user_id, team_id).await?;
    accounts::session_info(db, user_id, team_id)
        .await?
        .ok_or_else(AppError::internal)
}

pub async fn sign_in(
    db: &Db,
    session: &Session,
    email: &str,
    password: String,
) -> Result<SessionInfo, AppError> {
    let wrong = || AppError::invalid("That email and password do not match an account.");
    let email = validate::email(email)?;
    if password.is_empty() {
        return Err(AppError::invalid("Enter your password."));
    }
    if password.chars().count() > validate::PASSWORD_MAX_CHARS {
        return Err(wrong());
    }
    let creds = accounts::credentials(db, &email).await?;
    let hash = creds.as_ref().map_or_else(
        || passwords::DUMMY_HASH.to_string(),
        |c| c.password_hash.clone(),
    );
    let ok = passwords::verify(password, hash).await;
    let Some(creds) = creds.filter(|_| ok) else {
        return Err(wrong());
    };
    let teams = accounts::teams_of(db, creds.user_id).await?;
    let team = teams
        .first()
        .ok_or_else(|| AppError::forbidden("Your account does not belong to any team any more."))?;
    start(session, creds.user_id, team.id).await?;
    accounts::session_info(db, creds.user_id, team.id)
        .await?
        .ok_or_else(AppError::internal)
}

pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session flush failed");
        AppError::internal()
    })
}

/// Moves the session to another team of the same user.
pub async fn switch_team(
    db: &Db,
    session: &Session,
    team_id: TeamId,
) -> Result<SessionInfo, AppError> {
    let user_id = actor_of(db, session)
        .await?
        .ok_or_else(AppError::unauthenticated)?
        .user_id;
    accounts::role_in(db, user_id, team_id)
        .await?
        .ok_or_else(|| AppError::not_found("Team"))?;
    session
        .insert(TEAM_KEY, team_id)
        .await
        .map_err(write_failed)?;
    accounts::session_info(db, user_id, team_id)
        .await?
        .ok_or_else(AppError::internal)
}
