//! The hub behind the [`super::bus`]: the events it hands out, and one
//! channel per team with subscribers on this instance, each a ring of the
//! team's latest events (bounded in events, bytes and age) and a wake-up
//! only its subscribers wait on; a subscription is a position in its
//! team's ring.

use crate::model::{Change, DeploymentId, DeploymentStatus, EventKind, LiveMessage, TeamId};
use crate::server::store::event_log::StoredEvent;
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::watch;

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

/// A team's channel keeps at most this many of its latest events...
pub const RING_EVENTS: usize = 4096;
/// ...at most this many bytes of their messages...
pub const RING_BYTES: usize = 16 * 1024 * 1024;
/// ...and none older than this when the next one comes: a socket this far
/// behind is stuck anyway (its sends time out long before).
pub const RING_AGE: Duration = Duration::from_secs(60);

/// One published event and when it was published, for [`RING_AGE`].
struct Kept {
    event: Arc<Event>,
    at: std::time::Instant,
}

/// A team's events its subscribers have yet to take, oldest first.
struct Ring {
    events: VecDeque<Kept>,
    bytes: usize,
    /// The position of the newest event dropped from the ring: a
    /// subscriber that has not seen it lagged.
    dropped_up_to: i64,
}

impl Ring {
    fn pop_front(&mut self) {
        if let Some(old) = self.events.pop_front() {
            self.bytes -= old.event.wire.len();
            self.dropped_up_to = old.event.position;
        }
    }
}

/// The fan-out of one team: its recent events, and the wake-up of its
/// subscribers. Only the team's own sockets (members' pages and its
/// wallboards) wait on it, so an event costs one team's worth of wake-ups
/// however many other teams are connected.
///
/// Each subscriber's queue is its cursor into the ring: bounded by the
/// ring, and free while the subscriber keeps up (nothing is copied per
/// subscriber, a socket holds only its position).
pub(super) struct TeamChannel {
    ring: Mutex<Ring>,
    pub(super) latest: watch::Sender<i64>,
}

impl TeamChannel {
    pub(super) fn new(position: i64) -> Self {
        Self {
            ring: Mutex::new(Ring {
                events: VecDeque::new(),
                bytes: 0,
                dropped_up_to: position,
            }),
            latest: watch::channel(position).0,
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an event, dropping the oldest past the ring's bounds, and wakes
    /// the team's subscribers.
    pub(super) fn push(&self, event: Arc<Event>) {
        let position = event.position;
        {
            let mut ring = self.ring();
            let at = std::time::Instant::now();
            ring.bytes += event.wire.len();
            ring.events.push_back(Kept { event, at });
            while ring.events.len() > RING_EVENTS
                || ring.bytes > RING_BYTES
                || ring
                    .events
                    .front()
                    .is_some_and(|old| at.duration_since(old.at) > RING_AGE)
            {
                ring.pop_front();
            }
        }
        self.latest.send_replace(position);
    }
}

/// The channels of the teams that have subscribers on this instance. A
/// channel lives as long as one of its subscriptions: the map holds it
/// weakly, and the last subscription to go removes its entry.
pub(super) type Teams = Mutex<HashMap<TeamId, Weak<TeamChannel>>>;

pub(super) fn lock(teams: &Teams) -> std::sync::MutexGuard<'_, HashMap<TeamId, Weak<TeamChannel>>> {
    teams.lock().unwrap_or_else(|e| e.into_inner())
}

/// A subscriber fell so far behind that events it had not taken were
/// dropped: it must start over (the live channel sends `reset`).
#[derive(Debug, PartialEq, Eq)]
pub struct Lagged;

/// What a subscription hears next.
#[derive(Debug)]
pub enum Next {
    /// The team's next event.
    Event(Arc<Event>),
    /// A notice to every socket (the server closing, sessions or links
    /// ending): what came after `after` is in [`EventBus::notices_after`].
    Notice { after: u64 },
}

/// Every event of one team published after the subscription, in order,
/// and the notices given to every socket: one wake-up carries both, so a
/// socket waits on one thing.
pub struct Subscription {
    pub(super) channel: Arc<TeamChannel>,
    pub(super) teams: Arc<Teams>,
    pub(super) team_id: TeamId,
    pub(super) latest: watch::Receiver<i64>,
    /// The position of the last event taken.
    pub(super) cursor: i64,
    pub(super) notices: Arc<AtomicU64>,
    /// The number of the last notice heard.
    pub(super) notices_seen: u64,
}

impl Subscription {
    /// The next event or notice; waits for one. Cancel-safe: nothing is
    /// taken until it returns.
    pub async fn recv(&mut self) -> Result<Next, Lagged> {
        loop {
            // Seen before looking, so a publish in between wakes the wait.
            self.latest.borrow_and_update();
            let notices = self.notices.load(Ordering::Acquire);
            if notices != self.notices_seen {
                let after = std::mem::replace(&mut self.notices_seen, notices);
                return Ok(Next::Notice { after });
            }
            if let Some(next) = self.try_recv() {
                return next.map(Next::Event);
            }
            if self.latest.changed().await.is_err() {
                // The channel is gone: nothing will come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// How many events and bytes its team's channel holds.
    #[cfg(test)]
    pub(super) fn kept(&self) -> (usize, usize) {
        let ring = self.channel.ring();
        (ring.events.len(), ring.bytes)
    }

    /// The next event, passing over notices.
    pub async fn next_event(&mut self) -> Result<Arc<Event>, Lagged> {
        loop {
            if let Next::Event(event) = self.recv().await? {
                return Ok(event);
            }
        }
    }

    /// The next event if one is waiting, without waiting: what a socket
    /// sends in the same write as the event that woke it.
    pub fn try_recv(&mut self) -> Option<Result<Arc<Event>, Lagged>> {
        let ring = self.channel.ring();
        if self.cursor < ring.dropped_up_to {
            return Some(Err(Lagged));
        }
        let next = ring
            .events
            .partition_point(|k| k.event.position <= self.cursor);
        let event = ring.events.get(next)?.event.clone();
        self.cursor = event.position;
        Some(Ok(event))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut teams = lock(&self.teams);
        // Channels are only shared under this lock, so nobody can take
        // this one while it is looked at: if this is the last
        // subscription, the team's entry goes with it.
        if Arc::strong_count(&self.channel) == 1 {
            teams.remove(&self.team_id);
        }
    }
}
