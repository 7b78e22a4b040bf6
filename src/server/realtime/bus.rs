//! Hands committed change events, in commit order, to in-process subscribers.
//!
//! The `events` table is the source of truth: positions are assigned in
//! commit order (see `store::changes`), and the publisher reads them back in
//! position order, so a subscriber sees every committed change once, in
//! order, whichever code path wrote it.
//!
//! Published events wait in one ring shared by every subscriber, bounded
//! both in events and in bytes ([`RING_EVENTS`], [`RING_BYTES`]); a
//! subscriber is only a position in it, so a socket costs next to nothing
//! while idle. One that falls out of the ring is told it lagged.

use crate::model::{
    AppError, Change, DeploymentId, DeploymentStatus, EventKind, LiveMessage, TeamId, UserId,
    WallboardLinkId,
};
use crate::server::store::changes::{self, StoredEvent};
use crate::server::store::{Db, deployments};
use axum::extract::ws::Utf8Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
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

/// Sessions and links that just ended on this instance, so their sockets
/// close at once (sockets also recheck now and then, for what other
/// instances ended).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// These sessions (by id): a sign-out, a password change.
    Sessions(Vec<String>),
    /// Every session of a person in a team: they were removed from it.
    Member { user: UserId, team: TeamId },
    /// A wallboard link was revoked.
    WallboardLink(WallboardLinkId),
}

/// At most this many published events are kept for subscribers...
pub const RING_EVENTS: usize = 4096;
/// ...and at most this many bytes of their messages.
pub const RING_BYTES: usize = 16 * 1024 * 1024;

/// The events subscribers have yet to take, oldest first.
#[derive(Default)]
struct Ring {
    events: VecDeque<Arc<Event>>,
    bytes: usize,
    /// The position of the newest event dropped from the ring: a
    /// subscriber that has not seen it lagged.
    dropped_up_to: i64,
}

/// A subscriber fell so far behind that events it had not taken were
/// dropped: it must start over (the live channel sends `reset`).
#[derive(Debug, PartialEq, Eq)]
pub struct Lagged;

/// Every event published after the subscription, in order.
pub struct Subscription {
    ring: Arc<Mutex<Ring>>,
    latest: watch::Receiver<i64>,
    /// The position of the last event taken.
    cursor: i64,
}

impl Subscription {
    /// The next event; waits for one. Cancel-safe: nothing is taken until
    /// it returns.
    pub async fn recv(&mut self) -> Result<Arc<Event>, Lagged> {
        loop {
            // Seen before looking, so a publish in between wakes the wait.
            self.latest.borrow_and_update();
            {
                let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
                if self.cursor < ring.dropped_up_to {
                    return Err(Lagged);
                }
                let next = ring.events.partition_point(|e| e.position <= self.cursor);
                if let Some(event) = ring.events.get(next) {
                    self.cursor = event.position;
                    return Ok(event.clone());
                }
            }
            if self.latest.changed().await.is_err() {
                // The bus is gone: nothing will come.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Subscribe to receive every event committed after the subscription.
#[derive(Clone)]
pub struct EventBus {
    ring: Arc<Mutex<Ring>>,
    /// The position of the last event published, for waking subscribers.
    latest: Arc<watch::Sender<i64>>,
    /// The position of the last event handed to subscribers.
    published: Arc<AtomicI64>,
    /// Turns true when the server shuts down: every socket says goodbye.
    closing: Arc<watch::Sender<bool>>,
    ended: broadcast::Sender<Arc<Ended>>,
    /// Open sockets per session, for [`SOCKETS_PER_SESSION`].
    sockets: Arc<Mutex<std::collections::HashMap<String, usize>>>,
}

/// How many sockets one session may hold open (a person's tabs, a wall of
/// screens); more is refused.
pub const SOCKETS_PER_SESSION: usize = 16;

/// A socket counted against its session; dropping it frees the place.
pub struct SocketPlace {
    sockets: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    session: String,
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = sockets.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                sockets.remove(&self.session);
            }
        }
    }
}

/// How long a committed event may wait before the publisher looks, at most.
/// Every commit wakes the publisher at once (this instance's directly,
/// other instances' through `LISTEN`); the poll is only the safety net.
const POLL: Duration = Duration::from_secs(1);

impl EventBus {
    /// Starts publishing events committed from now on.
    pub async fn start(db: Db) -> Result<Self, sqlx::Error> {
        let last = changes::last_position(&db).await?;
        let bus = Self {
            ring: Arc::new(Mutex::new(Ring {
                dropped_up_to: last,
                ..Ring::default()
            })),
            latest: Arc::new(watch::channel(last).0),
            published: Arc::new(AtomicI64::new(last)),
            closing: Arc::new(watch::channel(false).0),
            ended: broadcast::channel(64).0,
            sockets: Default::default(),
        };
        let publisher = bus.clone();
        tokio::spawn(async move { publisher.publish_from(db, last).await });
        Ok(bus)
    }

    /// Events published from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            ring: self.ring.clone(),
            latest: self.latest.subscribe(),
            cursor: self.position(),
        }
    }

    /// Adds an event to the ring, dropping the oldest past its bounds.
    fn publish(&self, event: Event) {
        let position = event.position;
        {
            let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
            ring.bytes += event.wire.len();
            ring.events.push_back(Arc::new(event));
            while ring.events.len() > RING_EVENTS || ring.bytes > RING_BYTES {
                let Some(old) = ring.events.pop_front() else {
                    break;
                };
                ring.bytes -= old.wire.len();
                ring.dropped_up_to = old.position;
            }
        }
        self.latest.send_replace(position);
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

    /// A place for one more socket of `session`, or `None` when it holds
    /// [`SOCKETS_PER_SESSION`] already.
    pub fn open_socket(&self, session: &str) -> Option<SocketPlace> {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        let n = sockets.entry(session.to_string()).or_default();
        if *n >= SOCKETS_PER_SESSION {
            return None;
        }
        *n += 1;
        Some(SocketPlace {
            sockets: self.sockets.clone(),
            session: session.to_string(),
        })
    }

    /// Tells this instance's sockets that sessions ended.
    pub fn end(&self, ended: Ended) {
        let _ = self.ended.send(Arc::new(ended));
    }

    /// Sessions ended from now on.
    pub fn ended(&self) -> broadcast::Receiver<Arc<Ended>> {
        self.ended.subscribe()
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
                    Err(Lagged) => {
                        if finished(deployments::status(db, team_id, id).await?)? {
                            return Ok(true);
                        }
                        rx = self.subscribe();
                    }
                }
            }
        };
        tokio::time::timeout(limit, wait).await.unwrap_or(Ok(false))
    }

    async fn publish_from(self, db: Db, mut last: i64) {
        const BATCH: i64 = 1000;
        loop {
            let _ = tokio::time::timeout(POLL, db.signals.events.notified()).await;
            match changes::events_after(&db, None, last, BATCH).await {
                Ok(rows) => {
                    let full = rows.len() as i64 == BATCH;
                    for row in rows {
                        last = row.position;
                        if let Some(event) = Event::from_stored(row) {
                            self.publish(event);
                        }
                        self.published.store(last, Ordering::Release);
                    }
                    if full {
                        db.signals.events.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read new events"),
            }
        }
    }
}
