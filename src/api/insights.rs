//! A team's insights: the DORA metrics and its pipelines' step durations.

use crate::model::AppError;
use crate::model::insights::Insights;
use leptos::prelude::*;

/// The insights of the actor's team over the last `days` (7, 30 or 90;
/// 30 when absent), for one of its sites or (without `site_id`) all.
#[server(endpoint = "get_insights")]
pub async fn get_insights(
    site_id: Option<String>,
    days: Option<String>,
) -> Result<Insights, AppError> {
    use crate::model::insights::DEFAULT_WINDOW;
    use crate::server::insights;
    use crate::server::web::context as cx;
    let state = cx::state()?;
    let actor = cx::actor(&state).await?;
    let site_id = site_id
        .filter(|s| !s.trim().is_empty())
        .map(|s| cx::id(s.trim(), "Site"))
        .transpose()?;
    let days = match days.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_WINDOW,
        Some(raw) => raw
            .parse()
            .map_err(|_| AppError::invalid("Insights cover the last 7, 30 or 90 days."))?,
    };
    insights::load(&state.db, actor.team_id, site_id, days).await
}
