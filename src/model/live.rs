//! The live channel's messages and how a page folds them into what it
//! shows. Pure, so the rules (newer versions win, output appends at its
//! offset) are unit-tested here and shared by every page. It is over
//! 400 lines because those tests build whole records beside the rules
//! they check.

use super::deployment::{Deployment, DeploymentStep};
use super::ids::StepId;
use super::log::OutputMark;
use super::site::SiteLockState;
use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// What a stored change event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Deployment,
    Step,
    Output,
    SiteLock,
}

text_enum!(EventKind {
    Deployment => "deployment",
    Step => "step",
    Output => "output",
    SiteLock => "site_lock",
});

/// A committed change as the event log stores it: a [`LiveMessage`]
/// without its stream position, which the log assigns at commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Deployment {
        deployment: Box<Deployment>,
    },
    Step {
        step: DeploymentStep,
    },
    Output {
        step_id: StepId,
        offset: i64,
        text: String,
        /// When the parts of `text` were written (offsets in the whole output).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        times: Vec<OutputMark>,
    },
    SiteLock {
        site: SiteLockState,
    },
}

impl Change {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Deployment { .. } => EventKind::Deployment,
            Self::Step { .. } => EventKind::Step,
            Self::Output { .. } => EventKind::Output,
            Self::SiteLock { .. } => EventKind::SiteLock,
        }
    }

    /// The id of the record it changes, as stored beside it.
    pub fn record_id(&self) -> String {
        match self {
            Self::Deployment { deployment } => deployment.id.to_string(),
            Self::Step { step } => step.id.to_string(),
            Self::Output { step_id, .. } => step_id.to_string(),
            Self::SiteLock { site } => site.site_id.to_string(),
        }
    }

    /// The message that brings a page to `position`.
    pub fn at(self, position: i64) -> LiveMessage {
        match self {
            Self::Deployment { deployment } => LiveMessage::Deployment {
                position,
                deployment,
            },
            Self::Step { step } => LiveMessage::Step { position, step },
            Self::Output {
                step_id,
                offset,
                text,
                times,
            } => LiveMessage::Output {
                position,
                step_id,
                offset,
                text,
                times,
            },
            Self::SiteLock { site } => LiveMessage::SiteLock { position, site },
        }
    }
}

/// One message from `/ws`. Every one carries the stream `position` it
/// brings the page up to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    /// First message: where the stream continues, and the server's build.
    Hello {
        position: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build: Option<String>,
    },
    /// Sent on an idle connection, so both ends know it is alive.
    Heartbeat { position: i64 },
    /// The page cannot be brought up to date by messages: refetch, then
    /// reconnect without a position.
    Reset {
        position: i64,
        #[serde(default)]
        reason: Option<String>,
    },
    /// A deployment changed; its steps come without output.
    Deployment {
        position: i64,
        deployment: Box<Deployment>,
    },
    /// A step changed; without its output.
    Step { position: i64, step: DeploymentStep },
    /// Output appended to a step: `text` starts at byte `offset`, its
    /// parts written at `times`.
    Output {
        position: i64,
        step_id: StepId,
        offset: i64,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        times: Vec<OutputMark>,
    },
    /// A site was locked or unlocked.
    SiteLock { position: i64, site: SiteLockState },
}

impl LiveMessage {
    pub fn position(&self) -> i64 {
        match self {
            Self::Hello { position, .. }
            | Self::Heartbeat { position }
            | Self::Reset { position, .. }
            | Self::Deployment { position, .. }
            | Self::Step { position, .. }
            | Self::Output { position, .. }
            | Self::SiteLock { position, .. } => *position,
        }
    }
}

/// A step as the page knows it, updated from a step record without output:
/// a newer version replaces the state, the output stays.
fn merge_step(known: &mut DeploymentStep, incoming: &DeploymentStep) {
    if incoming.version > known.version {
        let output = std::mem::take(&mut known.output);
        let offset = known.output_offset;
        *known = incoming.clone();
        known.output = output;
        known.output_offset = offset;
    }
}

/// Folds a newer record of the same deployment into the one shown,
/// keeping the output the page already has. Returns whether anything changed.
pub fn apply_deployment(known: &mut Deployment, incoming: &Deployment) -> bool {
    if incoming.id != known.id {
        return false;
    }
    let mut changed = false;
    if incoming.version > known.version {
        let steps = std::mem::take(&mut known.steps);
        *known = incoming.clone();
        known.steps = steps;
        changed = true;
    }
    for step in &incoming.steps {
        changed |= apply_step(known, step);
    }
    changed
}

/// Folds a step record into its deployment. Returns whether it changed.
pub fn apply_step(known: &mut Deployment, step: &DeploymentStep) -> bool {
    if step.deployment_id != known.id {
        return false;
    }
    match known.steps.iter_mut().find(|s| s.id == step.id) {
        Some(s) if step.version > s.version => {
            merge_step(s, step);
            true
        }
        Some(_) => false,
        None => {
            known.steps.push(step.clone());
            known.steps.sort_by_key(|s| s.sort_order);
            true
        }
    }
}

/// Folds a deployment into a history list, newest first: a known one is
/// replaced when newer; an unknown one is added when `accept` says it
/// belongs on this page. Returns whether the list changed.
pub fn merge_into_list(
    list: &mut Vec<Deployment>,
    incoming: &Deployment,
    accept: impl Fn(&Deployment) -> bool,
) -> bool {
    if let Some(known) = list.iter_mut().find(|d| d.id == incoming.id) {
        return apply_deployment(known, incoming);
    }
    if !accept(incoming) {
        return false;
    }
    let at = list
        .iter()
        .position(|d| d.id < incoming.id)
        .unwrap_or(list.len());
    list.insert(at, incoming.clone());
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::deployment::{PipelineType, SourceKind, TriggerKind};
    use crate::model::ids::{DeploymentId, SiteId, TeamId};
    use crate::model::status::{DeploymentStatus, StepStatus};
    use ulid::Ulid;

    /// A running manual deploy, for the model's unit tests.
    pub(crate) fn deployment(n: u64, version: i64) -> Deployment {
        let id = DeploymentId(Ulid::from_parts(n, 1));
        Deployment {
            id,
            team_id: TeamId(Ulid::from_parts(1, 1)),
            site_id: SiteId(Ulid::from_parts(1, 2)),
            site_name: "Web".into(),
            user_id: None,
            pipeline_type: PipelineType::Deploy,
            status: DeploymentStatus::Running,
            operation_name: "Deploy main".into(),
            meta: Default::default(),
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
            version,
            created_at: 0,
            started_at: None,
            finished_at: None,
            is_current: false,
            awaiting_approval: false,
            waiting_for_unlock: false,
            release_removed: None,
            steps: vec![step(id, 1, 1, "")],
        }
    }

    fn step(deployment_id: DeploymentId, n: u64, version: i64, output: &str) -> DeploymentStep {
        DeploymentStep {
            id: StepId(Ulid::from_parts(n, 9)),
            deployment_id,
            name: "Build".into(),
            phase: None,
            status: StepStatus::Running,
            sort_order: n as i64,
            output: output.into(),
            output_offset: 0,
            output_line: 0,
            output_times: Vec::new(),
            version,
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn an_older_version_never_overwrites_a_newer_state() {
        let mut shown = deployment(5, 3);
        shown.status = DeploymentStatus::Completed;
        let mut stale = deployment(5, 2);
        stale.status = DeploymentStatus::Running;
        assert!(!apply_deployment(&mut shown, &stale));
        assert_eq!(shown.status, DeploymentStatus::Completed);
        let mut newer = deployment(5, 4);
        newer.status = DeploymentStatus::Superseded;
        assert!(apply_deployment(&mut shown, &newer));
        assert_eq!(shown.status, DeploymentStatus::Superseded);
    }

    #[test]
    fn a_deployment_record_keeps_the_output_the_page_has() {
        let mut shown = deployment(5, 1);
        shown.steps[0].output = "compiling\n".into();
        let mut newer = deployment(5, 2);
        newer.steps[0].version = 2;
        newer.steps[0].status = StepStatus::Completed;
        apply_deployment(&mut shown, &newer);
        assert_eq!(shown.steps[0].status, StepStatus::Completed);
        assert_eq!(shown.steps[0].output, "compiling\n");
    }

    #[test]
    fn new_deployments_join_a_list_in_id_order_when_they_belong() {
        let mut list = vec![deployment(9, 1), deployment(5, 1)];
        assert!(merge_into_list(&mut list, &deployment(7, 1), |_| true));
        assert!(merge_into_list(&mut list, &deployment(12, 1), |_| true));
        assert!(!merge_into_list(&mut list, &deployment(13, 1), |_| false));
        let order: Vec<_> = list.iter().map(|d| d.id.0.timestamp_ms()).collect();
        assert_eq!(order, [12, 9, 7, 5]);
        assert!(
            !merge_into_list(&mut list, &deployment(9, 1), |_| true),
            "same version: no change"
        );
    }

    #[test]
    fn messages_read_as_the_readme_documents_them() {
        let m: LiveMessage =
            serde_json::from_str(r#"{"type":"hello","position":42}"#).expect("hello");
        assert!(matches!(m, LiveMessage::Hello { position: 42, .. }));
        let m: LiveMessage =
            serde_json::from_str(r#"{"position":7,"type":"output","step_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","offset":3,"text":"hi"}"#)
                .expect("output");
        assert_eq!(m.position(), 7);
        let m: LiveMessage =
            serde_json::from_str(r#"{"type":"reset","position":9,"reason":"behind"}"#)
                .expect("reset");
        assert!(matches!(m, LiveMessage::Reset { .. }));
    }

    #[test]
    fn a_stored_change_becomes_the_message_of_its_position() {
        let d = deployment(5, 3);
        let change = Change::Deployment {
            deployment: Box::new(d.clone()),
        };
        assert_eq!(change.kind(), EventKind::Deployment);
        assert_eq!(change.record_id(), d.id.to_string());
        let stored = serde_json::to_string(&change).expect("json");
        let back: Change = serde_json::from_str(&stored).expect("parses");
        let wire = serde_json::to_string(&back.at(12)).expect("json");
        let message: LiveMessage = serde_json::from_str(&wire).expect("a live message");
        assert_eq!(
            message,
            LiveMessage::Deployment {
                position: 12,
                deployment: Box::new(d)
            }
        );
    }
}
