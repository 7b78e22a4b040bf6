//! The live channel: one WebSocket per open page at `/ws`, carrying the
//! signed-in team's committed changes in commit order. The protocol is in
//! the README ("Live channel").
//!
//! Each event's message is serialised once by the publisher and shared by
//! every connection. A connection subscribes before it replays what the
//! page missed, so nothing committed is skipped, and drops what it already
//! sent by position, so nothing is sent twice. A client that falls more
//! than [`bus::CAPACITY`] events behind is sent `reset` and closed; one
//! whose socket stays full for [`SEND_TIMEOUT`] is closed: neither slows
//! the others or grows the server's memory.

use super::bus::{self, EventBus};
use crate::model::{LiveMessage, TeamId};
use crate::server::store::{Db, changes};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// An idle connection hears from the server this often, so proxies keep
/// it open and the page can tell a dead connection from a quiet one.
pub const HEARTBEAT: Duration = Duration::from_secs(20);
/// A reconnecting page is replayed at most this many missed events;
/// further behind, it is told to reset and refetch.
pub const REPLAY_LIMIT: i64 = 5_000;
/// A send that cannot complete in this time means the client is gone or stuck.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Serves one signed-in member's socket until it closes: the replay of
/// what the page missed (after `after`), a `hello`, then every event of
/// the team as it commits, with heartbeats while idle.
pub async fn serve(
    mut socket: WebSocket,
    db: Db,
    bus: EventBus,
    team_id: TeamId,
    after: Option<i64>,
) {
    let mut closing = bus.closing();
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
        bus::wire(&LiveMessage::Hello { position: last }),
    )
    .await
    {
        return;
    }
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
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
                Err(RecvError::Lagged(_)) => {
                    let reason = "This page fell too far behind; reload its data.";
                    return reset(&mut socket, bus.position(), reason).await;
                }
                Err(RecvError::Closed) => return,
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
    let rows = changes::events_after(db, Some(team_id), after, REPLAY_LIMIT + 1).await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "could not replay events");
            return Replay::Reset("The server could not replay what this page missed.");
        }
    };
    if rows.len() as i64 > REPLAY_LIMIT {
        return Replay::Reset("This page missed too much to replay; reload its data.");
    }
    let mut last = after;
    for row in rows {
        last = row.position;
        let Some(event) = bus::Event::from_stored(row) else {
            continue;
        };
        if !send(socket, event.wire).await {
            return Replay::Gone;
        }
    }
    Replay::Done(last)
}
