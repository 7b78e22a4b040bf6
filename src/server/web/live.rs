//! `GET /ws`: the upgrade into the live channel (see `realtime::socket`).

use super::middleware::is_own_origin;
use super::session;
use crate::server::config::Config;
use crate::server::realtime::{bus::EventBus, socket};
use crate::server::store::Db;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct Params {
    /// The last position the page has seen; absent on a first connection.
    after: Option<String>,
}

/// Upgrades a signed-in member's request from the dashboard's own origin.
/// A request without `Origin` (a script, not a browser) is let through:
/// the cross-site risk is a browser carrying the cookie.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(db): State<Db>,
    State(bus): State<EventBus>,
    State(config): State<Arc<Config>>,
    session: Session,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = origin
            .to_str()
            .is_ok_and(|o| is_own_origin(o, headers.get(header::HOST), &config));
        if !own {
            return (
                StatusCode::FORBIDDEN,
                "This page's origin may not open the live channel.\n",
            )
                .into_response();
        }
    }
    let (actor, session_id) = match (session::actor_of(&db, &session).await, session.id()) {
        (Ok(Some(actor)), Some(id)) => (actor, id),
        (Ok(_), _) => return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response(),
        (Err(e), _) => return (StatusCode::INTERNAL_SERVER_ERROR, e.message).into_response(),
    };
    let Some(place) = bus.open_socket(&session_id.to_string()) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "This session has too many pages open; close some.\n",
        )
            .into_response();
    };
    let viewer = socket::Viewer {
        session_id: session_id.to_string(),
        user_id: actor.user_id,
        team_id: actor.team_id,
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
        .on_upgrade(move |ws| async move {
            socket::serve(ws, db, bus, viewer, after).await;
            drop(place);
        })
}
