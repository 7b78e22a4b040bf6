//! The live channel: one WebSocket per open page at `/ws`, carrying the
//! signed-in team's (or a wallboard link's team's) committed changes in
//! commit order. The protocol is in
//! the README ("Live channel").
//!
//! Each event's message is serialised once by the publisher and shared by
//! every connection of its team. A connection subscribes to its team
//! before it replays what the page missed, so nothing committed is
//! skipped, and drops what it already sent by position, so nothing is sent
//! twice. Events that wait when the socket wakes go out together, in one
//! write (up to [`BATCH_MESSAGES`] or [`BATCH_BYTES`]): a burst of output
//! costs a flush per batch, not per line. A client that falls out of its
//! team's ring (more than [`bus::RING_EVENTS`] events, [`bus::RING_BYTES`]
//! or [`bus::RING_AGE`] behind) is sent `reset` and closed; one whose
//! socket stays full for [`SEND_TIMEOUT`] is closed: neither slows the
//! others or grows the server's memory. A replay is read in pages, never
//! whole. What an idle connection holds is small (its position, one timer
//! and the socket's buffers); the rare paths (replay, rechecks, goodbyes)
//! are boxed, so they take memory only while they run.

use super::bus::{self, EventBus, Lagged, Next, Subscription};
pub use super::viewer::{LINK_RECHECK, RECHECK, Viewer};
use crate::model::{LiveMessage, TeamId};
use crate::server::store::{Db, event_log, retention};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use futures_util::{FutureExt, SinkExt};
use std::sync::Arc;
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

/// At most this many waiting messages go out in one write...
pub const BATCH_MESSAGES: usize = 64;
/// ...and at most about this many bytes.
pub const BATCH_BYTES: usize = 64 * 1024;

async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(
        within(SEND_TIMEOUT, socket.send(Message::Text(text))).await,
        Some(Ok(()))
    )
}

/// Tells the page to refetch, then closes.
async fn reset(socket: &mut WebSocket, position: i64, reason: &str) {
    let message = LiveMessage::Reset {
        position,
        reason: Some(reason.to_string()),
    };
    let _ = send(socket, bus::wire(&message)).await;
    let _ = within(SEND_TIMEOUT, socket.send(Message::Close(None))).await;
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
    // Subscribe first: whatever commits from here on arrives through `rx`,
    // and whatever committed before is in the table for the replay.
    let mut rx = bus.subscribe(team_id);
    if bus.is_closing() {
        return Box::pin(goodbye(&mut socket, restarting())).await;
    }
    let mut last = match after {
        None => bus.position(),
        Some(after) => match Box::pin(replay(&db, &bus, &mut socket, team_id, after)).await {
            Replay::Done(last) => last,
            Replay::Reset(reason) => {
                return Box::pin(reset(&mut socket, bus.position(), reason)).await;
            }
            Replay::Gone => return,
        },
    };
    let hello = LiveMessage::Hello {
        position: last,
        build: Some(build.to_string()),
    };
    if !send(&mut socket, bus::wire(&hello)).await {
        return;
    }
    // One timer for the heartbeat and the recheck: a socket wakes for its
    // team's events, its page, or this, and nothing else.
    let now = tokio::time::Instant::now();
    let (mut heartbeat_at, every) = (now + HEARTBEAT, viewer.recheck());
    let mut recheck_at = now + every;
    let timer = tokio::time::sleep_until(heartbeat_at.min(recheck_at));
    tokio::pin!(timer);
    loop {
        tokio::select! {
            next = rx.recv() => match next {
                Ok(Next::Event(event)) => match forward(&mut socket, &mut rx, event, &mut last).await {
                    Forwarded::Sent => {}
                    Forwarded::Gone => return,
                    Forwarded::Lagged => return Box::pin(fell_behind(&mut socket, &bus)).await,
                },
                Ok(Next::Notice { after }) => {
                    if let Some(frame) = Box::pin(noticed(&bus, &db, &viewer, after)).await {
                        return Box::pin(goodbye(&mut socket, frame)).await;
                    }
                }
                Err(Lagged) => return Box::pin(fell_behind(&mut socket, &bus)).await,
            },
            incoming = socket.recv() => match incoming {
                // The page sends nothing but pings, which are answered for us.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            () = &mut timer => {
                let now = tokio::time::Instant::now();
                if now >= heartbeat_at {
                    heartbeat_at += HEARTBEAT;
                    let beat = LiveMessage::Heartbeat { position: last };
                    if !send(&mut socket, bus::wire(&beat)).await {
                        return;
                    }
                }
                if now >= recheck_at {
                    recheck_at = now + every;
                    if !Box::pin(viewer.still_allowed(&db, &bus)).await {
                        return Box::pin(goodbye(&mut socket, viewer.ended_frame())).await;
                    }
                }
                timer.as_mut().reset(heartbeat_at.min(recheck_at));
            }
        }
    }
}

/// The goodbye of a server that shuts down: "going away", so the page
/// reconnects (to this server once it is back, or another).
fn restarting() -> CloseFrame {
    CloseFrame {
        code: close_code::AWAY,
        reason: "The server is restarting.".into(),
    }
}

async fn goodbye(socket: &mut WebSocket, frame: CloseFrame) {
    let _ = within(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

async fn fell_behind(socket: &mut WebSocket, bus: &EventBus) {
    let reason = "This page fell too far behind; reload its data.";
    reset(socket, bus.position(), reason).await
}

/// What a notice means for this socket: the goodbye to send, if it must
/// close.
async fn noticed(bus: &EventBus, db: &Db, viewer: &Viewer, after: u64) -> Option<CloseFrame> {
    let notices = bus.notices_after(after);
    if notices.closing {
        return Some(restarting());
    }
    let ended = if notices.missed {
        // Endings went by that this socket did not see: look.
        !viewer.still_allowed(db, bus).await
    } else {
        notices.ended.iter().any(|e| viewer.ended_by(e))
    };
    ended.then(|| viewer.ended_frame())
}

/// `future`'s output, or `None` if it takes longer than `limit`. A future
/// that is ready at once (a send into a socket with room) costs no timer.
async fn within<T>(limit: Duration, future: impl std::future::Future<Output = T>) -> Option<T> {
    let mut future = std::pin::pin!(future);
    if let Some(out) = future.as_mut().now_or_never() {
        return Some(out);
    }
    tokio::time::timeout(limit, future).await.ok()
}

enum Forwarded {
    Sent,
    /// The socket failed or stayed full for [`SEND_TIMEOUT`].
    Gone,
    Lagged,
}

/// Sends `first` and whatever else of the team's events is already
/// waiting, in one write, skipping what was sent before (`last`).
async fn forward(
    socket: &mut WebSocket,
    rx: &mut Subscription,
    first: Arc<bus::Event>,
    last: &mut i64,
) -> Forwarded {
    let batch = async {
        let (mut messages, mut bytes) = (0, 0);
        let mut next = Some(Ok(first));
        while let Some(event) = next {
            let Ok(event) = event else {
                return Forwarded::Lagged;
            };
            if event.position > *last {
                *last = event.position;
                messages += 1;
                bytes += event.wire.len();
                if socket
                    .feed(Message::Text(event.wire.clone()))
                    .await
                    .is_err()
                {
                    return Forwarded::Gone;
                }
            }
            next = (messages < BATCH_MESSAGES && bytes < BATCH_BYTES)
                .then(|| rx.try_recv())
                .flatten();
        }
        match socket.flush().await {
            Ok(()) => Forwarded::Sent,
            Err(_) => Forwarded::Gone,
        }
    };
    within(SEND_TIMEOUT, batch).await.unwrap_or(Forwarded::Gone)
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
    // The page's position is older than the event log's window (retention
    // pruned what came after it): it may have missed what is gone.
    match retention::first_event_position(db).await {
        Ok(first) if after + 1 < first => {
            return Replay::Reset(
                "This page was away longer than the server keeps its history; reload its data.",
            );
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not replay events");
            return Replay::Reset("The server could not replay what this page missed.");
        }
    }
    // More than the limit missed: refetching is cheaper than replaying.
    match event_log::nth_event_after(db, team_id, after, REPLAY_LIMIT).await {
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
        let rows = match event_log::events_after(db, Some(team_id), last, REPLAY_PAGE).await {
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
