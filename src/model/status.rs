//! The status machines every write goes through, and the lifecycle label
//! derived from them.

use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// The overall state of a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    Superseded,
}

text_enum!(DeploymentStatus {
    Queued => "queued",
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Cancelled => "cancelled",
    Superseded => "superseded",
});

impl DeploymentStatus {
    /// Completed, failed, cancelled and superseded deployments are history.
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    /// The only moves a deployment may make. A finished deployment never
    /// changes again, except that a completed one can be superseded.
    pub fn can_transition_to(self, next: Self) -> bool {
        use DeploymentStatus::*;
        matches!(
            (self, next),
            (Queued, Running)
                | (Queued, Cancelled)
                | (Running, Completed)
                | (Running, Failed)
                | (Running, Cancelled)
                | (Completed, Superseded)
        )
    }
}

/// The state of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

text_enum!(StepStatus {
    Queued => "queued",
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl StepStatus {
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    /// A queued step that never ran stays queued when its deployment ends;
    /// only a running step can end.
    pub fn can_transition_to(self, next: Self) -> bool {
        use StepStatus::*;
        matches!(
            (self, next),
            (Queued, Running) | (Running, Completed) | (Running, Failed) | (Running, Cancelled)
        )
    }
}

/// Which half of a deploy pipeline a step belongs to; drives the lifecycle label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Build,
    Deploy,
}

text_enum!(Phase {
    Build => "build",
    Deploy => "deploy",
});

/// The lifecycle document's vocabulary for deploy pipelines, derived from
/// status and steps and never stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleLabel {
    Pending,
    Building,
    Built,
    Deploying,
    Ready,
    Failed,
    Superseded,
    Cancelled,
}

text_enum!(LifecycleLabel {
    Pending => "pending",
    Building => "building",
    Built => "built",
    Deploying => "deploying",
    Ready => "ready",
    Failed => "failed",
    Superseded => "superseded",
    Cancelled => "cancelled",
});

impl LifecycleLabel {
    /// Derives the label of a deploy pipeline. `steps` are (phase, status)
    /// pairs; `is_current` tells whether the site serves this deployment.
    pub fn derive(
        status: DeploymentStatus,
        is_current: bool,
        steps: &[(Option<Phase>, StepStatus)],
    ) -> Self {
        match status {
            DeploymentStatus::Queued => Self::Pending,
            DeploymentStatus::Failed => Self::Failed,
            DeploymentStatus::Cancelled => Self::Cancelled,
            DeploymentStatus::Superseded => Self::Superseded,
            // A completed deploy that is no longer current was replaced.
            DeploymentStatus::Completed if is_current => Self::Ready,
            DeploymentStatus::Completed => Self::Superseded,
            DeploymentStatus::Running => {
                let deploy_started = steps.iter().any(|(phase, status)| {
                    *phase == Some(Phase::Deploy) && *status != StepStatus::Queued
                });
                let build_running = steps.iter().any(|(phase, status)| {
                    *phase != Some(Phase::Deploy) && *status == StepStatus::Running
                });
                let build_done = steps
                    .iter()
                    .filter(|(phase, _)| *phase != Some(Phase::Deploy))
                    .all(|(_, status)| *status == StepStatus::Completed);
                if deploy_started {
                    Self::Deploying
                } else if build_running || !build_done {
                    Self::Building
                } else {
                    Self::Built
                }
            }
        }
    }
}

/// Why a deployment's published files are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// Older than the releases a site keeps (`FLIGHTDECK_KEEP_RELEASES`).
    Expired,
    /// A pull request's preview, removed when the pull request closed.
    PullRequestClosed,
}

text_enum!(RemovalReason {
    Expired => "expired",
    PullRequestClosed => "pull_request_closed",
});

impl RemovalReason {
    /// What a page, and the preview URL itself, say of the removed files.
    pub fn sentence(self, pr_number: Option<i64>) -> String {
        match (self, pr_number) {
            (Self::PullRequestClosed, Some(n)) => {
                format!("This preview was removed when pull request #{n} closed.")
            }
            (Self::PullRequestClosed, None) => {
                "This preview was removed when its pull request closed.".into()
            }
            (Self::Expired, _) => {
                "This preview expired: the site keeps only its latest releases.".into()
            }
        }
    }
}

/// A release that is no longer kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRemoved {
    pub at: i64,
    pub reason: RemovalReason,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentStatus as D;

    #[test]
    fn every_deployment_transition_is_allowed_or_refused_as_the_spec_says() {
        let allowed = [
            (D::Queued, D::Running),
            (D::Queued, D::Cancelled),
            (D::Running, D::Completed),
            (D::Running, D::Failed),
            (D::Running, D::Cancelled),
            (D::Completed, D::Superseded),
        ];
        for &from in D::ALL {
            for &to in D::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn finished_deployments_never_change_except_completed_to_superseded() {
        for &from in D::ALL.iter().filter(|s| s.is_finished()) {
            for &to in D::ALL {
                let ok = from == D::Completed && to == D::Superseded;
                assert_eq!(from.can_transition_to(to), ok, "{from} -> {to}");
            }
        }
        assert!(!D::Queued.is_finished());
        assert!(!D::Running.is_finished());
    }

    #[test]
    fn every_step_transition_is_allowed_or_refused_as_the_spec_says() {
        use StepStatus as S;
        let allowed = [
            (S::Queued, S::Running),
            (S::Running, S::Completed),
            (S::Running, S::Failed),
            (S::Running, S::Cancelled),
        ];
        for &from in S::ALL {
            for &to in S::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn lifecycle_label_follows_the_steps_of_a_deploy() {
        use LifecycleLabel as L;
        use Phase::*;
        use StepStatus as S;
        let b = Some(Build);
        let d = Some(Deploy);
        assert_eq!(L::derive(D::Queued, false, &[(b, S::Queued)]), L::Pending);
        assert_eq!(
            L::derive(D::Running, false, &[(b, S::Running), (d, S::Queued)]),
            L::Building
        );
        assert_eq!(
            L::derive(D::Running, false, &[(b, S::Completed), (d, S::Queued)]),
            L::Built
        );
        assert_eq!(
            L::derive(D::Running, false, &[(b, S::Completed), (d, S::Running)]),
            L::Deploying
        );
        assert_eq!(L::derive(D::Completed, true, &[]), L::Ready);
        assert_eq!(L::derive(D::Completed, false, &[]), L::Superseded);
        assert_eq!(L::derive(D::Superseded, false, &[]), L::Superseded);
        assert_eq!(L::derive(D::Failed, false, &[]), L::Failed);
        assert_eq!(L::derive(D::Cancelled, false, &[]), L::Cancelled);
    }
}
