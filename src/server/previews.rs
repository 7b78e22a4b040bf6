//! Deployed sites, on an origin of their own: every completed deploy at
//! `<deployment id>.<preview domain>`, never changing afterwards, and each
//! site's current deployment at `<site id>.<preview domain>`. What a
//! preview host names, and which file a path leads to; the responses are
//! made in `web::previews`.
//!
//! No path leads out of the release's folder.

use super::store::{Db, releases, sites};
use crate::model::{DeploymentId, RemovalReason, SiteId, SiteState};
use std::path::{Component, Path, PathBuf};

/// What a preview host names.
pub enum Target {
    /// The release of this deployment.
    Release(DeploymentId),
    /// A deployment whose files were removed, and why.
    Removed {
        reason: RemovalReason,
        pr_number: Option<i64>,
    },
    /// A stopped site.
    Stopped,
    /// A site with no completed deploy yet.
    NothingYet,
    Unknown,
}

pub async fn resolve(db: &Db, label: &str) -> Result<Target, sqlx::Error> {
    let Ok(ulid) = ulid::Ulid::from_string(label) else {
        return Ok(Target::Unknown);
    };
    match releases::published(db, DeploymentId(ulid)).await? {
        releases::Published::Kept => return Ok(Target::Release(DeploymentId(ulid))),
        releases::Published::Removed { reason, pr_number } => {
            return Ok(Target::Removed { reason, pr_number });
        }
        releases::Published::No => {}
    }
    Ok(match sites::serving(db, SiteId(ulid)).await? {
        None => Target::Unknown,
        Some((_, SiteState::Stopped)) => Target::Stopped,
        Some((None, _)) => Target::NothingYet,
        Some((Some(id), _)) => Target::Release(id),
    })
}

pub enum Found {
    File(PathBuf),
    /// A folder asked for without its trailing slash.
    Directory,
    Nothing,
}

/// The file a URL path names inside `root` (canonical): `index.html` for a
/// folder, `<path>.html` for a clean URL. Anything that resolves outside
/// `root` (`..`, a link leading out) is not there.
pub async fn locate(root: &Path, uri_path: &str) -> Found {
    let Some(relative) = relative_path(uri_path) else {
        return Found::Nothing;
    };
    let wants_dir = uri_path.ends_with('/');
    let candidate = root.join(&relative);
    let inside = |p: &Path| p.starts_with(root);
    if let Ok(real) = tokio::fs::canonicalize(&candidate).await
        && inside(&real)
    {
        match tokio::fs::metadata(&real).await {
            Ok(m) if m.is_file() && !wants_dir => return Found::File(real),
            Ok(m) if m.is_dir() => {
                if !wants_dir && !relative.as_os_str().is_empty() {
                    return Found::Directory;
                }
                if let Ok(index) = tokio::fs::canonicalize(real.join("index.html")).await
                    && inside(&index)
                    && tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file())
                {
                    return Found::File(index);
                }
            }
            _ => {}
        }
    }
    if !wants_dir && !relative.as_os_str().is_empty() {
        let mut html = candidate.into_os_string();
        html.push(".html");
        if let Ok(real) = tokio::fs::canonicalize(PathBuf::from(html)).await
            && inside(&real)
            && tokio::fs::metadata(&real).await.is_ok_and(|m| m.is_file())
        {
            return Found::File(real);
        }
    }
    Found::Nothing
}

/// The decoded path as plain components; `None` for `..`, a NUL, a
/// backslash or anything else that is not a plain name.
fn relative_path(uri_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(uri_path)
        .decode_utf8()
        .ok()?;
    let mut out = PathBuf::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment.contains(['\\', '\0']) {
            return None;
        }
        let mut components = Path::new(segment).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(name)), None) => out.push(name),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_plain_names_or_nothing() {
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(
            relative_path("/docs/a%20b.html"),
            Some(PathBuf::from("docs/a b.html"))
        );
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "/a\\b",
            "/a%00",
            "/./x",
            "/%ff",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }
}
