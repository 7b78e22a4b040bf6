//! Deployments and their steps as the API and the pages see them.

use super::ids::{DeploymentId, SiteId, StepId, TeamId, UserId};
use super::log::OutputMark;
use super::meta::DeploymentMeta;

use super::status::{DeploymentStatus, LifecycleLabel, Phase, ReleaseRemoved, StepStatus};
use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// The pipeline a deployment runs; ordered as the types are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    pub meta: DeploymentMeta,
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
    /// A fork's pull request, queued until a member approves it; nothing
    /// of it runs before, and it does not make the site busy.
    #[serde(default)]
    pub awaiting_approval: bool,
    /// A push queued while its site is locked: it runs once the site is
    /// unlocked, and does not make the site busy meanwhile.
    #[serde(default)]
    pub waiting_for_unlock: bool,
    /// When and why its published files were removed (retention, or its
    /// pull request closed); `None` while they are kept.
    #[serde(default)]
    pub release_removed: Option<ReleaseRemoved>,
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
                || (self.is_preview() && self.status == DeploymentStatus::Completed);
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
                None if self.waits_for_approval() => {
                    format!("waiting for approval · {total} steps")
                }
                None if self.waits_for_unlock() => {
                    format!("waiting for unlock · {total} steps")
                }
                None if self.status == DeploymentStatus::Queued => {
                    format!("queued · {total} steps")
                }
                None => format!("starting · {total} steps"),
            },
        )
    }

    /// A fork's pull request that runs nothing until a member approves it.
    pub fn waits_for_approval(&self) -> bool {
        self.awaiting_approval && self.status == DeploymentStatus::Queued
    }

    /// A push held while its site is locked.
    pub fn waits_for_unlock(&self) -> bool {
        self.waiting_for_unlock && self.status == DeploymentStatus::Queued
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
    /// Lines of output left out before `output`.
    #[serde(default)]
    pub output_line: i64,
    /// When the parts of `output` were written.
    #[serde(default)]
    pub output_times: Vec<OutputMark>,
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
