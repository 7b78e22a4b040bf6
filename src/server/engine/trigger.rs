//! Creating deployments: the one-operation-per-site rule, the queue for
//! automatic triggers, and coalescing of queued pushes.

use super::pipelines::{Pipelines, operation_name};
use crate::model::validate::GitRef;
use crate::model::{
    Actor, AppError, ArchiveId, CapsuleId, Deployment, DeploymentId, DeploymentMeta,
    DeploymentStatus, PipelineType, SiteId, SourceKind, StepId, TeamId, TriggerKind, UserId,
};
use crate::server::store::changes::{self as store, DeploymentChange, Tx};
use crate::server::store::sites::HookTarget;
use crate::server::store::{Db, now_ms};

/// Where a deployment's code comes from.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub kind: Option<SourceKind>,
    pub branch: Option<String>,
    pub commit_sha: Option<String>,
    pub repository: Option<String>,
    pub archive_name: Option<String>,
}

impl Source {
    /// A repository at a branch or a commit.
    pub fn git(repository: &str, git_ref: GitRef) -> Self {
        let (branch, commit_sha) = match git_ref {
            GitRef::Branch(b) => (Some(b), None),
            GitRef::Commit(c) => (None, Some(c)),
        };
        Self {
            kind: Some(SourceKind::Git),
            branch,
            commit_sha,
            repository: Some(repository.to_string()),
            archive_name: None,
        }
    }
}

/// Everything a new deployment needs. Built by the named constructors
/// below, one per way an operation starts.
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
    pub meta: DeploymentMeta,
    pub retry_of: Option<DeploymentId>,
}

impl TriggerRequest {
    /// A person starts `pipeline_type` on a site by hand; refused while
    /// the site is busy.
    pub fn manual(actor: &Actor, site_id: SiteId, pipeline_type: PipelineType) -> Self {
        Self {
            team_id: actor.team_id,
            site_id,
            pipeline_type,
            trigger: TriggerKind::Manual,
            user_id: Some(actor.user_id),
            triggered_by: actor.name.clone(),
            source: Source::default(),
            pr_number: None,
            meta: DeploymentMeta::default(),
            retry_of: None,
        }
    }

    /// A manual deploy of the site's repository at a branch or commit.
    pub fn deploy(actor: &Actor, site_id: SiteId, repository: &str, git_ref: GitRef) -> Self {
        Self {
            source: Source::git(repository, git_ref),
            ..Self::manual(actor, site_id, PipelineType::Deploy)
        }
    }

    /// A manual deploy of an uploaded archive, unpacked as `archive`.
    pub fn upload(actor: &Actor, site_id: SiteId, archive: ArchiveId, file_name: String) -> Self {
        Self {
            source: Source {
                kind: Some(SourceKind::Archive),
                archive_name: Some(file_name),
                ..Source::default()
            },
            meta: DeploymentMeta {
                archive_id: Some(archive),
                ..DeploymentMeta::default()
            },
            ..Self::manual(actor, site_id, PipelineType::Deploy)
        }
    }

    /// A time capsule of what the site serves now, under a new capsule id.
    pub fn time_capsule(actor: &Actor, site_id: SiteId) -> Self {
        Self {
            meta: DeploymentMeta {
                capsule_id: Some(CapsuleId::new()),
                ..DeploymentMeta::default()
            },
            ..Self::manual(actor, site_id, PipelineType::TimeCapsule)
        }
    }

    /// Publishes a capsule of the site again.
    pub fn restore(actor: &Actor, site_id: SiteId, capsule: CapsuleId) -> Self {
        Self {
            meta: DeploymentMeta {
                capsule_id: Some(capsule),
                ..DeploymentMeta::default()
            },
            ..Self::manual(actor, site_id, PipelineType::Restore)
        }
    }

    /// Copies `release` (what `from` serves) into the new site `into`: a
    /// clone, or a staging copy (`kind` create_staging) that records its id.
    pub fn copy(
        actor: &Actor,
        into: SiteId,
        kind: PipelineType,
        from: SiteId,
        release: DeploymentId,
    ) -> Self {
        Self {
            meta: DeploymentMeta {
                source_site_id: Some(from),
                source_deployment_id: Some(release),
                staging_id: (kind == PipelineType::CreateStaging).then_some(into),
                ..DeploymentMeta::default()
            },
            ..Self::manual(actor, into, kind)
        }
    }

    /// The same type, source and meta as an earlier deployment, linked to
    /// it. A time capsule gets a capsule id of its own: a retry never
    /// overwrites the capsule an earlier run wrote.
    pub fn retry(actor: &Actor, old: &Deployment) -> Self {
        let mut meta = old.meta.clone();
        if old.pipeline_type == PipelineType::TimeCapsule {
            meta.capsule_id = Some(CapsuleId::new());
        }
        Self {
            source: Source {
                kind: Some(old.source_kind),
                branch: old.branch.clone(),
                commit_sha: old.commit_sha.clone(),
                repository: old.repository.clone(),
                archive_name: old.archive_name.clone(),
            },
            pr_number: old.pr_number,
            meta,
            retry_of: Some(old.id),
            ..Self::manual(actor, old.site_id, old.pipeline_type)
        }
    }

    fn automatic(
        team_id: TeamId,
        site_id: SiteId,
        pipeline_type: PipelineType,
        trigger: TriggerKind,
        triggered_by: String,
    ) -> Self {
        Self {
            team_id,
            site_id,
            pipeline_type,
            trigger,
            user_id: None,
            triggered_by,
            source: Source::default(),
            pr_number: None,
            meta: DeploymentMeta::default(),
            retry_of: None,
        }
    }

    /// A new site's `create_site` pipeline, queued by itself.
    pub fn site_created(team_id: TeamId, site_id: SiteId) -> Self {
        Self::automatic(
            team_id,
            site_id,
            PipelineType::CreateSite,
            TriggerKind::SiteCreated,
            SITE_CREATED.into(),
        )
    }

    /// A new site's first deploy of its branch, queued by itself.
    pub fn first_deploy(team_id: TeamId, site_id: SiteId, repository: &str, branch: &str) -> Self {
        Self {
            source: Source {
                branch: Some(branch.to_string()),
                repository: Some(repository.to_string()),
                ..Source::default()
            },
            ..Self::automatic(
                team_id,
                site_id,
                PipelineType::Deploy,
                TriggerKind::SiteCreated,
                SITE_CREATED.into(),
            )
        }
    }

    /// A push to the site's branch, by `who`: queued while the site is busy.
    pub fn push(site: &HookTarget, branch: &str, commit: &str, who: &str) -> Self {
        Self {
            source: Self::pushed(site, branch, commit),
            ..Self::automatic(
                site.team_id,
                site.id,
                PipelineType::Deploy,
                TriggerKind::Push,
                format!("Push by {who}"),
            )
        }
    }

    /// A preview of pull request `number`'s head commit.
    pub fn pull_request(
        site: &HookTarget,
        branch: &str,
        commit: &str,
        number: i64,
        author: Option<&str>,
    ) -> Self {
        let by = author.map(|a| format!(" by {a}")).unwrap_or_default();
        Self {
            source: Self::pushed(site, branch, commit),
            pr_number: Some(number),
            ..Self::automatic(
                site.team_id,
                site.id,
                PipelineType::Deploy,
                TriggerKind::PullRequest,
                format!("Pull request #{number}{by}"),
            )
        }
    }

    fn pushed(site: &HookTarget, branch: &str, commit: &str) -> Source {
        Source {
            branch: Some(branch.to_string()),
            commit_sha: Some(commit.to_string()),
            repository: Some(site.repository.clone()),
            ..Source::default()
        }
    }
}

/// Who an automatic operation of a new site is recorded as triggered by.
const SITE_CREATED: &str = "Site created";

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
    store::emit_deployment(db, &mut tx, id).await?;
    store::commit(db, tx).await?;
    Ok(id)
}
