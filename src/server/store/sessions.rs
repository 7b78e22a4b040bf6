//! tower-sessions records kept in Flightdeck's own database, so sessions
//! survive restarts and work on every instance. Each row also names its
//! user and team, so a person's sessions can be ended at once.

use super::db::{Db, now_ms};
use crate::model::{TeamId, UserId};
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// A [`SessionStore`] on the `sessions` table.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Ends a person's sessions: all of them, or only those in `team`, but
    /// `except` (the one asking). Returns the ids ended, for their sockets.
    pub async fn end_for(
        &self,
        user: UserId,
        team: Option<TeamId>,
        except: Option<Id>,
    ) -> Result<Vec<String>, sqlx::Error> {
        let except = except.map(|id| id.to_string()).unwrap_or_default();
        let rows: Vec<(String,)> = match team {
            Some(team) => {
                sqlx::query_as(
                    "delete from sessions where user_id = $1 and team_id = $2 and id <> $3 returning id",
                )
                .bind(user)
                .bind(team)
                .bind(&except)
                .fetch_all(&self.db.pool)
                .await?
            }
            None => {
                sqlx::query_as("delete from sessions where user_id = $1 and id <> $2 returning id")
                    .bind(user)
                    .bind(&except)
                    .fetch_all(&self.db.pool)
                    .await?
            }
        };
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Whether a session still exists and has not expired.
    pub async fn is_live(&self, id: &str) -> Result<bool, sqlx::Error> {
        let row: Option<(String,)> =
            sqlx::query_as("select id from sessions where id = $1 and expiry_date > $2")
                .bind(id)
                .bind(now_ms())
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Removes expired sessions; run now and then so the table stays small.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("delete from sessions where expiry_date < $1")
            .bind(now_ms())
            .execute(&self.db.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The user and team a record's data names (absent before sign-in).
fn owner(record: &Record) -> (Option<String>, Option<String>) {
    let text = |key: &str| {
        record
            .data
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    (text("user_id"), text("team_id"))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // An id collision is astronomically unlikely, but never overwrite
        // someone else's session: draw a new id instead.
        loop {
            let (user, team) = owner(record);
            let done = sqlx::query(
                "insert into sessions (id, data, expiry_date, user_id, team_id) values ($1, $2, $3, $4, $5) \
                 on conflict (id) do nothing",
            )
            .bind(record.id.to_string())
            .bind(&data)
            .bind(expiry_ms(record))
            .bind(user)
            .bind(team)
            .execute(&self.db.pool)
            .await
            .map_err(backend)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates a session that exists, and never brings back one that was
    /// deleted: a request that loaded the session before its sign-out (or
    /// a password change, a removal) cannot write it back afterwards. New
    /// sessions go through `create`.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let (user, team) = owner(record);
        sqlx::query(
            "update sessions set data = $2, expiry_date = $3, user_id = $4, team_id = $5 where id = $1",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(expiry_ms(record))
        .bind(user)
        .bind(team)
        .execute(&self.db.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "select data, expiry_date from sessions where id = $1 and expiry_date > $2",
        )
        .bind(id.to_string())
        .bind(now_ms())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(backend)?;
        let Some((data, expiry)) = row else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expiry) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("delete from sessions where id = $1")
            .bind(id.to_string())
            .execute(&self.db.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
