//! Where the live channel stands for the page being rendered.

use crate::model::AppError;
use leptos::prelude::*;

/// The stream position a page's data is at least as new as: during a page
/// render, the position read when the request arrived (before any data);
/// otherwise the position now. The page's socket resumes from it.
#[server(endpoint = "live_position")]
pub async fn live_position() -> Result<i64, AppError> {
    use crate::server::web::context as cx;
    let state = cx::state()?;
    cx::actor(&state).await?;
    Ok(cx::stream_position_at_request().unwrap_or_else(|| state.bus.position()))
}
