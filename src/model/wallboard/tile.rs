//! What a tile says: its state, the operation it runs with its step and
//! progress, where it broke, and what is live.

use super::{BoardState, Tile};
use crate::model::deployment::{Deployment, PipelineType, SourceKind, TriggerKind};
use crate::model::ids::SiteId;
use crate::model::site::SiteState;
use crate::model::status::{DeploymentStatus, Phase, StepStatus};
use crate::model::time;

/// What a running or waiting operation shows: "Build · step 2 of 4 · 1m 12s".
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    pub operation: String,
    pub detail: String,
    /// Done so far, 0 to 1: finished steps, and half of the running one.
    pub fraction: f64,
}

impl Tile {
    pub fn state(&self) -> BoardState {
        if let Some(active) = &self.active {
            if active.status != DeploymentStatus::Running {
                return BoardState::Queued;
            }
            let deploying = active
                .steps
                .iter()
                .any(|s| s.phase == Some(Phase::Deploy) && s.status != StepStatus::Queued);
            return if deploying {
                BoardState::Deploying
            } else {
                BoardState::Building
            };
        }
        if self.failure.is_some() {
            BoardState::Failed
        } else if self.site_state == SiteState::Stopped {
            BoardState::Stopped
        } else if self.current.is_some() {
            BoardState::Ready
        } else {
            BoardState::Idle
        }
    }

    /// The running or waiting operation, with its step and how long it has
    /// taken by `now`.
    pub fn activity(&self, now: i64) -> Option<Activity> {
        let active = self.active.as_ref()?;
        let total = active.steps.len();
        let done = active
            .steps
            .iter()
            .filter(|s| s.status.is_finished())
            .count();
        let running = active
            .steps
            .iter()
            .position(|s| s.status == StepStatus::Running);
        let detail = match (active.status, running) {
            (DeploymentStatus::Running, Some(i)) => {
                let elapsed = now - active.started_at.unwrap_or(active.created_at);
                format!(
                    "{} · step {} of {total} · {}",
                    active.steps[i].name,
                    i + 1,
                    time::duration(elapsed)
                )
            }
            (DeploymentStatus::Running, None) => format!("Starting · {total} steps"),
            _ => format!(
                "Queued · waiting {}",
                time::duration(now - active.created_at)
            ),
        };
        let fraction = if total == 0 {
            0.0
        } else {
            (done as f64 + if running.is_some() { 0.5 } else { 0.0 }) / total as f64
        };
        Some(Activity {
            operation: active.operation_name.clone(),
            detail,
            fraction,
        })
    }

    /// Where a failed operation broke: "Failed at “Build”", or its error.
    pub fn failed_at(&self) -> Option<String> {
        let failure = self.failure.as_ref()?;
        Some(
            match failure
                .steps
                .iter()
                .find(|s| s.status == StepStatus::Failed)
            {
                Some(step) => format!("Failed at \u{201c}{}\u{201d}", step.name),
                None => failure
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "Failed".to_string()),
            },
        )
    }

    /// What is live: "a1b2c3d · main", or the uploaded archive's name.
    pub fn live_source(&self) -> Option<String> {
        let current = self.current.as_ref()?;
        Some(match current.source_kind {
            SourceKind::Archive => current
                .archive_name
                .clone()
                .unwrap_or_else(|| "Archive upload".to_string()),
            _ => {
                let commit = current
                    .commit_sha
                    .as_deref()
                    .map(|c| c.chars().take(7).collect::<String>());
                match (commit, current.branch.as_deref()) {
                    (Some(c), Some(b)) => format!("{c} · {b}"),
                    (Some(c), None) => c,
                    (None, Some(b)) => b.to_string(),
                    (None, None) => current.operation_name.clone(),
                }
            }
        })
    }

    /// Who started `d`, as a tile says it: "by Ada" for a person, the
    /// trigger's own words ("Push by ada", "Site created") otherwise.
    pub fn started_by(d: &Deployment) -> String {
        match d.trigger_kind {
            TriggerKind::Manual => format!("by {}", d.triggered_by),
            _ => d.triggered_by.clone(),
        }
    }

    /// Sorting key: failed, running, queued, then the rest, each by name.
    pub(super) fn rank(&self) -> (BoardState, String, SiteId) {
        let state = match self.state() {
            // Building and deploying are one group: both are running.
            BoardState::Deploying => BoardState::Building,
            s => s,
        };
        let state = if state.needs_attention() {
            state
        } else {
            BoardState::Ready
        };
        (state, self.name.to_lowercase(), self.site_id)
    }
}

/// Whether a finished operation decides a tile's red: deploys of the site
/// itself (not pull-request previews) and what starts, stops or restores it.
pub fn decides_health(pipeline: PipelineType, trigger: TriggerKind) -> bool {
    trigger != TriggerKind::PullRequest
        && matches!(
            pipeline,
            PipelineType::Deploy
                | PipelineType::Restore
                | PipelineType::Restart
                | PipelineType::Stop
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::deployment::DeploymentStep;
    use crate::model::ids::{DeploymentId, StepId, TeamId};
    use crate::model::meta::DeploymentMeta;
    use crate::model::wallboard::Wallboard;
    use ulid::Ulid;

    fn step(n: i64, name: &str, status: StepStatus, phase: Option<Phase>) -> DeploymentStep {
        DeploymentStep {
            id: StepId(Ulid::from_parts(n as u64, 1)),
            deployment_id: DeploymentId(Ulid::from_parts(1, 1)),
            name: name.to_string(),
            phase,
            status,
            sort_order: n,
            output: String::new(),
            output_offset: 0,
            output_line: 0,
            output_times: Vec::new(),
            version: 1,
            started_at: None,
            finished_at: None,
        }
    }

    fn deployment(status: DeploymentStatus, steps: Vec<DeploymentStep>) -> Deployment {
        Deployment {
            id: DeploymentId(Ulid::from_parts(1, 1)),
            team_id: TeamId(Ulid::from_parts(1, 2)),
            site_id: SiteId(Ulid::from_parts(1, 3)),
            site_name: "Web".into(),
            user_id: None,
            pipeline_type: PipelineType::Deploy,
            status,
            operation_name: "Deploy main".into(),
            meta: DeploymentMeta::default(),
            source_kind: SourceKind::Git,
            branch: Some("main".into()),
            commit_sha: None,
            repository: None,
            archive_name: None,
            trigger_kind: TriggerKind::Manual,
            triggered_by: "Ada".into(),
            pr_number: None,
            error_message: None,
            preview_url: None,
            retry_of_id: None,
            superseded_by_id: None,
            version: 1,
            created_at: 500,
            started_at: Some(1_000),
            finished_at: None,
            is_current: false,
            awaiting_approval: false,
            waiting_for_unlock: false,
            release_removed: None,
            steps,
        }
    }

    fn tile(name: &str) -> Tile {
        Tile {
            site_id: SiteId(Ulid::from_parts(
                name.len() as u64,
                name.as_bytes()[0] as u128,
            )),
            name: name.to_string(),
            site_state: SiteState::Running,
            current: None,
            active: None,
            failure: None,
            lock: None,
        }
    }

    #[test]
    fn a_running_deploy_shows_its_step_number_and_time() {
        let mut t = tile("web");
        t.active = Some(deployment(
            DeploymentStatus::Running,
            vec![
                step(1, "Checkout", StepStatus::Completed, Some(Phase::Build)),
                step(2, "Build", StepStatus::Running, Some(Phase::Build)),
                step(3, "Publish", StepStatus::Queued, Some(Phase::Deploy)),
                step(4, "Check", StepStatus::Queued, Some(Phase::Deploy)),
            ],
        ));
        assert_eq!(t.state(), BoardState::Building);
        let activity = t.activity(1_000 + 72_000).expect("activity");
        assert_eq!(activity.detail, "Build · step 2 of 4 · 1m 12s");
        assert!((activity.fraction - 1.5 / 4.0).abs() < 1e-9);
        if let Some(a) = t.active.as_mut() {
            a.steps[1].status = StepStatus::Completed;
            a.steps[2].status = StepStatus::Running;
        }
        assert_eq!(t.state(), BoardState::Deploying);
        if let Some(a) = t.active.as_mut() {
            a.status = DeploymentStatus::Queued;
        }
        assert_eq!(t.state(), BoardState::Queued);
        assert_eq!(
            t.activity(500 + 3_000).expect("queued").detail,
            "Queued · waiting 3s"
        );
    }

    #[test]
    fn a_failure_stays_red_with_its_step_until_something_runs() {
        let mut t = tile("api");
        t.current = Some(deployment(DeploymentStatus::Completed, vec![]));
        t.failure = Some(deployment(
            DeploymentStatus::Failed,
            vec![
                step(1, "Checkout", StepStatus::Completed, None),
                step(2, "Build", StepStatus::Failed, None),
            ],
        ));
        assert_eq!(t.state(), BoardState::Failed);
        assert_eq!(
            t.failed_at().as_deref(),
            Some("Failed at \u{201c}Build\u{201d}")
        );
        t.active = Some(deployment(
            DeploymentStatus::Running,
            vec![step(1, "Checkout", StepStatus::Running, None)],
        ));
        assert_eq!(t.state(), BoardState::Building);
        t.active = None;
        t.failure = None;
        assert_eq!(t.state(), BoardState::Ready);
        t.site_state = SiteState::Stopped;
        assert_eq!(t.state(), BoardState::Stopped);
        t.site_state = SiteState::Running;
        t.current = None;
        assert_eq!(t.state(), BoardState::Idle);
    }

    #[test]
    fn what_is_live_reads_as_short_commit_and_branch() {
        let mut t = tile("docs");
        let mut current = deployment(DeploymentStatus::Completed, vec![]);
        current.source_kind = SourceKind::Git;
        current.commit_sha = Some("a1b2c3d4e5f6".to_string());
        current.branch = Some("main".to_string());
        t.current = Some(current);
        assert_eq!(t.live_source().as_deref(), Some("a1b2c3d · main"));
    }

    #[test]
    fn failed_then_running_then_queued_come_first_each_by_name() {
        let failed = |name: &str| {
            let mut t = tile(name);
            t.failure = Some(deployment(DeploymentStatus::Failed, vec![]));
            t
        };
        let running = |name: &str| {
            let mut t = tile(name);
            t.active = Some(deployment(DeploymentStatus::Running, vec![]));
            t
        };
        let mut stopped = tile("alpha");
        stopped.site_state = SiteState::Stopped;
        let board = Wallboard {
            team_name: "T".into(),
            position: 0,
            build: String::new(),
            now: 0,
            tiles: vec![
                tile("zulu"),
                stopped,
                running("mike"),
                failed("yankee"),
                failed("bravo"),
            ],
            recent: vec![],
            unknown_sites: 0,
        };
        let names: Vec<&str> = board.ordered().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["bravo", "yankee", "mike", "alpha", "zulu"]);
        let counts = board.counts();
        assert_eq!(counts[0], (BoardState::Failed, 2));
        assert_eq!(counts[1], (BoardState::Building, 1));
        assert_eq!(counts.iter().map(|c| c.1).sum::<usize>(), 5);
    }
}
