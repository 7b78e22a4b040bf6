//! Published releases in storage: what a preview host may serve, and the
//! disk each release takes.

use super::db::Db;
use crate::model::{DeploymentId, RemovalReason, SiteId};

/// What a preview host answers for a deployment.
pub enum Published {
    /// Completed (or since superseded) with a preview URL, its files kept.
    Kept,
    /// Published once; its files were removed.
    Removed {
        reason: RemovalReason,
        pr_number: Option<i64>,
    },
    /// Not a published deployment.
    No,
}

/// Whether a preview host may serve `id`'s release.
pub async fn published(db: &Db, id: DeploymentId) -> Result<Published, sqlx::Error> {
    let row: Option<(Option<RemovalReason>, Option<i64>)> = sqlx::query_as(
        "select release_removed_reason, pr_number from deployments where id = $1 \
         and preview_url is not null and status in ('completed', 'superseded')",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        None => Published::No,
        Some((None, _)) => Published::Kept,
        Some((Some(reason), pr_number)) => Published::Removed { reason, pr_number },
    })
}

/// Records what a published release takes on disk.
pub async fn set_release_bytes(db: &Db, id: DeploymentId, bytes: u64) -> Result<(), sqlx::Error> {
    sqlx::query("update deployments set release_bytes = $1 where id = $2")
        .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// How many of the site's releases are kept on disk, and their bytes as
/// measured when each was published.
pub async fn kept_release_bytes(db: &Db, site_id: SiteId) -> Result<(i64, i64), sqlx::Error> {
    // sum() of a bigint is numeric on PostgreSQL: cast back.
    let (count, bytes): (i64, i64) = sqlx::query_as(
        "select count(*), cast(coalesce(sum(release_bytes), 0) as bigint) from deployments where site_id = $1 \
         and status in ('completed', 'superseded') and release_removed_at is null \
         and preview_url is not null",
    )
    .bind(site_id)
    .fetch_one(&db.pool)
    .await?;
    Ok((count, bytes))
}
