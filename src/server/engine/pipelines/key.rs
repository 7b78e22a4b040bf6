//! Which pipeline a deployment's steps come from.

use crate::model::PipelineType;

/// What a pipelines file defines: one pipeline per type, and the two that
/// publish a kept release again as a deploy of its own, with no build:
/// `rollback` (an earlier deploy) and `promote` (a pull request's preview).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PipelineKey {
    Type(PipelineType),
    Rollback,
    Promote,
}

impl PipelineKey {
    /// Every key a complete set of pipelines defines.
    pub fn all() -> impl Iterator<Item = Self> {
        PipelineType::ALL
            .iter()
            .map(|t| Self::Type(*t))
            .chain([Self::Rollback, Self::Promote])
    }

    pub(super) fn parse(key: &str) -> Option<Self> {
        match key {
            "rollback" => Some(Self::Rollback),
            "promote" => Some(Self::Promote),
            other => PipelineType::parse(other).map(Self::Type),
        }
    }

    /// Rollbacks and promotions are deploys, so their steps have phases too.
    pub(super) fn is_deploy(self) -> bool {
        matches!(
            self,
            Self::Type(PipelineType::Deploy) | Self::Rollback | Self::Promote
        )
    }
}

impl std::fmt::Display for PipelineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Type(t) => t.fmt(f),
            Self::Rollback => f.write_str("rollback"),
            Self::Promote => f.write_str("promote"),
        }
    }
}
