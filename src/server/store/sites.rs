//! Sites in storage: reads and writes scoped to a team.

use super::db::{Db, now_ms, unique_violation};
use super::deployments::{DEPLOYMENT_COLUMNS, DeploymentRow, attach_steps};
use crate::model::{
    AppError, Deployment, DeploymentId, DeploymentStatus, PipelineType, Site, SiteId, SiteLock,
    SiteState, TeamId, TriggerKind, UserId, wallboard,
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
    previews: i64,
    state: SiteState,
    parent_site_id: Option<SiteId>,
    created_at: i64,
    version: i64,
    #[sqlx(flatten)]
    lock: LockColumns,
}

/// A site's lock as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct LockColumns {
    locked_at: Option<i64>,
    locked_by: Option<UserId>,
    locked_by_name: Option<String>,
    lock_reason: Option<String>,
}

impl LockColumns {
    pub(crate) fn lock(self) -> Option<SiteLock> {
        Some(SiteLock {
            at: self.locked_at?,
            by: self.locked_by,
            by_name: self.locked_by_name.unwrap_or_default(),
            reason: self.lock_reason.unwrap_or_default(),
        })
    }
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
            previews: r.previews != 0,
            state: r.state,
            parent_site_id: r.parent_site_id,
            created_at: r.created_at,
            current_deployment: None,
            active_deployment: None,
            url: None,
            lock: r.lock.lock(),
            version: r.version,
            disk: None,
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

const SITE_COLUMNS: &str = "id, team_id, name, slug, repository, branch, auto_deploy, previews, \
    state, parent_site_id, created_at, version, locked_at, locked_by, locked_by_name, lock_reason";

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
         and d.awaiting_approval = 0 and d.waiting_for_unlock = 0 where s.team_id = $1{site_filter}"
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

/// Each site of the team whose latest finished deploy or lifecycle
/// operation (see [`wallboard::tile::decides_health`]) failed: that deployment,
/// with its steps. One index walk back per site, however long the history.
pub async fn failures(db: &Db, team_id: TeamId) -> Result<Vec<Deployment>, AppError> {
    let types = PipelineType::ALL
        .iter()
        .filter(|t| wallboard::tile::decides_health(**t, TriggerKind::Push))
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "select {DEPLOYMENT_COLUMNS} from sites s join deployments d on d.id = (\
         select x.id from deployments x where x.site_id = s.id \
         and x.status in ('completed', 'superseded', 'failed') and x.type in ({types}) \
         and x.trigger_kind <> 'pull_request' order by x.id desc limit 1) \
         where s.team_id = $1 and d.status = 'failed'"
    );
    let mut found: Vec<Deployment> = sqlx::query_as::<_, DeploymentRow>(&sql)
        .bind(team_id)
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(Deployment::from)
        .collect();
    attach_steps(db, &mut found, false).await?;
    Ok(found)
}

/// A site of the team's webhook secret; `None` for another team's site.
pub async fn webhook_secret(
    db: &Db,
    team_id: TeamId,
    id: SiteId,
) -> Result<Option<String>, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("select webhook_secret from sites where id = $1 and team_id = $2")
            .bind(id)
            .bind(team_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(secret,)| secret))
}

/// What a webhook delivery is checked against and acts on. Never sent.
pub struct HookTarget {
    pub id: SiteId,
    pub team_id: TeamId,
    pub branch: String,
    pub repository: String,
    pub auto_deploy: bool,
    pub previews: bool,
    pub secret: String,
}

/// The site a webhook URL names, whichever team it is (the delivery proves
/// who sent it with the site's secret).
pub async fn hook_target(db: &Db, id: SiteId) -> Result<Option<HookTarget>, AppError> {
    let row: Option<(TeamId, String, String, i64, i64, String)> = sqlx::query_as(
        "select team_id, branch, repository, auto_deploy, previews, webhook_secret from sites where id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(
        |(team_id, branch, repository, auto_deploy, previews, secret)| HookTarget {
            id,
            team_id,
            branch,
            repository,
            auto_deploy: auto_deploy != 0,
            previews: previews != 0,
            secret,
        },
    ))
}

/// Changes what a site of the team does on its own: deploy pushes to its
/// branch, deploy pull requests' previews.
pub async fn set_automation(
    db: &Db,
    team_id: TeamId,
    id: SiteId,
    auto_deploy: bool,
    previews: bool,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "update sites set auto_deploy = $1, previews = $2 where id = $3 and team_id = $4",
    )
    .bind(i64::from(auto_deploy))
    .bind(i64::from(previews))
    .bind(id)
    .bind(team_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("Site"));
    }
    Ok(())
}

/// Records a webhook delivery by its id; `false` when it was received
/// before (a replay), so it is acted on once. Deliveries older than 30
/// days are forgotten.
pub async fn first_delivery(db: &Db, site: SiteId, delivery: &str) -> Result<bool, AppError> {
    let now = now_ms();
    sqlx::query("delete from webhook_deliveries where received_at < $1")
        .bind(now - 30 * 24 * 3600 * 1000)
        .execute(&db.pool)
        .await?;
    let done = sqlx::query(
        "insert into webhook_deliveries (site_id, id, received_at) values ($1, $2, $3) \
         on conflict (site_id, id) do nothing",
    )
    .bind(site)
    .bind(delivery)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a site's own URL serves: its current deployment, and whether it is stopped.
pub async fn serving(
    db: &Db,
    id: SiteId,
) -> Result<Option<(Option<DeploymentId>, SiteState)>, sqlx::Error> {
    sqlx::query_as("select current_deployment_id, state from sites where id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// A site's slug and the deployment it serves now, for a step's environment.
pub async fn slug_and_current(
    db: &Db,
    id: SiteId,
) -> Result<(String, Option<DeploymentId>), sqlx::Error> {
    sqlx::query_as("select slug, current_deployment_id from sites where id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
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
