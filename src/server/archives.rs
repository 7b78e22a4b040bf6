//! Deploying an uploaded zip archive: `POST /api/upload_archive`
//! (multipart: `site_id`, `archive`). The archive is checked and unpacked
//! before any deployment exists, so a refused upload changes nothing:
//! entries that would escape the folder (`../`, absolute paths), links,
//! archives over the size limit or expanding past it, and anything that is
//! not a zip.

use super::auth;
use super::engine::archive_dir;
use super::engine::trigger::{Source, TriggerRequest};
use super::state::AppState;
use crate::model::{AppError, ErrorKind, PipelineType, SiteId, SourceKind, TriggerKind};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use tower_sessions::Session;

/// Limits of an upload.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The zip file itself.
    pub upload_bytes: usize,
    /// Everything in it, unpacked.
    pub unpacked_bytes: u64,
    pub entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            upload_bytes: 50 * 1024 * 1024,
            unpacked_bytes: 200 * 1024 * 1024,
            entries: 20_000,
        }
    }
}

pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match receive(&state, &session, multipart).await {
        Ok(deployment) => {
            if wants_html {
                Redirect::to(&format!("/deployments/{}", deployment.id)).into_response()
            } else {
                axum::Json(deployment).into_response()
            }
        }
        // A form sent without JavaScript gets a page a person can read.
        Err(e) if wants_html => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::response::Html(error_page(&e.message))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn receive(
    state: &AppState,
    session: &Session,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<crate::model::Deployment, AppError> {
    let member = auth::member_of(state, session)
        .await?
        .ok_or_else(AppError::unauthenticated)?
        .require_trigger()?;
    let limits = state.config.upload_limits;
    let mut multipart = multipart.map_err(|_| {
        AppError::invalid(
            "Send the archive as multipart/form-data with the fields site_id and archive.",
        )
    })?;
    let too_large = || {
        AppError::too_large(format!(
            "The archive is larger than {} MB.",
            limits.upload_bytes / (1024 * 1024)
        ))
    };
    let (mut site_id, mut archive) = (None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(AppError::invalid("The upload was cut off or malformed.")),
        };
        match field.name() {
            Some("site_id") => {
                site_id = Some(
                    field
                        .text()
                        .await
                        .map_err(|_| AppError::invalid("The site_id field is malformed."))?,
                );
            }
            Some("archive") => {
                let name = clean_file_name(field.file_name().unwrap_or("archive.zip"));
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_large()
                    } else {
                        AppError::invalid("The upload was cut off or malformed.")
                    }
                })?;
                if bytes.len() > limits.upload_bytes {
                    return Err(too_large());
                }
                archive = Some((name, bytes));
            }
            _ => {}
        }
    }
    let site_id: SiteId = site_id
        .ok_or_else(|| AppError::invalid("Choose the site to deploy to (site_id)."))?
        .trim()
        .parse()
        .map_err(|_| AppError::not_found("Site"))?;
    let (file_name, bytes) =
        archive.ok_or_else(|| AppError::invalid("Choose a .zip file to upload."))?;
    if bytes.is_empty() {
        return Err(AppError::invalid("The archive is empty."));
    }
    super::sites::get(&state.db, member.team_id, site_id)
        .await?
        .ok_or_else(|| AppError::not_found("Site"))?;

    // Unpack into a folder of its own, then hand it to a new deployment.
    let archive_id = ulid::Ulid::new();
    let data_dir = state.config.data_dir.clone();
    let dest = archive_dir(&data_dir, archive_id);
    let staging = data_dir
        .join("archives")
        .join(format!(".incoming-{archive_id}"));
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
    let user = super::accounts::user(&state.db, member.user_id).await?;
    let triggered = state
        .engine
        .trigger(TriggerRequest {
            team_id: member.team_id,
            site_id,
            pipeline_type: PipelineType::Deploy,
            trigger: TriggerKind::Manual,
            user_id: Some(member.user_id),
            triggered_by: user.map(|u| u.name).unwrap_or_default(),
            source: Source {
                kind: Some(SourceKind::Archive),
                archive_name: Some(file_name),
                ..Default::default()
            },
            pr_number: None,
            meta: serde_json::json!({ "archive_id": archive_id.to_string() }),
            retry_of: None,
        })
        .await;
    let id = match triggered {
        Ok(id) => id,
        Err(e) => {
            // A busy site refuses it: the unpacked files go too.
            let _ = tokio::fs::remove_dir_all(&dest).await;
            return Err(e);
        }
    };
    super::deployments::get(&state.db, member.team_id, id)
        .await?
        .ok_or_else(|| AppError::new(ErrorKind::Internal, "The deployment vanished."))
}

fn error_page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Upload refused · Flightdeck</title><link rel=\"stylesheet\" href=\"/pkg/flightdeck.css\">\
         <main class=\"auth-page\"><section class=\"card\"><h1>Upload refused</h1>\
         <p class=\"form-error\" role=\"alert\">{escaped}</p>\
         <p>Nothing was deployed. <a href=\"/sites\">Back to your sites</a></p>\
         </section></main>"
    )
}

/// The last part of an uploaded file's name, without control characters,
/// at most 200 characters.
fn clean_file_name(raw: &str) -> String {
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
pub fn unpack(bytes: &[u8], dest: &Path, limits: Limits) -> Result<u64, String> {
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

fn expands_past(limits: Limits) -> String {
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
