//! Keeping the disk and the database bounded: a periodic task removes
//! releases no longer kept (each site's current one, its
//! `FLIGHTDECK_KEEP_RELEASES` latest others and open pull requests'
//! newest previews stay), uploads nothing will use again, what a crash
//! left in `workspaces/`, the event log beyond its window, and rows that
//! only grow. Also what a closed pull request leaves: its previews.
//!
//! The task runs beside the engine and the web server and never blocks
//! them: every file removal is on a blocking thread, every delete is
//! batched. With several instances one runs it at a time (the
//! `maintenance` lease). A release is marked removed (its URL answers 410)
//! in the database before its folder goes; nothing in use is touched.

use super::config::{DataDir, Retention, folder_bytes};
use super::engine::Engine;
use super::store::{Db, releases, retention as stored};
use crate::model::{DeploymentId, DeploymentStatus, RemovalReason, SiteId};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What one run removed, as logged and kept in `maintenance.last_report`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub releases: usize,
    pub release_bytes: u64,
    pub uploads: usize,
    pub workspaces: usize,
    pub events: u64,
    pub sessions: u64,
    pub invites: u64,
    pub deliveries: u64,
    /// Notifications delivered or failed more than 30 days ago.
    pub notifications: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "removed {} releases ({} bytes), {} uploads, {} leftover workspaces, {} events, \
             {} expired sessions, {} spent invites, {} old delivery ids, {} old notifications",
            self.releases,
            self.release_bytes,
            self.uploads,
            self.workspaces,
            self.events,
            self.sessions,
            self.invites,
            self.deliveries,
            self.notifications
        )
    }
}

/// How long an instance may hold the cleanup before another may take it
/// over (it gives it back when done).
const LEASE_MS: i64 = 10 * 60 * 1000;

/// Runs the cleanup every `settings.every`, for the life of the process.
pub fn spawn(db: Db, engine: Engine, data: DataDir, settings: Retention) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let holder = engine.instance_id().to_string();
            match run_once(&db, &data, &settings, &holder).await {
                // A run that found nothing is not news.
                Ok(Some(report)) if report == Report::default() => {
                    tracing::debug!("retention: nothing to remove")
                }
                Ok(Some(report)) => tracing::info!("retention: {report}"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "retention could not run"),
            }
        }
    });
}

/// One run, when no other instance holds the cleanup; `None` when one does.
pub async fn run_once(
    db: &Db,
    data: &DataDir,
    settings: &Retention,
    holder: &str,
) -> Result<Option<Report>, sqlx::Error> {
    if !stored::claim(db, holder, LEASE_MS).await? {
        return Ok(None);
    }
    let result = sweep(db, data, settings).await;
    let text = match &result {
        Ok(report) => report.to_string(),
        Err(e) => format!("failed: {e}"),
    };
    stored::release(db, holder, &text).await?;
    result.map(Some)
}

async fn sweep(db: &Db, data: &DataDir, settings: &Retention) -> Result<Report, sqlx::Error> {
    let mut report = Report::default();
    let expired = stored::expired_releases(db, settings.keep_releases).await?;
    let marked = stored::mark_removed(db, &expired, RemovalReason::Expired).await?;
    report.releases = marked.len();
    report.release_bytes =
        remove_folders(marked.iter().map(|id| data.release(*id)).collect()).await;
    report.workspaces = remove_leftovers(db, data).await?;
    let uploads_in_use = stored::archives_in_use(db).await?;
    report.uploads = remove_uploads(data, settings.keep_uploads_for, uploads_in_use).await;
    let cutoff = crate::model::time::now_ms() - settings.keep_events_for.as_millis() as i64;
    report.events = stored::prune_events(db, settings.keep_events, cutoff).await?;
    (report.sessions, report.invites, report.deliveries) = stored::prune_rows(db).await?;
    report.notifications = stored::prune_notifications(db).await?;
    for id in stored::unmeasured_releases(db, 50).await? {
        let folder = data.release(id);
        let bytes = blocking(move || folder_bytes(&folder)).await;
        releases::set_release_bytes(db, id, bytes).await?;
    }
    Ok(report)
}

/// A closed pull request's previews: queued ones are cancelled, a running
/// one is stopped, and every published one is removed (its URL answers
/// 410 saying why). The records stay in the history.
pub async fn close_pull_request(
    db: &Db,
    engine: &Engine,
    data: &DataDir,
    site_id: SiteId,
    pr: i64,
) -> Result<usize, crate::model::AppError> {
    let (published, active) = stored::pull_request_deployments(db, site_id, pr).await?;
    for (id, team_id) in active {
        // Already ended is fine: the race is with its own end.
        if let Err(e) = engine.cancel(team_id, id).await {
            tracing::debug!(deployment = %id, error = %e.message, "a closed pull request's deployment had ended");
        }
    }
    let marked = stored::mark_removed(db, &published, RemovalReason::PullRequestClosed).await?;
    remove_folders(marked.iter().map(|id| data.release(*id)).collect()).await;
    Ok(marked.len())
}

/// Removes folders (on a blocking thread) and returns the bytes they held.
async fn remove_folders(folders: Vec<PathBuf>) -> u64 {
    if folders.is_empty() {
        return 0;
    }
    blocking(move || {
        folders
            .iter()
            .map(|folder| {
                let bytes = folder_bytes(folder);
                match std::fs::remove_dir_all(folder) {
                    Ok(()) => bytes,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
                    Err(e) => {
                        tracing::warn!(folder = %folder.display(), error = %e, "could not remove a folder");
                        0
                    }
                }
            })
            .sum()
    })
    .await
}

/// What a crash (or a cut-short run) left behind: workspaces and report
/// files of deployments that are not running, and release folders of
/// deployments that never completed or whose release was removed.
async fn remove_leftovers(db: &Db, data: &DataDir) -> Result<usize, sqlx::Error> {
    let workspaces = data.root().join("workspaces");
    let releases = data.root().join("releases");
    let (in_workspaces, in_releases) = blocking({
        let (w, r) = (workspaces.clone(), releases.clone());
        move || (entries_by_id(&w), entries_by_id(&r))
    })
    .await;
    let ids: Vec<DeploymentId> = in_workspaces
        .iter()
        .chain(in_releases.iter())
        .map(|(id, _)| *id)
        .collect();
    let owners = stored::folder_owners(db, &ids).await?;
    let active = |id: &DeploymentId| owners.get(id).is_some_and(|(s, _)| !s.is_finished());
    let published = |id: &DeploymentId| {
        owners.get(id).is_some_and(|(s, removed)| {
            matches!(
                s,
                DeploymentStatus::Completed | DeploymentStatus::Superseded
            ) && !removed
        })
    };
    // A workspace belongs only to a queued or running deployment; a
    // release folder also to a published one still kept.
    let mut gone: Vec<PathBuf> = Vec::new();
    for (id, path) in in_workspaces {
        if !active(&id) {
            gone.push(path);
        }
    }
    for (id, path) in in_releases {
        if !active(&id) && !published(&id) {
            gone.push(path);
        }
    }
    let count = gone.len();
    blocking(move || {
        for path in gone {
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    })
    .await;
    Ok(count)
}

/// Uploaded archives nothing queued or running uses, uploaded more than
/// `keep_for` ago (a retry within it still finds its files), and unpacking
/// folders a crash left (older than an hour).
async fn remove_uploads(
    data: &DataDir,
    keep_for: Duration,
    in_use: std::collections::HashSet<ulid::Ulid>,
) -> usize {
    let archives = data.archives();
    blocking(move || {
        let now = SystemTime::now();
        let old = |path: &Path, age: Duration| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|a| a > age)
        };
        let Ok(entries) = std::fs::read_dir(&archives) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            let stale = match name.strip_prefix(".incoming-") {
                Some(_) => old(&path, Duration::from_secs(3600)),
                None => match ulid::Ulid::from_string(&name) {
                    Ok(id) => !in_use.contains(&id) && old(&path, keep_for),
                    Err(_) => false,
                },
            };
            if stale && std::fs::remove_dir_all(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    })
    .await
}

/// The entries of a folder named by a deployment id (`<id>` or
/// `<id>.report`), with their paths.
fn entries_by_id(folder: &Path) -> Vec<(DeploymentId, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let id = name.strip_suffix(".report").unwrap_or(&name);
            let id = ulid::Ulid::from_string(id).ok()?;
            Some((DeploymentId(id), e.path()))
        })
        .collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    // A panic on the blocking thread is a bug: surface it here.
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
