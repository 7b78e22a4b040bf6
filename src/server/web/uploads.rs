//! `POST /api/upload_archive` (multipart: `site_id`, `archive`): reads the
//! form within the upload limit and hands it to `uploads::deploy`.

use super::bearer::{self, Token};
use super::state::AppState;
use crate::model::{AppError, Deployment};
use crate::server::uploads::{self, Upload};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Answers JSON, or for a form sent without JavaScript (`Accept:
/// text/html`) the new deployment's page or a page saying why not.
pub async fn upload_archive(
    State(state): State<AppState>,
    session: Session,
    token: Token,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match receive(&state, &session, &token, multipart).await {
        Ok(deployment) => {
            if wants_html {
                Redirect::to(&format!("/deployments/{}", deployment.id)).into_response()
            } else {
                axum::Json(deployment).into_response()
            }
        }
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
    token: &Token,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Deployment, AppError> {
    let actor = bearer::actor_of(&state.db, session, token)
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
                let name = field.file_name().unwrap_or("archive.zip").to_string();
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
    let site_id =
        site_id.ok_or_else(|| AppError::invalid("Choose the site to deploy to (site_id)."))?;
    let site_id = super::context::id(site_id.trim(), "Site")?;
    let (file_name, bytes) =
        archive.ok_or_else(|| AppError::invalid("Choose a .zip file to upload."))?;
    let upload = Upload {
        site_id,
        file_name,
        bytes: Vec::from(bytes),
    };
    uploads::deploy(
        &state.db,
        &state.engine,
        &state.config.data_dir,
        limits,
        &actor,
        upload,
    )
    .await
}

fn error_page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Upload refused · Flightdeck</title><link rel=\"stylesheet\" href=\"{stylesheet}\">\
         <main class=\"auth-page\"><section class=\"card\"><h1>Upload refused</h1>\
         <p class=\"form-error\" role=\"alert\">{escaped}</p>\
         <p>Nothing was deployed. <a href=\"/sites\">Back to your sites</a></p>\
         </section></main>",
        stylesheet = super::assets::Bundle::current().stylesheet
    )
}
