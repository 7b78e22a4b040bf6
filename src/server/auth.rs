//! Passwords, sessions and the checks every server function starts with.

use super::accounts;
use super::state::AppState;
use crate::model::{AppError, Role, SessionInfo, TeamId, UserId, validate};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tower_sessions::Session;

const USER_KEY: &str = "user_id";
const TEAM_KEY: &str = "team_id";

/// A hash to verify against when the email is unknown, so a wrong email and
/// a wrong password take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Y4eTMTQ0lRMTSVOAsMnNEMntG6Sdzp9s1E/ouMZMVT0";

/// Each argon2 run takes ~19 MiB and a core for a while; a burst of sign-ins
/// waits here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    let _permit = HASHING.acquire().await.map_err(|_| AppError::internal())?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::internal()
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::internal()
    })
}

async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// The signed-in user, the team they act in, and their role there.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    pub user_id: UserId,
    pub team_id: TeamId,
    pub role: Role,
}

impl Member {
    /// Owners and members act; viewers only watch.
    pub fn require_trigger(self) -> Result<Self, AppError> {
        if self.role.can_trigger() {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "Viewers can watch deployments but not start or stop them.",
            ))
        }
    }

    pub fn require_owner(self) -> Result<Self, AppError> {
        if self.role.can_manage_members() {
            Ok(self)
        } else {
            Err(AppError::forbidden("Only a team owner can do that."))
        }
    }
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::internal()
    })
}

async fn session_ids(session: &Session) -> Option<(UserId, TeamId)> {
    let user = session.get::<UserId>(USER_KEY).await.ok()??;
    let team = session.get::<TeamId>(TEAM_KEY).await.ok()??;
    Some((user, team))
}

/// Whether a request carries a session whose user still belongs to its
/// team; a stale session is cleared so the person can sign in again.
pub async fn is_signed_in(state: &AppState, session: &Session) -> bool {
    let Some((user_id, team_id)) = session_ids(session).await else {
        return false;
    };
    match accounts::role_in(&state.db, user_id, team_id).await {
        Ok(Some(_)) => true,
        Ok(None) => {
            let _ = session.flush().await;
            false
        }
        // A database hiccup is not a reason to sign anyone out.
        Err(_) => true,
    }
}

/// The member behind a request's session, for plain axum handlers (the raw
/// log, later the live channel); `None` when signed out or removed.
pub async fn member_of(state: &AppState, session: &Session) -> Result<Option<Member>, AppError> {
    let Some((user_id, team_id)) = session_ids(session).await else {
        return Ok(None);
    };
    Ok(accounts::role_in(&state.db, user_id, team_id)
        .await?
        .map(|role| Member {
            user_id,
            team_id,
            role,
        }))
}

/// The check every team-scoped server function starts with. The role is
/// read from the database each time, so a removed member loses access at once.
pub async fn require_member() -> Result<Member, AppError> {
    let state = AppState::from_context()?;
    let session = session().await?;
    let (user_id, team_id) = session_ids(&session)
        .await
        .ok_or_else(AppError::unauthenticated)?;
    let role = accounts::role_in(&state.db, user_id, team_id)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    Ok(Member {
        user_id,
        team_id,
        role,
    })
}

/// Who is signed in, or `None`.
pub async fn current_session() -> Result<Option<SessionInfo>, AppError> {
    let state = AppState::from_context()?;
    let session = session().await?;
    let Some((user_id, team_id)) = session_ids(&session).await else {
        return Ok(None);
    };
    accounts::session_info(&state.db, user_id, team_id).await
}

/// Starts a session for a user in a team; the session id changes so a
/// fixated id is worthless.
async fn start_session(
    session: &Session,
    user_id: UserId,
    team_id: TeamId,
) -> Result<(), AppError> {
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session write failed");
        AppError::internal()
    };
    session.cycle_id().await.map_err(fail)?;
    session.insert(USER_KEY, user_id).await.map_err(fail)?;
    session.insert(TEAM_KEY, team_id).await.map_err(fail)?;
    Ok(())
}

pub async fn sign_up(
    email: &str,
    password: String,
    name: &str,
    team: &str,
) -> Result<SessionInfo, AppError> {
    let state = AppState::from_context()?;
    let email = validate::email(email)?;
    let name = validate::name(name, "name")?;
    let team = validate::name(team, "team name")?;
    validate::new_password(&password)?;
    let hash = hash_password(password).await?;
    let (user_id, team_id) =
        accounts::create_account(&state.db, &email, &name, &hash, &team).await?;
    start_session(&session().await?, user_id, team_id).await?;
    accounts::session_info(&state.db, user_id, team_id)
        .await?
        .ok_or_else(AppError::internal)
}

pub async fn sign_in(email: &str, password: String) -> Result<SessionInfo, AppError> {
    let state = AppState::from_context()?;
    let wrong = || AppError::invalid("That email and password do not match an account.");
    let email = validate::email(email)?;
    if password.is_empty() {
        return Err(AppError::invalid("Enter your password."));
    }
    if password.chars().count() > validate::PASSWORD_MAX_CHARS {
        return Err(wrong());
    }
    let creds = accounts::credentials(&state.db, &email).await?;
    let hash = creds
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_string(), |c| c.password_hash.clone());
    let ok = verify_password(password, hash).await;
    let Some(creds) = creds.filter(|_| ok) else {
        return Err(wrong());
    };
    let teams = accounts::teams_of(&state.db, creds.user_id).await?;
    let team = teams
        .first()
        .ok_or_else(|| AppError::forbidden("Your account does not belong to any team any more."))?;
    start_session(&session().await?, creds.user_id, team.id).await?;
    accounts::session_info(&state.db, creds.user_id, team.id)
        .await?
        .ok_or_else(AppError::internal)
}

pub async fn sign_out() -> Result<(), AppError> {
    session().await?.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session flush failed");
        AppError::internal()
    })
}

/// Moves the session to another team of the same user.
pub async fn switch_team(team_id: TeamId) -> Result<SessionInfo, AppError> {
    let state = AppState::from_context()?;
    let member = require_member().await?;
    accounts::role_in(&state.db, member.user_id, team_id)
        .await?
        .ok_or_else(|| AppError::not_found("Team"))?;
    let session = session().await?;
    session.insert(TEAM_KEY, team_id).await.map_err(|e| {
        tracing::error!(error = %e, "session write failed");
        AppError::internal()
    })?;
    accounts::session_info(&state.db, member.user_id, team_id)
        .await?
        .ok_or_else(AppError::internal)
}
