//! What a deployment's end adds to the insights' totals, written in the
//! transaction that ends it, after its event: under the event lock, like
//! every write of these tables, so the totals follow commit order and a
//! rebuild never races a finish.

use super::super::db::Tx;
use crate::model::insights::histogram::bucket_of;
use crate::model::insights::rules::{DayCounts, Finished};
use crate::model::insights::{Series, day_of};
use crate::model::{
    DeploymentId, DeploymentMeta, DeploymentStatus, PipelineType, SiteId, StepStatus, TeamId,
    TriggerKind,
};
use std::collections::BTreeMap;

/// A deployment's end as its row and its site's tell it.
#[derive(sqlx::FromRow)]
pub(super) struct EndRow {
    pub team_id: TeamId,
    pub site_id: SiteId,
    pub pipeline: PipelineType,
    pub trigger_kind: TriggerKind,
    pub status: DeploymentStatus,
    pub meta: DeploymentMeta,
    pub commit_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub staging: i64,
}

/// The columns of [`EndRow`] from `deployments d join sites s`.
pub(super) const END_COLUMNS: &str = "d.team_id, d.site_id, d.type as pipeline, d.trigger_kind, \
    d.status, d.meta, d.commit_at, d.finished_at, \
    case when s.parent_site_id is null then 0 else 1 end as staging";

impl EndRow {
    pub fn finished(&self) -> Finished {
        Finished {
            pipeline: self.pipeline,
            trigger: self.trigger_kind,
            status: self.status,
            staging: self.staging != 0,
            rollback: self.meta.rollback_of.is_some(),
            finished_at: self.finished_at.unwrap_or_else(super::super::now_ms),
            commit_at: self.commit_at,
        }
    }
}

/// How a total's site is stored: its id, or '' for the whole team.
pub(super) fn scope(site_id: Option<SiteId>) -> String {
    site_id.map(|s| s.to_string()).unwrap_or_default()
}

/// One stored bucket of durations.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct DurationKey {
    pub team_id: TeamId,
    /// None for the team's total.
    pub site_id: Option<SiteId>,
    pub day: i64,
    pub series: Series,
    pub pipeline: Option<PipelineType>,
    pub step: String,
    pub bucket: i64,
}

impl DurationKey {
    /// The same bucket in the team's total.
    pub fn team_wide(&self) -> Self {
        Self {
            site_id: None,
            ..self.clone()
        }
    }

    pub fn pipeline_text(&self) -> &'static str {
        self.pipeline.map_or("", PipelineType::as_str)
    }
}

async fn end_row(tx: &mut Tx, id: DeploymentId) -> Result<EndRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {END_COLUMNS} from deployments d join sites s on s.id = d.site_id where d.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await
}

/// A deployment ended (completed, failed or cancelled): its site's day,
/// its lead time, the restore it ends or the failure it starts, and the
/// durations of its completed steps.
pub(in crate::server::store) async fn ended(
    tx: &mut Tx,
    id: DeploymentId,
) -> Result<(), sqlx::Error> {
    let row = end_row(tx, id).await?;
    let (failing_since,): (Option<i64>,) =
        sqlx::query_as("select max(failing_since) from insight_failing_sites where site_id = $1")
            .bind(row.site_id)
            .fetch_one(&mut **tx)
            .await?;
    let effects = row.finished().effects(failing_since);
    match (failing_since, effects.failing_since) {
        (None, Some(since)) => {
            sqlx::query(
                "insert into insight_failing_sites (site_id, failing_since) values ($1, $2)",
            )
            .bind(row.site_id)
            .bind(since)
            .execute(&mut **tx)
            .await?;
        }
        (Some(_), None) => {
            sqlx::query("delete from insight_failing_sites where site_id = $1")
                .bind(row.site_id)
                .execute(&mut **tx)
                .await?;
        }
        _ => {}
    }
    add_day(tx, row.team_id, row.site_id, effects.day, effects.counts).await?;
    let key = |series, bucket| DurationKey {
        team_id: row.team_id,
        site_id: Some(row.site_id),
        day: effects.day,
        series,
        pipeline: None,
        step: String::new(),
        bucket,
    };
    if let Some(ms) = effects.lead_time {
        add_duration(tx, &key(Series::LeadTime, bucket_of(ms)), 0, 1).await?;
    }
    if let Some(ms) = effects.restore {
        add_duration(tx, &key(Series::Restore, bucket_of(ms)), 0, 1).await?;
    }
    let steps: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select name, sort_order, started_at, finished_at from deployment_steps \
         where deployment_id = $1 and status = $2 and started_at is not null and finished_at is not null",
    )
    .bind(id)
    .bind(StepStatus::Completed)
    .fetch_all(&mut **tx)
    .await?;
    // Two steps of one name in one bucket are one row with two samples.
    let mut buckets: BTreeMap<DurationKey, (i64, i64)> = BTreeMap::new();
    for (name, position, started_at, finished_at) in steps {
        let k = DurationKey {
            pipeline: Some(row.pipeline),
            step: name,
            ..key(Series::Step, bucket_of(finished_at - started_at))
        };
        let entry = buckets.entry(k).or_insert((position, 0));
        *entry = (entry.0.min(position), entry.1 + 1);
    }
    for (k, (position, samples)) in buckets {
        add_duration(tx, &k, position, samples).await?;
    }
    Ok(())
}

/// A completed deploy stopped being what its site serves: `by` replaced
/// it. A rollback or restore, or any replacement within the hour, makes
/// it a failed change of the day it went live.
pub(in crate::server::store) async fn replaced(
    tx: &mut Tx,
    id: DeploymentId,
    by: DeploymentId,
) -> Result<(), sqlx::Error> {
    let (was, now) = (end_row(tx, id).await?, end_row(tx, by).await?);
    let was_finished = was.finished();
    if was_finished.failed_when_replaced_by(&now.finished()) {
        let counts = DayCounts {
            failed_changes: 1,
            ..DayCounts::default()
        };
        add_day(
            tx,
            was.team_id,
            was.site_id,
            day_of(was_finished.finished_at),
            counts,
        )
        .await?;
    }
    Ok(())
}

async fn add_day(
    tx: &mut Tx,
    team_id: TeamId,
    site_id: SiteId,
    day: i64,
    c: DayCounts,
) -> Result<(), sqlx::Error> {
    if c.is_empty() {
        return Ok(());
    }
    for site in [Some(site_id), None] {
        sqlx::query(
            "insert into insight_days (team_id, site_id, day, deploys, succeeded, failed, failed_changes) \
             values ($1, $2, $3, $4, $5, $6, $7) \
             on conflict (team_id, site_id, day) do update set \
             deploys = insight_days.deploys + excluded.deploys, \
             succeeded = insight_days.succeeded + excluded.succeeded, \
             failed = insight_days.failed + excluded.failed, \
             failed_changes = insight_days.failed_changes + excluded.failed_changes",
        )
        .bind(team_id)
        .bind(scope(site))
        .bind(day)
        .bind(c.deploys)
        .bind(c.succeeded)
        .bind(c.failed)
        .bind(c.failed_changes)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn add_duration(
    tx: &mut Tx,
    k: &DurationKey,
    position: i64,
    samples: i64,
) -> Result<(), sqlx::Error> {
    for k in [k.clone(), k.team_wide()] {
        sqlx::query(
            "insert into insight_durations (team_id, site_id, day, series, pipeline, step, position, bucket, samples) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             on conflict (team_id, site_id, series, day, pipeline, step, bucket) do update set \
             samples = insight_durations.samples + excluded.samples, \
             position = case when excluded.position < insight_durations.position \
             then excluded.position else insight_durations.position end",
        )
        .bind(k.team_id)
        .bind(scope(k.site_id))
        .bind(k.day)
        .bind(k.series)
        .bind(k.pipeline_text())
        .bind(k.step.as_str())
        .bind(position)
        .bind(k.bucket)
        .bind(samples)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
