//! `GET /ws`: the upgrade into the live channel (see `realtime::socket`),
//! for a signed-in member, a script with an API token (`Authorization:
//! Bearer`), or, with `?wallboard=<token>`, a screen holding an open
//! wallboard link.

use super::bearer::Token;
use super::middleware::is_own_origin;
use super::session;
use super::state::BuildId;
use crate::server::config::Config;
use crate::server::realtime::{bus::EventBus, socket};
use crate::server::store::Db;
use crate::server::wallboard;
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
    /// A wallboard link's token, in place of a session.
    wallboard: Option<String>,
}

/// Upgrades a signed-in member's request, or a wallboard link's, from the
/// dashboard's own origin. A request without `Origin` (a script, not a
/// browser) is let through: the cross-site risk is a browser carrying the
/// cookie. A revoked or unknown link gets 404.
#[allow(clippy::too_many_arguments)]
pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(db): State<Db>,
    State(bus): State<EventBus>,
    State(config): State<Arc<Config>>,
    State(build): State<BuildId>,
    session: Session,
    token: Token,
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
    let (viewer, place) = match (params.wallboard.as_deref(), token) {
        (Some(token), _) => match wallboard::open_link(&db, token).await {
            Ok(Some(link)) => (
                socket::Viewer::Wallboard {
                    link_id: link.link_id,
                    team_id: link.team_id,
                },
                bus.open_socket(&format!("wallboard:{}", link.link_id)),
            ),
            Ok(None) => {
                return (
                    StatusCode::NOT_FOUND,
                    "This wallboard link was revoked or does not exist.\n",
                )
                    .into_response();
            }
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.message).into_response(),
        },
        (None, Some(axum::Extension(holder))) => (
            socket::Viewer::Token {
                token_id: holder.token_id,
                team_id: holder.actor.team_id,
            },
            bus.open_socket(&format!("token:{}", holder.token_id)),
        ),
        (None, None) => match (session::actor_of(&db, &session).await, session.id()) {
            (Ok(Some(actor)), Some(id)) => (
                socket::Viewer::Member {
                    session_id: id.to_string(),
                    user_id: actor.user_id,
                    team_id: actor.team_id,
                },
                bus.open_socket(&id.to_string()),
            ),
            (Ok(_), _) => return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response(),
            (Err(e), _) => return (StatusCode::INTERNAL_SERVER_ERROR, e.message).into_response(),
        },
    };
    let Some(place) = place else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many pages are open with this session or link; close some.\n",
        )
            .into_response();
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
    // A page sends only pings: a small read buffer (it grows for a larger
    // frame, up to the limits below) keeps an idle socket light. The write
    // buffer holds at most one batch past the socket's own; one message is
    // at most an output chunk, escaped.
    ws.read_buffer_size(512)
        .write_buffer_size(8 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(16 * 1024)
        .max_frame_size(16 * 1024)
        .on_upgrade(move |ws| async move {
            socket::serve(ws, db, bus, viewer, after, &build.0).await;
            drop(place);
        })
}
