//! Builds the insights' totals again from the whole history: once, on the
//! first start after the migration that added them (so a long history has
//! its charts at once), and whenever a benchmark has seeded one in bulk.

use super::super::db::Tx;
use super::super::notify::EVENT_LOCK;
use super::super::{Backend, Db, now_ms};
use super::record::{DurationKey, END_COLUMNS, EndRow, scope};
use crate::model::insights::histogram::bucket_of;
use crate::model::insights::rules::{DayCounts, Finished};
use crate::model::insights::{Series, day_of};
use crate::model::{DeploymentMeta, PipelineType, SiteId, StepStatus, TeamId};
use futures_util::TryStreamExt;
use std::collections::BTreeMap;

/// Rows per insert statement.
const BATCH: usize = 100;

/// A finished deployment, with the one that replaced it, if any.
#[derive(sqlx::FromRow)]
struct HistoryRow {
    #[sqlx(flatten)]
    end: EndRow,
    by_pipeline: Option<PipelineType>,
    by_meta: Option<DeploymentMeta>,
    by_finished_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    team_id: TeamId,
    site_id: SiteId,
    pipeline: PipelineType,
    finished_at: i64,
    name: String,
    sort_order: i64,
    step_started_at: i64,
    step_finished_at: i64,
}

impl Totals {
    fn add_day(&mut self, team_id: TeamId, site_id: SiteId, day: i64, counts: DayCounts) {
        for site in [Some(site_id), None] {
            self.days
                .entry((team_id, site, day))
                .or_default()
                .add(counts);
        }
    }

    /// A sample; a step's place is the earliest it had (as the live path
    /// keeps it, whatever the order).
    fn add_duration(&mut self, k: DurationKey, position: i64) {
        for k in [k.team_wide(), k] {
            let entry = self.durations.entry(k).or_insert((position, 0));
            *entry = (entry.0.min(position), entry.1 + 1);
        }
    }
}

#[derive(Default)]
struct Totals {
    /// Per site, and (under None) per team.
    days: BTreeMap<(TeamId, Option<SiteId>, i64), DayCounts>,
    /// Samples per bucket, with the step's (earliest) place in its pipeline.
    durations: BTreeMap<DurationKey, (i64, i64)>,
    failing: Vec<(SiteId, i64)>,
}

/// Builds the totals unless they were built already (by this instance or
/// another one sharing the database). Returns how many deployments it
/// read, or None when there was nothing to do.
pub async fn build_if_needed(db: &Db) -> Result<Option<u64>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let claimed =
        sqlx::query("update insight_state set built_at = $1 where id = 1 and built_at is null")
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
    if claimed.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let read = rebuild_in(db, &mut tx).await?;
    tx.commit().await?;
    Ok(Some(read))
}

/// Builds every team's totals again from the history, in one transaction;
/// returns how many deployments it read.
pub async fn rebuild(db: &Db) -> Result<u64, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("update insight_state set built_at = $1 where id = 1")
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    let read = rebuild_in(db, &mut tx).await?;
    tx.commit().await?;
    Ok(read)
}

async fn rebuild_in(db: &Db, tx: &mut Tx) -> Result<u64, sqlx::Error> {
    // About 30 s for a million deployments (17 s on PostgreSQL); event
    // writers wait meanwhile.
    tracing::info!("building the insights' totals from the deployment history");
    // Every deployment's end writes its totals under the event lock: with
    // it, each one is either read here or written after this commits.
    // (On SQLite the update above holds the only write lock already.)
    if db.backend == Backend::Postgres {
        sqlx::query(EVENT_LOCK).execute(&mut **tx).await?;
    }
    for table in ["insight_days", "insight_durations", "insight_failing_sites"] {
        sqlx::query(&format!("delete from {table}"))
            .execute(&mut **tx)
            .await?;
    }
    let mut totals = Totals::default();
    let read = read_ends(tx, &mut totals).await?;
    read_steps(tx, &mut totals).await?;
    write(tx, &totals).await?;
    Ok(read)
}

/// Every finished deployment, site by site in the order they ended: the
/// same effects, in the same order, as when each one ended (a site runs
/// one deployment at a time, so its ends are apart by at least a run,
/// more than the clocks of two instances differ).
async fn read_ends(tx: &mut Tx, totals: &mut Totals) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "select {END_COLUMNS}, b.type as by_pipeline, b.meta as by_meta, b.finished_at as by_finished_at \
         from deployments d join sites s on s.id = d.site_id \
         left join deployments b on b.id = d.superseded_by_id \
         where d.finished_at is not null and d.status not in ('queued', 'running') \
         order by d.site_id, d.finished_at, d.id"
    );
    let mut rows = sqlx::query_as::<_, HistoryRow>(&sql).fetch(&mut **tx);
    let (mut read, mut site, mut failing_since) = (0, None, None);
    while let Some(row) = rows.try_next().await? {
        read += 1;
        let end = &row.end;
        if site != Some(end.site_id) {
            if let (Some(s), Some(since)) = (site, failing_since) {
                totals.failing.push((s, since));
            }
            (site, failing_since) = (Some(end.site_id), None);
        }
        let finished = end.finished();
        let effects = finished.effects(failing_since);
        failing_since = effects.failing_since;
        totals.add_day(end.team_id, end.site_id, effects.day, effects.counts);
        let key = |series, ms| DurationKey {
            team_id: end.team_id,
            site_id: Some(end.site_id),
            day: effects.day,
            series,
            pipeline: None,
            step: String::new(),
            bucket: bucket_of(ms),
        };
        for (series, ms) in [
            (Series::LeadTime, effects.lead_time),
            (Series::Restore, effects.restore),
        ] {
            if let Some(ms) = ms {
                totals.add_duration(key(series, ms), 0);
            }
        }
        if let (Some(pipeline), Some(meta), Some(by_finished_at)) =
            (row.by_pipeline, &row.by_meta, row.by_finished_at)
        {
            let by = Finished {
                pipeline,
                rollback: meta.rollback_of.is_some(),
                finished_at: by_finished_at,
                ..finished.clone()
            };
            if finished.failed_when_replaced_by(&by) {
                let counts = DayCounts {
                    failed_changes: 1,
                    ..DayCounts::default()
                };
                let day = day_of(finished.finished_at);
                totals.add_day(end.team_id, end.site_id, day, counts);
            }
        }
    }
    if let (Some(s), Some(since)) = (site, failing_since) {
        totals.failing.push((s, since));
    }
    Ok(read)
}

/// The completed steps of every finished deployment.
async fn read_steps(tx: &mut Tx, totals: &mut Totals) -> Result<(), sqlx::Error> {
    let mut rows = sqlx::query_as::<_, StepRow>(
        "select d.team_id, d.site_id, d.type as pipeline, d.finished_at, st.name, st.sort_order, \
         st.started_at as step_started_at, st.finished_at as step_finished_at \
         from deployment_steps st join deployments d on d.id = st.deployment_id \
         where st.status = $1 and st.started_at is not null and st.finished_at is not null \
         and d.finished_at is not null and d.status not in ('queued', 'running')",
    )
    .bind(StepStatus::Completed)
    .fetch(&mut **tx);
    while let Some(s) = rows.try_next().await? {
        let key = DurationKey {
            team_id: s.team_id,
            site_id: Some(s.site_id),
            day: day_of(s.finished_at),
            series: Series::Step,
            pipeline: Some(s.pipeline),
            step: s.name,
            bucket: bucket_of(s.step_finished_at - s.step_started_at),
        };
        totals.add_duration(key, s.sort_order);
    }
    Ok(())
}

async fn write(tx: &mut Tx, totals: &Totals) -> Result<(), sqlx::Error> {
    let days: Vec<_> = totals.days.iter().filter(|(_, c)| !c.is_empty()).collect();
    for chunk in days.chunks(BATCH) {
        let sql = format!(
            "insert into insight_days (team_id, site_id, day, deploys, succeeded, failed, failed_changes) values {}",
            placeholders(chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for ((team_id, site_id, day), c) in chunk {
            q = q
                .bind(*team_id)
                .bind(scope(*site_id))
                .bind(*day)
                .bind(c.deploys)
                .bind(c.succeeded)
                .bind(c.failed)
                .bind(c.failed_changes);
        }
        q.execute(&mut **tx).await?;
    }
    let durations: Vec<_> = totals.durations.iter().collect();
    for chunk in durations.chunks(BATCH) {
        let sql = format!(
            "insert into insight_durations (team_id, site_id, day, series, pipeline, step, position, bucket, samples) values {}",
            placeholders(chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for (k, (position, samples)) in chunk {
            q = q
                .bind(k.team_id)
                .bind(scope(k.site_id))
                .bind(k.day)
                .bind(k.series)
                .bind(k.pipeline_text())
                .bind(k.step.as_str())
                .bind(*position)
                .bind(k.bucket)
                .bind(*samples);
        }
        q.execute(&mut **tx).await?;
    }
    for (site_id, since) in &totals.failing {
        sqlx::query("insert into insight_failing_sites (site_id, failing_since) values ($1, $2)")
            .bind(*site_id)
            .bind(*since)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// `($1, $2), ($3, $4)`: `rows` rows of `width` placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
