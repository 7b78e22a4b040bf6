//! Every path Flightdeck keeps on disk, in one place.
//!
//! The folder is made absolute when the server starts: each step runs in a
//! working directory of its own, so a relative path handed to a step (a
//! demo repository, a release folder) would point somewhere else.

use crate::model::{DeploymentId, SiteId, TeamId};
use std::path::{Path, PathBuf};

/// The data folder (`FLIGHTDECK_DATA_DIR`, `./data` by default) and the
/// layout inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The folder at `path`, absolute (relative to the current directory
    /// when `path` is relative). Nothing is created yet.
    pub fn new(path: impl AsRef<Path>) -> Result<Self, String> {
        let path = path.as_ref();
        let root = std::path::absolute(path)
            .map_err(|e| format!("cannot resolve the data folder {}: {e}", path.display()))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The token that ties this folder to its database: every instance
    /// sharing a database must see the same folder (see `startup`).
    pub fn token_file(&self) -> PathBuf {
        self.root.join(".flightdeck-data-token")
    }

    /// The embedded database's file.
    pub fn database_file(&self) -> PathBuf {
        self.root.join("flightdeck.db")
    }

    /// Local git repositories, one folder per team.
    pub fn repos(&self) -> PathBuf {
        self.root.join("repos")
    }

    /// A team's local repositories: the only folder its sites may deploy
    /// from by a path on this machine.
    pub fn team_repos(&self, team: TeamId) -> PathBuf {
        self.repos().join(team.to_string())
    }

    /// `repository` as the git repository it names inside the team's
    /// folder (canonical: no `..`, no link leading out), or `None` for
    /// anything else, a URL included.
    pub fn team_repository(&self, team: TeamId, repository: &str) -> Option<PathBuf> {
        if !repository.starts_with('/') {
            return None;
        }
        let root = std::fs::canonicalize(self.team_repos(team)).ok()?;
        let path = std::fs::canonicalize(repository).ok()?;
        let is_repo = path.join(".git").exists() || path.join("HEAD").is_file();
        (path.starts_with(&root) && path != root && is_repo).then_some(path)
    }

    /// Where a deployment's steps run; removed when it ends.
    pub fn workspace(&self, id: DeploymentId) -> PathBuf {
        self.root.join("workspaces").join(id.to_string())
    }

    /// A file a step may write `key=value` lines to (`commit=<sha>`); kept
    /// beside the workspace, not in it, so a step's cleanup cannot lose it.
    pub fn report_file(&self, id: DeploymentId) -> PathBuf {
        self.root.join("workspaces").join(format!("{id}.report"))
    }

    /// The folder a deployment's output is published to and served from.
    pub fn release(&self, id: DeploymentId) -> PathBuf {
        self.root.join("releases").join(id.to_string())
    }

    /// Uploaded archives, unpacked and checked.
    pub fn archives(&self) -> PathBuf {
        self.root.join("archives")
    }

    /// The folder one uploaded archive was unpacked into.
    pub fn archive(&self, id: ulid::Ulid) -> PathBuf {
        self.archives().join(id.to_string())
    }

    /// Where an upload is unpacked before it is accepted; a refused upload
    /// never reaches [`DataDir::archive`].
    pub fn incoming_archive(&self, id: ulid::Ulid) -> PathBuf {
        self.archives().join(format!(".incoming-{id}"))
    }

    /// A site's time capsules (`<capsule id>.tar.gz`).
    pub fn capsules(&self, site: SiteId) -> PathBuf {
        self.root.join("capsules").join(site.to_string())
    }

    /// A site's own folder, made by its `create_site` pipeline.
    pub fn site(&self, site: SiteId) -> PathBuf {
        self.root.join("sites").join(site.to_string())
    }
}

/// The bytes the files under `path` take (links are not followed; a
/// missing folder is 0). Blocking: call it from `spawn_blocking`.
pub fn folder_bytes(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => total += entry.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_data_dir_becomes_absolute_and_every_path_is_inside_it() {
        let data = DataDir::new("data").expect("data dir");
        assert!(data.root().is_absolute());
        assert!(data.root().ends_with("data"));
        let id = DeploymentId::new();
        let site = SiteId::new();
        for path in [
            data.database_file(),
            data.repos(),
            data.team_repos(crate::model::TeamId::new()),
            data.workspace(id),
            data.report_file(id),
            data.release(id),
            data.archive(ulid::Ulid::new()),
            data.incoming_archive(ulid::Ulid::new()),
            data.capsules(site),
            data.site(site),
        ] {
            assert!(path.starts_with(data.root()), "{}", path.display());
        }
    }

    #[test]
    fn a_folders_bytes_count_its_files_and_not_what_a_link_points_to() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        std::fs::write(dir.path().join("a/one"), [0u8; 100]).expect("file");
        std::fs::write(dir.path().join("a/b/two"), [0u8; 23]).expect("file");
        let outside = tempfile::tempdir().expect("outside");
        std::fs::write(outside.path().join("big"), [0u8; 5000]).expect("file");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("a/link")).expect("link");
        assert_eq!(folder_bytes(dir.path()), 123);
        assert_eq!(folder_bytes(&dir.path().join("missing")), 0);
    }

    #[test]
    fn a_team_deploys_only_repositories_in_its_own_folder() {
        let dir = tempfile::tempdir().expect("dir");
        let data = DataDir::new(dir.path()).expect("data");
        let (mine, theirs) = (TeamId::new(), TeamId::new());
        for team in [mine, theirs] {
            let repo = data.team_repos(team).join("web");
            std::fs::create_dir_all(repo.join(".git")).expect("repo");
        }
        let own = data.team_repos(mine).join("web");
        let other = data.team_repos(theirs).join("web");
        assert_eq!(
            data.team_repository(mine, &own.display().to_string()),
            Some(std::fs::canonicalize(&own).expect("canonical"))
        );
        for refused in [
            other.display().to_string(),
            format!("{}/../{}/web", data.team_repos(mine).display(), theirs),
            data.team_repos(mine).display().to_string(),
            "/etc".to_string(),
            "https://github.com/acme/web".to_string(),
        ] {
            assert_eq!(data.team_repository(mine, &refused), None, "{refused}");
        }
    }
}
