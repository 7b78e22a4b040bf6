//! A team's insights over a window: the stored daily totals of the window
//! and of the one before it, turned into the page's numbers.

use crate::model::insights::build::build;
use crate::model::insights::{Insights, WINDOWS, Window};
use crate::model::{AppError, SiteId, TeamId};
use crate::server::store::insights::{self, Points, Range};
use crate::server::store::{Db, now_ms, sites};

/// The insights of `team_id` (or of one of its sites) over the last `days`.
pub async fn load(
    db: &Db,
    team_id: TeamId,
    site_id: Option<SiteId>,
    days: u32,
) -> Result<Insights, AppError> {
    if !WINDOWS.contains(&days) {
        return Err(AppError::invalid(
            "Insights cover the last 7, 30 or 90 days.",
        ));
    }
    if let Some(id) = site_id {
        sites::get(db, team_id, id)
            .await?
            .ok_or_else(|| AppError::not_found("Site"))?;
    }
    let window = Window::ending_at(days, now_ms());
    let range = |from_day| Range {
        team_id,
        site_id,
        from_day,
        to_day: window.end_day,
    };
    let points = Points {
        first_day: window.first_day(),
        days: window.point_days(),
    };
    let (history_from, days, durations, steps) = tokio::try_join!(
        insights::first_day(db, team_id, site_id),
        insights::days(db, range(window.previous_first_day())),
        insights::durations(db, range(window.previous_first_day()), points, false),
        insights::durations(db, range(window.first_day()), points, true),
    )?;
    let all = [durations, steps].concat();
    Ok(build(window, site_id, history_from, &days, &all))
}

/// A history from before the insights existed gets its totals once, on
/// the first start after the upgrade, before this instance runs anything
/// (older instances are stopped first: `docs/cluster.md`).
pub async fn build_if_needed(db: &Db) -> Result<(), String> {
    match insights::rebuild::build_if_needed(db).await {
        Ok(Some(read)) => {
            tracing::info!(deployments = read, "built the insights from the history");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(format!("cannot build the insights from the history: {e}")),
    }
}
