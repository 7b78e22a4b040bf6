//! Creating deployments: the one-operation-per-site rule, the queue for
//! automatic triggers, deploy locks, and coalescing of queued pushes and
//! pull-request previews.

use super::pipelines::{NameParts, Pipelines, operation_name};
pub use super::request::{Source, TriggerRequest};
use crate::model::site::lock_refusal;
use crate::model::{
    AppError, DeploymentId, DeploymentStatus, PipelineType, SourceKind, StepId, TeamId,
    TriggerKind, UserId,
};
use crate::server::store::changes::{self as store, DeploymentChange, Tx};
use crate::server::store::{Db, now_ms};

pub const SKIPPED_FOR_NEWER_PUSH: &str = "skipped: a newer push is queued";

/// Creates a queued deployment with its steps. A manual trigger on a busy
/// site is refused naming what runs; an automatic one waits in the queue.
pub async fn create(
    db: &Db,
    pipelines: &Pipelines,
    req: TriggerRequest,
) -> Result<DeploymentId, AppError> {
    let mut tx: Tx = db.pool.begin().await?;
    // Writing to the site row first serialises triggers of one site: a row
    // lock on PostgreSQL, the write lock on SQLite.
    let site: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "update sites set name = name where id = $1 and team_id = $2 \
         returning name, locked_by_name, lock_reason",
    )
    .bind(req.site_id)
    .bind(req.team_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((site_name, locked_by, lock_reason)) = site else {
        return Err(AppError::not_found("Site"));
    };
    // A locked site puts nothing new live: a person is told why, a push
    // waits for the unlock (and does not make the site busy meanwhile).
    let mut waiting_for_unlock = false;
    if let Some(by) = locked_by
        && req.goes_live()
    {
        if !req.trigger.is_automatic() {
            return Err(AppError::conflict(lock_refusal(
                &by,
                lock_reason.as_deref().unwrap_or_default(),
            )));
        }
        waiting_for_unlock = true;
    }
    // Two indexed reads (the running one, else the oldest queued), so the
    // check costs the same however long the site's history is.
    let busy: Option<(String, DeploymentStatus)> = sqlx::query_as(
        "select operation_name, status from (select operation_name, status, 0 as rank, id from deployments \
         where site_id = $1 and status = 'running' union all select operation_name, status, 1 as rank, id \
         from deployments where site_id = $1 and status = 'queued' and awaiting_approval = 0 \
         and waiting_for_unlock = 0) active \
         order by rank, id limit 1",
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
    // Queued pushes of a branch, and queued previews of a pull request,
    // coalesce: only the newest runs.
    let (same, skipped) = match (req.trigger, &req.source.branch, req.pr_number) {
        (TriggerKind::Push, Some(branch), _) => (
            Some(("branch", branch.clone())),
            SKIPPED_FOR_NEWER_PUSH.to_string(),
        ),
        (TriggerKind::PullRequest, _, Some(pr)) => (
            Some(("pr_number", pr.to_string())),
            format!("skipped: a newer push to pull request #{pr} is queued"),
        ),
        _ => (None, String::new()),
    };
    let older: Vec<(DeploymentId,)> = match &same {
        // The column is one of the two names above, never a user's value.
        Some((column, value)) => {
            let query = format!(
                "select id from deployments where site_id = $1 and status = 'queued' \
                 and trigger_kind = $2 and cast({column} as text) = $3"
            );
            sqlx::query_as(&query)
                .bind(req.site_id)
                .bind(req.trigger)
                .bind(value)
                .fetch_all(&mut *tx)
                .await?
        }
        None => Vec::new(),
    };
    for (id,) in older {
        store::transition_deployment(
            db,
            &mut tx,
            id,
            DeploymentStatus::Queued,
            DeploymentStatus::Cancelled,
            DeploymentChange {
                finished_at: Some(now_ms()),
                error_message: Some(skipped.clone()),
                ..Default::default()
            },
        )
        .await?;
    }

    let pipeline = pipelines.by_key(req.pipeline_key());
    let id = DeploymentId::new();
    let release = req.meta.source_release().map(|r| r.short());
    let name = operation_name(
        &pipeline.operation_name,
        NameParts {
            site: &site_name,
            branch: req.source.branch.as_deref(),
            commit: req.source.commit_sha.as_deref(),
            pr: req.pr_number,
            release: release.as_deref(),
        },
    );
    let kind = req.source.kind.unwrap_or(match req.pipeline_type {
        PipelineType::Deploy => SourceKind::Git,
        _ => SourceKind::None,
    });
    sqlx::query(
        "insert into deployments (id, team_id, site_id, user_id, type, status, operation_name, meta, \
         source_kind, branch, commit_sha, repository, archive_name, trigger_kind, triggered_by, pr_number, \
         retry_of_id, created_at, awaiting_approval, waiting_for_unlock) values ($1, $2, $3, $4, $5, 'queued', \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(id)
    .bind(req.team_id)
    .bind(req.site_id)
    .bind(req.user_id)
    .bind(req.pipeline_type)
    .bind(name)
    .bind(&req.meta)
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
    .bind(i64::from(req.awaiting_approval))
    .bind(i64::from(waiting_for_unlock))
    .execute(&mut *tx)
    .await?;
    for (i, step) in pipeline.steps.iter().enumerate() {
        sqlx::query(
            "insert into deployment_steps (id, deployment_id, name, phase, status, sort_order, command, \
             timeout_secs, sandboxed) values ($1, $2, $3, $4, 'queued', $5, $6, $7, $8)",
        )
        .bind(StepId::new())
        .bind(id)
        .bind(&step.name)
        .bind(step.phase)
        .bind(i as i64 + 1)
        .bind(&step.run)
        .bind(step.timeout.as_secs() as i64)
        .bind(i64::from(step.sandbox))
        .execute(&mut *tx)
        .await?;
    }
    store::emit_new_deployment(db, &mut tx, id).await?;
    store::commit(db, tx).await?;
    Ok(id)
}

/// Approves a deployment of the team waiting for approval: from now on it
/// is queued like any automatic one. `NotFound` for another team's, and
/// `Conflict` for one not waiting.
pub async fn approve(
    db: &Db,
    team_id: TeamId,
    id: DeploymentId,
    approver: UserId,
) -> Result<(), AppError> {
    let mut tx: Tx = db.pool.begin().await?;
    let done = sqlx::query(
        "update deployments set awaiting_approval = 0, approved_by = $1, version = version + 1 \
         where id = $2 and team_id = $3 and status = 'queued' and awaiting_approval = 1",
    )
    .bind(approver)
    .bind(id)
    .bind(team_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        drop(tx);
        let found: Option<(DeploymentId,)> =
            sqlx::query_as("select id from deployments where id = $1 and team_id = $2")
                .bind(id)
                .bind(team_id)
                .fetch_optional(&db.pool)
                .await?;
        return Err(match found {
            None => AppError::not_found("Deployment"),
            Some(_) => AppError::conflict("This deployment is not waiting for approval."),
        });
    }
    store::emit_deployment(db, &mut tx, id).await?;
    store::commit(db, tx).await?;
    Ok(())
}
