//! The live channel: one WebSocket per open page at `/ws`, carrying the
//! signed-in team's (or a wallboard link's team's) committed changes in
//! commit order. The protocol is in
//! the README ("Live channel").
//!
//! Each event's message is serialised once by the publisher and shared by
//! every connection. A connection subscribes before it replays what the
//! page missed, so nothing committed is skipped, and drops what it already
//! sent by position, so nothing is sent twice. A client that falls out of
//! the bus's ring (more than [`bus::RING_EVENTS`] events or
//! [`bus::RING_BYTES`] behind) is sent `reset` and closed; one whose socket
//! stays full for [`SEND_TIMEOUT`] is closed: neither slows the others or
//! grows the server's memory. A replay is read in pages, never whole.

use super::bus::{self, Ended, EventBus, Lagged};
use crate::model::{LiveMessage, TeamId, UserId, WallboardLinkId};
use crate::server::store::sessions::DbSessionStore;
use crate::server::store::{Db, accounts, changes, wallboard_links};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use std::time::Duration;

/// An idle connection hears from the server this often, so proxies keep
/// it open and the page can tell a dead connection from a quiet one.
pub const HEARTBEAT: Duration = Duration::from_secs(20);
/// A reconnecting page is replayed at most this many missed events;
/// further behind, it is told to reset and refetch.
pub const REPLAY_LIMIT: i64 = 5_000;
/// A replay reads this many events at a time.
const REPLAY_PAGE: i64 = 100;
/// A send that cannot complete in this time means the client is gone or stuck.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a socket checks that its session and membership still hold
/// (what this instance ends reaches it at once; this covers the others).
pub const RECHECK: Duration = Duration::from_secs(15);

/// How often a wallboard link's socket checks that the link is still
/// open: revoking it on another instance closes the screen's socket within
/// this time (on this instance, at once).
pub const LINK_RECHECK: Duration = Duration::from_secs(3);

/// Whose socket it is.
#[derive(Clone, Debug)]
pub enum Viewer {
    /// A signed-in member's page.
    Member {
        session_id: String,
        user_id: UserId,
        team_id: TeamId,
    },
    /// A screen holding a team's wallboard link: it reads that team's
    /// events and nothing else.
    Wallboard {
        link_id: WallboardLinkId,
        team_id: TeamId,
    },
}

impl Viewer {
    fn team_id(&self) -> TeamId {
        match self {
            Self::Member { team_id, .. } | Self::Wallboard { team_id, .. } => *team_id,
        }
    }

    fn ended_by(&self, ended: &Ended) -> bool {
        match (self, ended) {
            (Self::Member { session_id, .. }, Ended::Sessions(ids)) => ids.contains(session_id),
            (
                Self::Member {
                    user_id, team_id, ..
                },
                Ended::Member { user, team },
            ) => user == user_id && team == team_id,
            (Self::Wallboard { link_id, .. }, Ended::WallboardLink(id)) => id == link_id,
            _ => false,
        }
    }

    fn recheck(&self) -> Duration {
        match self {
            Self::Member { .. } => RECHECK,
            Self::Wallboard { .. } => LINK_RECHECK,
        }
    }

    /// Whether the session still exists and its person is still a member,
    /// or the link is still open (and then records that it was seen).
    async fn still_allowed(&self, db: &Db) -> bool {
        match self {
            Self::Member {
                session_id,
                user_id,
                team_id,
            } => {
                let live = DbSessionStore::new(db.clone()).is_live(session_id).await;
                // A database hiccup is not a reason to close anyone's page.
                let member = accounts::actor(db, *user_id, *team_id).await;
                !matches!(live, Ok(false)) && !matches!(member, Ok(None))
            }
            Self::Wallboard { link_id, .. } => match wallboard_links::is_open(db, *link_id).await {
                Ok(false) => false,
                Ok(true) => {
                    let _ = wallboard_links::seen(db, *link_id).await;
                    true
                }
                Err(_) => true,
            },
        }
    }

    /// The goodbye of a socket whose session or link ended: 1008, so the
    /// page stops reconnecting (a member's goes to sign in; a wallboard
    /// says its link was revoked).
    fn ended_frame(&self) -> CloseFrame {
        CloseFrame {
            code: close_code::POLICY,
            reason: match self {
                Self::Member { .. } => "Signed out.".into(),
                Self::Wallboard { .. } => "This wallboard link was revoked.".into(),
            },
        }
    }
}

async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await,
        Ok(Ok(()))
    )
}

/// Tells the page to refetch, then closes.
async fn reset(socket: &mut WebSocket, position: i64, reason: &str) {
    let message = LiveMessage::Reset {
        position,
        reason: Some(reason.to_string()),
    };
    let _ = send(socket, bus::wire(&message)).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// Serves one member's or wallboard's socket until it closes: the replay
/// of what the page missed (after `after`), a `hello` naming the server's
/// `build`, then every event of the team as it commits, with heartbeats
/// while idle.
pub async fn serve(
    mut socket: WebSocket,
    db: Db,
    bus: EventBus,
    viewer: Viewer,
    after: Option<i64>,
    build: &str,
) {
    let team_id = viewer.team_id();
    let mut closing = bus.closing();
    let mut ended = bus.ended();
    // Subscribe first: whatever commits from here on arrives through `rx`,
    // and whatever committed before is in the table for the replay.
    let mut rx = bus.subscribe();
    let mut last = match after {
        None => bus.position(),
        Some(after) => match replay(&db, &bus, &mut socket, team_id, after).await {
            Replay::Done(last) => last,
            Replay::Reset(reason) => return reset(&mut socket, bus.position(), reason).await,
            Replay::Gone => return,
        },
    };
    if !send(
        &mut socket,
        bus::wire(&LiveMessage::Hello {
            position: last,
            build: Some(build.to_string()),
        }),
    )
    .await
    {
        return;
    }
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let every = viewer.recheck();
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(event) => {
                    if event.position <= last {
                        continue;
                    }
                    last = event.position;
                    if event.team_id == team_id && !send(&mut socket, event.wire.clone()).await {
                        return;
                    }
                }
                Err(Lagged) => {
                    let reason = "This page fell too far behind; reload its data.";
                    return reset(&mut socket, bus.position(), reason).await;
                }
            },
            incoming = socket.recv() => match incoming {
                // The page sends nothing but pings, which are answered for us.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                if !send(&mut socket, bus::wire(&LiveMessage::Heartbeat { position: last })).await {
                    return;
                }
            }
            ending = ended.recv() => {
                let ended = match ending {
                    Ok(ending) => viewer.ended_by(&ending),
                    // Missed some: look.
                    Err(_) => !viewer.still_allowed(&db).await,
                };
                if ended {
                    let _ = socket.send(Message::Close(Some(viewer.ended_frame()))).await;
                    return;
                }
            }
            _ = recheck.tick() => {
                if !viewer.still_allowed(&db).await {
                    let _ = socket.send(Message::Close(Some(viewer.ended_frame()))).await;
                    return;
                }
            }
            // The server is shutting down: "going away", so the page
            // reconnects (to this server once it is back, or another).
            _ = closed(&mut closing) => {
                let frame = CloseFrame {
                    code: close_code::AWAY,
                    reason: "The server is restarting.".into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
        }
    }
}

/// Resolves once the bus says the server is going away.
async fn closed(closing: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = closing.wait_for(|closing| *closing).await;
}

enum Replay {
    /// Replayed everything after the page's position, up to this one.
    Done(i64),
    Reset(&'static str),
    /// The socket closed during the replay.
    Gone,
}

/// Sends the team's events after `after`, oldest first.
async fn replay(
    db: &Db,
    bus: &EventBus,
    socket: &mut WebSocket,
    team_id: TeamId,
    after: i64,
) -> Replay {
    if after > bus.position() {
        // A position from the future: the database was replaced.
        return Replay::Reset("The server's history changed; reload this page's data.");
    }
    // More than the limit missed: refetching is cheaper than replaying.
    match changes::nth_event_after(db, team_id, after, REPLAY_LIMIT).await {
        Ok(None) => {}
        Ok(Some(_)) => {
            return Replay::Reset("This page missed too much to replay; reload its data.");
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not replay events");
            return Replay::Reset("The server could not replay what this page missed.");
        }
    }
    let mut last = after;
    loop {
        let rows = match changes::events_after(db, Some(team_id), last, REPLAY_PAGE).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not replay events");
                return Replay::Reset("The server could not replay what this page missed.");
            }
        };
        let full = rows.len() as i64 == REPLAY_PAGE;
        for row in rows {
            last = row.position;
            let Some(event) = bus::Event::from_stored(row) else {
                continue;
            };
            if !send(socket, event.wire).await {
                return Replay::Gone;
            }
        }
        if !full {
            break;
        }
    }
    Replay::Done(last)
}
