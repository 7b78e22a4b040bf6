//! The command line's connection to a Flightdeck server: the API at
//! `/api/<name>` with an API token, and the live channel at `/ws`.

use super::exit::{Exit, Failure};
use crate::model::{AppError, Deployment, DeploymentPage, ErrorKind, LiveMessage, Site};
use futures_util::StreamExt;
use reqwest::Url;
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

/// A server and the token to act with.
#[derive(Clone)]
pub struct Client {
    base: Url,
    token: String,
    http: reqwest::Client,
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Client {
    pub fn new(url: &str, token: Option<&str>) -> Result<Self, Failure> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Failure::refused(
                    "No API token: set FLIGHTDECK_TOKEN (or pass --token); make one on the team page.",
                )
            })?;
        let mut base = Url::parse(url.trim()).map_err(|_| {
            Failure::refused(format!(
                "FLIGHTDECK_URL must be the dashboard's address, like https://deploys.example.com (got {url:?})"
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Failure::refused(
                "FLIGHTDECK_URL must start with http:// or https://",
            ));
        }
        base.set_path("/");
        base.set_query(None);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("flightdeck-cli/", env!("CARGO_PKG_VERSION")))
            // `cancel_deployment` answers within about 10 s; nothing takes a minute.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| Failure::unreachable(format!("cannot start an HTTP client: {e}")))?;
        Ok(Self {
            base,
            token: token.to_string(),
            http,
        })
    }

    /// Calls `/api/<name>` with a form and decodes the answer. A refusal
    /// is the server's own sentence.
    pub async fn call<T: DeserializeOwned>(
        &self,
        name: &str,
        form: &[(&str, &str)],
    ) -> Result<T, Failure> {
        let url = self
            .base
            .join(&format!("api/{name}"))
            .map_err(|e| Failure::unreachable(e.to_string()))?;
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.token)
            .form(form)
            .send()
            .await
            .map_err(|e| {
                Failure::unreachable(format!("cannot reach {}: {}", self.base, cause(&e)))
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::unreachable(format!("the answer was cut off: {}", cause(&e))))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                Failure::unreachable(format!("the server's answer to {name} was unexpected: {e}"))
            });
        }
        let message = serde_json::from_slice::<AppError>(&bytes)
            .map(|e| e.message)
            .unwrap_or_else(|_| format!("{name} answered {status}"));
        let exit = match serde_json::from_slice::<AppError>(&bytes).map(|e| e.kind) {
            Ok(ErrorKind::Internal | ErrorKind::Busy) => Exit::Unreachable,
            _ if status.is_server_error() => Exit::Unreachable,
            _ => Exit::Refused,
        };
        Err(Failure { exit, message })
    }

    /// Opens the live channel (after `after`, when given) and reads its
    /// `hello`; answers the socket and where the stream stands.
    pub async fn socket(&self, after: Option<i64>) -> Result<(Socket, i64), Failure> {
        let mut url = self.base.clone();
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|_| Failure::unreachable("cannot make the live channel's address"))?;
        url.set_path("/ws");
        if let Some(after) = after {
            url.set_query(Some(&format!("after={after}")));
        }
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| Failure::unreachable(e.to_string()))?;
        let auth = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| Failure::refused("The API token has characters a header cannot carry."))?;
        request.headers_mut().insert("authorization", auth);
        let (mut socket, _) = match tokio_tungstenite::connect_async(request).await {
            Ok(connected) => connected,
            Err(tungstenite::Error::Http(response)) => {
                let body = response
                    .body()
                    .as_deref()
                    .map(|b| String::from_utf8_lossy(b).trim().to_string())
                    .unwrap_or_default();
                let message = serde_json::from_str::<AppError>(&body)
                    .map(|e| e.message)
                    .unwrap_or(body);
                return Err(Failure::refused(format!(
                    "the live channel refused: {message}"
                )));
            }
            Err(e) => {
                return Err(Failure::unreachable(format!(
                    "cannot open the live channel: {e}"
                )));
            }
        };
        loop {
            match next_message(&mut socket).await {
                Some(LiveMessage::Hello { position, .. }) => return Ok((socket, position)),
                // A replay comes before the hello; the caller refetches anyway.
                Some(_) => continue,
                None => return Err(Failure::unreachable("the live channel closed at once")),
            }
        }
    }

    /// A site of the team by id, slug or name.
    pub async fn site(&self, wanted: &str) -> Result<Site, Failure> {
        let sites: Vec<Site> = self.call("list_sites", &[]).await?;
        let wanted_lower = wanted.trim().to_lowercase();
        if let Some(site) = sites.iter().find(|s| {
            s.id.to_string().eq_ignore_ascii_case(wanted.trim())
                || s.slug == wanted_lower
                || s.name.to_lowercase() == wanted_lower
        }) {
            return Ok(site.clone());
        }
        let names: Vec<&str> = sites.iter().map(|s| s.slug.as_str()).collect();
        Err(Failure::refused(if names.is_empty() {
            format!("No site {wanted:?}: this team has no sites yet.")
        } else {
            format!(
                "No site {wanted:?} in this team; its sites are {}.",
                names.join(", ")
            )
        }))
    }

    /// A deployment by its id, or by the short id the dashboard shows
    /// (found among the team's latest).
    pub async fn deployment(&self, wanted: &str) -> Result<Deployment, Failure> {
        let wanted = wanted.trim();
        if wanted.len() == 26 {
            return self.call("get_deployment", &[("id", wanted)]).await;
        }
        let page: DeploymentPage = self.call("list_deployments", &[]).await?;
        let short = wanted.to_lowercase();
        let found = page
            .deployments
            .iter()
            .find(|d| d.id.short() == short)
            .ok_or_else(|| {
                Failure::refused(format!(
                    "No deployment {wanted:?}: give its id (26 characters) or the short id the dashboard shows."
                ))
            })?;
        self.call("get_deployment", &[("id", &found.id.to_string())])
            .await
    }
}

/// The next message of the live channel; `None` once it is closed.
pub async fn next_message(socket: &mut Socket) -> Option<LiveMessage> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(text)) => {
                if let Ok(message) = serde_json::from_str(text.as_str()) {
                    return Some(message);
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The innermost cause of a failed request, which says the most.
fn cause(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    text
}
