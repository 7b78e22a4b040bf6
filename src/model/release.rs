//! A deployment's release: whether its files are still kept, why not, and
//! what that allows (a rollback to it, a promotion of a preview).

use super::deployment::{Deployment, PipelineType, TriggerKind};
use super::status::DeploymentStatus;

impl Deployment {
    /// A pull request's preview (it never becomes what the site serves).
    pub fn is_preview(&self) -> bool {
        self.trigger_kind == TriggerKind::PullRequest
    }

    /// A completed run whose files are served (at its preview URL, and as
    /// the site's when current) and still kept.
    pub fn has_release(&self) -> bool {
        self.pipeline_type.publishes()
            && matches!(
                self.status,
                DeploymentStatus::Completed | DeploymentStatus::Superseded
            )
            && self.release_removed.is_none()
    }

    /// What a page says of files that are gone.
    pub fn release_removed_note(&self) -> Option<String> {
        Some(self.release_removed?.reason.sentence(self.pr_number))
    }

    /// Why "Roll back to this deployment" is not offered, or `None` when
    /// it is: an earlier deploy of the site (not a preview) whose release
    /// is still kept and which the site does not serve now.
    pub fn rollback_refusal(&self) -> Option<String> {
        if !self.pipeline_type.publishes() || self.is_preview() {
            return Some("Only a deploy of the site itself can be rolled back to.".into());
        }
        if !matches!(
            self.status,
            DeploymentStatus::Completed | DeploymentStatus::Superseded
        ) {
            return Some("Only a completed deploy can be rolled back to.".into());
        }
        if self.is_current {
            return Some("The site serves this deployment now.".into());
        }
        if self.release_removed.is_some() {
            return Some(
                "Its release is no longer kept, so it cannot be published again: deploy its commit instead."
                    .into(),
            );
        }
        None
    }

    /// Why "Promote to production" is not offered for a pull request's
    /// preview, or `None` when it is.
    pub fn promote_refusal(&self) -> Option<String> {
        if !self.is_preview() || self.pipeline_type != PipelineType::Deploy {
            return Some("Only a pull request's preview can be promoted.".into());
        }
        if self.status != DeploymentStatus::Completed {
            return Some("Only a completed preview can be promoted.".into());
        }
        if self.release_removed.is_some() {
            return Some("Its preview is no longer kept, so it cannot be promoted.".into());
        }
        None
    }
}
