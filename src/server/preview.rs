//! Deployed sites, on an origin of their own: every completed deploy at
//! `<deployment id>.<preview domain>`, never changing afterwards, and each
//! site's current deployment at `<site id>.<preview domain>`.
//!
//! A preview host gets static files and nothing else: no session layer (so
//! no cookie is ever read or set), no API, no page of the dashboard, and no
//! path that leads out of the release's folder.

use super::db::Db;
use super::state::AppState;
use crate::model::{DeploymentId, SiteId};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::path::{Component, Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// The preview URL template (`http://{id}.preview.localhost:3000/`) and the
/// host names it covers.
#[derive(Clone, Debug)]
pub struct PreviewHosts {
    /// Everything before `{id}`: `http://`.
    scheme: String,
    /// The host after the id's label, lowercase, with its dot: `.preview.localhost`.
    suffix: String,
    /// Whatever follows the host: `:3000/`.
    rest: String,
}

impl PreviewHosts {
    /// Parses a template whose host starts with the `{id}` label.
    pub fn parse(template: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "FLIGHTDECK_PREVIEW_URL must look like http://{{id}}.preview.example.com/ (got {template:?})"
            )
        };
        let (scheme, after) = ["https://", "http://"]
            .iter()
            .find_map(|s| template.strip_prefix(s).map(|rest| (*s, rest)))
            .ok_or_else(bad)?;
        let after = after.strip_prefix("{id}").ok_or_else(bad)?;
        let host_end = after.find([':', '/']).unwrap_or(after.len());
        let (suffix, rest) = after.split_at(host_end);
        let valid_host = suffix.len() > 1
            && suffix.starts_with('.')
            && suffix[1..]
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid_host || rest.contains("{id}") {
            return Err(bad());
        }
        let rest = if rest.is_empty() { "/" } else { rest };
        Ok(Self {
            scheme: scheme.to_string(),
            suffix: suffix.to_ascii_lowercase(),
            rest: rest.to_string(),
        })
    }

    /// The default: `http://{id}.preview.localhost:<port>/`, which every
    /// browser resolves to this machine.
    pub fn local(port: u16) -> Self {
        Self {
            scheme: "http://".into(),
            suffix: ".preview.localhost".into(),
            rest: format!(":{port}/"),
        }
    }

    /// The URL that serves a deployment, or a site's current deployment.
    pub fn url(&self, id: impl std::fmt::Display) -> String {
        let label = id.to_string().to_ascii_lowercase();
        format!("{}{label}{}{}", self.scheme, self.suffix, self.rest)
    }

    /// The id label when `host` (a `Host` header, port included or not)
    /// is a preview host.
    pub fn label<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        let cut = name.len().checked_sub(self.suffix.len())?;
        let (label, suffix) = (name.get(..cut)?, name.get(cut..)?);
        (suffix.eq_ignore_ascii_case(&self.suffix) && !label.is_empty() && !label.contains('.'))
            .then_some(label)
    }
}

/// The folder a deployment's output is published to.
pub fn release_dir(data_dir: &Path, id: DeploymentId) -> PathBuf {
    data_dir.join("releases").join(id.to_string())
}

/// Outermost layer: a request to a preview host is answered here and never
/// reaches the session layer or the dashboard.
pub async fn route(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host());
    let Some(label) = host.and_then(|h| state.config.preview_hosts.label(h)) else {
        return next.run(request).await;
    };
    let label = label.to_ascii_uppercase();
    let mut response = serve(&state, &label, request).await;
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

/// What a preview host names.
enum Target {
    Release(DeploymentId),
    Stopped,
    NothingYet,
    Unknown,
}

async fn resolve(db: &Db, label: &str) -> Result<Target, sqlx::Error> {
    let Ok(ulid) = ulid::Ulid::from_string(label) else {
        return Ok(Target::Unknown);
    };
    let deployment: Option<(DeploymentId,)> = sqlx::query_as(
        "select id from deployments where id = $1 and preview_url is not null \
         and status in ('completed', 'superseded')",
    )
    .bind(DeploymentId(ulid))
    .fetch_optional(&db.pool)
    .await?;
    if let Some((id,)) = deployment {
        return Ok(Target::Release(id));
    }
    let site: Option<(Option<DeploymentId>, String)> =
        sqlx::query_as("select current_deployment_id, state from sites where id = $1")
            .bind(SiteId(ulid))
            .fetch_optional(&db.pool)
            .await?;
    Ok(match site {
        None => Target::Unknown,
        Some((_, state)) if state == "stopped" => Target::Stopped,
        Some((None, _)) => Target::NothingYet,
        Some((Some(id), _)) => Target::Release(id),
    })
}

async fn serve(state: &AppState, label: &str, mut request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "A deployed site only answers GET and HEAD.\n",
        )
            .into_response();
    }
    let target = match resolve(&state.db, label).await {
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
    let root = release_dir(&state.config.data_dir, id);
    let Ok(root) = tokio::fs::canonicalize(&root).await else {
        return message(
            StatusCode::GONE,
            "Preview removed",
            "This deployment's files are no longer kept.",
        );
    };
    let path = request.uri().path().to_string();
    match locate(&root, &path).await {
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
            let custom = root.join("404.html");
            match tokio::fs::read(&custom).await {
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

enum Found {
    File(PathBuf),
    /// A folder asked for without its trailing slash.
    Directory,
    Nothing,
}

/// The file a URL path names inside `root` (canonical): `index.html` for a
/// folder, `<path>.html` for a clean URL. Anything that resolves outside
/// `root` (`..`, a link leading out) is not there.
async fn locate(root: &Path, uri_path: &str) -> Found {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_hosts_come_from_the_template() {
        let h = PreviewHosts::parse("http://{id}.preview.localhost:3000/").expect("template");
        assert_eq!(h.url("01ABC"), "http://01abc.preview.localhost:3000/");
        assert_eq!(h.label("01abc.preview.localhost:3000"), Some("01abc"));
        assert_eq!(h.label("01ABC.Preview.Localhost"), Some("01ABC"));
        assert_eq!(h.label("preview.localhost:3000"), None);
        assert_eq!(h.label("a.b.preview.localhost"), None);
        assert_eq!(h.label("127.0.0.1:3000"), None);
        assert_eq!(h.label("evilpreview.localhost"), None);
        let https = PreviewHosts::parse("https://{id}.previews.example.com").expect("template");
        assert_eq!(https.url("x"), "https://x.previews.example.com/");
        for bad in [
            "ftp://{id}.x.com",
            "http://x.com/{id}",
            "http://{id}",
            "http://{id}.x..com",
            "http://{id}.x.com/{id}",
        ] {
            assert!(PreviewHosts::parse(bad).is_err(), "{bad}");
        }
    }

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
