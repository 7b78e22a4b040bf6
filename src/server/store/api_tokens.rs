//! API tokens. Only a SHA-256 of each token is stored; a token acts with
//! its role, capped by the role its creator holds in the team now, and
//! stops working when they leave the team or it is revoked.

use super::db::{Db, now_ms};
use crate::model::{ApiToken, ApiTokenId, AppError, Role, TeamId, UserId};

/// A token's "last used" is written at most this often.
pub const USED_EVERY_MS: i64 = 60_000;

/// How many open tokens a team may hold.
pub const MAX_OPEN: i64 = 100;

/// What is stored for a new token.
pub struct NewToken<'a> {
    pub team_id: TeamId,
    pub name: &'a str,
    pub role: Role,
    pub created_by: UserId,
    pub token_hash: &'a str,
}

/// Stores a new token; returns its id and creation time.
pub async fn create(db: &Db, new: NewToken<'_>) -> Result<(ApiTokenId, i64), AppError> {
    let (open,): (i64,) =
        sqlx::query_as("select count(*) from api_tokens where team_id = $1 and revoked_at is null")
            .bind(new.team_id)
            .fetch_one(&db.pool)
            .await?;
    if open >= MAX_OPEN {
        return Err(AppError::conflict(format!(
            "Your team already has {MAX_OPEN} API tokens; revoke one you no longer use."
        )));
    }
    let (id, now) = (ApiTokenId::new(), now_ms());
    sqlx::query(
        "insert into api_tokens (id, team_id, name, role, token_hash, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(new.team_id)
    .bind(new.name)
    .bind(new.role)
    .bind(new.token_hash)
    .bind(new.created_by)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok((id, now))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: ApiTokenId,
    name: String,
    role: Role,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// The team's tokens, open ones first, newest first.
pub async fn list(db: &Db, team_id: TeamId) -> Result<Vec<ApiToken>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "select a.id, a.name, a.role, u.name as created_by, a.created_at, a.last_used_at, \
         a.revoked_at from api_tokens a left join users u on u.id = a.created_by \
         where a.team_id = $1 \
         order by case when a.revoked_at is null then 0 else 1 end, a.id desc limit 200",
    )
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ApiToken {
            id: r.id,
            name: r.name,
            role: r.role,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

/// Revokes an open token of the team; `NotFound` for another team's or
/// one already revoked.
pub async fn revoke(db: &Db, team_id: TeamId, id: ApiTokenId) -> Result<(), AppError> {
    let done = sqlx::query(
        "update api_tokens set revoked_at = $1 where id = $2 and team_id = $3 \
         and revoked_at is null",
    )
    .bind(now_ms())
    .bind(id)
    .bind(team_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("API token"));
    }
    Ok(())
}

/// An open token found by its hash, as it may act now.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Holder {
    pub id: ApiTokenId,
    pub team_id: TeamId,
    pub name: String,
    /// The token's own role...
    pub role: Role,
    /// ...and its creator's in the team now: it acts with the lower.
    pub creator_role: Role,
    pub created_by: UserId,
    pub last_used_at: Option<i64>,
}

/// The open token with this hash whose creator is still in its team.
pub async fn open_by_hash(db: &Db, token_hash: &str) -> Result<Option<Holder>, AppError> {
    Ok(sqlx::query_as(
        "select a.id, a.team_id, a.name, a.role, m.role as creator_role, a.created_by, \
         a.last_used_at from api_tokens a \
         join memberships m on m.team_id = a.team_id and m.user_id = a.created_by \
         where a.token_hash = $1 and a.revoked_at is null",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await?)
}

/// Whether a token still works (open, its creator still in the team).
pub async fn is_open(db: &Db, id: ApiTokenId) -> Result<bool, AppError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "select 1 from api_tokens a \
         join memberships m on m.team_id = a.team_id and m.user_id = a.created_by \
         where a.id = $1 and a.revoked_at is null",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

/// Records that the token was used now, unless that was recorded less
/// than [`USED_EVERY_MS`] ago.
pub async fn used(db: &Db, id: ApiTokenId) -> Result<(), AppError> {
    let now = now_ms();
    sqlx::query(
        "update api_tokens set last_used_at = $1 where id = $2 \
         and (last_used_at is null or last_used_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(now - USED_EVERY_MS)
    .execute(&db.pool)
    .await?;
    Ok(())
}
