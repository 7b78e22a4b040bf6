//! Deployments and their steps in storage: reads scoped to a team.

use super::db::Db;
use super::output_times;
use crate::model::log::StepLog;
use crate::model::{
    AppError, CapsuleId, Deployment, DeploymentId, DeploymentMeta, DeploymentPage,
    DeploymentStatus, DeploymentStep, Phase, PipelineType, ReleaseRemoved, RemovalReason, SiteId,
    SourceKind, StepId, StepStatus, TeamId, TriggerKind, UserId,
};
use std::collections::HashMap;

/// The columns of a deployment row with its site's name and current flag.
pub(crate) const DEPLOYMENT_COLUMNS: &str = "d.id, d.team_id, d.site_id, s.name as site_name, \
    d.user_id, d.type, d.status, d.operation_name, d.meta, d.source_kind, d.branch, d.commit_sha, \
    d.repository, d.archive_name, d.trigger_kind, d.triggered_by, d.pr_number, d.error_message, \
    d.preview_url, d.retry_of_id, d.superseded_by_id, d.version, d.created_at, d.started_at, \
    d.finished_at, case when s.current_deployment_id = d.id then 1 else 0 end as is_current, \
    d.awaiting_approval, d.waiting_for_unlock, d.release_removed_at, d.release_removed_reason";

#[derive(sqlx::FromRow)]
pub(crate) struct DeploymentRow {
    id: DeploymentId,
    team_id: TeamId,
    site_id: SiteId,
    site_name: String,
    user_id: Option<UserId>,
    #[sqlx(rename = "type")]
    pipeline_type: PipelineType,
    status: DeploymentStatus,
    operation_name: String,
    meta: DeploymentMeta,
    source_kind: SourceKind,
    branch: Option<String>,
    commit_sha: Option<String>,
    repository: Option<String>,
    archive_name: Option<String>,
    trigger_kind: TriggerKind,
    triggered_by: String,
    pr_number: Option<i64>,
    error_message: Option<String>,
    preview_url: Option<String>,
    retry_of_id: Option<DeploymentId>,
    superseded_by_id: Option<DeploymentId>,
    version: i64,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    is_current: i64,
    awaiting_approval: i64,
    waiting_for_unlock: i64,
    release_removed_at: Option<i64>,
    release_removed_reason: Option<RemovalReason>,
}

impl From<DeploymentRow> for Deployment {
    fn from(r: DeploymentRow) -> Self {
        Deployment {
            id: r.id,
            team_id: r.team_id,
            site_id: r.site_id,
            site_name: r.site_name,
            user_id: r.user_id,
            pipeline_type: r.pipeline_type,
            status: r.status,
            operation_name: r.operation_name,
            meta: r.meta,
            source_kind: r.source_kind,
            branch: r.branch,
            commit_sha: r.commit_sha,
            repository: r.repository,
            archive_name: r.archive_name,
            trigger_kind: r.trigger_kind,
            triggered_by: r.triggered_by,
            pr_number: r.pr_number,
            error_message: r.error_message,
            preview_url: r.preview_url,
            retry_of_id: r.retry_of_id,
            superseded_by_id: r.superseded_by_id,
            version: r.version,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            is_current: r.is_current != 0,
            awaiting_approval: r.awaiting_approval != 0,
            waiting_for_unlock: r.waiting_for_unlock != 0,
            release_removed: match (r.release_removed_at, r.release_removed_reason) {
                (Some(at), Some(reason)) => Some(ReleaseRemoved { at, reason }),
                _ => None,
            },
            steps: Vec::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct StepRow {
    id: StepId,
    deployment_id: DeploymentId,
    name: String,
    phase: Option<Phase>,
    status: StepStatus,
    sort_order: i64,
    output: String,
    output_times: String,
    version: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

impl From<StepRow> for DeploymentStep {
    fn from(r: StepRow) -> Self {
        DeploymentStep {
            id: r.id,
            deployment_id: r.deployment_id,
            name: r.name,
            phase: r.phase,
            status: r.status,
            sort_order: r.sort_order,
            output: r.output,
            output_offset: 0,
            output_line: 0,
            output_times: output_times::parse(&r.output_times),
            version: r.version,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// One step (without its output) and the team that owns it.
pub(crate) async fn step_with_team<'c, E>(
    executor: E,
    id: StepId,
) -> Result<(DeploymentStep, TeamId), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        step: StepRow,
        team_id: TeamId,
    }
    let row: Row = sqlx::query_as(
        "select s.id, s.deployment_id, s.name, s.phase, s.status, s.sort_order, '' as output, '' as output_times, s.version, \
         s.started_at, s.finished_at, d.team_id from deployment_steps s \
         join deployments d on d.id = s.deployment_id where s.id = $1",
    )
    .bind(id)
    .fetch_one(executor)
    .await?;
    Ok((row.step.into(), row.team_id))
}

/// Narrows a team's history; every field is optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub site_id: Option<SiteId>,
    pub status: Option<DeploymentStatus>,
    pub pipeline_type: Option<PipelineType>,
}

/// One page of a team's history, newest first, by keyset on the ULID id so
/// a deep page costs what the first one does.
pub async fn list(
    db: &Db,
    team_id: TeamId,
    filter: &Filter,
    cursor: Option<DeploymentId>,
    limit: i64,
) -> Result<DeploymentPage, AppError> {
    let mut sql = format!(
        "select {DEPLOYMENT_COLUMNS} from deployments d join sites s on s.id = d.site_id \
         where d.team_id = $1"
    );
    let mut n = 1;
    let mut param = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace('?', &format!("${n}")));
    };
    if filter.site_id.is_some() {
        param(&mut sql, " and d.site_id = ?");
    }
    if filter.status.is_some() {
        param(&mut sql, " and d.status = ?");
    }
    if filter.pipeline_type.is_some() {
        param(&mut sql, " and d.type = ?");
    }
    if cursor.is_some() {
        param(&mut sql, " and d.id < ?");
    }
    param(&mut sql, " order by d.id desc limit ?");
    let mut query = sqlx::query_as::<_, DeploymentRow>(&sql).bind(team_id);
    if let Some(site_id) = filter.site_id {
        query = query.bind(site_id);
    }
    if let Some(status) = filter.status {
        query = query.bind(status);
    }
    if let Some(t) = filter.pipeline_type {
        query = query.bind(t);
    }
    if let Some(c) = cursor {
        query = query.bind(c);
    }
    let mut rows = query.bind(limit + 1).fetch_all(&db.pool).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let mut deployments: Vec<Deployment> = rows.into_iter().map(Deployment::from).collect();
    attach_steps(db, &mut deployments, false).await?;
    Ok(DeploymentPage {
        deployments,
        next_cursor,
    })
}

/// One deployment of a team with its steps and their output; `None` when
/// it does not exist or belongs to another team.
pub async fn get(
    db: &Db,
    team_id: TeamId,
    id: DeploymentId,
) -> Result<Option<Deployment>, AppError> {
    let row: Option<DeploymentRow> = sqlx::query_as(&format!(
        "select {DEPLOYMENT_COLUMNS} from deployments d join sites s on s.id = d.site_id \
         where d.id = $1 and d.team_id = $2"
    ))
    .bind(id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut list = vec![Deployment::from(row)];
    attach_steps(db, &mut list, true).await?;
    Ok(list.pop())
}

/// A deployment with its steps (without output), whichever team's: what
/// the runner builds a step's environment from.
pub async fn for_run(db: &Db, id: DeploymentId) -> Result<Deployment, sqlx::Error> {
    let row: DeploymentRow = sqlx::query_as(&format!(
        "select {DEPLOYMENT_COLUMNS} from deployments d join sites s on s.id = d.site_id where d.id = $1"
    ))
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    let mut list = vec![Deployment::from(row)];
    attach_steps_in(&db.pool, &mut list, false).await?;
    list.pop().ok_or(sqlx::Error::RowNotFound)
}

/// Like [`get`], but each step's output cut to its last `max_output` bytes
/// (at a line boundary), for pages: the full log is a download away.
pub async fn get_for_page(
    db: &Db,
    team_id: TeamId,
    id: DeploymentId,
    max_output: usize,
) -> Result<Option<Deployment>, AppError> {
    let Some(mut d) = get(db, team_id, id).await? else {
        return Ok(None);
    };
    for step in &mut d.steps {
        let (shown, cut) = crate::model::ansi::tail(&step.output, max_output);
        if cut > 0 {
            step.output_line = step.output.as_bytes()[..cut]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as i64;
            step.output = shown.to_string();
            step.output_offset = cut as i64;
            step.output_times = output_times::from(&step.output_times, cut as i64);
        }
    }
    Ok(Some(d))
}

/// The whole output of one step of a team's deployment, its name and
/// number, and when each part was written; `None` when the step does not
/// exist, is not that deployment's, or is another team's.
pub async fn step_output(
    db: &Db,
    team_id: TeamId,
    deployment_id: DeploymentId,
    step_id: StepId,
) -> Result<Option<StepOutput>, AppError> {
    let row: Option<(String, i64, String, String)> = sqlx::query_as(
        "select s.name, s.sort_order, s.output, s.output_times from deployment_steps s \
         join deployments d on d.id = s.deployment_id \
         where s.id = $1 and d.id = $2 and d.team_id = $3",
    )
    .bind(step_id)
    .bind(deployment_id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(name, sort_order, output, times)| StepOutput {
        name,
        sort_order,
        log: StepLog {
            output,
            times: output_times::parse(&times),
        },
    }))
}

/// One step's whole log and what names it.
pub struct StepOutput {
    pub name: String,
    pub sort_order: i64,
    pub log: StepLog,
}

/// A deployment's status, when it is the team's.
pub async fn status(
    db: &Db,
    team_id: TeamId,
    id: DeploymentId,
) -> Result<Option<DeploymentStatus>, AppError> {
    let row: Option<(DeploymentStatus,)> =
        sqlx::query_as("select status from deployments where id = $1 and team_id = $2")
            .bind(id)
            .bind(team_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(s,)| s))
}

/// Loads the steps of the given deployments in one query; output only when asked.
pub(crate) async fn attach_steps(
    db: &Db,
    deployments: &mut [Deployment],
    with_output: bool,
) -> Result<(), AppError> {
    Ok(attach_steps_in(&db.pool, deployments, with_output).await?)
}

/// [`attach_steps`] on any executor, a transaction included.
pub(crate) async fn attach_steps_in<'c, E>(
    executor: E,
    deployments: &mut [Deployment],
    with_output: bool,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if deployments.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=deployments.len()).map(|i| format!("${i}")).collect();
    let output = if with_output {
        "output, output_times"
    } else {
        "'' as output, '' as output_times"
    };
    let sql = format!(
        "select id, deployment_id, name, phase, status, sort_order, {output}, version, started_at, \
         finished_at from deployment_steps where deployment_id in ({}) order by deployment_id, sort_order",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, StepRow>(&sql);
    for d in deployments.iter() {
        query = query.bind(d.id);
    }
    let mut by_deployment: HashMap<DeploymentId, Vec<DeploymentStep>> = HashMap::new();
    for row in query.fetch_all(executor).await? {
        by_deployment
            .entry(row.deployment_id)
            .or_default()
            .push(row.into());
    }
    for d in deployments.iter_mut() {
        d.steps = by_deployment.remove(&d.id).unwrap_or_default();
    }
    Ok(())
}

/// Whether `capsule` is the capsule of one of the site's completed time
/// capsules. The text match narrows the site's capsules in the database
/// (a ULID holds no LIKE wildcard); the typed meta decides.
pub async fn has_capsule(db: &Db, site_id: SiteId, capsule: CapsuleId) -> Result<bool, AppError> {
    let metas: Vec<(DeploymentMeta,)> = sqlx::query_as(
        "select meta from deployments where site_id = $1 and type = 'time_capsule' \
         and status = 'completed' and meta like $2",
    )
    .bind(site_id)
    .bind(format!("%{capsule}%"))
    .fetch_all(&db.pool)
    .await?;
    Ok(metas.iter().any(|(m,)| m.capsule_id == Some(capsule)))
}
