//! The insights' daily totals: written as deployments end ([`record`]),
//! built again from the history when needed ([`rebuild`]), and read for a
//! team's (or a site's) window here: one range of each table's primary
//! key.

pub mod rebuild;
pub(super) mod record;

use super::Db;
use crate::model::insights::Series;
use crate::model::insights::build::{DayRow, DurationRow};
use crate::model::insights::rules::DayCounts;
use crate::model::{PipelineType, SiteId, TeamId};

/// Days `from_day..to_day` of a team (or of one of its sites).
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub team_id: TeamId,
    pub site_id: Option<SiteId>,
    pub from_day: i64,
    pub to_day: i64,
}

/// The first day the team (or the site) has totals for.
pub async fn first_day(
    db: &Db,
    team_id: TeamId,
    site_id: Option<SiteId>,
) -> Result<Option<i64>, sqlx::Error> {
    let (day,): (Option<i64>,) =
        sqlx::query_as("select min(day) from insight_days where team_id = $1 and site_id = $2")
            .bind(team_id)
            .bind(record::scope(site_id))
            .fetch_one(&db.pool)
            .await?;
    Ok(day)
}

/// Production deploys per day of the range.
pub async fn days(db: &Db, r: Range) -> Result<Vec<DayRow>, sqlx::Error> {
    let rows = sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(
        "select day, deploys, succeeded, failed, failed_changes from insight_days \
         where team_id = $1 and site_id = $2 and day >= $3 and day < $4",
    )
    .bind(r.team_id)
    .bind(record::scope(r.site_id))
    .bind(r.from_day)
    .bind(r.to_day)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(day, deploys, succeeded, failed, failed_changes)| DayRow {
            day,
            counts: DayCounts {
                deploys,
                succeeded,
                failed,
                failed_changes,
            },
        })
        .collect())
}

/// Chart points: from `first_day` on, `days` days each, counted back
/// from the range's end; days before `first_day` are summed as one.
#[derive(Clone, Copy, Debug)]
pub struct Points {
    pub first_day: i64,
    pub days: u32,
}

/// Duration samples per point and bucket of the range, each point's under
/// its newest day: steps' or (with `steps` false) lead times and restores.
/// Summed in SQL, so a 90-day window reads 13 weekly rows a bucket.
pub async fn durations(
    db: &Db,
    r: Range,
    points: Points,
    steps: bool,
) -> Result<Vec<DurationRow>, sqlx::Error> {
    let series = if steps {
        "series = 'step'"
    } else {
        "series in ('lead_time', 'restore')"
    };
    // sum() of a bigint is numeric on PostgreSQL: cast back.
    let sql = format!(
        "select case when day >= $5 then $4 - 1 - (($4 - 1 - day) / $6) * $6 else $5 - 1 end \
         as point_day, series, pipeline, step, min(position), bucket, cast(sum(samples) as bigint) \
         from insight_durations \
         where team_id = $1 and site_id = $2 and {series} and day >= $3 and day < $4 \
         group by point_day, series, pipeline, step, bucket"
    );
    let rows = sqlx::query_as::<_, (i64, Series, String, String, i64, i64, i64)>(&sql)
        .bind(r.team_id)
        .bind(record::scope(r.site_id))
        .bind(r.from_day)
        .bind(r.to_day)
        .bind(points.first_day)
        .bind(i64::from(points.days))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(day, series, pipeline, step, position, bucket, samples)| DurationRow {
                day,
                series,
                pipeline: PipelineType::parse(&pipeline),
                step,
                position,
                bucket,
                samples,
            },
        )
        .collect())
}
