//! The live channel: one WebSocket per open page at `/ws`, carrying the
//! signed-in team's committed changes in commit order. The protocol is in
//! the README ("Live channel").
//!
//! Each event's message is serialised once by the publisher and shared by
//! every connection. A connection subscribes before it replays what the
//! page missed, so nothing committed is skipped, and drops what it already
//! sent by position, so nothing is sent twice. A client that falls more
//! than [`events::CAPACITY`] events behind is sent `reset` and closed; one
//! whose socket stays full for [`SEND_TIMEOUT`] is closed: neither slows
//! the others or grows the server's memory.

use super::events;
use super::state::AppState;
use super::{auth, http};
use crate::model::TeamId;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

/// An idle connection hears from the server this often, so proxies keep
/// it open and the page can tell a dead connection from a quiet one.
pub const HEARTBEAT: Duration = Duration::from_secs(20);
/// A reconnecting page is replayed at most this many missed events;
/// further behind, it is told to reset and refetch.
pub const REPLAY_LIMIT: i64 = 5_000;
/// A send that cannot complete in this time means the client is gone or stuck.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
pub struct Params {
    /// The last position the page has seen; absent on a first connection.
    after: Option<String>,
}

/// `GET /ws`: upgrades a signed-in member's request from the dashboard's
/// own origin. A request without `Origin` (a script, not a browser) is let
/// through: the cross-site risk is a browser carrying the cookie.
pub async fn handler(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = origin.to_str().is_ok_and(|o| {
            http::is_own_origin(
                o,
                headers.get(header::HOST),
                state.config.public_url.as_deref(),
            )
        });
        if !own {
            return (
                StatusCode::FORBIDDEN,
                "This page's origin may not open the live channel.\n",
            )
                .into_response();
        }
    }
    let member = match auth::member_of(&state, &session).await {
        Ok(Some(member)) => member,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.message).into_response(),
    };
    let after = match params.after.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(p)) if p >= 0 => Some(p),
        Some(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "after must be a stream position.\n",
            )
                .into_response();
        }
    };
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(16 * 1024)
        .max_frame_size(16 * 1024)
        .on_upgrade(move |socket| serve(socket, state, member.team_id, after))
}

async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await,
        Ok(Ok(()))
    )
}

fn control(kind: &str, position: i64, reason: Option<&str>) -> Utf8Bytes {
    let mut v = serde_json::json!({ "type": kind, "position": position });
    if let Some(reason) = reason {
        v["reason"] = reason.into();
    }
    v.to_string().into()
}

async fn serve(mut socket: WebSocket, state: AppState, team_id: TeamId, after: Option<i64>) {
    // Subscribe first: whatever commits from here on arrives through `rx`,
    // and whatever committed before is in the table for the replay.
    let mut rx = state.events.subscribe();
    let mut last = match after {
        None => state.events.position(),
        Some(after) => match replay(&state, &mut socket, team_id, after).await {
            Replay::Done(last) => last,
            Replay::Reset(reason) => {
                let _ = send(
                    &mut socket,
                    control("reset", state.events.position(), Some(reason)),
                )
                .await;
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            Replay::Gone => return,
        },
    };
    if !send(&mut socket, control("hello", last, None)).await {
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
                    let _ = send(&mut socket, control("reset", state.events.position(), Some(reason))).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // The page sends nothing but pings, which are answered for us.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                if !send(&mut socket, control("heartbeat", last, None)).await {
                    return;
                }
            }
        }
    }
}

enum Replay {
    /// Replayed everything after the page's position, up to this one.
    Done(i64),
    Reset(&'static str),
    /// The socket closed during the replay.
    Gone,
}

/// Sends the team's events after `after`, oldest first.
async fn replay(state: &AppState, socket: &mut WebSocket, team_id: TeamId, after: i64) -> Replay {
    if after > state.events.position() {
        // A position from the future: the database was replaced.
        return Replay::Reset("The server's history changed; reload this page's data.");
    }
    let rows: Result<Vec<(i64, TeamId, String, String)>, _> = sqlx::query_as(
        "select position, team_id, kind, payload from events where team_id = $1 and position > $2 \
         order by position limit $3",
    )
    .bind(team_id)
    .bind(after)
    .bind(REPLAY_LIMIT + 1)
    .fetch_all(&state.db.pool)
    .await;
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
    for (position, team_id, kind, payload) in rows {
        last = position;
        let event = events::Event::new(position, team_id, kind, payload);
        if !send(socket, event.wire).await {
            return Replay::Gone;
        }
    }
    Replay::Done(last)
}
