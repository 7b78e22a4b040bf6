//! Invites to join a team. Only a SHA-256 of each token is stored: the
//! link is shown once, to the owner who made it, and works once.

use super::db::{Db, now_ms};
use crate::model::{AppError, Invite, InviteId, InviteState, InviteSummary, Role, TeamId, UserId};

/// How long an invite link works.
pub const LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

/// Stores a new invite of the team; returns its id and when it expires.
pub async fn create(
    db: &Db,
    team_id: TeamId,
    role: Role,
    created_by: UserId,
    token_hash: &str,
) -> Result<(InviteId, i64, i64), AppError> {
    let (id, now) = (InviteId::new(), now_ms());
    let expires_at = now + LIFETIME_MS;
    sqlx::query(
        "insert into invites (id, team_id, role, token_hash, created_by, created_at, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(team_id)
    .bind(role)
    .bind(token_hash)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok((id, now, expires_at))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: InviteId,
    role: Role,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    used_by: Option<String>,
}

/// The team's invites, newest first.
pub async fn list(db: &Db, team_id: TeamId) -> Result<Vec<Invite>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "select i.id, i.role, i.created_at, i.expires_at, i.used_at, i.revoked_at, u.name as used_by \
         from invites i left join users u on u.id = i.used_by where i.team_id = $1 \
         order by i.id desc limit 200",
    )
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    let now = now_ms();
    Ok(rows
        .into_iter()
        .map(|r| Invite {
            state: if r.used_at.is_some() {
                InviteState::Used
            } else if r.revoked_at.is_some() {
                InviteState::Revoked
            } else if r.expires_at <= now {
                InviteState::Expired
            } else {
                InviteState::Open
            },
            id: r.id,
            role: r.role,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_by: r.used_by,
        })
        .collect())
}

/// Revokes an unused invite of the team; `NotFound` for another team's or
/// one already used or revoked.
pub async fn revoke(db: &Db, team_id: TeamId, id: InviteId) -> Result<(), AppError> {
    let done = sqlx::query(
        "update invites set revoked_at = $1 where id = $2 and team_id = $3 \
         and used_at is null and revoked_at is null",
    )
    .bind(now_ms())
    .bind(id)
    .bind(team_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("Invite"));
    }
    Ok(())
}

/// What an open invite (by its token's hash) joins; `None` for one used,
/// revoked, expired or unknown.
pub async fn summary(db: &Db, token_hash: &str) -> Result<Option<InviteSummary>, AppError> {
    let row: Option<(String, Role, i64)> = sqlx::query_as(
        "select t.name, i.role, i.expires_at from invites i join teams t on t.id = i.team_id \
         where i.token_hash = $1 and i.used_at is null and i.revoked_at is null and i.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(team_name, role, expires_at)| InviteSummary {
        team_name,
        role,
        expires_at,
    }))
}
