//! What a deployment's end adds to its team's insights: the one place the
//! metrics are defined, used as deployments finish and when the totals
//! are built again from the history.

use super::day_of;
use crate::model::{DeploymentStatus, PipelineType, TriggerKind};

/// A change replaced this soon after it went live was a failed change
/// (a hotfix); a rollback or restore marks it failed however late.
pub const HOTFIX_WINDOW_MS: i64 = 3_600_000;

/// A finished deployment as the insights see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    pub pipeline: PipelineType,
    pub trigger: TriggerKind,
    /// Its end status; a superseded one had completed.
    pub status: DeploymentStatus,
    /// Its site is a staging copy of another site.
    pub staging: bool,
    /// It publishes an earlier deploy's release again.
    pub rollback: bool,
    pub finished_at: i64,
    /// When the commit it checked out was made, when known.
    pub commit_at: Option<i64>,
}

/// Production deploys that ended on one day, on one site.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// Deploys that shipped a change and succeeded or failed.
    pub deploys: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Succeeded, then were rolled back, restored from a capsule or
    /// replaced within the hour.
    pub failed_changes: i64,
}

impl DayCounts {
    pub fn add(&mut self, other: DayCounts) {
        self.deploys += other.deploys;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.failed_changes += other.failed_changes;
    }

    pub fn is_empty(&self) -> bool {
        *self == DayCounts::default()
    }
}

/// What one deployment's end adds, on the day it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    pub day: i64,
    pub counts: DayCounts,
    /// From its commit to live (ms).
    pub lead_time: Option<i64>,
    /// From the failure that broke its site to this success (ms).
    pub restore: Option<i64>,
    /// When its site's production deploys started failing, after it.
    pub failing_since: Option<i64>,
}

impl Finished {
    fn succeeded(&self) -> bool {
        matches!(
            self.status,
            DeploymentStatus::Completed | DeploymentStatus::Superseded
        )
    }

    /// A deploy of what a production site serves: not a staging copy's,
    /// not a pull request's preview. Only these start or end a failure: a
    /// failed deploy leaves the site serving what it served, so it is
    /// restored when deploys work again, not by a capsule.
    pub fn is_production_deploy(&self) -> bool {
        self.pipeline == PipelineType::Deploy
            && self.trigger != TriggerKind::PullRequest
            && !self.staging
    }

    /// A production deploy that ships a change (a rollback does not).
    pub fn is_change(&self) -> bool {
        self.is_production_deploy() && !self.rollback
    }

    /// Its effects, given since when its site has been failing before it.
    /// A failed production deploy starts (or continues) a failure; the
    /// next successful one, a rollback too, ends it: one restore however
    /// many deploys failed in between.
    pub fn effects(&self, failing_since: Option<i64>) -> Effects {
        let mut effects = Effects {
            day: day_of(self.finished_at),
            failing_since,
            ..Effects::default()
        };
        if !self.is_production_deploy() {
            return effects;
        }
        let failed = self.status == DeploymentStatus::Failed;
        if self.succeeded() {
            effects.restore = failing_since.map(|since| (self.finished_at - since).max(0));
            effects.failing_since = None;
        } else if failed {
            effects.failing_since = Some(failing_since.unwrap_or(self.finished_at));
        }
        if self.is_change() && (failed || self.succeeded()) {
            effects.counts = DayCounts {
                deploys: 1,
                succeeded: i64::from(self.succeeded()),
                failed: i64::from(failed),
                failed_changes: 0,
            };
            if self.succeeded() {
                effects.lead_time = self.commit_at.map(|at| (self.finished_at - at).max(0));
            }
        }
        effects
    }

    /// Whether this change failed, now that `by` replaces it as what its
    /// site serves: a rollback or restore replaced it, or anything did
    /// within the hour.
    pub fn failed_when_replaced_by(&self, by: &Finished) -> bool {
        self.is_change()
            && self.succeeded()
            && (by.rollback
                || by.pipeline == PipelineType::Restore
                || by.finished_at - self.finished_at < HOTFIX_WINDOW_MS)
    }
}
