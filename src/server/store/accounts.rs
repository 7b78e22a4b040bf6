//! Teams, users and memberships in storage. Every read that returns team
//! data takes the team id, so nothing crosses teams.

use super::db::{Backend, Db, now_ms, unique_violation};
use crate::model::{Actor, AppError, Role, SessionInfo, TeamId, TeamSummary, UserId, UserInfo};

/// What sign-in needs to check a password; never serialised.
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

/// Which team a new account belongs to.
pub enum Joins<'a> {
    /// A team of its own, which it owns.
    OwnTeam(&'a str),
    /// The team of an invite, named by its token's hash, with its role.
    Invite(&'a str),
}

/// A person signing up.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub joins: Joins<'a>,
    /// Refuse unless this is the instance's first account.
    pub only_if_first: bool,
}

/// Creates a user, a team of their own and their owner membership, in one
/// transaction. A taken email answers `Conflict` and creates nothing.
pub async fn create_account(
    db: &Db,
    email: &str,
    name: &str,
    password_hash: &str,
    team_name: &str,
) -> Result<(UserId, TeamId), AppError> {
    create(
        db,
        NewAccount {
            email,
            name,
            password_hash,
            joins: Joins::OwnTeam(team_name),
            only_if_first: false,
        },
    )
    .await
}

/// Creates a user and their membership, in one transaction: of a team of
/// their own (owner), or of an invite's team with its role, using the
/// invite up. Refused, creating nothing, when the email is taken, the
/// invite is used, revoked or expired, or (`only_if_first`) another
/// account exists already.
pub async fn create(db: &Db, new: NewAccount<'_>) -> Result<(UserId, TeamId), AppError> {
    let (user_id, now) = (UserId::new(), now_ms());
    let mut tx = db.pool.begin().await?;
    if new.only_if_first && db.backend == Backend::Postgres {
        // Two first sign-ups at once: one waits for the other's commit.
        sqlx::query("select pg_advisory_xact_lock(7340433)")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "insert into users (id, email, name, password_hash, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(new.email)
    .bind(new.name)
    .bind(new.password_hash)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some(c) if c.contains("users_email_key") || c.contains("users.email") => {
            AppError::conflict("An account with that email already exists. Sign in instead.")
        }
        _ => e.into(),
    })?;
    if new.only_if_first {
        // On SQLite the insert above holds the write lock, so the count is exact.
        let (users,): (i64,) = sqlx::query_as("select count(*) from users")
            .fetch_one(&mut *tx)
            .await?;
        if users > 1 {
            return Err(AppError::forbidden(
                "Sign-up here is by invitation: ask a team owner for an invite link.",
            ));
        }
    }
    let (team_id, role) = match new.joins {
        Joins::OwnTeam(team_name) => {
            let team_id = TeamId::new();
            sqlx::query("insert into teams (id, name, created_at) values ($1, $2, $3)")
                .bind(team_id)
                .bind(team_name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            (team_id, Role::Owner)
        }
        Joins::Invite(token_hash) => {
            let used: Option<(TeamId, Role)> = sqlx::query_as(
                "update invites set used_at = $1, used_by = $2 where token_hash = $3 \
                 and used_at is null and revoked_at is null and expires_at > $1 returning team_id, role",
            )
            .bind(now)
            .bind(user_id)
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
            used.ok_or_else(|| {
                AppError::forbidden(
                    "This invite link was used, revoked or has expired: ask the team's owner for a new one.",
                )
            })?
        }
    };
    sqlx::query(
        "insert into memberships (team_id, user_id, role, created_at) values ($1, $2, $3, $4)",
    )
    .bind(team_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((user_id, team_id))
}

/// A new password for a user; the published-password warning goes with
/// the old one.
pub async fn set_password(db: &Db, user_id: UserId, password_hash: &str) -> Result<(), AppError> {
    sqlx::query("update users set password_hash = $1, password_published = 0 where id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Marks a user's password as published (the demo's, in the README).
pub async fn mark_password_published(db: &Db, user_id: UserId) -> Result<(), AppError> {
    sqlx::query("update users set password_published = 1 where id = $1")
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Whether a user still signs in with a published password.
pub async fn password_is_published(db: &Db, user_id: UserId) -> Result<bool, AppError> {
    let row: Option<(i64,)> = sqlx::query_as("select password_published from users where id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some_and(|(p,)| p != 0))
}

/// A user's password hash, to check their current password.
/// A user's email and password hash.
pub async fn password_of(db: &Db, user_id: UserId) -> Result<Option<(String, String)>, AppError> {
    Ok(
        sqlx::query_as("select email, password_hash from users where id = $1")
            .bind(user_id)
            .fetch_optional(&db.pool)
            .await?,
    )
}

pub async fn credentials(db: &Db, email: &str) -> Result<Option<Credentials>, AppError> {
    let row: Option<(UserId, String)> =
        sqlx::query_as("select id, password_hash from users where email = $1")
            .bind(email)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(user_id, password_hash)| Credentials {
        user_id,
        password_hash,
    }))
}

pub async fn count_users(db: &Db) -> Result<i64, AppError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from users")
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}

/// The user's role in a team, or `None` when they are not a member.
pub async fn role_in(db: &Db, user_id: UserId, team_id: TeamId) -> Result<Option<Role>, AppError> {
    let row: Option<(Role,)> =
        sqlx::query_as("select role from memberships where user_id = $1 and team_id = $2")
            .bind(user_id)
            .bind(team_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(role,)| role))
}

/// The user acting in a team, with their role and name, in one query;
/// `None` when they are not (or no longer) a member.
pub async fn actor(db: &Db, user_id: UserId, team_id: TeamId) -> Result<Option<Actor>, AppError> {
    let row: Option<(Role, String)> = sqlx::query_as(
        "select m.role, u.name from memberships m join users u on u.id = m.user_id \
         where m.user_id = $1 and m.team_id = $2",
    )
    .bind(user_id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(role, name)| Actor {
        user_id,
        team_id,
        role,
        name,
    }))
}

/// Every team of a user, oldest membership first (their own team leads).
pub async fn teams_of(db: &Db, user_id: UserId) -> Result<Vec<TeamSummary>, AppError> {
    let rows: Vec<(TeamId, String, Role)> = sqlx::query_as(
        "select t.id, t.name, m.role from memberships m join teams t on t.id = m.team_id \
         where m.user_id = $1 order by m.created_at, t.id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, role)| TeamSummary { id, name, role })
        .collect())
}

pub async fn user(db: &Db, user_id: UserId) -> Result<Option<UserInfo>, AppError> {
    let row: Option<(UserId, String, String)> =
        sqlx::query_as("select id, email, name from users where id = $1")
            .bind(user_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(id, email, name)| UserInfo { id, email, name }))
}

/// The shell's view of a session: `None` when the user is gone or no longer
/// belongs to any team.
pub async fn session_info(
    db: &Db,
    user_id: UserId,
    team_id: TeamId,
) -> Result<Option<SessionInfo>, AppError> {
    let Some(user) = user(db, user_id).await? else {
        return Ok(None);
    };
    let teams = teams_of(db, user_id).await?;
    let Some(team) = teams.iter().find(|t| t.id == team_id).cloned() else {
        return Ok(None);
    };
    Ok(Some(SessionInfo {
        user,
        team,
        teams,
        notices: Vec::new(),
    }))
}

/// A team's name; `None` when the team does not exist.
pub async fn team_name(db: &Db, team_id: TeamId) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> = sqlx::query_as("select name from teams where id = $1")
        .bind(team_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|(name,)| name))
}
