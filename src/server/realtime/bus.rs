//! Hands committed change events, in commit order, to in-process subscribers.
//!
//! The `events` table is the source of truth: positions are assigned in
//! commit order (see `store::changes`), and the publisher reads them back in
//! position order, so a subscriber sees every committed change once, in
//! order, whichever code path wrote it.

use crate::model::{
    AppError, Change, DeploymentId, DeploymentStatus, EventKind, LiveMessage, TeamId,
};
use crate::server::store::changes::{self, StoredEvent};
use crate::server::store::{Db, deployments};
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// One committed change, shared by every subscriber.
#[derive(Clone, Debug)]
pub struct Event {
    pub position: i64,
    pub team_id: TeamId,
    pub kind: EventKind,
    /// For a deployment event: which deployment, and its status now.
    pub deployment: Option<(DeploymentId, DeploymentStatus)>,
    /// The live channel's message, serialised once from [`LiveMessage`]
    /// and shared by every connection that sends it.
    pub wire: Utf8Bytes,
}

impl Event {
    /// An event as read from the log; `None` (logged) when its payload is
    /// not a change this version can read.
    pub fn from_stored(row: StoredEvent) -> Option<Self> {
        let change: Change = match serde_json::from_str(&row.payload) {
            Ok(change) => change,
            Err(e) => {
                tracing::error!(position = row.position, error = %e, "unreadable change event");
                return None;
            }
        };
        let deployment = match &change {
            Change::Deployment { deployment } => Some((deployment.id, deployment.status)),
            _ => None,
        };
        Some(Self {
            position: row.position,
            team_id: row.team_id,
            kind: row.kind,
            deployment,
            wire: wire(&change.at(row.position)),
        })
    }
}

/// A message as the live channel sends it.
pub fn wire(message: &LiveMessage) -> Utf8Bytes {
    serde_json::to_string(message)
        .unwrap_or_else(|_| "{}".into())
        .into()
}

/// Subscribe to receive every event committed after the subscription.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
    /// The position of the last event handed to subscribers.
    published: Arc<AtomicI64>,
    /// Turns true when the server shuts down: every socket says goodbye.
    closing: Arc<watch::Sender<bool>>,
}

/// How many events a subscriber may fall behind before it is told to reset.
pub const CAPACITY: usize = 4096;

/// How long a committed event may wait before the publisher looks, at most.
/// This instance's own commits wake the publisher at once; the poll is the
/// safety net for commits made by other instances on a shared PostgreSQL.
const POLL: Duration = Duration::from_millis(50);

impl EventBus {
    /// Starts publishing events committed from now on.
    pub async fn start(db: Db) -> Result<Self, sqlx::Error> {
        let last = changes::last_position(&db).await?;
        let (tx, _) = broadcast::channel(CAPACITY);
        let bus = Self {
            tx,
            published: Arc::new(AtomicI64::new(last)),
            closing: Arc::new(watch::channel(false).0),
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

    /// Tells every open socket that the server is going away.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Turns true once [`EventBus::close_all`] was called.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Waits until a deployment of the team has finished, up to `limit`;
    /// returns whether it has. Woken by its events, not by polling.
    pub async fn wait_finished(
        &self,
        db: &Db,
        team_id: TeamId,
        id: DeploymentId,
        limit: Duration,
    ) -> Result<bool, AppError> {
        // Subscribe before reading, so an end committed in between is heard.
        let mut rx = self.subscribe();
        let finished = |status: Option<DeploymentStatus>| match status {
            None => Err(AppError::not_found("Deployment")),
            Some(s) => Ok(s.is_finished()),
        };
        if finished(deployments::status(db, team_id, id).await?)? {
            return Ok(true);
        }
        let wait = async {
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        if let Some((of, status)) = event.deployment
                            && of == id
                            && status.is_finished()
                        {
                            return Ok(true);
                        }
                    }
                    // Missed some: the database says where it stands.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if finished(deployments::status(db, team_id, id).await?)? {
                            return Ok(true);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(false),
                }
            }
        };
        tokio::time::timeout(limit, wait).await.unwrap_or(Ok(false))
    }

    async fn publish_from(self, db: Db, mut last: i64) {
        const BATCH: i64 = 1000;
        loop {
            let _ = tokio::time::timeout(POLL, db.events_written.notified()).await;
            match changes::events_after(&db, None, last, BATCH).await {
                Ok(rows) => {
                    let full = rows.len() as i64 == BATCH;
                    for row in rows {
                        last = row.position;
                        let event = Event::from_stored(row);
                        self.published.store(last, Ordering::Release);
                        if let Some(event) = event {
                            let _ = self.tx.send(Arc::new(event));
                        }
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
