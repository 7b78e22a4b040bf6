//! Where the live channel stands for the page being rendered.

use crate::model::AppError;
use leptos::prelude::*;

/// The stream position a page's data is at least as new as: during a page
/// render, the position read when the request arrived (before any data);
/// otherwise the position now. The page's socket resumes from it.
#[server(endpoint = "live_position")]
pub async fn live_position() -> Result<i64, AppError> {
    crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    let at_request = use_context::<axum::http::request::Parts>().and_then(|p| {
        p.extensions
            .get::<crate::server::http::StreamPosition>()
            .map(|p| p.0)
    });
    Ok(at_request.unwrap_or_else(|| state.events.position()))
}
