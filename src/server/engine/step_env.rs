//! What a step sees: the deployment's fields and meta as `FLIGHTDECK_*`
//! variables, and the server paths it may use ([`places`]). Values go in the
//! environment, never into the command text, and a boxed step's
//! environment names no path it cannot reach. Pure functions of what the
//! runner read, so every variable is tested.

use super::sandbox::{Access, Mount};
use crate::model::{Deployment, DeploymentId, PipelineType};
use crate::server::config::{DataDir, PreviewHosts};
use std::path::{Path, PathBuf};

/// What the environment is made from, besides the deployment itself.
pub struct StepContext<'a> {
    pub deployment: &'a Deployment,
    pub site_slug: &'a str,
    /// The deployment the site serves now, if any.
    pub current: Option<DeploymentId>,
    pub data: &'a DataDir,
    pub preview_hosts: &'a PreviewHosts,
    /// The repository as a folder of the team's on this machine, when it
    /// is one (`DataDir::team_repository`).
    pub local_repository: Option<PathBuf>,
}

/// Whether a place is a folder or a single file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Folder,
    File,
}

/// One server path the steps of a deployment may use, and the variable
/// that names it (none for the repository, named by `FLIGHTDECK_REPOSITORY`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub var: Option<&'static str>,
    pub path: PathBuf,
    pub access: Access,
    pub shape: Shape,
}

impl Place {
    fn new(var: &'static str, path: PathBuf, access: Access, shape: Shape) -> Self {
        Self {
            var: Some(var),
            path,
            access,
            shape,
        }
    }

    /// How a sandbox shows it.
    pub fn mount(&self) -> Mount {
        Mount {
            path: self.path.clone(),
            access: self.access,
        }
    }
}

/// The paths the deployment's steps may use besides their workspace: its
/// report file and its site's folder; what it publishes to (a release) and
/// reads from (an upload, the release served now, a copy's source, the
/// site's capsules); and a local repository of the team's.
pub fn places(cx: &StepContext<'_>) -> Vec<Place> {
    use Access::{Read, Write};
    use Shape::{File, Folder};
    let d = cx.deployment;
    let data = cx.data;
    let mut places = vec![
        Place::new("REPORT", data.report_file(d.id), Write, File),
        Place::new("SITE_DIR", data.site(d.site_id), Write, Folder),
    ];
    if d.pipeline_type.publishes() {
        places.push(Place::new("RELEASE_DIR", data.release(d.id), Write, Folder));
    }
    match d.pipeline_type {
        PipelineType::TimeCapsule => {
            places.push(Place::new(
                "CAPSULE_DIR",
                data.capsules(d.site_id),
                Write,
                Folder,
            ));
        }
        PipelineType::Restore => {
            places.push(Place::new(
                "CAPSULE_DIR",
                data.capsules(d.site_id),
                Read,
                Folder,
            ));
        }
        _ => {}
    }
    if let Some(archive) = d.meta.archive_id {
        places.push(Place::new(
            "ARCHIVE_DIR",
            data.archive(archive.0),
            Read,
            Folder,
        ));
    }
    if let Some(current) = cx.current {
        places.push(Place::new(
            "CURRENT_DIR",
            data.release(current),
            Read,
            Folder,
        ));
    }
    if let Some(source) = d.meta.source_release() {
        places.push(Place::new("SOURCE_DIR", data.release(source), Read, Folder));
    }
    if let Some(repo) = &cx.local_repository {
        places.push(Place {
            var: None,
            path: repo.clone(),
            access: Read,
            shape: Folder,
        });
    }
    places
}

/// The variables every step of the deployment gets: its fields, its meta,
/// and the places it may use (`places`, those the runner prepared). A step
/// outside the sandbox also gets the data folder.
pub fn deployment_env(
    cx: &StepContext<'_>,
    places: &[Place],
    data_dir: bool,
) -> Vec<(String, String)> {
    let d = cx.deployment;
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
        ("PREVIEW_URL", cx.preview_hosts.url(d.id)),
    ]
    .into_iter()
    .map(|(k, v)| (format!("FLIGHTDECK_{k}"), v))
    .collect();
    if data_dir {
        env.push((
            "FLIGHTDECK_DATA_DIR".into(),
            cx.data.root().display().to_string(),
        ));
    }
    for place in places {
        if let Some(var) = place.var {
            env.push((
                format!("FLIGHTDECK_{var}"),
                place.path.display().to_string(),
            ));
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
/// working directory it runs in, which is also its home.
pub fn step_vars(name: &str, number: i64, workspace: &Path) -> [(String, String); 4] {
    let workspace = workspace.display().to_string();
    [
        ("FLIGHTDECK_STEP_NAME".into(), name.to_string()),
        ("FLIGHTDECK_STEP_NUMBER".into(), number.to_string()),
        ("FLIGHTDECK_WORKSPACE".into(), workspace.clone()),
        ("HOME".into(), workspace),
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
            awaiting_approval: false,
            waiting_for_unlock: false,
            release_removed: None,
            steps: Vec::new(),
        }
    }

    fn env_of(d: &Deployment, current: Option<DeploymentId>) -> HashMap<String, String> {
        env_with(d, current, true)
    }

    fn env_with(
        d: &Deployment,
        current: Option<DeploymentId>,
        data_dir: bool,
    ) -> HashMap<String, String> {
        let data = DataDir::new("/srv/fd").expect("data");
        let hosts = PreviewHosts::local(3000);
        let cx = StepContext {
            deployment: d,
            site_slug: "web",
            current,
            data: &data,
            preview_hosts: &hosts,
            local_repository: None,
        };
        deployment_env(&cx, &places(&cx), data_dir)
            .into_iter()
            .collect()
    }

    fn places_of(d: &Deployment) -> Vec<(Option<&'static str>, Access)> {
        let data = DataDir::new("/srv/fd").expect("data");
        let hosts = PreviewHosts::local(3000);
        let cx = StepContext {
            deployment: d,
            site_slug: "web",
            current: None,
            data: &data,
            preview_hosts: &hosts,
            local_repository: None,
        };
        places(&cx).into_iter().map(|p| (p.var, p.access)).collect()
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
            "FLIGHTDECK_CAPSULE_DIR",
        ] {
            assert!(!env.contains_key(absent), "{absent}");
        }
        // A boxed step is not told where the data folder is: it cannot reach it.
        assert!(!env_with(&d, None, false).contains_key("FLIGHTDECK_DATA_DIR"));
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
    fn each_operation_may_write_only_what_it_makes() {
        use Access::{Read, Write};
        let mut d = deployment(DeploymentMeta::default());
        let writes = |places: &[(Option<&'static str>, Access)]| -> Vec<&'static str> {
            places
                .iter()
                .filter(|(_, a)| *a == Write)
                .filter_map(|(v, _)| *v)
                .collect()
        };
        assert_eq!(
            writes(&places_of(&d)),
            ["REPORT", "SITE_DIR", "RELEASE_DIR"]
        );
        d.pipeline_type = PipelineType::Restart;
        assert_eq!(writes(&places_of(&d)), ["REPORT", "SITE_DIR"]);
        d.pipeline_type = PipelineType::TimeCapsule;
        assert_eq!(
            writes(&places_of(&d)),
            ["REPORT", "SITE_DIR", "CAPSULE_DIR"]
        );
        d.pipeline_type = PipelineType::Restore;
        assert!(places_of(&d).contains(&(Some("CAPSULE_DIR"), Read)));
        assert_eq!(
            writes(&places_of(&d)),
            ["REPORT", "SITE_DIR", "RELEASE_DIR"]
        );
        // A repository on the web is fetched, not mounted.
        assert!(places_of(&d).iter().all(|(v, _)| v.is_some()));
    }

    #[test]
    fn each_step_knows_its_name_number_workspace_and_home() {
        let vars = step_vars("Build", 2, Path::new("/srv/fd/workspaces/x"));
        assert_eq!(vars[0], ("FLIGHTDECK_STEP_NAME".into(), "Build".into()));
        assert_eq!(vars[1], ("FLIGHTDECK_STEP_NUMBER".into(), "2".into()));
        assert_eq!(vars[2].1, "/srv/fd/workspaces/x");
        assert_eq!(vars[3], ("HOME".into(), "/srv/fd/workspaces/x".into()));
    }
}
