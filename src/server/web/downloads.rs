//! `GET /cli/flightdeck`: this server's own binary, which is also the
//! `flightdeck` command line, for a CI job to fetch with its API token
//! (or a signed-in member's browser). The same build as the server, so
//! the two always speak the same API.

use super::bearer::{self, Token};
use crate::server::store::Db;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;
use tower_sessions::Session;

pub async fn command_line(
    State(db): State<Db>,
    session: Session,
    token: Token,
    request: Request,
) -> Response {
    match bearer::actor_of(&db, &session, &token).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                "Send an API token: Authorization: Bearer <token>.\n",
            )
                .into_response();
        }
        Err(e) => return e.into_response(),
    }
    let Ok(binary) = std::env::current_exe() else {
        return (
            StatusCode::NOT_FOUND,
            "This server cannot find its own binary.\n",
        )
            .into_response();
    };
    let mut response = match ServeFile::new(binary).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot send the binary");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"flightdeck\""),
    );
    response
}
