//! Hands committed change events, in commit order, to in-process subscribers.
//!
//! The `events` table is the source of truth: positions are assigned in
//! commit order (see `store::changes`), and the publisher reads them back in
//! position order, so a subscriber sees every committed change once, in
//! order, whichever code path wrote it.
//!
//! The fan-out is a hub keyed by team: each team with subscribers on this
//! instance has a channel of its own, a ring of its latest events bounded
//! in events, bytes and age ([`RING_EVENTS`], [`RING_BYTES`], [`RING_AGE`])
//! and a wake-up only its subscribers wait on. An event wakes its team's
//! sockets and no other; a subscriber is only a position in its team's
//! ring, so a socket costs next to nothing while idle, and one that falls
//! out of the ring is told it lagged. Nothing a subscriber does (or fails
//! to do) can hold up the publisher or another subscriber: publishing
//! never waits.

pub use super::hub::{Event, Lagged, Next, RING_AGE, RING_BYTES, RING_EVENTS, Subscription, wire};
use super::hub::{TeamChannel, Teams, lock};
use crate::model::{
    ApiTokenId, AppError, DeploymentId, DeploymentStatus, TeamId, UserId, WallboardLinkId,
};
use crate::server::store::event_log;
use crate::server::store::{Db, deployments};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

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
    /// An API token was revoked.
    ApiToken(ApiTokenId),
}

/// Subscribe to receive every event of a team committed after the
/// subscription.
#[derive(Clone)]
pub struct EventBus {
    teams: Arc<Teams>,
    /// The position of the last event handed to subscribers; moved only
    /// under the `teams` lock, so a new subscription either has an event in
    /// its ring or starts after it.
    published: Arc<AtomicI64>,
    /// What every socket must hear besides its team's events.
    notices: Arc<Mutex<Notices>>,
    /// The number of the last notice, read by every subscription.
    notice_count: Arc<AtomicU64>,
    /// Open sockets per session, for [`SOCKETS_PER_SESSION`].
    sockets: Arc<Mutex<HashMap<String, usize>>>,
    /// When each session (or link) was last found allowed, so its sockets
    /// share their rechecks.
    allowed: Arc<Mutex<HashMap<String, std::time::Instant>>>,
}

/// Past this many remembered rechecks, the stale ones are dropped.
const ALLOWED_PRUNE_AT: usize = 10_000;

/// At most this many recent endings are kept for sockets to look at; a
/// socket that missed more rechecks its session or link with the database.
const NOTICES_KEPT: usize = 64;

#[derive(Default)]
struct Notices {
    closing: bool,
    /// The latest endings, with their numbers, oldest first.
    ended: VecDeque<(u64, Arc<Ended>)>,
    /// The number of the newest ending dropped from `ended`.
    dropped_up_to: u64,
}

/// The notices given after a socket's last one.
#[derive(Debug, Default)]
pub struct NoticesAfter {
    /// The server is shutting down: every socket says goodbye.
    pub closing: bool,
    pub ended: Vec<Arc<Ended>>,
    /// Some endings were dropped before this socket looked: it must check.
    pub missed: bool,
}

/// How many sockets one session may hold open (a person's tabs, a wall of
/// screens); more is refused.
pub const SOCKETS_PER_SESSION: usize = 16;

/// A socket counted against its session; dropping it frees the place.
pub struct SocketPlace {
    sockets: Arc<Mutex<HashMap<String, usize>>>,
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
        let last = event_log::last_position(&db).await?;
        let bus = Self::new(last);
        let publisher = bus.clone();
        tokio::spawn(async move { publisher.publish_from(db, last).await });
        Ok(bus)
    }

    /// A bus whose last published position is `last`, with no publisher.
    fn new(last: i64) -> Self {
        Self {
            teams: Default::default(),
            published: Arc::new(AtomicI64::new(last)),
            notices: Default::default(),
            notice_count: Default::default(),
            sockets: Default::default(),
            allowed: Default::default(),
        }
    }

    /// The team's events published from now on.
    pub fn subscribe(&self, team_id: TeamId) -> Subscription {
        let mut teams = lock(&self.teams);
        let position = self.position();
        let channel = match teams.get(&team_id).and_then(Weak::upgrade) {
            Some(channel) => channel,
            None => {
                let channel = Arc::new(TeamChannel::new(position));
                teams.insert(team_id, Arc::downgrade(&channel));
                channel
            }
        };
        Subscription {
            latest: channel.latest.subscribe(),
            channel,
            teams: self.teams.clone(),
            team_id,
            cursor: position,
            notices: self.notice_count.clone(),
            notices_seen: self.notice_count.load(Ordering::Acquire),
        }
    }

    /// Hands an event to its team's subscribers, if it has any here, and
    /// moves the published position to `position` (also for a position
    /// whose event could not be read).
    fn publish(&self, position: i64, event: Option<Event>) {
        let mut teams = lock(&self.teams);
        if let Some(event) = event {
            match teams.get(&event.team_id).map(Weak::upgrade) {
                Some(Some(channel)) => channel.push(Arc::new(event)),
                Some(None) => {
                    teams.remove(&event.team_id);
                }
                None => {}
            }
        }
        self.published.store(position, Ordering::Release);
    }

    /// How many teams have subscribers on this instance.
    pub fn teams(&self) -> usize {
        lock(&self.teams).len()
    }

    /// The position of the last event published. Every event at or before
    /// it was committed before it was published, so a read of the database
    /// that starts now reflects it; every later one will be published.
    pub fn position(&self) -> i64 {
        self.published.load(Ordering::Acquire)
    }

    /// Tells every open socket that the server is going away.
    pub fn close_all(&self) {
        self.notify(|notices, _| notices.closing = true);
    }

    /// Whether [`EventBus::close_all`] was called.
    pub fn is_closing(&self) -> bool {
        self.notices().closing
    }

    fn notices(&self) -> std::sync::MutexGuard<'_, Notices> {
        self.notices.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a notice, then wakes every subscription (a notice is rare:
    /// a sign-out, a removal, a revoked link, a shutdown).
    fn notify(&self, change: impl FnOnce(&mut Notices, u64)) {
        {
            let mut notices = self.notices();
            let number = self.notice_count.load(Ordering::Acquire) + 1;
            change(&mut notices, number);
            while notices.ended.len() > NOTICES_KEPT {
                if let Some((dropped, _)) = notices.ended.pop_front() {
                    notices.dropped_up_to = dropped;
                }
            }
            self.notice_count.store(number, Ordering::Release);
        }
        let channels: Vec<Arc<TeamChannel>> = lock(&self.teams)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for channel in channels {
            channel.latest.send_modify(|_| {});
        }
    }

    /// The notices given after notice number `after`.
    pub fn notices_after(&self, after: u64) -> NoticesAfter {
        let notices = self.notices();
        let missed = notices.dropped_up_to > after;
        NoticesAfter {
            closing: notices.closing,
            ended: notices
                .ended
                .iter()
                .filter(|(n, _)| *n > after)
                .map(|(_, e)| e.clone())
                .collect(),
            missed,
        }
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

    /// Whether `key` was found allowed within `window`.
    pub fn allowed_within(&self, key: &str, window: Duration) -> bool {
        let allowed = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
        allowed.get(key).is_some_and(|at| at.elapsed() < window)
    }

    /// Remembers that `key` was just found allowed.
    pub fn record_allowed(&self, key: String) {
        let mut allowed = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
        if allowed.len() >= ALLOWED_PRUNE_AT {
            allowed.retain(|_, at| at.elapsed() < Duration::from_secs(60));
        }
        allowed.insert(key, std::time::Instant::now());
    }

    /// Tells this instance's sockets that sessions or a link ended.
    pub fn end(&self, ended: Ended) {
        // What was found allowed may be what just ended: look again.
        self.allowed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let ended = Arc::new(ended);
        self.notify(move |notices, number| notices.ended.push_back((number, ended)));
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
        let mut rx = self.subscribe(team_id);
        let finished = |status: Option<DeploymentStatus>| match status {
            None => Err(AppError::not_found("Deployment")),
            Some(s) => Ok(s.is_finished()),
        };
        if finished(deployments::status(db, team_id, id).await?)? {
            return Ok(true);
        }
        let wait = async {
            loop {
                match rx.next_event().await {
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
                        rx = self.subscribe(team_id);
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
            match event_log::events_after(&db, None, last, BATCH).await {
                Ok(rows) => {
                    let full = rows.len() as i64 == BATCH;
                    for row in rows {
                        last = row.position;
                        self.publish(last, Event::from_stored(row));
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

#[cfg(test)]
mod tests;
