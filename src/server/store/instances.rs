//! The instances sharing this database and their leases, the process
//! groups a step left on a host, and the token that ties the data folder
//! to the database. Lease times are read from the database's clock, so
//! the instances' own clocks never have to agree.

use super::db::{Backend, Db, now_ms};
use crate::model::{DeploymentId, InstanceId, StepId};
use sqlx::{Any, Transaction};

/// The database's clock in milliseconds since the epoch, as SQL.
pub(super) fn clock(db: &Db) -> &'static str {
    match db.backend {
        Backend::Postgres => "(extract(epoch from clock_timestamp()) * 1000)::bigint",
        Backend::Sqlite => "cast((julianday('now') - 2440587.5) * 86400000 as integer)",
    }
}

/// Where an instance runs: the host's name and its boot, so that after a
/// reboot nothing recorded before it is taken for a live process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub boot_id: String,
}

impl Host {
    /// This machine, as Linux tells it.
    pub fn this() -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        Self {
            name: read("/proc/sys/kernel/hostname"),
            boot_id: read("/proc/sys/kernel/random/boot_id"),
        }
    }
}

/// Records a new instance holding a lease of `lease_ms` from now.
pub async fn register(
    db: &Db,
    id: InstanceId,
    host: &Host,
    lease_ms: i64,
) -> Result<(), sqlx::Error> {
    let now = clock(db);
    sqlx::query(&format!(
        "insert into instances (id, host, boot_id, pid, started_at, heartbeat_at, lease_until) \
         values ($1, $2, $3, $4, {now}, {now}, {now} + $5)"
    ))
    .bind(id)
    .bind(&host.name)
    .bind(&host.boot_id)
    .bind(i64::from(std::process::id()))
    .bind(lease_ms)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Extends the lease to `lease_ms` from now. False when it had already run
/// out or the instance was marked stopped: another instance may have taken
/// over its work, so it must not go on under this id. On SQLite, one
/// instance by nature, only a stop ends it (a laptop that slept past its
/// lease has nobody to hand its work to).
pub async fn renew(db: &Db, id: InstanceId, lease_ms: i64) -> Result<bool, sqlx::Error> {
    let now = clock(db);
    let unexpired = match db.backend {
        Backend::Postgres => format!(" and lease_until >= {now}"),
        Backend::Sqlite => String::new(),
    };
    let done = sqlx::query(&format!(
        "update instances set heartbeat_at = {now}, lease_until = {now} + $1 \
         where id = $2 and stopped_at is null{unexpired}"
    ))
    .bind(lease_ms)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an instance stopped (a clean shutdown): its lease ends now.
pub async fn stop(db: &Db, id: InstanceId) -> Result<(), sqlx::Error> {
    let now = clock(db);
    sqlx::query(&format!(
        "update instances set stopped_at = {now}, lease_until = {now} where id = $1"
    ))
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Whether `id` still holds its lease, checked inside a transaction that
/// claims a deployment or is about to complete one. On PostgreSQL the row
/// is key-share-locked until the transaction ends, so a survivor cannot
/// declare the instance gone in between (see [`confirm_gone`]), while its
/// own renewals (which change no key) go on. On SQLite the instance holds
/// its lease until it is stopped.
pub async fn holds_lease(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    id: InstanceId,
) -> Result<bool, sqlx::Error> {
    let now = clock(db);
    let sql = match db.backend {
        Backend::Postgres => format!(
            "select 1 from instances where id = $1 and stopped_at is null \
             and lease_until >= {now} for key share"
        ),
        Backend::Sqlite => "select 1 from instances where id = $1 and stopped_at is null".into(),
    };
    let row: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

/// A running deployment whose instance is gone, as recovery sees it.
#[derive(sqlx::FromRow)]
pub struct Abandoned {
    pub id: DeploymentId,
    pub claimed_by: Option<InstanceId>,
    /// The host of the instance that ran it, when it is known.
    pub host: Option<String>,
}

/// Running deployments that no live instance runs, `me` aside. On SQLite,
/// one instance by nature, that is every one claimed by another instance
/// (this one's previous run); on PostgreSQL, those whose instance's lease
/// ran out or which it left behind when it stopped.
pub async fn abandoned(db: &Db, me: InstanceId) -> Result<Vec<Abandoned>, sqlx::Error> {
    let now = clock(db);
    let gone = match db.backend {
        Backend::Sqlite => "true".to_string(),
        Backend::Postgres => {
            format!("(i.id is null or i.stopped_at is not null or i.lease_until < {now})")
        }
    };
    sqlx::query_as(&format!(
        "select d.id, d.claimed_by, i.host from deployments d \
         left join instances i on i.id = d.claimed_by \
         where d.status = 'running' and (d.claimed_by is null or (d.claimed_by <> $1 and {gone}))"
    ))
    .bind(me)
    .fetch_all(&db.pool)
    .await
}

/// This instance's running deployments, as the database has them.
pub async fn running_of(db: &Db, me: InstanceId) -> Result<Vec<DeploymentId>, sqlx::Error> {
    let rows: Vec<(DeploymentId,)> =
        sqlx::query_as("select id from deployments where status = 'running' and claimed_by = $1")
            .bind(me)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Inside the transaction that fails an instance's work: marks it stopped
/// if it is gone, and says whether it is. A lease renewed in the meantime
/// makes it alive again and its work is left alone. The row stays locked
/// until the transaction ends, which orders this against the instance's
/// own completion (see [`holds_lease`]). An instance with no record (the
/// work of a version before instances were recorded) is gone.
pub async fn confirm_gone(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    id: InstanceId,
) -> Result<bool, sqlx::Error> {
    let now = clock(db);
    let lapsed = match db.backend {
        Backend::Sqlite => "true".to_string(),
        Backend::Postgres => {
            // The lock that waits for (and then excludes) `holds_lease`.
            sqlx::query("select id from instances where id = $1 for update")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
            format!("(stopped_at is not null or lease_until < {now})")
        }
    };
    let marked = sqlx::query(&format!(
        "update instances set stopped_at = coalesce(stopped_at, {now}) where id = $1 and {lapsed}"
    ))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if marked.rows_affected() == 1 {
        return Ok(true);
    }
    let known: Option<(i64,)> = sqlx::query_as("select 1 from instances where id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(known.is_none())
}

/// How many instances hold a lease now, `me` aside.
pub async fn live_others(db: &Db, me: InstanceId) -> Result<i64, sqlx::Error> {
    let now = clock(db);
    let (n,): (i64,) = sqlx::query_as(&format!(
        "select count(*) from instances where id <> $1 and stopped_at is null and lease_until >= {now}"
    ))
    .bind(me)
    .fetch_one(&db.pool)
    .await?;
    Ok(n)
}

/// Forgets instances that stopped over a week ago and run nothing.
pub async fn forget_old(db: &Db) -> Result<(), sqlx::Error> {
    const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
    sqlx::query(
        "delete from instances where stopped_at < $1 and not exists \
         (select 1 from deployments d where d.claimed_by = instances.id and d.status = 'running')",
    )
    .bind(now_ms() - WEEK_MS)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records (or, with `None`, clears) the process group a step runs in.
pub async fn set_process_group(
    db: &Db,
    step: StepId,
    group: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update deployment_steps set process_group = $1 where id = $2")
        .bind(group)
        .bind(step)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A process group a gone instance of this host left behind.
#[derive(sqlx::FromRow)]
pub struct LeftGroup {
    pub step_id: StepId,
    pub deployment_id: DeploymentId,
    pub process_group: i64,
}

/// The process groups recorded by instances of `host` (this boot) that are
/// gone, `me` aside.
pub async fn left_groups(
    db: &Db,
    me: InstanceId,
    host: &Host,
) -> Result<Vec<LeftGroup>, sqlx::Error> {
    let now = clock(db);
    sqlx::query_as(&format!(
        "select s.id as step_id, s.deployment_id, s.process_group from deployment_steps s \
         join deployments d on d.id = s.deployment_id \
         join instances i on i.id = d.claimed_by \
         where s.process_group is not null and i.id <> $1 and i.host = $2 and i.boot_id = $3 \
         and (i.stopped_at is not null or i.lease_until < {now})"
    ))
    .bind(me)
    .bind(&host.name)
    .bind(&host.boot_id)
    .fetch_all(&db.pool)
    .await
}

/// The name of the setting that ties a data folder to this database.
const DATA_TOKEN: &str = "data_dir_token";

/// The data folder's token as the database knows it; the first caller
/// stores `proposed`. Whoever stored it first wins a race.
pub async fn data_dir_token(db: &Db, proposed: &str) -> Result<String, sqlx::Error> {
    let conflict = "on conflict (name) do nothing";
    sqlx::query(&format!(
        "insert into settings (name, value) values ($1, $2) {conflict}"
    ))
    .bind(DATA_TOKEN)
    .bind(proposed)
    .execute(&db.pool)
    .await?;
    let (token,): (String,) = sqlx::query_as("select value from settings where name = $1")
        .bind(DATA_TOKEN)
        .fetch_one(&db.pool)
        .await?;
    Ok(token)
}
