//! The state every handler and server function shares.

use super::throttle::Throttle;
use crate::model::AppError;
use crate::server::config::Config;
use crate::server::engine::Engine;
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
