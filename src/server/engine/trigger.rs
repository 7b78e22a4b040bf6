//! Creating deployments: the one-operation-per-site rule, the queue for
//! automatic triggers, and coalescing of queued pushes.

use super::pipelines::{Pipelines, operation_name};
use super::store::{self, DeploymentChange, Tx};
use crate::model::{
    AppError, DeploymentId, DeploymentStatus, PipelineType, SiteId, SourceKind, StepId, TeamId,
    TriggerKind, UserId,
};
use crate::server::db::{Db, now_ms};

/// Where a deployment's code comes from.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub kind: Option<SourceKind>,
    pub branch: Option<String>,
    pub commit_sha: Option<String>,
    pub repository: Option<String>,
    pub archive_name: Option<String>,
}

/// Everything a new deployment needs.
#[derive(Clone, Debug)]
pub struct TriggerRequest {
    pub team_id: TeamId,
    pub site_id: SiteId,
    pub pipeline_type: PipelineType,
    pub trigger: TriggerKind,
    pub user_id: Option<UserId>,
    pub triggered_by: String,
    pub source: Source,
    pub pr_number: Option<i64>,
    pub meta: serde_json::Value,
    pub retry_of: Option<DeploymentId>,
}

pub const SKIPPED_FOR_NEWER_PUSH: &str = "skipped: a newer push is queued";

/// Creates a queued deployment with its steps. A manual trigger on a busy
/// site is refused naming what runs; an automatic one waits in the queue.
pub async fn trigger(
    db: &Db,
    pipelines: &Pipelines,
    req: TriggerRequest,
) -> Result<DeploymentId, AppError> {
    let mut tx: Tx = db.pool.begin().await?;
    // Writing to the site row first serialises triggers of one site: a row
    // lock on PostgreSQL, the write lock on SQLite.
    let site: Option<(String,)> = sqlx::query_as(
        "update sites set name = name where id = $1 and team_id = $2 returning name",
    )
    .bind(req.site_id)
    .bind(req.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((site_name,)) = site else {
        return Err(AppError::not_found("Site"));
    };
    // Two indexed reads (the running one, else the oldest queued), so the
    // check costs the same however long the site's history is.
    let busy: Option<(String, DeploymentStatus)> = sqlx::query_as(
        "select operation_name, status from (select operation_name, status, 0 as rank, id from deployments \
         where site_id = $1 and status = 'running' union all select operation_name, status, 1 as rank, id \
         from deployments where site_id = $1 and status = 'queued') active order by rank, id limit 1",
    )
    .bind(req.site_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((op, status)) = &busy
        && !req.trigger.is_automatic()
    {
        return Err(AppError::conflict(format!(
            "{site_name} is busy: \u{201c}{op}\u{201d} is {status}. Wait for it to finish or cancel it first."
        )));
    }
    if req.trigger == TriggerKind::Push
        && let Some(branch) = &req.source.branch
    {
        let older: Vec<(DeploymentId,)> = sqlx::query_as(
            "select id from deployments where site_id = $1 and status = 'queued' \
             and trigger_kind = 'push' and branch = $2",
        )
        .bind(req.site_id)
        .bind(branch)
        .fetch_all(&mut *tx)
        .await?;
        for (id,) in older {
            store::transition_deployment(
                db,
                &mut tx,
                id,
                DeploymentStatus::Queued,
                DeploymentStatus::Cancelled,
                DeploymentChange {
                    finished_at: Some(now_ms()),
                    error_message: Some(SKIPPED_FOR_NEWER_PUSH.to_string()),
                    ..Default::default()
                },
            )
            .await?;
        }
    }

    let pipeline = pipelines.get(req.pipeline_type);
    let id = DeploymentId::new();
    let name = operation_name(
        &pipeline.operation_name,
        &site_name,
        req.source.branch.as_deref(),
        req.source.commit_sha.as_deref(),
        req.pr_number,
    );
    let kind = req.source.kind.unwrap_or(match req.pipeline_type {
        PipelineType::Deploy => SourceKind::Git,
        _ => SourceKind::None,
    });
    sqlx::query(
        "insert into deployments (id, team_id, site_id, user_id, type, status, operation_name, meta, \
         source_kind, branch, commit_sha, repository, archive_name, trigger_kind, triggered_by, pr_number, \
         retry_of_id, created_at) values ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17)",
    )
    .bind(id)
    .bind(req.team_id)
    .bind(req.site_id)
    .bind(req.user_id)
    .bind(req.pipeline_type)
    .bind(name)
    .bind(req.meta.to_string())
    .bind(kind)
    .bind(req.source.branch)
    .bind(req.source.commit_sha)
    .bind(req.source.repository)
    .bind(req.source.archive_name)
    .bind(req.trigger)
    .bind(req.triggered_by)
    .bind(req.pr_number)
    .bind(req.retry_of)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    for (i, step) in pipeline.steps.iter().enumerate() {
        sqlx::query(
            "insert into deployment_steps (id, deployment_id, name, phase, status, sort_order, command, \
             timeout_secs) values ($1, $2, $3, $4, 'queued', $5, $6, $7)",
        )
        .bind(StepId::new())
        .bind(id)
        .bind(&step.name)
        .bind(step.phase)
        .bind(i as i64 + 1)
        .bind(&step.run)
        .bind(step.timeout.as_secs() as i64)
        .execute(&mut *tx)
        .await?;
    }
    store::emit_deployment(db, &mut tx, id).await?;
    store::commit(db, tx).await?;
    Ok(id)
}
