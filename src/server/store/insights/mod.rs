//! The insights' daily totals: written as deployments end ([`record`]),
//! built again from the history when needed ([`rebuild`]), and read for a
//! team's window here: a range of a primary key per table, summed by day.

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

impl Range {
    fn site_clause(&self) -> &'static str {
        if self.site_id.is_some() {
            " and site_id = $4"
        } else {
            ""
        }
    }
}

/// Production deploys per day of the range, summed over the sites.
pub async fn days(db: &Db, r: Range) -> Result<Vec<DayRow>, sqlx::Error> {
    // sum() of a bigint is numeric on PostgreSQL: cast back.
    let sql = format!(
        "select day, cast(sum(deploys) as bigint), cast(sum(succeeded) as bigint), \
         cast(sum(failed) as bigint), cast(sum(failed_changes) as bigint) from insight_days \
         where team_id = $1 and day >= $2 and day < $3{} group by day",
        r.site_clause()
    );
    let mut q = sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(&sql)
        .bind(r.team_id)
        .bind(r.from_day)
        .bind(r.to_day);
    if let Some(site) = r.site_id {
        q = q.bind(site);
    }
    let rows = q.fetch_all(&db.pool).await?;
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

/// Duration samples per day and bucket of the range, summed over the
/// sites: steps' or (with `steps` false) lead times and restores.
pub async fn durations(db: &Db, r: Range, steps: bool) -> Result<Vec<DurationRow>, sqlx::Error> {
    let series = if steps {
        "series = 'step'"
    } else {
        "series in ('lead_time', 'restore')"
    };
    let sql = format!(
        "select day, series, pipeline, step, min(position), bucket, cast(sum(samples) as bigint) \
         from insight_durations where team_id = $1 and day >= $2 and day < $3{} and {series} \
         group by day, series, pipeline, step, bucket",
        r.site_clause()
    );
    let mut q = sqlx::query_as::<_, (i64, Series, String, String, i64, i64, i64)>(&sql)
        .bind(r.team_id)
        .bind(r.from_day)
        .bind(r.to_day);
    if let Some(site) = r.site_id {
        q = q.bind(site);
    }
    let rows = q.fetch_all(&db.pool).await?;
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
