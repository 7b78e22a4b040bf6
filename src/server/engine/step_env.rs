//! What a step sees: the deployment's fields and meta as `FLIGHTDECK_*`
//! variables. Values go in the environment, never into the command text.
//! A pure function of what the runner read, so every variable is tested.

use crate::model::{Deployment, DeploymentId};
use crate::server::config::{DataDir, PreviewHosts};
use std::path::Path;

/// What the environment is made from, besides the deployment itself.
pub struct StepContext<'a> {
    pub deployment: &'a Deployment,
    pub site_slug: &'a str,
    /// The deployment the site serves now, if any.
    pub current: Option<DeploymentId>,
    pub data: &'a DataDir,
    pub preview_hosts: &'a PreviewHosts,
}

/// The variables every step of the deployment gets.
pub fn deployment_env(cx: &StepContext<'_>) -> Vec<(String, String)> {
    let d = cx.deployment;
    let data = cx.data;
    let path = |p: &Path| p.display().to_string();
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let mut env: Vec<(String, String)> = [
        ("DEPLOYMENT_ID", d.id.to_string()),
        ("TEAM_ID", d.team_id.to_string()),
        ("SITE_ID", d.site_id.to_string()),
        ("SITE_NAME", d.site_name.clone()),
        ("SITE_SLUG", cx.site_slug.to_string()),
        ("TYPE", d.pipeline_type.to_string()),
        ("OPERATION_NAME", d.operation_name.clone()),
        ("TRIGGER", d.trigger_kind.to_string()),
        ("TRIGGERED_BY", d.triggered_by.clone()),
        ("BRANCH", text(&d.branch)),
        ("COMMIT", text(&d.commit_sha)),
        ("REPOSITORY", text(&d.repository)),
        ("ARCHIVE_NAME", text(&d.archive_name)),
        (
            "PR_NUMBER",
            d.pr_number.map(|p| p.to_string()).unwrap_or_default(),
        ),
        ("DATA_DIR", path(data.root())),
        ("SITE_DIR", path(&data.site(d.site_id))),
        ("RELEASE_DIR", path(&data.release(d.id))),
        ("PREVIEW_URL", cx.preview_hosts.url(d.id)),
        ("REPORT", path(&data.report_file(d.id))),
        ("CAPSULE_DIR", path(&data.capsules(d.site_id))),
    ]
    .into_iter()
    .map(|(k, v)| (format!("FLIGHTDECK_{k}"), v))
    .collect();
    // An uploaded archive, unpacked and checked when it was received.
    if let Some(archive) = d.meta.archive_id {
        env.push((
            "FLIGHTDECK_ARCHIVE_DIR".into(),
            path(&data.archive(archive.0)),
        ));
    }
    // The files the site serves now, and those a copy is made from.
    for (key, id) in [
        ("FLIGHTDECK_CURRENT_DIR", cx.current),
        ("FLIGHTDECK_SOURCE_DIR", d.meta.source_deployment_id),
    ] {
        if let Some(id) = id {
            env.push((key.into(), path(&data.release(id))));
        }
    }
    env.extend(
        d.meta
            .scalars()
            .into_iter()
            .map(|(k, v)| (format!("FLIGHTDECK_META_{k}"), v)),
    );
    env.push(("FLIGHTDECK_META".into(), d.meta.to_json()));
    env
}

/// The variables of one step: its name, its number (from 1) and the
/// working directory it runs in.
pub fn step_vars(name: &str, number: i64, workspace: &Path) -> [(String, String); 3] {
    [
        ("FLIGHTDECK_STEP_NAME".into(), name.to_string()),
        ("FLIGHTDECK_STEP_NUMBER".into(), number.to_string()),
        (
            "FLIGHTDECK_WORKSPACE".into(),
            workspace.display().to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ArchiveId, DeploymentMeta, DeploymentStatus, PipelineType, SiteId, SourceKind, TeamId,
        TriggerKind,
    };
    use std::collections::HashMap;
    use ulid::Ulid;

    fn deployment(meta: DeploymentMeta) -> Deployment {
        Deployment {
            id: DeploymentId(Ulid::from_parts(10, 1)),
            team_id: TeamId(Ulid::from_parts(1, 1)),
            site_id: SiteId(Ulid::from_parts(2, 2)),
            site_name: "Web; rm -rf /".into(),
            user_id: None,
            pipeline_type: PipelineType::Deploy,
            status: DeploymentStatus::Running,
            operation_name: "Deploy $(whoami)".into(),
            meta,
            source_kind: SourceKind::Git,
            branch: Some("main".into()),
            commit_sha: None,
            repository: Some("https://github.com/acme/web".into()),
            archive_name: None,
            trigger_kind: TriggerKind::Push,
            triggered_by: "Push by ada".into(),
            pr_number: Some(7),
            error_message: None,
            preview_url: None,
            retry_of_id: None,
            superseded_by_id: None,
            version: 1,
            created_at: 0,
            started_at: None,
            finished_at: None,
            is_current: false,
            steps: Vec::new(),
        }
    }

    fn env_of(d: &Deployment, current: Option<DeploymentId>) -> HashMap<String, String> {
        let data = DataDir::new("/srv/fd").expect("data");
        let hosts = PreviewHosts::local(3000);
        let cx = StepContext {
            deployment: d,
            site_slug: "web",
            current,
            data: &data,
            preview_hosts: &hosts,
        };
        deployment_env(&cx).into_iter().collect()
    }

    #[test]
    fn a_step_sees_the_deployment_as_variables_with_values_as_they_are() {
        let d = deployment(DeploymentMeta::default());
        let env = env_of(&d, None);
        let id = d.id.to_string();
        assert_eq!(env["FLIGHTDECK_DEPLOYMENT_ID"], id);
        assert_eq!(env["FLIGHTDECK_SITE_NAME"], "Web; rm -rf /");
        assert_eq!(env["FLIGHTDECK_OPERATION_NAME"], "Deploy $(whoami)");
        assert_eq!(env["FLIGHTDECK_TRIGGER"], "push");
        assert_eq!(env["FLIGHTDECK_BRANCH"], "main");
        assert_eq!(env["FLIGHTDECK_COMMIT"], "");
        assert_eq!(env["FLIGHTDECK_PR_NUMBER"], "7");
        assert_eq!(env["FLIGHTDECK_DATA_DIR"], "/srv/fd");
        assert_eq!(
            env["FLIGHTDECK_RELEASE_DIR"],
            format!("/srv/fd/releases/{id}")
        );
        assert_eq!(
            env["FLIGHTDECK_REPORT"],
            format!("/srv/fd/workspaces/{id}.report")
        );
        assert_eq!(
            env["FLIGHTDECK_PREVIEW_URL"],
            format!("http://{}.preview.localhost:3000/", id.to_lowercase())
        );
        assert_eq!(env["FLIGHTDECK_META"], "{}");
        for absent in [
            "FLIGHTDECK_ARCHIVE_DIR",
            "FLIGHTDECK_CURRENT_DIR",
            "FLIGHTDECK_SOURCE_DIR",
        ] {
            assert!(!env.contains_key(absent), "{absent}");
        }
    }

    #[test]
    fn meta_gives_the_folders_an_operation_works_on() {
        let archive = ArchiveId(Ulid::from_parts(3, 3));
        let source = DeploymentId(Ulid::from_parts(4, 4));
        let current = DeploymentId(Ulid::from_parts(5, 5));
        let mut meta = DeploymentMeta {
            archive_id: Some(archive),
            source_deployment_id: Some(source),
            ..Default::default()
        };
        meta.other.insert("ticket".into(), "OPS-1".into());
        meta.other
            .insert("nested".into(), serde_json::json!({"a": 1}));
        let env = env_of(&deployment(meta), Some(current));
        assert_eq!(
            env["FLIGHTDECK_ARCHIVE_DIR"],
            format!("/srv/fd/archives/{archive}")
        );
        assert_eq!(
            env["FLIGHTDECK_SOURCE_DIR"],
            format!("/srv/fd/releases/{source}")
        );
        assert_eq!(
            env["FLIGHTDECK_CURRENT_DIR"],
            format!("/srv/fd/releases/{current}")
        );
        assert_eq!(env["FLIGHTDECK_META_ARCHIVE_ID"], archive.to_string());
        assert_eq!(env["FLIGHTDECK_META_TICKET"], "OPS-1");
        assert!(!env.contains_key("FLIGHTDECK_META_NESTED"));
        assert!(env["FLIGHTDECK_META"].contains("\"nested\":{\"a\":1}"));
    }

    #[test]
    fn each_step_knows_its_name_number_and_workspace() {
        let vars = step_vars("Build", 2, Path::new("/srv/fd/workspaces/x"));
        assert_eq!(vars[0], ("FLIGHTDECK_STEP_NAME".into(), "Build".into()));
        assert_eq!(vars[1], ("FLIGHTDECK_STEP_NUMBER".into(), "2".into()));
        assert_eq!(vars[2].1, "/srv/fd/workspaces/x");
    }
}
