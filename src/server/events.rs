//! Hands committed change events, in commit order, to in-process subscribers.
//!
//! The `events` table is the source of truth: positions are assigned in
//! commit order (see `engine::store`), and the publisher reads them back in
//! position order, so a subscriber sees every committed change once, in
//! order, whichever code path wrote it.

use super::db::Db;
use crate::model::TeamId;
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;

/// One committed change, shared by every subscriber.
#[derive(Clone, Debug)]
pub struct Event {
    pub position: i64,
    pub team_id: TeamId,
    /// `deployment`, `step` or `output`.
    pub kind: String,
    /// The JSON message body as stored.
    pub payload: Arc<str>,
    /// The live channel's message: the body with its `position`, built once
    /// and shared by every connection that sends it.
    pub wire: Utf8Bytes,
}

impl Event {
    /// An event as read from the table, with its wire message built: the
    /// stored payload (which names its `type`) with its `position` added.
    pub fn new(position: i64, team_id: TeamId, kind: String, payload: String) -> Self {
        let body = payload.strip_prefix('{').unwrap_or("}");
        let wire = format!("{{\"position\":{position},{body}");
        Self {
            position,
            team_id,
            kind,
            payload: payload.into(),
            wire: wire.into(),
        }
    }
}

/// Subscribe to receive every event committed after the subscription.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
    /// The position of the last event handed to subscribers.
    published: Arc<AtomicI64>,
}

/// How many events a subscriber may fall behind before it is told to reset.
pub const CAPACITY: usize = 4096;

/// How long a committed event may wait before the publisher looks, at most.
const POLL: Duration = Duration::from_millis(50);

impl EventBus {
    /// Starts publishing events committed from now on.
    pub async fn start(db: Db) -> Result<Self, sqlx::Error> {
        let (last,): (i64,) = sqlx::query_as("select coalesce(max(position), 0) from events")
            .fetch_one(&db.pool)
            .await?;
        let (tx, _) = broadcast::channel(CAPACITY);
        let bus = Self {
            tx,
            published: Arc::new(AtomicI64::new(last)),
        };
        let publisher = bus.clone();
        tokio::spawn(async move { publisher.publish_from(db, last).await });
        Ok(bus)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// The position of the last event published. Every event at or before
    /// it was committed before it was published, so a read of the database
    /// that starts now reflects it; every later one will be published.
    pub fn position(&self) -> i64 {
        self.published.load(Ordering::Acquire)
    }

    async fn publish_from(self, db: Db, mut last: i64) {
        loop {
            // This instance's own commits wake the publisher at once; other
            // instances' (on a shared PostgreSQL) are found by the poll.
            let _ = tokio::time::timeout(POLL, db.events_written.notified()).await;
            let rows: Result<Vec<(i64, TeamId, String, String)>, _> = sqlx::query_as(
                "select position, team_id, kind, payload from events where position > $1 order by position limit 1000",
            )
            .bind(last)
            .fetch_all(&db.pool)
            .await;
            match rows {
                Ok(rows) => {
                    let full = rows.len() == 1000;
                    for (position, team_id, kind, payload) in rows {
                        last = position;
                        self.published.store(position, Ordering::Release);
                        let _ = self
                            .tx
                            .send(Arc::new(Event::new(position, team_id, kind, payload)));
                    }
                    if full {
                        db.events_written.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read new events"),
            }
        }
    }
}
