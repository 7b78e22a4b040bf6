//! Deploying an uploaded zip archive. The archive is checked and unpacked
//! before any deployment exists, so a refused upload changes nothing:
//! entries that would escape the folder (`../`, absolute paths), links,
//! archives over the size limit or expanding past it, and anything that is
//! not a zip. (`POST /api/upload_archive` itself is in `web::uploads`.)

use super::config::{DataDir, UploadLimits};
use super::engine::{Engine, trigger::TriggerRequest};
use super::store::{Db, deployments, sites};
use crate::model::{Actor, AppError, ArchiveId, Deployment, SiteId};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// A zip archive someone sent to deploy.
pub struct Upload {
    pub site_id: SiteId,
    /// As the browser named it; only its last part, cleaned, is kept.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Unpacks an upload and queues its deploy on a site of the actor's team.
/// Refused with a reason, keeping nothing, when the archive is bad or the
/// site busy.
pub async fn deploy(
    db: &Db,
    engine: &Engine,
    data: &DataDir,
    limits: UploadLimits,
    actor: &Actor,
    upload: Upload,
) -> Result<Deployment, AppError> {
    let Upload {
        site_id,
        file_name,
        bytes,
    } = upload;
    if bytes.is_empty() {
        return Err(AppError::invalid("The archive is empty."));
    }
    sites::get(db, actor.team_id, site_id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;
    // Unpack into a folder of its own, then hand it to a new deployment.
    let archive_id = ArchiveId::new();
    let dest = data.archive(archive_id.0);
    let staging = data.incoming_archive(archive_id.0);
    let unpacked = {
        let staging = staging.clone();
        tokio::task::spawn_blocking(move || unpack(&bytes, &staging, limits))
            .await
            .map_err(|_| AppError::internal())?
    };
    if let Err(message) = unpacked {
        let _ = tokio::fs::remove_dir_all(&staging).await;
        return Err(AppError::invalid(message));
    }
    tokio::fs::rename(&staging, &dest).await.map_err(|e| {
        tracing::error!(error = %e, "could not move an unpacked archive");
        AppError::internal()
    })?;
    let request = TriggerRequest::upload(actor, site_id, archive_id, clean_file_name(&file_name));
    let id = match engine.trigger(request).await {
        Ok(id) => id,
        Err(e) => {
            // A busy site refuses it: the unpacked files go too.
            let _ = tokio::fs::remove_dir_all(&dest).await;
            return Err(e);
        }
    };
    deployments::get(db, actor.team_id, id)
        .await?
        .ok_or_else(AppError::internal)
}

/// The last part of an uploaded file's name, without control characters,
/// at most 200 characters.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.trim().is_empty() {
        "archive.zip".into()
    } else {
        name.trim().to_string()
    }
}

/// Checks every entry, then unpacks into `dest` (created). A single
/// top-level folder (as in GitHub's "Download ZIP") is unwrapped. Returns a
/// message naming what was refused.
pub fn unpack(bytes: &[u8], dest: &Path, limits: UploadLimits) -> Result<u64, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| "That file is not a zip archive.".to_string())?;
    if zip.len() > limits.entries {
        return Err(format!(
            "The archive has {} entries; at most {} are allowed.",
            zip.len(),
            limits.entries
        ));
    }
    // First every entry is checked, so nothing is written for a bad archive.
    let mut entries = Vec::with_capacity(zip.len());
    let mut declared: u64 = 0;
    for i in 0..zip.len() {
        let file = zip
            .by_index_raw(i)
            .map_err(|_| "The archive is damaged.".to_string())?;
        let name = file
            .name()
            .map_err(|_| "An entry name is not valid text.".to_string())?
            .to_string();
        if file.is_symlink() {
            return Err(format!(
                "The archive contains a link ({name}); links are not allowed."
            ));
        }
        let path = safe_path(&name).ok_or_else(|| {
            format!("The entry {name:?} would be written outside the site's folder.")
        })?;
        declared = declared.saturating_add(file.size());
        if declared > limits.unpacked_bytes {
            return Err(expands_past(limits));
        }
        entries.push((path, file.is_dir()));
    }
    if entries.iter().all(|(_, dir)| *dir) {
        return Err("The archive has no files.".into());
    }
    let strip = common_folder(&entries);
    std::fs::create_dir_all(dest).map_err(|e| format!("Could not unpack: {e}"))?;
    let mut written: u64 = 0;
    for (i, (path, is_dir)) in entries.iter().enumerate() {
        let relative = match &strip {
            Some(prefix) => path.strip_prefix(prefix).unwrap_or(path),
            None => path,
        };
        if relative.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(relative);
        if *is_dir {
            std::fs::create_dir_all(&target).map_err(|e| format!("Could not unpack: {e}"))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("Could not unpack: {e}"))?;
        }
        let mut file = zip.by_index(i).map_err(|_| {
            "The archive is damaged or uses an unsupported compression.".to_string()
        })?;
        let mut out =
            std::fs::File::create(&target).map_err(|e| format!("Could not unpack: {e}"))?;
        // Declared sizes can lie: the limit holds on what really comes out.
        let left = limits.unpacked_bytes - written;
        let copied = std::io::copy(&mut (&mut file).take(left + 1), &mut out)
            .map_err(|_| "The archive is damaged.".to_string())?;
        if copied > left {
            return Err(expands_past(limits));
        }
        written += copied;
    }
    Ok(written)
}

fn expands_past(limits: UploadLimits) -> String {
    format!(
        "The archive expands past {} MB.",
        limits.unpacked_bytes / (1024 * 1024)
    )
}

/// An entry name as plain relative components; `None` for anything
/// absolute, with `..`, a drive letter or a backslash.
fn safe_path(name: &str) -> Option<PathBuf> {
    if name.contains(['\\', '\0']) || name.starts_with('/') || name.contains(':') {
        return None;
    }
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// The folder every entry sits in, when there is exactly one.
fn common_folder(entries: &[(PathBuf, bool)]) -> Option<PathBuf> {
    let first = entries.first()?.0.components().next()?;
    let all_inside = entries.iter().all(|(path, is_dir)| {
        let mut parts = path.components();
        parts.next() == Some(first) && (parts.next().is_some() || *is_dir)
    });
    all_inside.then(|| PathBuf::from(first.as_os_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_stay_inside() {
        assert_eq!(safe_path("a/b.html"), Some(PathBuf::from("a/b.html")));
        assert_eq!(safe_path("./a"), Some(PathBuf::from("a")));
        for bad in ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\x", ""] {
            assert_eq!(safe_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn uploaded_names_are_plain() {
        assert_eq!(clean_file_name("C:\\Users\\me\\site.zip"), "site.zip");
        assert_eq!(clean_file_name("../../site\n.zip"), "site.zip");
        assert_eq!(clean_file_name(""), "archive.zip");
    }
}
