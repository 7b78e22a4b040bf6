//! The deployment engine: queued deployments are claimed (one running per
//! site, a global limit), their steps run as real processes in order, and
//! every change is written through [`store`] with its event.

pub mod pipelines;
pub mod process;
pub mod store;
pub mod trigger;

use crate::model::{
    AppError, DeploymentId, DeploymentStatus, PipelineType, SiteId, StepId, StepStatus, TeamId,
    TriggerKind,
};
use crate::server::db::{Db, now_ms, unique_violation};
use crate::server::preview::{PreviewHosts, release_dir};
use pipelines::Pipelines;
use process::{Outcome, OutputLimiter};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::DeploymentChange;
use tokio::sync::{Notify, Semaphore, mpsc, watch};

/// Stored output per step: this much from the start, then only the tail.
const OUTPUT_HEAD_BYTES: usize = 1024 * 1024;
const OUTPUT_TAIL_BYTES: usize = 256 * 1024;
/// Readers see new output within this long.
const OUTPUT_FLUSH: Duration = Duration::from_millis(200);

/// Tunables of the engine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    /// Pipelines running at once across all sites.
    pub max_parallel: usize,
    /// How long a cancelled step gets between TERM and KILL.
    pub grace: Duration,
    /// Where completed deploys are served.
    pub preview_hosts: PreviewHosts,
}

impl EngineConfig {
    /// Defaults for a data folder: four pipelines at once, five seconds of
    /// grace, previews on `*.preview.localhost:3000`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            max_parallel: 4,
            grace: Duration::from_secs(5),
            preview_hosts: PreviewHosts::local(3000),
        }
    }
}

/// Cheap to clone; one per server process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    pipelines: Pipelines,
    config: EngineConfig,
    wake: Notify,
    slots: Arc<Semaphore>,
    cancels: Mutex<HashMap<DeploymentId, watch::Sender<bool>>>,
}

impl Engine {
    /// Fails what a previous process left running, then starts the loop
    /// that claims queued deployments.
    pub async fn start(
        db: Db,
        pipelines: Pipelines,
        config: EngineConfig,
    ) -> Result<Self, AppError> {
        recover(&db).await?;
        let engine = Self {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(config.max_parallel.max(1))),
                db,
                pipelines,
                config,
                wake: Notify::new(),
                cancels: Mutex::new(HashMap::new()),
            }),
        };
        let looped = engine.clone();
        tokio::spawn(async move { looped.claim_loop().await });
        Ok(engine)
    }

    pub fn pipelines(&self) -> &Pipelines {
        &self.inner.pipelines
    }

    /// Creates a deployment and wakes the loop.
    pub async fn trigger(&self, req: trigger::TriggerRequest) -> Result<DeploymentId, AppError> {
        let id = trigger::trigger(&self.inner.db, &self.inner.pipelines, req).await?;
        self.inner.wake.notify_one();
        Ok(id)
    }

    /// A new deployment with the same type, source and meta as an earlier
    /// one of the team: retry of a failed one, or redeploy of any finished one.
    pub async fn retry(
        &self,
        team_id: TeamId,
        id: DeploymentId,
        user_id: Option<crate::model::UserId>,
        triggered_by: String,
    ) -> Result<DeploymentId, AppError> {
        let Some(old) = crate::server::deployments::get(&self.inner.db, team_id, id).await? else {
            return Err(AppError::not_found("Deployment"));
        };
        if !old.is_finished() {
            return Err(AppError::conflict("This deployment has not finished yet."));
        }
        self.trigger(trigger::TriggerRequest {
            team_id,
            site_id: old.site_id,
            pipeline_type: old.pipeline_type,
            trigger: crate::model::TriggerKind::Manual,
            user_id,
            triggered_by,
            source: trigger::Source {
                kind: Some(old.source_kind),
                branch: old.branch,
                commit_sha: old.commit_sha,
                repository: old.repository,
                archive_name: old.archive_name,
            },
            pr_number: old.pr_number,
            meta: old.meta,
            retry_of: Some(id),
        })
        .await
    }

    /// Cancels a deployment of a team. A queued one ends cancelled at once;
    /// a running one when its step's processes are gone.
    pub async fn cancel(&self, team_id: TeamId, id: DeploymentId) -> Result<(), AppError> {
        let db = &self.inner.db;
        let row: Option<(DeploymentStatus,)> =
            sqlx::query_as("select status from deployments where id = $1 and team_id = $2")
                .bind(id)
                .bind(team_id)
                .fetch_optional(&db.pool)
                .await?;
        let Some((status,)) = row else {
            return Err(AppError::not_found("Deployment"));
        };
        match status {
            DeploymentStatus::Queued => {
                let mut tx = db.pool.begin().await?;
                let change = DeploymentChange {
                    finished_at: Some(now_ms()),
                    ..Default::default()
                };
                let moved = store::transition_deployment(
                    db,
                    &mut tx,
                    id,
                    DeploymentStatus::Queued,
                    DeploymentStatus::Cancelled,
                    change,
                )
                .await?;
                store::commit(db, tx).await?;
                if moved {
                    return Ok(());
                }
                // It started in the meantime: cancel it as a running one.
                Box::pin(self.cancel(team_id, id)).await
            }
            DeploymentStatus::Running => {
                sqlx::query("update deployments set cancel_requested_at = $1 where id = $2 and cancel_requested_at is null")
                    .bind(now_ms())
                    .bind(id)
                    .execute(&db.pool)
                    .await?;
                if let Some(tx) = self.lock_cancels().get(&id) {
                    let _ = tx.send(true);
                }
                Ok(())
            }
            _ => Err(AppError::conflict(format!(
                "This deployment already ended {status}; there is nothing to cancel."
            ))),
        }
    }

    fn lock_cancels(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<DeploymentId, watch::Sender<bool>>> {
        self.inner.cancels.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn claim_loop(self) {
        loop {
            loop {
                let Ok(permit) = self.inner.slots.clone().try_acquire_owned() else {
                    break;
                };
                match self.claim_next().await {
                    Ok(Some(claimed)) => {
                        let engine = self.clone();
                        tokio::spawn(async move {
                            let id = claimed.id;
                            if let Err(e) = engine.run_deployment(claimed).await {
                                tracing::error!(deployment = %id, error = %e, "deployment run failed");
                            }
                            drop(permit);
                            engine.inner.wake.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not claim a deployment");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Takes the oldest queued deployment of a free site and marks it running.
    /// The unique index on running deployments settles races between claimers.
    async fn claim_next(&self) -> Result<Option<Claimed>, sqlx::Error> {
        let db = &self.inner.db;
        let candidates: Vec<Claimed> = sqlx::query_as(
            "select d.id, d.team_id, d.site_id, d.type, d.trigger_kind from deployments d where d.status = 'queued' \
             and not exists (select 1 from deployments r where r.site_id = d.site_id and r.status = 'running') \
             and not exists (select 1 from deployments o where o.site_id = d.site_id and o.status = 'queued' and o.id < d.id) \
             order by d.id limit 8",
        )
        .fetch_all(&db.pool)
        .await?;
        for c in candidates {
            let mut tx = db.pool.begin().await?;
            let change = DeploymentChange {
                started_at: Some(now_ms()),
                ..Default::default()
            };
            match store::transition_deployment(
                db,
                &mut tx,
                c.id,
                DeploymentStatus::Queued,
                DeploymentStatus::Running,
                change,
            )
            .await
            {
                Ok(true) => {
                    store::commit(db, tx).await?;
                    return Ok(Some(c));
                }
                Ok(false) => continue,
                Err(e) if unique_violation(&e).is_some() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    async fn run_deployment(&self, d: Claimed) -> Result<(), sqlx::Error> {
        let db = &self.inner.db;
        let (cancel_tx, cancel_rx) = watch::channel(false);
        self.lock_cancels().insert(d.id, cancel_tx);
        let result = self.run_steps(&d, cancel_rx).await;
        self.lock_cancels().remove(&d.id);
        let (status, error) = match result? {
            StepsEnd::Completed => (DeploymentStatus::Completed, None),
            StepsEnd::Failed(message) => (DeploymentStatus::Failed, Some(message)),
            StepsEnd::Cancelled => (DeploymentStatus::Cancelled, None),
        };
        // The final write must land, or the deployment would stay running
        // forever: a transient failure (a busy database, a deadlock victim)
        // is retried.
        let preview_url = (status == DeploymentStatus::Completed && d.pipeline_type.publishes())
            .then(|| self.inner.config.preview_hosts.url(d.id));
        let mut attempt = 0;
        loop {
            match finish(db, &d, status, error.clone(), preview_url.clone()).await {
                Ok(()) => break,
                Err(e) if attempt < 8 => {
                    attempt += 1;
                    tracing::warn!(deployment = %d.id, error = %e, attempt, "retrying the final write");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
        let _ = tokio::fs::remove_dir_all(self.workspace(d.id)).await;
        let _ = tokio::fs::remove_file(self.report_file(d.id)).await;
        // Only a completed deploy is served; what an unfinished one
        // published is removed.
        if status != DeploymentStatus::Completed {
            let _ = tokio::fs::remove_dir_all(release_dir(&self.inner.config.data_dir, d.id)).await;
        }
        Ok(())
    }

    /// Where a step can report what it learned (`commit=<sha>`), one
    /// `key=value` per line; read after every step.
    fn report_file(&self, id: DeploymentId) -> PathBuf {
        self.inner
            .config
            .data_dir
            .join("workspaces")
            .join(format!("{id}.report"))
    }

    /// Records what the step reported: the commit it checked out.
    async fn read_report(&self, d: &Claimed) -> Result<(), sqlx::Error> {
        let path = self.report_file(d.id);
        let Ok(text) = tokio::fs::read_to_string(&path).await else {
            return Ok(());
        };
        let _ = tokio::fs::remove_file(&path).await;
        let commit = text.lines().rev().find_map(|line| {
            let sha = line.trim().strip_prefix("commit=")?;
            ((7..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| sha.to_ascii_lowercase())
        });
        let Some(commit) = commit else { return Ok(()) };
        let db = &self.inner.db;
        let mut tx = db.pool.begin().await?;
        let changed = sqlx::query(
            "update deployments set commit_sha = $1, version = version + 1 \
             where id = $2 and (commit_sha is null or commit_sha <> $1)",
        )
        .bind(&commit)
        .bind(d.id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() > 0 {
            store::emit_deployment(db, &mut tx, d.id).await?;
        }
        store::commit(db, tx).await
    }

    fn workspace(&self, id: DeploymentId) -> PathBuf {
        self.inner
            .config
            .data_dir
            .join("workspaces")
            .join(id.to_string())
    }

    async fn run_steps(
        &self,
        d: &Claimed,
        cancel: watch::Receiver<bool>,
    ) -> Result<StepsEnd, sqlx::Error> {
        let db = &self.inner.db;
        let steps: Vec<(StepId, String, String, i64, i64)> = sqlx::query_as(
            "select id, name, command, timeout_secs, sort_order from deployment_steps where deployment_id = $1 order by sort_order",
        )
        .bind(d.id)
        .fetch_all(&db.pool)
        .await?;
        let workspace = self.workspace(d.id);
        if let Err(e) = tokio::fs::create_dir_all(&workspace).await {
            return Ok(StepsEnd::Failed(format!(
                "Could not create the workspace: {e}"
            )));
        }
        let base_env = self.step_env(d).await?;
        let total = steps.len();
        for (step_id, name, command, timeout_secs, sort_order) in steps {
            if *cancel.borrow() || self.cancel_requested(d.id).await? {
                return Ok(StepsEnd::Cancelled);
            }
            let mut tx = db.pool.begin().await?;
            store::transition_step(
                db,
                &mut tx,
                step_id,
                StepStatus::Queued,
                StepStatus::Running,
            )
            .await?;
            store::commit(db, tx).await?;

            let mut env = base_env.clone();
            env.push(("FLIGHTDECK_STEP_NAME".into(), name.clone()));
            env.push(("FLIGHTDECK_STEP_NUMBER".into(), sort_order.to_string()));
            env.push((
                "FLIGHTDECK_WORKSPACE".into(),
                workspace.display().to_string(),
            ));
            let (out_tx, out_rx) = mpsc::channel(64);
            let writer = tokio::spawn(write_output(db.clone(), step_id, out_rx));
            let watcher = self.watch_cancel_flag(d.id, cancel.clone());
            let outcome = process::run(
                &command,
                &workspace,
                &env,
                Duration::from_secs(timeout_secs.max(1) as u64),
                self.inner.config.grace,
                watcher.1,
                out_tx,
            )
            .await;
            watcher.0.abort();
            let _ = writer.await;
            self.read_report(d).await?;
            let (step_status, end) = match outcome {
                Ok(Outcome::Succeeded) => (StepStatus::Completed, None),
                Ok(Outcome::Cancelled) => (StepStatus::Cancelled, Some(StepsEnd::Cancelled)),
                Ok(Outcome::Failed(why)) => (
                    StepStatus::Failed,
                    Some(StepsEnd::Failed(format!(
                        "Step {sort_order} of {total}, \u{201c}{name}\u{201d}, failed: it {why}."
                    ))),
                ),
                Ok(Outcome::TimedOut(t)) => (
                    StepStatus::Failed,
                    Some(StepsEnd::Failed(format!(
                        "Step {sort_order} of {total}, \u{201c}{name}\u{201d}, timed out after {}s.",
                        t.as_secs()
                    ))),
                ),
                Err(e) => (
                    StepStatus::Failed,
                    Some(StepsEnd::Failed(format!(
                        "Step {sort_order} of {total}, \u{201c}{name}\u{201d}, could not start: {e}."
                    ))),
                ),
            };
            let mut tx = db.pool.begin().await?;
            store::transition_step(db, &mut tx, step_id, StepStatus::Running, step_status).await?;
            store::commit(db, tx).await?;
            if let Some(end) = end {
                return Ok(end);
            }
        }
        Ok(StepsEnd::Completed)
    }

    async fn cancel_requested(&self, id: DeploymentId) -> Result<bool, sqlx::Error> {
        let (at,): (Option<i64>,) =
            sqlx::query_as("select cancel_requested_at from deployments where id = $1")
                .bind(id)
                .fetch_one(&self.inner.db.pool)
                .await?;
        Ok(at.is_some())
    }

    /// A receiver that turns true on an in-process cancel or, for a cancel
    /// made on another instance, when the stored flag appears.
    fn watch_cancel_flag(
        &self,
        id: DeploymentId,
        mut local: watch::Receiver<bool>,
    ) -> (tokio::task::JoinHandle<()>, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(*local.borrow());
        let engine = self.clone();
        let handle = tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = local.changed() => {
                        if changed.is_err() { return; }
                        if *local.borrow() { let _ = tx.send(true); return; }
                    }
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {
                        if engine.cancel_requested(id).await.unwrap_or(false) { let _ = tx.send(true); return; }
                    }
                }
            }
        });
        (handle, rx)
    }

    /// The deployment's fields and meta as FLIGHTDECK_* variables. Values go
    /// in the environment, never into the command text.
    async fn step_env(&self, d: &Claimed) -> Result<Vec<(String, String)>, sqlx::Error> {
        let db = &self.inner.db;
        #[allow(clippy::type_complexity)]
        let row: (String, String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<i64>, String) =
            sqlx::query_as(
                "select s.name, s.slug, d.operation_name, d.trigger_kind, d.triggered_by, d.branch, d.commit_sha, \
                 d.repository, d.archive_name, d.pr_number, d.meta from deployments d join sites s on s.id = d.site_id \
                 where d.id = $1",
            )
            .bind(d.id)
            .fetch_one(&db.pool)
            .await?;
        let (site_name, slug, op, trigger, by, branch, commit, repo, archive, pr, meta) = row;
        let data = &self.inner.config.data_dir;
        let mut env = vec![
            ("FLIGHTDECK_DEPLOYMENT_ID".to_string(), d.id.to_string()),
            ("FLIGHTDECK_TEAM_ID".into(), d.team_id.to_string()),
            ("FLIGHTDECK_SITE_ID".into(), d.site_id.to_string()),
            ("FLIGHTDECK_SITE_NAME".into(), site_name),
            ("FLIGHTDECK_SITE_SLUG".into(), slug),
            ("FLIGHTDECK_TYPE".into(), d.pipeline_type.to_string()),
            ("FLIGHTDECK_OPERATION_NAME".into(), op),
            ("FLIGHTDECK_TRIGGER".into(), trigger),
            ("FLIGHTDECK_TRIGGERED_BY".into(), by),
            ("FLIGHTDECK_BRANCH".into(), branch.unwrap_or_default()),
            ("FLIGHTDECK_COMMIT".into(), commit.unwrap_or_default()),
            ("FLIGHTDECK_REPOSITORY".into(), repo.unwrap_or_default()),
            (
                "FLIGHTDECK_ARCHIVE_NAME".into(),
                archive.unwrap_or_default(),
            ),
            (
                "FLIGHTDECK_PR_NUMBER".into(),
                pr.map(|p| p.to_string()).unwrap_or_default(),
            ),
            ("FLIGHTDECK_DATA_DIR".into(), data.display().to_string()),
            (
                "FLIGHTDECK_SITE_DIR".into(),
                data.join("sites")
                    .join(d.site_id.to_string())
                    .display()
                    .to_string(),
            ),
            (
                "FLIGHTDECK_RELEASE_DIR".into(),
                release_dir(data, d.id).display().to_string(),
            ),
            (
                "FLIGHTDECK_PREVIEW_URL".into(),
                self.inner.config.preview_hosts.url(d.id),
            ),
            (
                "FLIGHTDECK_REPORT".into(),
                self.report_file(d.id).display().to_string(),
            ),
            (
                "FLIGHTDECK_CAPSULE_DIR".into(),
                data.join("capsules")
                    .join(d.site_id.to_string())
                    .display()
                    .to_string(),
            ),
        ];
        let parsed: serde_json::Value = serde_json::from_str(&meta).unwrap_or_default();
        // An uploaded archive, unpacked and checked when it was received.
        if let Some(archive) = meta_ulid(&parsed, "archive_id") {
            env.push((
                "FLIGHTDECK_ARCHIVE_DIR".into(),
                archive_dir(data, archive).display().to_string(),
            ));
        }
        // The files the site serves now, and those a copy is made from.
        let (current,): (Option<DeploymentId>,) =
            sqlx::query_as("select current_deployment_id from sites where id = $1")
                .bind(d.site_id)
                .fetch_one(&db.pool)
                .await?;
        let source = meta_ulid(&parsed, "source_deployment_id").map(DeploymentId);
        for (key, id) in [
            ("FLIGHTDECK_CURRENT_DIR", current),
            ("FLIGHTDECK_SOURCE_DIR", source),
        ] {
            if let Some(id) = id {
                env.push((key.into(), release_dir(data, id).display().to_string()));
            }
        }
        env.extend(meta_env(&parsed));
        env.push(("FLIGHTDECK_META".into(), meta));
        Ok(env)
    }
}

/// The folder an uploaded archive was unpacked into.
pub fn archive_dir(data_dir: &std::path::Path, id: ulid::Ulid) -> PathBuf {
    data_dir.join("archives").join(id.to_string())
}

/// A ULID in the deployment's meta (`archive_id`, `source_deployment_id`).
fn meta_ulid(meta: &serde_json::Value, key: &str) -> Option<ulid::Ulid> {
    ulid::Ulid::from_string(meta.get(key)?.as_str()?).ok()
}

/// Top-level scalar meta values as FLIGHTDECK_META_<KEY> (key upper-cased,
/// anything but A-Z, 0-9 and _ dropped).
fn meta_env(meta: &serde_json::Value) -> Vec<(String, String)> {
    let Some(map) = meta.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let key: String = k
                .to_uppercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            (!key.is_empty()).then(|| (format!("FLIGHTDECK_META_{key}"), value))
        })
        .collect()
}

/// Ends a deployment; a completed deploy becomes its site's current one.
async fn finish(
    db: &Db,
    d: &Claimed,
    status: DeploymentStatus,
    error: Option<String>,
    preview_url: Option<String>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let completed = status == DeploymentStatus::Completed;
    // A pull request's deploy is a preview: it never replaces what the site serves.
    let becomes_current =
        completed && d.pipeline_type.publishes() && d.trigger_kind != TriggerKind::PullRequest;
    // A completed stop or restart sets whether the site serves traffic.
    let new_state = match d.pipeline_type {
        PipelineType::Stop if completed => Some("stopped"),
        PipelineType::Restart if completed => Some("running"),
        _ => None,
    };
    if becomes_current || new_state.is_some() {
        // Lock order everywhere: the site's row first, then the event lock
        // that every status change takes. Triggers lock the site first too,
        // so the two can never deadlock.
        sqlx::query("update sites set name = name where id = $1")
            .bind(d.site_id)
            .execute(&mut *tx)
            .await?;
    }
    let change = DeploymentChange {
        finished_at: Some(now_ms()),
        error_message: error,
        preview_url,
        ..Default::default()
    };
    store::transition_deployment(db, &mut tx, d.id, DeploymentStatus::Running, status, change)
        .await?;
    if becomes_current {
        make_current(db, &mut tx, d.site_id, d.id).await?;
    }
    if let Some(state) = new_state {
        sqlx::query("update sites set state = $1 where id = $2")
            .bind(state)
            .bind(d.site_id)
            .execute(&mut *tx)
            .await?;
    }
    store::commit(db, tx).await
}

/// A completed deploy (or restore, clone, staging copy) becomes its site's current one; the previous
/// current is superseded and remembers which one replaced it.
async fn make_current(
    db: &Db,
    tx: &mut store::Tx,
    site_id: SiteId,
    id: DeploymentId,
) -> Result<(), sqlx::Error> {
    let (previous,): (Option<DeploymentId>,) =
        sqlx::query_as("select current_deployment_id from sites where id = $1")
            .bind(site_id)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("update sites set current_deployment_id = $1 where id = $2")
        .bind(id)
        .bind(site_id)
        .execute(&mut **tx)
        .await?;
    if let Some(prev) = previous.filter(|p| *p != id) {
        let change = DeploymentChange {
            superseded_by_id: Some(id),
            ..Default::default()
        };
        store::transition_deployment(
            db,
            tx,
            prev,
            DeploymentStatus::Completed,
            DeploymentStatus::Superseded,
            change,
        )
        .await?;
    }
    // The new current one's event must show it current, with a version
    // newer than its completion's, or pages would keep the older state.
    sqlx::query("update deployments set version = version + 1 where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    store::emit_deployment(db, tx, id).await
}

/// Writes a step's output as it arrives, at most every [`OUTPUT_FLUSH`],
/// keeping the stored output bounded.
async fn write_output(db: Db, step_id: StepId, mut rx: mpsc::Receiver<Vec<u8>>) {
    let mut limiter = OutputLimiter::new(OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES);
    let mut pending = String::new();
    let mut tick = tokio::time::interval(OUTPUT_FLUSH);
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(chunk) => pending.push_str(&limiter.push(&chunk)),
                None => break,
            },
            _ = tick.tick() => {
                if !pending.is_empty() {
                    if let Err(e) = store::append_output(&db, step_id, &pending).await {
                        tracing::warn!(error = %e, "could not store step output");
                    }
                    pending.clear();
                }
            }
        }
    }
    pending.push_str(&limiter.finish());
    if !pending.is_empty()
        && let Err(e) = store::append_output(&db, step_id, &pending).await
    {
        tracing::warn!(error = %e, "could not store step output");
    }
}

enum StepsEnd {
    Completed,
    Failed(String),
    Cancelled,
}

#[derive(sqlx::FromRow, Clone, Copy)]
struct Claimed {
    id: DeploymentId,
    team_id: TeamId,
    site_id: SiteId,
    #[sqlx(rename = "type")]
    pipeline_type: PipelineType,
    trigger_kind: TriggerKind,
}

/// A deployment left running by a process that stopped can never finish:
/// it is failed, saying at which step the server stopped.
pub async fn recover(db: &Db) -> Result<u64, AppError> {
    let running: Vec<(DeploymentId,)> =
        sqlx::query_as("select id from deployments where status = 'running'")
            .fetch_all(&db.pool)
            .await?;
    let mut n = 0;
    for (id,) in running {
        let mut tx = db.pool.begin().await?;
        let step: Option<(StepId, String, i64)> = sqlx::query_as(
            "select id, name, sort_order from deployment_steps where deployment_id = $1 and status = 'running'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let message = match &step {
            Some((_, name, order)) => format!(
                "The server stopped during step {order}, \u{201c}{name}\u{201d}; the deployment was failed when it started again."
            ),
            None => {
                "The server stopped between steps; the deployment was failed when it started again."
                    .to_string()
            }
        };
        // The deployment first: its row write takes the lock on SQLite.
        let change = DeploymentChange {
            finished_at: Some(now_ms()),
            error_message: Some(message),
            ..Default::default()
        };
        store::transition_deployment(
            db,
            &mut tx,
            id,
            DeploymentStatus::Running,
            DeploymentStatus::Failed,
            change,
        )
        .await?;
        if let Some((step_id, _, _)) = step {
            store::transition_step(
                db,
                &mut tx,
                step_id,
                StepStatus::Running,
                StepStatus::Failed,
            )
            .await?;
        }
        store::commit(db, tx).await?;
        n += 1;
    }
    if n > 0 {
        tracing::warn!("failed {n} deployment(s) left running by a previous process");
    }
    Ok(n)
}
