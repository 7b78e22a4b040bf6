//! Every path Flightdeck keeps on disk, in one place.
//!
//! The folder is made absolute when the server starts: each step runs in a
//! working directory of its own, so a relative path handed to a step (a
//! demo repository, a release folder) would point somewhere else.

use crate::model::{DeploymentId, SiteId};
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

    /// The embedded database's file.
    pub fn database_file(&self) -> PathBuf {
        self.root.join("flightdeck.db")
    }

    /// Local git repositories: the only folder a site's repository may name
    /// as a path on this machine.
    pub fn repos(&self) -> PathBuf {
        self.root.join("repos")
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
}
