//! What a new deployment needs, built by one named constructor per way an
//! operation starts: by hand, a push, a pull request, a new site, a retry,
//! a restore, a copy, an upload, a rollback, a promotion.

use super::pipelines::PipelineKey;
use crate::model::validate::GitRef;
use crate::model::{
    Actor, ArchiveId, CapsuleId, Deployment, DeploymentId, DeploymentMeta, PipelineType, SiteId,
    SourceKind, TeamId, TriggerKind, UserId,
};
use crate::server::store::sites::HookTarget;

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
    /// Queued until a member approves it (a fork's pull request).
    pub awaiting_approval: bool,
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
            awaiting_approval: false,
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

    /// Publishes `target`'s kept release again, with no build: a deploy
    /// of its own (`meta.rollback_of`) that becomes the site's current one.
    /// It records the source of what it publishes.
    pub fn rollback(actor: &Actor, target: &Deployment) -> Self {
        Self {
            source: Self::source_of(target),
            meta: DeploymentMeta {
                rollback_of: Some(target.id),
                ..DeploymentMeta::default()
            },
            ..Self::manual(actor, target.site_id, PipelineType::Deploy)
        }
    }

    /// Makes a pull request's preview the site's current deployment: its
    /// release published as it was reviewed (`meta.promoted_from`).
    pub fn promote(actor: &Actor, preview: &Deployment) -> Self {
        Self {
            source: Self::source_of(preview),
            pr_number: preview.pr_number,
            meta: DeploymentMeta {
                promoted_from: Some(preview.id),
                ..DeploymentMeta::default()
            },
            ..Self::manual(actor, preview.site_id, PipelineType::Deploy)
        }
    }

    fn source_of(old: &Deployment) -> Source {
        Source {
            kind: Some(old.source_kind),
            branch: old.branch.clone(),
            commit_sha: old.commit_sha.clone(),
            repository: old.repository.clone(),
            archive_name: old.archive_name.clone(),
        }
    }

    /// Which pipeline's steps it runs: its type's, or the rollback's or
    /// promotion's for a deploy that publishes a kept release again.
    pub fn pipeline_key(&self) -> PipelineKey {
        if self.meta.rollback_of.is_some() {
            PipelineKey::Rollback
        } else if self.meta.promoted_from.is_some() {
            PipelineKey::Promote
        } else {
            PipelineKey::Type(self.pipeline_type)
        }
    }

    /// Whether it puts something new live on its site, which a lock
    /// forbids: a deploy (a push, a manual one, a promotion). A preview
    /// never goes live, and a rollback returns to a release that was live
    /// before, so both run on a locked site.
    pub fn goes_live(&self) -> bool {
        self.pipeline_type == PipelineType::Deploy
            && self.trigger != TriggerKind::PullRequest
            && self.meta.rollback_of.is_none()
    }

    /// The same type, source and meta as an earlier deployment, linked to
    /// it. A time capsule gets a capsule id of its own: a retry never
    /// overwrites the capsule an earlier run wrote. A pull request's stays
    /// a preview (it never replaces what the site serves), and one of a
    /// fork that was never approved waits for approval again.
    pub fn retry(actor: &Actor, old: &Deployment) -> Self {
        let mut meta = old.meta.clone();
        if old.pipeline_type == PipelineType::TimeCapsule {
            meta.capsule_id = Some(CapsuleId::new());
        }
        Self {
            source: Self::source_of(old),
            pr_number: old.pr_number,
            meta,
            retry_of: Some(old.id),
            trigger: match old.trigger_kind {
                TriggerKind::PullRequest => TriggerKind::PullRequest,
                _ => TriggerKind::Manual,
            },
            awaiting_approval: old.awaiting_approval,
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
            awaiting_approval: false,
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

    /// A preview of pull request `number`'s head commit. One from a fork
    /// waits for a member's approval before anything of it runs.
    pub fn pull_request(
        site: &HookTarget,
        branch: &str,
        commit: &str,
        number: i64,
        author: Option<&str>,
        from_fork: bool,
    ) -> Self {
        let by = author.map(|a| format!(" by {a}")).unwrap_or_default();
        Self {
            source: Self::pushed(site, branch, commit),
            pr_number: Some(number),
            awaiting_approval: from_fork,
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
