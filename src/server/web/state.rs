//! The state every handler and server function shares.

use super::throttle::Throttle;
use crate::model::AppError;
use crate::server::config::Config;
use crate::server::engine::Engine;
use crate::server::notifications::Notifier;
use crate::server::realtime::bus::EventBus;
use crate::server::store::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::use_context;
use std::sync::Arc;

/// Handed to `leptos_routes` and provided as context to server functions.
/// Handlers extract only the parts they need (`State<Db>`, ...).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub engine: Engine,
    pub bus: EventBus,
    pub throttle: Arc<Throttle>,
    pub build: BuildId,
    /// Sends notification hooks' deliveries.
    pub notifier: Notifier,
}

/// The server's build as a browser sees it: a hash of the version and of
/// the browser bundle served. A wallboard left open across an upgrade
/// sees it change in the live channel's `hello` and reloads itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildId(pub Arc<str>);

impl BuildId {
    /// Hashes the version and every file under `site_root/pkg` (none in a
    /// test without a bundle: then the version alone).
    pub async fn of_site(site_root: std::path::PathBuf) -> Self {
        let hash = tokio::task::spawn_blocking(move || {
            use sha2::{Digest, Sha256};
            let mut hasher = Sha256::new();
            hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
            let mut files: Vec<_> = std::fs::read_dir(site_root.join("pkg"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.is_file())
                .collect();
            files.sort();
            for path in files {
                hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
                if let Ok(bytes) = std::fs::read(&path) {
                    hasher.update(&bytes);
                }
            }
            hasher.finalize()[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .await
        .unwrap_or_else(|_| env!("CARGO_PKG_VERSION").to_string());
        Self(hash.into())
    }
}

impl AppState {
    /// The state inside a server function or a server-rendered component.
    pub fn from_context() -> Result<Self, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            let path = use_context::<axum::http::request::Parts>().map(|p| p.uri.to_string());
            tracing::error!(?path, "AppState missing from the Leptos context");
            AppError::internal()
        })
    }
}
