//! Middleware between axum and the Leptos app: the page guard, the
//! same-origin rule for writes, and the status codes of refused calls.

use super::session;
use crate::model::AppError;
use crate::server::config::Config;
use crate::server::realtime::bus::EventBus;
use crate::server::store::Db;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use tower_sessions::Session;

/// Pages anyone may open.
const PUBLIC_PAGES: &[&str] = &["/signin", "/signup"];

fn is_page(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path.starts_with("/hooks/")
        || path.starts_with("/cli/")
        || path == "/ws"
        || last.contains('.'))
}

/// A wallboard link's page: the token in the path is its only credential.
fn is_wallboard_link(path: &str) -> bool {
    path.strip_prefix("/wallboard/")
        .is_some_and(|token| !token.is_empty() && !token.contains('/'))
}

/// Every page but sign-in, sign-up and a wallboard link asks for a
/// session; a signed-in user opening sign-in goes to the dashboard instead.
/// A wallboard link's page is never cached and never sends its address
/// (the token) on as a referrer.
pub async fn page_guard(
    State(db): State<Db>,
    State(bus): State<EventBus>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() != Method::GET || !is_page(path) {
        return next.run(request).await;
    }
    let link = is_wallboard_link(path);
    if !link {
        let signed_in = session::is_signed_in(&db, &session).await;
        let public = PUBLIC_PAGES.contains(&path);
        if !signed_in && !public {
            return Redirect::to("/signin").into_response();
        }
        if signed_in && public {
            return Redirect::to("/").into_response();
        }
    }
    // Read before the page reads any data, so the page's live channel
    // resumes from here and nothing committed in between is missed.
    request
        .extensions_mut()
        .insert(StreamPosition(bus.position()));
    let mut response = next.run(request).await;
    if link {
        let headers = response.headers_mut();
        headers.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("no-referrer"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        headers.insert("x-robots-tag", header::HeaderValue::from_static("noindex"));
    }
    response
}

/// The live channel's position when a page request arrived.
#[derive(Clone, Copy, Debug)]
pub struct StreamPosition(pub i64);

/// Refuses a state-changing request that a browser sent from another origin
/// (login CSRF, or a preview page calling the API with the team's cookie).
/// Scripts send no `Origin` and are let through; their cookies are their own.
pub async fn same_origin_writes(
    State(config): State<Arc<Config>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return next.run(request).await;
    }
    let headers = request.headers();
    let cross_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site");
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => is_own_origin(origin, headers.get(header::HOST), &config),
    };
    if cross_site || !origin_ok {
        return AppError::forbidden("This request came from another site and was refused.")
            .into_response();
    }
    next.run(request).await
}

/// Whether `origin` is the dashboard's: its public URL when configured,
/// otherwise the host the request was sent to.
pub(crate) fn is_own_origin(
    origin: &str,
    host: Option<&header::HeaderValue>,
    config: &Config,
) -> bool {
    if let Some(public) = &config.public_url {
        return origin.trim_end_matches('/') == public.trim_end_matches('/');
    }
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    config.is_dashboard_host(host)
        && origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|rest| rest == host)
}

/// Requests are answered only for the dashboard's own host names (see
/// [`Config::is_dashboard_host`]); a page that made its own name point here
/// (DNS rebinding) gets 421 and nothing else. Preview hosts are answered
/// by the layer outside this one.
pub async fn known_hosts(
    State(config): State<Arc<Config>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|h| config.is_dashboard_host(h)) {
        return next.run(request).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This server does not answer for that host name. Set FLIGHTDECK_PUBLIC_URL to the dashboard's address.\n",
    )
        .into_response()
}

/// The most a server function (or a page request) may send: far more than
/// any form needs. Uploads and webhooks have limits of their own.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Refuses a body over [`BODY_LIMIT`] with 413 before it is read: at once
/// by its `Content-Length`, or when a body without one grows past it.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let too_large = || {
        AppError::too_large(format!(
            "The request is larger than {} KB and was not read.",
            BODY_LIMIT / 1024
        ))
        .into_response()
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return too_large();
    }
    // A body without a length (chunked) is read up to the limit and no
    // further: the handlers here read whole bodies anyway, and a few
    // hundred KB held per request is the bound.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return too_large();
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A refused request outside the server functions (uploads, webhooks,
/// middleware): the status its kind names and the same JSON body.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_string(&self).unwrap_or_default(),
        )
            .into_response();
        retry_after(&self, response.headers_mut());
        response
    }
}

/// `Retry-After` for an error that says when to try again.
fn retry_after(err: &AppError, headers: &mut header::HeaderMap) {
    if let Some(secs) = err.retry_after {
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
}

/// Server functions answer errors with status 500; this gives a refused
/// call the status its [`AppError`] kind names (400 to 503), with
/// `Retry-After` when it says when to try again.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        parts.headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        retry_after(&err, &mut parts.headers);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dashboards_own_origin_may_write() {
        let config = Config::from_sources(&[], |_| None).expect("config");
        let host = header::HeaderValue::from_static("127.0.0.1:3000");
        assert!(is_own_origin("http://127.0.0.1:3000", Some(&host), &config));
        assert!(!is_own_origin("http://evil.example", Some(&host), &config));
        assert!(!is_own_origin(
            "http://abc.preview.localhost:3000",
            Some(&host),
            &config
        ));
        assert!(!is_own_origin("http://127.0.0.1:3000", None, &config));
        // A rebinding page is "same origin" with its own name: refused.
        let rebound = header::HeaderValue::from_static("evil.example:3000");
        assert!(!is_own_origin(
            "http://evil.example:3000",
            Some(&rebound),
            &config
        ));
        let public = Config::from_sources(
            &["--public-url=https://deploys.example.com".to_string()],
            |_| None,
        )
        .expect("config");
        assert!(is_own_origin(
            "https://deploys.example.com",
            Some(&host),
            &public
        ));
        assert!(!is_own_origin(
            "http://127.0.0.1:3000",
            Some(&host),
            &public
        ));
    }

    #[test]
    fn only_pages_are_guarded() {
        assert!(is_page("/"));
        assert!(is_page("/deployments"));
        assert!(is_page("/sites/01HZX"));
        assert!(!is_page("/api/sign_in"));
        assert!(!is_page("/pkg/flightdeck.js"));
        assert!(!is_page("/favicon.ico"));
        assert!(!is_page("/hooks/github/01HZX"));
        assert!(is_wallboard_link("/wallboard/abc123"));
        assert!(!is_wallboard_link("/wallboard"));
        assert!(!is_wallboard_link("/wallboard/"));
        assert!(!is_wallboard_link("/wallboard/abc/sites"));
    }
}
