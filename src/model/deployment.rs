//! Deployments, their steps, and the status machines every write goes through.

use super::ids::{DeploymentId, SiteId, StepId, TeamId, UserId};
use serde::{Deserialize, Serialize};

/// Generates `as_str`, `parse` and `ALL` for a lowercase-word enum stored as text.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

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

/// The pipeline a deployment runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineType {
    Deploy,
    CreateSite,
    CloneSite,
    CreateStaging,
    TimeCapsule,
    Restore,
    Restart,
    Stop,
}

text_enum!(PipelineType {
    Deploy => "deploy",
    CreateSite => "create_site",
    CloneSite => "clone_site",
    CreateStaging => "create_staging",
    TimeCapsule => "time_capsule",
    Restore => "restore",
    Restart => "restart",
    Stop => "stop",
});

impl PipelineType {
    /// Whether a completed run of this type publishes files that are served
    /// (at its own preview URL, and as the site's current deployment).
    pub fn publishes(self) -> bool {
        matches!(
            self,
            Self::Deploy | Self::Restore | Self::CloneSite | Self::CreateStaging
        )
    }

    /// How the type reads in a list: "Create staging", not "create_staging".
    pub fn label(self) -> &'static str {
        match self {
            Self::Deploy => "Deploy",
            Self::CreateSite => "Create site",
            Self::CloneSite => "Clone site",
            Self::CreateStaging => "Create staging",
            Self::TimeCapsule => "Time capsule",
            Self::Restore => "Restore",
            Self::Restart => "Restart",
            Self::Stop => "Stop",
        }
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

/// Where the code of a deployment came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Git,
    Archive,
    /// Lifecycle operations (restart, stop, ...) that deploy no code.
    None,
}

text_enum!(SourceKind {
    Git => "git",
    Archive => "archive",
    None => "none",
});

/// What started a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A person, in the browser or through the API.
    Manual,
    /// The first deploy right after a site is created.
    SiteCreated,
    /// A GitHub push webhook.
    Push,
    /// A GitHub pull request webhook.
    PullRequest,
}

text_enum!(TriggerKind {
    Manual => "manual",
    SiteCreated => "site_created",
    Push => "push",
    PullRequest => "pull_request",
});

impl TriggerKind {
    /// Automatic triggers wait in the queue for a busy site; manual ones are refused.
    pub fn is_automatic(self) -> bool {
        !matches!(self, Self::Manual)
    }
}

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

/// One pipeline run on a site, as the API and the pages see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: DeploymentId,
    pub team_id: TeamId,
    pub site_id: SiteId,
    pub site_name: String,
    /// Empty for automatic triggers.
    pub user_id: Option<UserId>,
    #[serde(rename = "type")]
    pub pipeline_type: PipelineType,
    pub status: DeploymentStatus,
    pub operation_name: String,
    pub meta: serde_json::Value,
    pub source_kind: SourceKind,
    pub branch: Option<String>,
    pub commit_sha: Option<String>,
    pub repository: Option<String>,
    pub archive_name: Option<String>,
    pub trigger_kind: TriggerKind,
    pub triggered_by: String,
    pub pr_number: Option<i64>,
    pub error_message: Option<String>,
    pub preview_url: Option<String>,
    pub retry_of_id: Option<DeploymentId>,
    pub superseded_by_id: Option<DeploymentId>,
    /// Bumped by every change, so an older event never overwrites a newer state.
    pub version: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Whether the site currently serves this deployment.
    pub is_current: bool,
    /// Steps with their status; `output` is left empty in lists.
    pub steps: Vec<DeploymentStep>,
}

impl Deployment {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// The lifecycle label, for deploy pipelines only.
    pub fn lifecycle(&self) -> Option<LifecycleLabel> {
        (self.pipeline_type == PipelineType::Deploy).then(|| {
            let steps: Vec<_> = self.steps.iter().map(|s| (s.phase, s.status)).collect();
            // A pull request's preview is ready at its own URL without
            // ever becoming the site's current deployment.
            let serving = self.is_current
                || (self.trigger_kind == TriggerKind::PullRequest
                    && self.status == DeploymentStatus::Completed);
            LifecycleLabel::derive(self.status, serving, &steps)
        })
    }

    /// Milliseconds from the first step's start to the end, once finished.
    pub fn duration_ms(&self) -> Option<i64> {
        Some(self.finished_at? - self.started_at?)
    }

    /// Milliseconds the build phase took: from the first step's start to
    /// the end of the last build step (the whole run when no step is
    /// marked as deploy); `None` while a build step still runs.
    pub fn build_duration_ms(&self) -> Option<i64> {
        let building = self
            .steps
            .iter()
            .any(|s| s.phase != Some(Phase::Deploy) && s.status == StepStatus::Running);
        if building {
            return None;
        }
        let start = self.steps.iter().filter_map(|s| s.started_at).min()?;
        let end = self
            .steps
            .iter()
            .filter(|s| s.phase != Some(Phase::Deploy))
            .filter_map(|s| s.finished_at)
            .max()?;
        Some(end - start)
    }

    /// "step 2 of 5: Build" while active, `None` once finished.
    pub fn progress(&self) -> Option<String> {
        if self.is_finished() {
            return None;
        }
        let total = self.steps.len();
        Some(
            match self
                .steps
                .iter()
                .position(|s| s.status == StepStatus::Running)
            {
                Some(i) => format!("step {} of {total}: {}", i + 1, self.steps[i].name),
                None if self.status == DeploymentStatus::Queued => {
                    format!("queued · {total} steps")
                }
                None => format!("starting · {total} steps"),
            },
        )
    }

    /// Queued and running deployments can be cancelled.
    pub fn can_cancel(&self) -> bool {
        !self.is_finished()
    }

    /// A failed or cancelled deployment can be run again as it was.
    pub fn can_retry(&self) -> bool {
        matches!(
            self.status,
            DeploymentStatus::Failed | DeploymentStatus::Cancelled
        )
    }

    /// A deploy that completed (current or since replaced) can be deployed again.
    pub fn can_redeploy(&self) -> bool {
        self.pipeline_type == PipelineType::Deploy
            && matches!(
                self.status,
                DeploymentStatus::Completed | DeploymentStatus::Superseded
            )
    }

    /// The commit's page on GitHub, when the repository is on GitHub.
    pub fn commit_url(&self) -> Option<String> {
        let sha = self.commit_sha.as_deref()?;
        let base = github_web_url(self.repository.as_deref()?)?;
        sha.chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| format!("{base}/commit/{sha}"))
    }

    /// The pull request's page on GitHub, when the repository is on GitHub.
    pub fn pr_url(&self) -> Option<String> {
        let n = self.pr_number?;
        let base = github_web_url(self.repository.as_deref()?)?;
        Some(format!("{base}/pull/{n}"))
    }

    /// The step to show open: the failed one, else the running one.
    pub fn focus_step(&self) -> Option<StepId> {
        self.steps
            .iter()
            .find(|s| s.status == StepStatus::Failed)
            .or_else(|| self.steps.iter().find(|s| s.status == StepStatus::Running))
            .map(|s| s.id)
    }
}

/// `https://github.com/<owner>/<repo>` for a GitHub repository given as an
/// https or ssh URL; `None` for anything else. Only the characters GitHub
/// allows in names pass, so the link cannot point anywhere unexpected.
pub fn github_web_url(repository: &str) -> Option<String> {
    let r = repository.trim();
    let path = r
        .strip_prefix("https://github.com/")
        .or_else(|| r.strip_prefix("http://github.com/"))
        .or_else(|| r.strip_prefix("git@github.com:"))
        .or_else(|| r.strip_prefix("ssh://git@github.com/"))?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, repo) = path.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(repo) && !repo.contains('/'))
        .then(|| format!("https://github.com/{owner}/{repo}"))
}

/// One ordered step of a deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentStep {
    pub id: StepId,
    pub deployment_id: DeploymentId,
    pub name: String,
    pub phase: Option<Phase>,
    pub status: StepStatus,
    pub sort_order: i64,
    pub output: String,
    /// Bytes of output left out before `output` (pages show a long log's tail).
    #[serde(default)]
    pub output_offset: i64,
    pub version: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// One page of a deployment history, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentPage {
    pub deployments: Vec<Deployment>,
    /// Pass back as `cursor` to get the next (older) page.
    pub next_cursor: Option<DeploymentId>,
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
    fn text_forms_round_trip() {
        for &s in D::ALL {
            assert_eq!(D::parse(s.as_str()), Some(s));
        }
        for &p in PipelineType::ALL {
            assert_eq!(PipelineType::parse(p.as_str()), Some(p));
        }
        assert_eq!(D::parse("Running"), None);
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

    #[test]
    fn github_links_are_built_only_for_github_repositories() {
        let web = "https://github.com/acme/web";
        assert_eq!(
            github_web_url("https://github.com/acme/web.git").as_deref(),
            Some(web)
        );
        assert_eq!(
            github_web_url("git@github.com:acme/web.git").as_deref(),
            Some(web)
        );
        assert_eq!(
            github_web_url("https://github.com/acme/web/").as_deref(),
            Some(web)
        );
        assert_eq!(github_web_url("https://gitlab.com/acme/web"), None);
        assert_eq!(github_web_url("/srv/git/web"), None);
        assert_eq!(github_web_url("https://github.com/acme/web/tree/x"), None);
        assert_eq!(github_web_url("https://github.com/acme/\"javascript"), None);
    }
}
