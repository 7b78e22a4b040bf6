//! A team's sites.

use crate::model::{AppError, Site};
use leptos::prelude::*;

#[server(endpoint = "list_sites")]
pub async fn list_sites() -> Result<Vec<Site>, AppError> {
    let member = crate::server::auth::require_member().await?;
    let state = crate::server::state::AppState::from_context()?;
    crate::server::sites::list(&state.db, member.team_id).await
}
