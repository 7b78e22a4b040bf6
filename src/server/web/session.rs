//! Sessions: who is signed in, and signing up, in and out. Every
//! team-scoped call starts from [`actor_of`], which reads the role from the
//! database each time.

use super::throttle::Throttle;
use crate::model::{Actor, AppError, Notice, SessionInfo, TeamId, UserId, validate};
use crate::server::config::{Config, Signup};
use crate::server::passwords;
use crate::server::realtime::bus::{Ended, EventBus};
use crate::server::store::accounts::{Joins, NewAccount};
use crate::server::store::sessions::DbSessionStore;
use crate::server::store::{Db, accounts, invites};
use std::net::IpAddr;
use std::time::Instant;
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
    if accounts::password_is_published(db, user_id).await? {
        info.notices.push(Notice {
            message: "This account's password is published (it is the demo's): change it before \
                      anyone else reaches this server."
                .into(),
            fix: Some(("/account".into(), "Change the password".into())),
        });
    }
    if !config.sandbox {
        info.notices.push(Notice {
            message: "Steps run without a sandbox (FLIGHTDECK_SANDBOX=off): a repository's build \
                      can reach everything this server can, other teams' files and the database \
                      included."
                .into(),
            fix: None,
        });
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

/// What a person fills in to sign up.
pub struct SignUpForm<'a> {
    pub email: &'a str,
    pub password: String,
    pub name: &'a str,
    /// The team of their own; not asked for with an invite.
    pub team: Option<&'a str>,
    /// An invite's token, from its link.
    pub invite: Option<&'a str>,
}

/// Whether a person without an invite may create an account now: under
/// `FLIGHTDECK_SIGNUP=open`, or on an instance with no account yet.
pub async fn open_to_strangers(db: &Db, config: &Config) -> Result<bool, AppError> {
    Ok(config.signup == Signup::Open || accounts::count_users(db).await? == 0)
}

/// Creates an account and signs it in: with an invite, into the invite's
/// team with its role; otherwise with a team of its own, which under
/// `FLIGHTDECK_SIGNUP=invite` only the instance's first account may do.
pub async fn sign_up(
    db: &Db,
    session: &Session,
    config: &Config,
    form: SignUpForm<'_>,
) -> Result<SessionInfo, AppError> {
    let email = validate::email(form.email)?;
    let name = validate::name(form.name, "name")?;
    validate::new_password(&form.password)?;
    /// What the account joins, checked before any password is hashed.
    enum Joining {
        Own(String),
        Invite(String),
    }
    let invite = form.invite.map(str::trim).filter(|t| !t.is_empty());
    let joining = match invite {
        Some(token) => {
            let hash = passwords::token_hash(token);
            if invites::summary(db, &hash).await?.is_none() {
                return Err(AppError::forbidden(
                    "This invite link was used, revoked or has expired: ask the team's owner for a new one.",
                ));
            }
            Joining::Invite(hash)
        }
        None => {
            if !open_to_strangers(db, config).await? {
                return Err(AppError::forbidden(
                    "Sign-up here is by invitation: ask a team owner for an invite link.",
                ));
            }
            Joining::Own(validate::name(form.team.unwrap_or_default(), "team name")?)
        }
    };
    let hash = passwords::hash(form.password).await?;
    let (user_id, team_id) = accounts::create(
        db,
        NewAccount {
            email: &email,
            name: &name,
            password_hash: &hash,
            joins: match &joining {
                Joining::Own(team) => Joins::OwnTeam(team),
                Joining::Invite(hash) => Joins::Invite(hash),
            },
            // Checked again in the transaction: two first sign-ups at once.
            only_if_first: matches!(joining, Joining::Own(_)) && config.signup == Signup::Invite,
        },
    )
    .await?;
    start(session, user_id, team_id).await?;
    accounts::session_info(db, user_id, team_id)
        .await?
        .ok_or_else(AppError::internal)
}

/// Signs a person in with their password; throttled per email and per
/// client address (`TooMany` with how long to wait).
pub async fn sign_in(
    db: &Db,
    session: &Session,
    throttle: &Throttle,
    address: Option<IpAddr>,
    email: &str,
    password: String,
) -> Result<SessionInfo, AppError> {
    let wrong = || AppError::invalid("That email and password do not match an account.");
    let email = validate::email(email)?;
    if password.is_empty() {
        return Err(AppError::invalid("Enter your password."));
    }
    // Counted as failed until the password is found right.
    if let Some(wait) = throttle.attempt(&email, address, Instant::now()) {
        return Err(too_many(wait));
    }
    if password.chars().count() > validate::PASSWORD_MAX_CHARS {
        return Err(wrong());
    }
    let creds = accounts::credentials(db, &email).await?;
    let hash = creds.as_ref().map_or_else(
        || passwords::DUMMY_HASH.to_string(),
        |c| c.password_hash.clone(),
    );
    let ok = passwords::verify(password, hash).await?;
    let Some(creds) = creds.filter(|_| ok) else {
        return Err(wrong());
    };
    throttle.succeeded(&email, address);
    let teams = accounts::teams_of(db, creds.user_id).await?;
    let team = teams
        .first()
        .ok_or_else(|| AppError::forbidden("Your account does not belong to any team any more."))?;
    start(session, creds.user_id, team.id).await?;
    accounts::session_info(db, creds.user_id, team.id)
        .await?
        .ok_or_else(AppError::internal)
}

fn too_many(wait: std::time::Duration) -> AppError {
    let secs = wait.as_secs().max(1);
    AppError::too_many(
        format!("Too many wrong passwords: try again in {secs} s."),
        secs,
    )
}

/// Ends the session: its record is deleted (no request still in flight can
/// write it back) and its sockets close.
pub async fn sign_out(session: &Session, bus: &EventBus) -> Result<(), AppError> {
    let id = session.id();
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session flush failed");
        AppError::internal()
    })?;
    if let Some(id) = id {
        bus.end(Ended::Sessions(vec![id.to_string()]));
    }
    Ok(())
}

/// Where a password is tried: the throttle and the client's address.
pub struct Attempt<'a> {
    pub throttle: &'a Throttle,
    pub address: Option<IpAddr>,
}

/// Changes the signed-in person's password after checking the current
/// one; every other session of theirs ends, this one goes on. Wrong
/// current passwords count as failed sign-ins, so a borrowed session
/// cannot guess the password.
pub async fn change_password(
    db: &Db,
    session: &Session,
    bus: &EventBus,
    attempt: Attempt<'_>,
    current: String,
    new: String,
) -> Result<(), AppError> {
    let actor = actor_of(db, session)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    validate::new_password(&new)?;
    let (email, stored) = accounts::password_of(db, actor.user_id)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let Attempt { throttle, address } = attempt;
    if let Some(wait) = throttle.attempt(&email, address, Instant::now()) {
        return Err(too_many(wait));
    }
    if !passwords::verify(current, stored).await? {
        return Err(AppError::invalid("Your current password is not that."));
    }
    throttle.succeeded(&email, address);
    let hash = passwords::hash(new).await?;
    accounts::set_password(db, actor.user_id, &hash).await?;
    let ended = DbSessionStore::new(db.clone())
        .end_for(actor.user_id, None, session.id())
        .await?;
    if !ended.is_empty() {
        bus.end(Ended::Sessions(ended));
    }
    Ok(())
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
