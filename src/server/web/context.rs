//! What a server function reads from its request (the state, the signed-in
//! actor, ids from its fields, the Host header) and how it answers a form
//! posted without JavaScript. Server functions call these, then the server
//! layer below, and return.

use super::middleware::StreamPosition;
use super::session;
use super::state::AppState;
use crate::model::{Actor, AppError};
use crate::server::api_tokens::TokenActor;
use axum::http::header;
use axum::http::request::Parts;
use leptos::prelude::use_context;
use std::str::FromStr;

/// The shared state.
pub fn state() -> Result<AppState, AppError> {
    AppState::from_context()
}

/// Who the call acts as: its API token's actor (checked by the bearer
/// layer), else the signed-in member in their current team, read from the
/// database each time, so a removed member loses access at once.
pub async fn actor(state: &AppState) -> Result<Actor, AppError> {
    if let Some(holder) = token() {
        return Ok(holder.actor);
    }
    member(state).await
}

/// The signed-in member, never a token: for what a token may not do,
/// everything that grants lasting access (tokens, invites, members,
/// wallboard links, where notifications go), so a leaked token cannot
/// outlive its revocation.
pub async fn member(state: &AppState) -> Result<Actor, AppError> {
    if token().is_some() {
        return Err(AppError::forbidden(
            "An API token cannot do this: sign in to the dashboard.",
        ));
    }
    let session = session::current().await?;
    session::actor_of(&state.db, &session)
        .await?
        .ok_or_else(AppError::unauthenticated)
}

/// The API token the call was made with, if any.
pub fn token() -> Option<TokenActor> {
    let parts = use_context::<Parts>()?;
    super::bearer::token_of(&parts.extensions).cloned()
}

/// An id from a form field. A malformed id answers like another team's:
/// not found, so ids cannot be probed.
pub fn id<T: FromStr>(raw: &str, what: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::not_found(what))
}

/// The `Host` the request was sent to.
pub fn request_host() -> Option<String> {
    let parts = use_context::<Parts>()?;
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    Some(host.to_string())
}

/// The client's address, when the server was started with connection
/// info (it always is; a test's router may not be).
pub async fn client_address() -> Option<std::net::IpAddr> {
    use axum::extract::ConnectInfo;
    leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// During a page render, the live channel's position when the request
/// arrived (read by the page guard before any data).
pub fn stream_position_at_request() -> Option<i64> {
    use_context::<Parts>()?
        .extensions
        .get::<StreamPosition>()
        .map(|p| p.0)
}

/// After a plain form post (JavaScript off), sends the browser on to `path`;
/// a hydrated page handles success itself.
pub fn redirect_plain_form(path: &str) {
    let accepts_html = use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if accepts_html {
        leptos_axum::redirect(path);
    }
}
