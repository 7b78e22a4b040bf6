//! Reading the event log (`events`): where it stands, and what came
//! after a position, for the publisher and for a reconnecting page's
//! replay. What writes it is [`super::changes`].

use super::db::Db;
use crate::model::TeamId;

/// One row of the event log as stored.
#[derive(sqlx::FromRow)]
pub struct StoredEvent {
    pub position: i64,
    pub team_id: TeamId,
    pub kind: crate::model::EventKind,
    /// A [`Change`] as JSON.
    pub payload: String,
}

/// The position of the newest event, 0 when there is none.
pub async fn last_position(db: &Db) -> Result<i64, sqlx::Error> {
    let (last,): (i64,) = sqlx::query_as("select coalesce(max(position), 0) from events")
        .fetch_one(&db.pool)
        .await?;
    Ok(last)
}

/// Up to `limit` events after `after`, oldest first; only `team`'s when given.
pub async fn events_after(
    db: &Db,
    team: Option<TeamId>,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = match team {
        Some(_) => {
            "select position, team_id, kind, payload from events where team_id = $1 \
             and position > $2 order by position limit $3"
        }
        None => {
            "select position, team_id, kind, payload from events where position > $1 \
             order by position limit $2"
        }
    };
    let mut query = sqlx::query_as::<_, StoredEvent>(sql);
    if let Some(team) = team {
        query = query.bind(team);
    }
    query.bind(after).bind(limit).fetch_all(&db.pool).await
}

/// The position of the team's `n`-th event after `after` (counting from
/// 0), if there are that many: how a replay knows it is too long without
/// reading it.
pub async fn nth_event_after(
    db: &Db,
    team: TeamId,
    after: i64,
    n: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "select position from events where team_id = $1 and position > $2 \
         order by position limit 1 offset $3",
    )
    .bind(team)
    .bind(after)
    .bind(n)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(p,)| p))
}
