//! `Authorization: Bearer <token>`: scripts, CI and the command line act
//! with an API token instead of a session cookie. The token is checked
//! against the database on every request, so a revoked one is refused at
//! once; a request that sends one that does not work gets 401 and goes no
//! further (it never falls back to a cookie).

use crate::model::{Actor, AppError, ErrorKind};
use crate::server::api_tokens::{self, TokenActor};
use crate::server::store::Db;
use axum::extract::{Request, State};
use axum::http::{Extensions, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

/// Resolves a bearer token into the [`TokenActor`] it acts as, kept in the
/// request's extensions for the handlers and server functions.
pub async fn bearer_tokens(State(db): State<Db>, mut request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return next.run(request).await;
    };
    let token = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token)
    });
    let Some(token) = token else {
        return refused("Send an API token as `Authorization: Bearer <token>`.");
    };
    match api_tokens::authenticate(&db, token).await {
        Ok(Some(holder)) => {
            request.extensions_mut().insert(holder);
            next.run(request).await
        }
        Ok(None) => {
            refused("This API token was revoked or is not valid: make a new one on the team page.")
        }
        Err(e) => e.into_response(),
    }
}

fn refused(message: &str) -> Response {
    let mut response = AppError::new(ErrorKind::Unauthenticated, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// The token a request acts with, if it sent one.
pub fn token_of(extensions: &Extensions) -> Option<&TokenActor> {
    extensions.get::<TokenActor>()
}

/// What a handler extracts to learn the request's token.
pub type Token = Option<axum::Extension<TokenActor>>;

/// Who a request acts as: its API token's actor, else its session's
/// member; `None` when it has neither.
pub async fn actor_of(
    db: &Db,
    session: &Session,
    token: &Token,
) -> Result<Option<Actor>, AppError> {
    match token {
        Some(axum::Extension(holder)) => Ok(Some(holder.actor.clone())),
        None => super::session::actor_of(db, session).await,
    }
}
