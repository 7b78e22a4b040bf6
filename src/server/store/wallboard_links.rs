//! Wallboard links. Only a SHA-256 of each token is stored: the link is
//! shown once, to the member who made it, and works until it is revoked.

use super::db::{Db, now_ms};
use crate::model::{AppError, TeamId, UserId, WallboardLink, WallboardLinkId};

/// A link's "last seen" is written at most this often, so a screen that
/// stays connected costs one write a minute, not one per check.
pub const SEEN_EVERY_MS: i64 = 60_000;

/// How many links a team may hold open at once.
pub const MAX_OPEN: i64 = 100;

/// Stores a new link of the team; returns its id and creation time.
pub async fn create(
    db: &Db,
    team_id: TeamId,
    name: &str,
    created_by: UserId,
    token_hash: &str,
) -> Result<(WallboardLinkId, i64), AppError> {
    let open: (i64,) = sqlx::query_as(
        "select count(*) from wallboard_links where team_id = $1 and revoked_at is null",
    )
    .bind(team_id)
    .fetch_one(&db.pool)
    .await?;
    if open.0 >= MAX_OPEN {
        return Err(AppError::conflict(format!(
            "Your team already has {MAX_OPEN} wallboard links; revoke one you no longer use."
        )));
    }
    let (id, now) = (WallboardLinkId::new(), now_ms());
    sqlx::query(
        "insert into wallboard_links (id, team_id, name, token_hash, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(team_id)
    .bind(name)
    .bind(token_hash)
    .bind(created_by)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok((id, now))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: WallboardLinkId,
    name: String,
    created_by: Option<String>,
    created_at: i64,
    last_seen_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// The team's links, open ones first, newest first.
pub async fn list(db: &Db, team_id: TeamId) -> Result<Vec<WallboardLink>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "select w.id, w.name, u.name as created_by, w.created_at, w.last_seen_at, w.revoked_at \
         from wallboard_links w left join users u on u.id = w.created_by where w.team_id = $1 \
         order by case when w.revoked_at is null then 0 else 1 end, w.id desc limit 200",
    )
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| WallboardLink {
            id: r.id,
            name: r.name,
            created_by: r.created_by,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

/// Revokes an open link of the team; `NotFound` for another team's or one
/// already revoked.
pub async fn revoke(db: &Db, team_id: TeamId, id: WallboardLinkId) -> Result<(), AppError> {
    let done = sqlx::query(
        "update wallboard_links set revoked_at = $1 where id = $2 and team_id = $3 \
         and revoked_at is null",
    )
    .bind(now_ms())
    .bind(id)
    .bind(team_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("Wallboard link"));
    }
    Ok(())
}

/// An open link by its token's hash: its id, its team and the team's
/// name; `None` for one revoked or unknown.
pub async fn open_by_hash(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(WallboardLinkId, TeamId, String)>, AppError> {
    Ok(sqlx::query_as(
        "select w.id, w.team_id, t.name from wallboard_links w join teams t on t.id = w.team_id \
         where w.token_hash = $1 and w.revoked_at is null",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await?)
}

/// Whether a link is still open.
pub async fn is_open(db: &Db, id: WallboardLinkId) -> Result<bool, AppError> {
    let row: Option<(i64,)> =
        sqlx::query_as("select 1 from wallboard_links where id = $1 and revoked_at is null")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// Records that a screen used the link now, unless that was recorded
/// less than [`SEEN_EVERY_MS`] ago.
pub async fn seen(db: &Db, id: WallboardLinkId) -> Result<(), AppError> {
    let now = now_ms();
    sqlx::query(
        "update wallboard_links set last_seen_at = $1 where id = $2 \
         and (last_seen_at is null or last_seen_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(now - SEEN_EVERY_MS)
    .execute(&db.pool)
    .await?;
    Ok(())
}
