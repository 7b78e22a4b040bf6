//! Hands committed change events, in commit order, to in-process subscribers.
//!
//! The `events` table is the source of truth: positions are assigned in
//! commit order (see `engine::store`), and the publisher reads them back in
//! position order, so a subscriber sees every committed change once, in
//! order, whichever code path wrote it.

use super::db::Db;
use crate::model::TeamId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// One committed change, shared by every subscriber.
#[derive(Clone, Debug)]
pub struct Event {
    pub position: i64,
    pub team_id: TeamId,
    /// `deployment`, `step` or `output`.
    pub kind: String,
    /// The JSON message body, serialised once.
    pub payload: Arc<str>,
}

/// Subscribe to receive every event committed after the subscription.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

/// How long a committed event may wait before the publisher looks, at most.
const POLL: Duration = Duration::from_millis(50);

impl EventBus {
    /// Starts publishing events committed from now on.
    pub async fn start(db: Db) -> Result<Self, sqlx::Error> {
        let (last,): (i64,) = sqlx::query_as("select coalesce(max(position), 0) from events")
            .fetch_one(&db.pool)
            .await?;
        let (tx, _) = broadcast::channel(4096);
        let bus = Self { tx };
        let publisher = bus.clone();
        tokio::spawn(async move { publisher.publish_from(db, last).await });
        Ok(bus)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    async fn publish_from(self, db: Db, mut last: i64) {
        loop {
            tokio::time::sleep(POLL).await;
            let rows: Result<Vec<(i64, TeamId, String, String)>, _> = sqlx::query_as(
                "select position, team_id, kind, payload from events where position > $1 order by position limit 1000",
            )
            .bind(last)
            .fetch_all(&db.pool)
            .await;
            match rows {
                Ok(rows) => {
                    for (position, team_id, kind, payload) in rows {
                        last = position;
                        let _ = self.tx.send(Arc::new(Event {
                            position,
                            team_id,
                            kind,
                            payload: payload.into(),
                        }));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read new events"),
            }
        }
    }
}
