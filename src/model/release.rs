//! A deployment's release: whether its files are still kept, why not, and
//! what that allows (a rollback to it, a promotion of a preview).

use super::deployment::{Deployment, PipelineType, TriggerKind};
use super::status::DeploymentStatus;

impl Deployment {
    /// A pull request's preview (it never becomes what the site serves).
    pub fn is_preview(&self) -> bool {
        self.trigger_kind == TriggerKind::PullRequest
    }

    /// What a page says of files that are gone.
    pub fn release_removed_note(&self) -> Option<String> {
        Some(self.release_removed?.reason.sentence(self.pr_number))
    }

    /// Whether the page offers "Roll back to this deployment": an earlier
    /// completed deploy of the site itself (not a preview) that the site
    /// does not serve now. Once its release is gone the button stays,
    /// disabled, with [`Deployment::rollback_refusal`] saying why.
    pub fn offers_rollback(&self) -> bool {
        self.rollback_target_refusal().is_none()
    }

    /// Why a rollback to this deployment is refused, or `None` when it can
    /// be published again.
    pub fn rollback_refusal(&self) -> Option<String> {
        self.rollback_target_refusal().or_else(|| {
            self.release_removed.map(|_| {
                "Its release is no longer kept, so it cannot be published again: deploy its commit instead."
                    .into()
            })
        })
    }

    fn rollback_target_refusal(&self) -> Option<String> {
        if !self.pipeline_type.publishes() || self.is_preview() {
            return Some("Only a deploy of the site itself can be rolled back to.".into());
        }
        if !matches!(
            self.status,
            DeploymentStatus::Completed | DeploymentStatus::Superseded
        ) {
            return Some("Only a completed deploy can be rolled back to.".into());
        }
        self.is_current
            .then(|| "The site serves this deployment now.".into())
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
        self.release_removed
            .map(|_| "Its preview is no longer kept, so it cannot be promoted.".into())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::live::tests::deployment;
    use crate::model::{DeploymentStatus, ReleaseRemoved, RemovalReason, TriggerKind};

    #[test]
    fn only_an_earlier_kept_deploy_of_the_site_can_be_rolled_back_to() {
        let mut d = deployment(1, 1);
        d.status = DeploymentStatus::Superseded;
        assert!(d.offers_rollback() && d.rollback_refusal().is_none());
        d.release_removed = Some(ReleaseRemoved {
            at: 1,
            reason: RemovalReason::Expired,
        });
        assert!(d.offers_rollback(), "offered, disabled");
        assert!(
            d.rollback_refusal()
                .expect("refused")
                .contains("no longer kept")
        );
        d.release_removed = None;
        d.is_current = true;
        assert!(!d.offers_rollback());
        d.is_current = false;
        for status in [DeploymentStatus::Failed, DeploymentStatus::Running] {
            d.status = status;
            assert!(d.rollback_refusal().is_some(), "{status}");
        }
        d.status = DeploymentStatus::Completed;
        d.trigger_kind = TriggerKind::PullRequest;
        assert!(!d.offers_rollback(), "a preview is promoted instead");
        assert!(d.promote_refusal().is_none());
        d.release_removed = Some(ReleaseRemoved {
            at: 1,
            reason: RemovalReason::PullRequestClosed,
        });
        assert!(d.promote_refusal().is_some());
        d.pr_number = Some(7);
        assert_eq!(
            d.release_removed_note().as_deref(),
            Some("This preview was removed when pull request #7 closed.")
        );
    }
}
