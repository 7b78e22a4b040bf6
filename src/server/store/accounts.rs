//! Teams, users and memberships in storage. Every read that returns team
//! data takes the team id, so nothing crosses teams.

use super::db::{Db, now_ms, unique_violation};
use crate::model::{
    Actor, AppError, MemberInfo, Role, SessionInfo, TeamId, TeamSummary, UserId, UserInfo,
};

/// What sign-in needs to check a password; never serialised.
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
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
    let (user_id, team_id, now) = (UserId::new(), TeamId::new(), now_ms());
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "insert into users (id, email, name, password_hash, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some(c) if c.contains("users_email_key") || c.contains("users.email") => {
            AppError::conflict("An account with that email already exists. Sign in instead.")
        }
        _ => e.into(),
    })?;
    sqlx::query("insert into teams (id, name, created_at) values ($1, $2, $3)")
        .bind(team_id)
        .bind(team_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into memberships (team_id, user_id, role, created_at) values ($1, $2, $3, $4)",
    )
    .bind(team_id)
    .bind(user_id)
    .bind(Role::Owner)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((user_id, team_id))
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

pub async fn list_members(db: &Db, team_id: TeamId) -> Result<Vec<MemberInfo>, AppError> {
    let rows: Vec<(UserId, String, String, Role, i64)> = sqlx::query_as(
        "select u.id, u.email, u.name, m.role, m.created_at from memberships m \
         join users u on u.id = m.user_id where m.team_id = $1 order by m.created_at, u.id",
    )
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, email, name, role, joined_at)| MemberInfo {
            user: UserInfo { id, email, name },
            role,
            joined_at,
        })
        .collect())
}

/// Adds an existing user to a team with a role, or changes their role if
/// they are already a member.
pub async fn add_member(db: &Db, team_id: TeamId, email: &str, role: Role) -> Result<(), AppError> {
    let row: Option<(UserId,)> = sqlx::query_as("select id from users where email = $1")
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
    let Some((user_id,)) = row else {
        return Err(AppError::invalid(
            "No Flightdeck account uses that email yet. Ask them to sign up first, then add them.",
        ));
    };
    let mut tx = db.pool.begin().await?;
    // Takes the team's row lock first (a write lock on SQLite), so two owners
    // demoting each other at once cannot leave the team without one.
    sqlx::query("update teams set name = name where id = $1")
        .bind(team_id)
        .execute(&mut *tx)
        .await?;
    let current: Option<(Role,)> =
        sqlx::query_as("select role from memberships where team_id = $1 and user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    match current {
        Some((Role::Owner,)) if role != Role::Owner => {
            let (owners,): (i64,) = sqlx::query_as(
                "select count(*) from memberships where team_id = $1 and role = 'owner'",
            )
            .bind(team_id)
            .fetch_one(&mut *tx)
            .await?;
            if owners <= 1 {
                return Err(AppError::conflict(
                    "A team needs at least one owner. Make someone else owner first.",
                ));
            }
        }
        _ => {}
    }
    sqlx::query(
        "insert into memberships (team_id, user_id, role, created_at) values ($1, $2, $3, $4) \
         on conflict (team_id, user_id) do update set role = excluded.role",
    )
    .bind(team_id)
    .bind(user_id)
    .bind(role)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
