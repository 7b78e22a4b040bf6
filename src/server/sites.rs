//! Sites in storage: reads and writes scoped to a team.

use super::db::{Db, now_ms, unique_violation};
use super::deployments::{DEPLOYMENT_COLUMNS, DeploymentRow, attach_steps};
use super::engine::Engine;
use super::engine::trigger::{Source, TriggerRequest};
use crate::model::{
    AppError, Deployment, DeploymentStatus, PipelineType, Site, SiteId, SiteState, TeamId,
    TriggerKind,
};
use rand::RngCore;

#[derive(sqlx::FromRow)]
struct SiteRow {
    id: SiteId,
    team_id: TeamId,
    name: String,
    slug: String,
    repository: String,
    branch: String,
    auto_deploy: i64,
    state: SiteState,
    parent_site_id: Option<SiteId>,
    created_at: i64,
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Site {
            id: r.id,
            team_id: r.team_id,
            name: r.name,
            slug: r.slug,
            repository: r.repository,
            branch: r.branch,
            auto_deploy: r.auto_deploy != 0,
            state: r.state,
            parent_site_id: r.parent_site_id,
            created_at: r.created_at,
            current_deployment: None,
            active_deployment: None,
            url: None,
        }
    }
}

/// What a new site needs.
pub struct NewSite<'a> {
    pub team_id: TeamId,
    pub name: &'a str,
    pub repository: &'a str,
    pub branch: &'a str,
    pub auto_deploy: bool,
    pub parent_site_id: Option<SiteId>,
}

/// A lowercase, dash-separated slug for URLs and folders: only `a-z0-9-`,
/// so it is safe wherever it goes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(40).collect();
    if slug.is_empty() {
        "site".to_string()
    } else {
        slug
    }
}

/// A random secret for signing webhooks, as 64 hex characters.
pub fn new_webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn insert(db: &Db, new: NewSite<'_>) -> Result<SiteId, AppError> {
    let id = SiteId::new();
    sqlx::query(
        "insert into sites (id, team_id, name, slug, repository, branch, auto_deploy, state, \
         parent_site_id, webhook_secret, created_at) values ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9, $10)",
    )
    .bind(id)
    .bind(new.team_id)
    .bind(new.name)
    .bind(slugify(new.name))
    .bind(new.repository)
    .bind(new.branch)
    .bind(i64::from(new.auto_deploy))
    .bind(new.parent_site_id)
    .bind(new_webhook_secret())
    .bind(now_ms())
    .execute(&db.pool)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some(c) if c.contains("sites_team_id_slug_key") || c.contains("sites.slug") => {
            AppError::conflict("Your team already has a site with that name.")
        }
        _ => e.into(),
    })?;
    Ok(id)
}

const SITE_COLUMNS: &str = "id, team_id, name, slug, repository, branch, auto_deploy, state, \
    parent_site_id, created_at";

/// Every site of a team, by name, each with its current deployment.
pub async fn list(db: &Db, team_id: TeamId) -> Result<Vec<Site>, AppError> {
    let rows: Vec<SiteRow> = sqlx::query_as(&format!(
        "select {SITE_COLUMNS} from sites where team_id = $1 order by name, id"
    ))
    .bind(team_id)
    .fetch_all(&db.pool)
    .await?;
    with_current(db, team_id, rows, None).await
}

/// One site of a team; `None` when it does not exist or is another team's.
pub async fn get(db: &Db, team_id: TeamId, id: SiteId) -> Result<Option<Site>, AppError> {
    let row: Option<SiteRow> = sqlx::query_as(&format!(
        "select {SITE_COLUMNS} from sites where id = $1 and team_id = $2"
    ))
    .bind(id)
    .bind(team_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(with_current(db, team_id, vec![row], Some(id)).await?.pop())
}

/// Attaches each site's current deployment and the operation it is busy
/// with, if any (one query for all of them, through the indexes on current,
/// running and queued deployments, so a long history costs nothing).
async fn with_current(
    db: &Db,
    team_id: TeamId,
    rows: Vec<SiteRow>,
    only: Option<SiteId>,
) -> Result<Vec<Site>, AppError> {
    let mut sites: Vec<Site> = rows.into_iter().map(Site::from).collect();
    let site_filter = if only.is_some() { " and s.id = $2" } else { "" };
    let from = "from sites s join deployments d";
    let sql = format!(
        "select {DEPLOYMENT_COLUMNS} {from} on d.id = s.current_deployment_id and d.site_id = s.id \
         where s.team_id = $1{site_filter} \
         union all select {DEPLOYMENT_COLUMNS} {from} on d.site_id = s.id and d.status = 'running' \
         where s.team_id = $1{site_filter} \
         union all select {DEPLOYMENT_COLUMNS} {from} on d.site_id = s.id and d.status = 'queued' \
         where s.team_id = $1{site_filter}"
    );
    let mut query = sqlx::query_as::<_, DeploymentRow>(&sql).bind(team_id);
    if let Some(id) = only {
        query = query.bind(id);
    }
    let mut found: Vec<Deployment> = query
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(Deployment::from)
        .collect();
    attach_steps(db, &mut found, false).await?;
    for site in &mut sites {
        let of_site = || found.iter().filter(|d| d.site_id == site.id);
        site.current_deployment = of_site().find(|d| d.is_current).cloned();
        site.active_deployment = of_site()
            .filter(|d| !d.is_finished())
            .min_by_key(|d| (d.status != DeploymentStatus::Running, d.id))
            .cloned();
    }
    Ok(sites)
}

/// A repository given as a path on the server must be a git repository
/// inside the data folder's `repos/`: a site never reads other folders of
/// the machine. Returns the path as it will be cloned from.
pub fn check_local_repository(
    data_dir: &std::path::Path,
    repository: &str,
) -> Result<String, AppError> {
    if !repository.starts_with('/') {
        return Ok(repository.to_string());
    }
    let root = super::demo::repos_dir(data_dir);
    let refused = || {
        AppError::invalid(format!(
            "A repository on this server must be a git repository inside {}.",
            root.display()
        ))
    };
    let root = std::fs::canonicalize(&root).map_err(|_| refused())?;
    let path = std::fs::canonicalize(repository).map_err(|_| refused())?;
    let is_repo = path.join(".git").exists() || path.join("HEAD").is_file();
    if !path.starts_with(&root) || path == root || !is_repo {
        return Err(refused());
    }
    Ok(path.display().to_string())
}

/// The site's webhook URL (on the dashboard's public URL, else the host
/// the request came to) and secret.
pub async fn hooks(
    state: &super::state::AppState,
    team_id: TeamId,
    id: SiteId,
) -> Result<crate::api::sites::SiteHooks, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("select webhook_secret from sites where id = $1 and team_id = $2")
            .bind(id)
            .bind(team_id)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some((secret,)) = row else {
        return Err(AppError::not_found("Site"));
    };
    let origin = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let host = leptos::prelude::use_context::<axum::http::request::Parts>()
                .and_then(|p| {
                    p.headers
                        .get(axum::http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| state.config.site_addr.to_string());
            format!("http://{host}")
        }
    };
    Ok(crate::api::sites::SiteHooks {
        webhook_url: format!("{origin}/hooks/github/{id}"),
        secret,
    })
}

/// A new webhook secret for a site of the team.
pub async fn rotate_secret(db: &Db, team_id: TeamId, id: SiteId) -> Result<(), AppError> {
    let done = sqlx::query("update sites set webhook_secret = $1 where id = $2 and team_id = $3")
        .bind(new_webhook_secret())
        .bind(id)
        .bind(team_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("Site"));
    }
    Ok(())
}

/// What a person fills in to create a site, checked.
pub struct SiteInput {
    pub name: String,
    pub repository: String,
    pub branch: String,
    pub auto_deploy: bool,
}

/// Creates a site and queues what every new site runs by itself: its
/// `create_site` pipeline, then its first deploy.
pub async fn create(
    db: &Db,
    engine: &Engine,
    team_id: TeamId,
    input: SiteInput,
) -> Result<SiteId, AppError> {
    let id = insert(
        db,
        NewSite {
            team_id,
            name: &input.name,
            repository: &input.repository,
            branch: &input.branch,
            auto_deploy: input.auto_deploy,
            parent_site_id: None,
        },
    )
    .await?;
    queue_first_operations(db, engine, team_id, id).await?;
    Ok(id)
}

/// A copy of a site to make: a clone under a name of its own, or a staging copy.
pub struct Copy {
    pub team_id: TeamId,
    pub source: SiteId,
    /// The clone's name; a staging copy is "<source> staging".
    pub name: Option<String>,
    pub kind: PipelineType,
    pub user_id: crate::model::UserId,
    pub triggered_by: String,
}

/// Creates the new site and queues its clone or staging pipeline, which
/// copies the source's current release. Refused while the source has
/// nothing deployed.
pub async fn copy(db: &Db, engine: &Engine, copy: Copy) -> Result<SiteId, AppError> {
    let source = get(db, copy.team_id, copy.source)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    let Some(current) = &source.current_deployment else {
        return Err(AppError::invalid(format!(
            "{} has nothing deployed yet: deploy it first, then copy it.",
            source.name
        )));
    };
    let staging = copy.kind == PipelineType::CreateStaging;
    let name = match (&copy.name, staging) {
        (Some(name), false) => name.clone(),
        (_, true) => {
            crate::model::validate::name(&format!("{} staging", source.name), "site name")?
        }
        (None, false) => return Err(AppError::invalid("Enter a name for the copy.")),
    };
    let id = insert(
        db,
        NewSite {
            team_id: copy.team_id,
            name: &name,
            repository: &source.repository,
            branch: &source.branch,
            auto_deploy: false,
            parent_site_id: staging.then_some(source.id),
        },
    )
    .await?;
    let mut meta = serde_json::json!({
        "source_site_id": source.id,
        "source_deployment_id": current.id,
    });
    if staging {
        meta["staging_id"] = serde_json::json!(id);
    }
    engine
        .trigger(TriggerRequest {
            team_id: copy.team_id,
            site_id: id,
            pipeline_type: copy.kind,
            trigger: TriggerKind::Manual,
            user_id: Some(copy.user_id),
            triggered_by: copy.triggered_by,
            source: Source::default(),
            pr_number: None,
            meta,
            retry_of: None,
        })
        .await?;
    Ok(id)
}

/// Queues a new site's `create_site` pipeline and its first deploy, both
/// automatic, so they run one after the other as soon as the engine can.
pub async fn queue_first_operations(
    db: &Db,
    engine: &Engine,
    team_id: TeamId,
    site_id: SiteId,
) -> Result<(), AppError> {
    let site = get(db, team_id, site_id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    for (pipeline_type, source) in [
        (PipelineType::CreateSite, Source::default()),
        (
            PipelineType::Deploy,
            Source {
                branch: Some(site.branch.clone()),
                repository: Some(site.repository.clone()),
                ..Default::default()
            },
        ),
    ] {
        engine
            .trigger(TriggerRequest {
                team_id,
                site_id,
                pipeline_type,
                trigger: TriggerKind::SiteCreated,
                user_id: None,
                triggered_by: "Site created".to_string(),
                source,
                pr_number: None,
                meta: serde_json::json!({}),
                retry_of: None,
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_for_urls_and_paths() {
        assert_eq!(slugify("Marketing Site"), "marketing-site");
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("   "), "site");
        assert_eq!(slugify("Ünïcode & Co"), "n-code-co");
        assert!(slugify(&"x".repeat(500)).len() <= 40);
    }
}
