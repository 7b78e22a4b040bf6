//! What people do with sites: create one (its first operations queue by
//! themselves), copy one, start an operation on one by hand, lock it, and
//! read its webhook settings and disk use. Storage is `store::sites`; running is the engine's.

use super::config::{Config, DataDir};
use super::engine::{Engine, trigger::TriggerRequest};
use super::store::{Db, deployments, locks, releases, sites};
use crate::model::validate::{self, GitRef};
use crate::model::{
    Actor, AppError, CapsuleId, Deployment, DiskUsage, PipelineType, Site, SiteHooks, SiteId,
    TeamId,
};

/// What a person fills in to create a site, unchecked.
pub struct SiteForm<'a> {
    pub name: &'a str,
    pub repository: &'a str,
    pub branch: &'a str,
    /// A checkbox: `on`/`true`, or absent/`false`.
    pub auto_deploy: Option<&'a str>,
}

/// Creates a site of the actor's team and queues what every new site runs
/// by itself: its `create_site` pipeline, then its first deploy.
pub async fn create(
    db: &Db,
    engine: &Engine,
    data: &DataDir,
    actor: &Actor,
    form: SiteForm<'_>,
) -> Result<SiteId, AppError> {
    let name = validate::name(form.name, "site name")?;
    let repository =
        local_repository(data, actor.team_id, &validate::repository(form.repository)?)?;
    let branch = match validate::git_ref(form.branch)? {
        GitRef::Branch(b) | GitRef::Commit(b) => b,
    };
    let auto_deploy = validate::flag(form.auto_deploy, "Auto-deploy")?;
    let id = sites::insert(
        db,
        sites::NewSite {
            team_id: actor.team_id,
            name: &name,
            repository: &repository,
            branch: &branch,
            auto_deploy,
            parent_site_id: None,
        },
    )
    .await?;
    queue_first_operations(engine, actor.team_id, id, &repository, &branch).await?;
    Ok(id)
}

/// Queues a new site's `create_site` pipeline and its first deploy, both
/// automatic, so they run one after the other as soon as the engine can.
pub async fn queue_first_operations(
    engine: &Engine,
    team_id: TeamId,
    site_id: SiteId,
    repository: &str,
    branch: &str,
) -> Result<(), AppError> {
    engine
        .trigger(TriggerRequest::site_created(team_id, site_id))
        .await?;
    engine
        .trigger(TriggerRequest::first_deploy(
            team_id, site_id, repository, branch,
        ))
        .await?;
    Ok(())
}

/// A repository given as a path on the server must be a git repository
/// inside the team's own folder of local repositories
/// (`<data dir>/repos/<team id>/`): a site never reads other folders of the
/// machine, nor another team's repositories. Returns the path as it will
/// be cloned from.
pub fn local_repository(
    data: &DataDir,
    team: TeamId,
    repository: &str,
) -> Result<String, AppError> {
    if !repository.starts_with('/') {
        return Ok(repository.to_string());
    }
    data.team_repository(team, repository)
        .map(|path| path.display().to_string())
        .ok_or_else(|| {
            AppError::invalid(format!(
                "A repository on this server must be a git repository inside your team's folder, {}.",
                data.team_repos(team).display()
            ))
        })
}

/// Creates a copy of a site of the actor's team (a clone named `name`, or
/// with `kind` create_staging a staging copy "<site> staging") and queues
/// the pipeline that copies what the site serves now. Refused while the
/// site has nothing deployed.
pub async fn copy(
    db: &Db,
    engine: &Engine,
    actor: &Actor,
    source: SiteId,
    name: Option<&str>,
    kind: PipelineType,
) -> Result<SiteId, AppError> {
    let name = name.map(|n| validate::name(n, "site name")).transpose()?;
    let source = sites::get(db, actor.team_id, source)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    let Some(current) = &source.current_deployment else {
        return Err(AppError::invalid(format!(
            "{} has nothing deployed yet: deploy it first, then copy it.",
            source.name
        )));
    };
    let staging = kind == PipelineType::CreateStaging;
    let name = match (name, staging) {
        (Some(name), false) => name,
        (_, true) => validate::name(&format!("{} staging", source.name), "site name")?,
        (None, false) => return Err(AppError::invalid("Enter a name for the copy.")),
    };
    let id = sites::insert(
        db,
        sites::NewSite {
            team_id: actor.team_id,
            name: &name,
            repository: &source.repository,
            branch: &source.branch,
            auto_deploy: false,
            parent_site_id: staging.then_some(source.id),
        },
    )
    .await?;
    engine
        .trigger(TriggerRequest::copy(actor, id, kind, source.id, current.id))
        .await?;
    Ok(id)
}

/// What a person may start on a site by hand, as `trigger_deployment`
/// names it: `deploy` (of `git_ref`, else the site's branch), `restart`,
/// `stop`, `time_capsule`, or `restore` of one of the site's capsules.
pub struct Operation<'a> {
    pub kind: &'a str,
    pub git_ref: Option<&'a str>,
    pub capsule_id: Option<&'a str>,
}

/// Starts an operation on a site of the actor's team; refused while the
/// site is busy, and for anything that does not start by hand.
pub async fn start(
    db: &Db,
    engine: &Engine,
    actor: &Actor,
    site_id: SiteId,
    op: Operation<'_>,
) -> Result<Deployment, AppError> {
    let pipeline_type = match PipelineType::parse(op.kind.trim()) {
        Some(
            t @ (PipelineType::Deploy
            | PipelineType::Restart
            | PipelineType::Stop
            | PipelineType::TimeCapsule
            | PipelineType::Restore),
        ) => t,
        Some(other) => {
            return Err(AppError::invalid(format!(
                "{} cannot be started this way.",
                other.label()
            )));
        }
        None => {
            return Err(AppError::invalid(
                "Choose what to run: deploy, restart, stop, time_capsule or restore.",
            ));
        }
    };
    let site = sites::get(db, actor.team_id, site_id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    let request = match pipeline_type {
        PipelineType::Deploy => {
            let git_ref = op
                .git_ref
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(validate::git_ref)
                .transpose()?
                .unwrap_or(GitRef::Branch(site.branch.clone()));
            TriggerRequest::deploy(actor, site_id, &site.repository, git_ref)
        }
        PipelineType::TimeCapsule => TriggerRequest::time_capsule(actor, site_id),
        PipelineType::Restore => {
            let missing =
                || AppError::invalid("Choose a time capsule of this site to restore (capsule_id).");
            let capsule: CapsuleId = op
                .capsule_id
                .unwrap_or_default()
                .trim()
                .parse()
                .map_err(|_| missing())?;
            if !deployments::has_capsule(db, site_id, capsule).await? {
                return Err(missing());
            }
            TriggerRequest::restore(actor, site_id, capsule)
        }
        _ => TriggerRequest::manual(actor, site_id, pipeline_type),
    };
    let id = engine.trigger(request).await?;
    deployments::get(db, actor.team_id, id)
        .await?
        .ok_or_else(AppError::internal)
}

/// A site's webhook URL (on the dashboard's public URL, else the host the
/// request came to) and secret.
pub async fn hooks(
    db: &Db,
    config: &Config,
    team_id: TeamId,
    id: SiteId,
    request_host: Option<&str>,
) -> Result<SiteHooks, AppError> {
    let secret = sites::webhook_secret(db, team_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    let origin = config.origin(request_host);
    Ok(SiteHooks {
        webhook_url: format!("{origin}/hooks/github/{id}"),
        secret,
    })
}

/// Locks a site of the actor's team with a reason: manual deploys are
/// refused with it, pushes wait until [`unlock`]. Restart, stop, time
/// capsules, restores and rollbacks still run.
pub async fn lock(db: &Db, actor: &Actor, site_id: SiteId, reason: &str) -> Result<(), AppError> {
    let reason = validate::lock_reason(reason)?;
    let by = locks::Locker {
        user_id: actor.user_id,
        name: &actor.name,
    };
    locks::lock(db, actor.team_id, site_id, by, &reason).await
}

/// Unlocks a site of the actor's team; its waiting pushes run.
pub async fn unlock(db: &Db, actor: &Actor, site_id: SiteId) -> Result<(), AppError> {
    locks::unlock(db, actor.team_id, site_id).await
}

/// A site of the team with what its own page shows besides the list's:
/// the disk its kept releases and its capsules take.
pub async fn get_with_disk(
    db: &Db,
    data: &DataDir,
    team_id: TeamId,
    id: SiteId,
) -> Result<Option<Site>, AppError> {
    let Some(mut site) = sites::get(db, team_id, id).await? else {
        return Ok(None);
    };
    let (releases, release_bytes) = releases::kept_release_bytes(db, id).await?;
    let capsules = data.capsules(id);
    let (capsules, capsule_bytes) = tokio::task::spawn_blocking(move || {
        let files: Vec<u64> = std::fs::read_dir(capsules)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.metadata().ok().filter(|m| m.is_file()))
                    .map(|m| m.len())
                    .collect()
            })
            .unwrap_or_default();
        (files.len() as i64, files.iter().sum::<u64>() as i64)
    })
    .await
    .map_err(|_| AppError::internal())?;
    site.disk = Some(DiskUsage {
        releases,
        release_bytes,
        capsules,
        capsule_bytes,
    });
    Ok(Some(site))
}
