//! The outermost layer: a request to a preview host is answered here with
//! the release's files and nothing else. It never reaches the session
//! layer (no cookie is ever read or set), the API or a dashboard page.

use crate::server::config::Config;
use crate::server::previews::{self, Found, Target};
use crate::server::store::Db;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// Outermost layer: a request to a preview host is answered here and never
/// reaches the session layer or the dashboard.
pub async fn route(
    State(db): State<Db>,
    State(config): State<Arc<Config>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host());
    let Some(label) = host.and_then(|h| config.preview_hosts.label(h)) else {
        return next.run(request).await;
    };
    let label = label.to_ascii_uppercase();
    let mut response = serve(&db, &config, &label, request).await;
    let headers = response.headers_mut();
    headers.remove(header::SET_COOKIE);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn serve(db: &Db, config: &Config, label: &str, mut request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "A deployed site only answers GET and HEAD.\n",
        )
            .into_response();
    }
    let target = match previews::resolve(db, label).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "could not look up a preview");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Preview unavailable",
                "Try again in a moment.",
            );
        }
    };
    let id = match target {
        Target::Release(id) => id,
        Target::Removed { reason, pr_number } => {
            return message(
                StatusCode::GONE,
                "Preview removed",
                &reason.sentence(pr_number),
            );
        }
        Target::Stopped => {
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                "This site is stopped",
                "Its team can restart it from Flightdeck.",
            );
        }
        Target::NothingYet => {
            return message(
                StatusCode::NOT_FOUND,
                "Nothing deployed yet",
                "This site has no completed deploy.",
            );
        }
        Target::Unknown => {
            return message(
                StatusCode::NOT_FOUND,
                "No such deployment",
                "Check the link: no deployment or site answers to it.",
            );
        }
    };
    let root = config.data_dir.release(id);
    let Ok(root) = tokio::fs::canonicalize(&root).await else {
        return message(
            StatusCode::GONE,
            "Preview removed",
            "This deployment's files are no longer kept.",
        );
    };
    let path = request.uri().path().to_string();
    match previews::locate(&root, &path).await {
        Found::File(file) => {
            // A deployment's own URL never changes content. A site's URL
            // changes with every deploy or restore, and a restored file may
            // be older than the one it replaces, so it is always sent whole:
            // no validators that a modification time would get wrong.
            let site_url = label != id.to_string();
            if site_url {
                for h in [
                    header::IF_MODIFIED_SINCE,
                    header::IF_NONE_MATCH,
                    header::IF_RANGE,
                ] {
                    request.headers_mut().remove(h);
                }
            }
            let mut response = match ServeFile::new(file).oneshot(request).await {
                Ok(r) => r.map(Body::new),
                Err(never) => match never {},
            };
            let headers = response.headers_mut();
            let cache = if site_url {
                headers.remove(header::LAST_MODIFIED);
                "no-cache"
            } else {
                "public, max-age=300"
            };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Found::Directory => Redirect::permanent(&format!("{path}/")).into_response(),
        Found::Nothing => {
            // The release's own page, when it is a file inside the release.
            let custom = match previews::locate(&root, "/404.html").await {
                Found::File(file) => tokio::fs::read(file).await,
                _ => Err(std::io::ErrorKind::NotFound.into()),
            };
            match custom {
                Ok(body) => (
                    StatusCode::NOT_FOUND,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    body,
                )
                    .into_response(),
                Err(_) => message(
                    StatusCode::NOT_FOUND,
                    "Page not found",
                    "This deployment has no file at that path.",
                ),
            }
        }
    }
}

/// A small page of its own for what a preview host cannot show.
fn message(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title><body style=\"font:16px system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#334\">\
         <h1 style=\"font-size:1.4rem\">{title}</h1><p>{detail}</p><p style=\"color:#889\">Served by Flightdeck</p>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
