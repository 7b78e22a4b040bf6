//! Everything that runs only on the server: configuration, storage,
//! accounts and sessions, and the HTTP stack around the Leptos app.

pub mod accounts;
pub mod archives;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod deployments;
pub mod engine;
pub mod events;
pub mod http;
pub mod live;
pub mod preview;
pub mod session_store;
pub mod sites;
pub mod state;
pub mod webhooks;

use crate::app::{App, shell};
use axum::Router;
use config::Config;
use db::Db;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use session_store::DbSessionStore;
use state::AppState;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// Starts Flightdeck with the configuration of the environment and flags.
pub async fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => fail(&message),
    };
    let addr = config.site_addr;
    // Bind first: a taken port should stop the start before anything is
    // written or printed.
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => fail(&format!("cannot listen on {addr}: {e}")),
    };
    let (router, state) = match build(config).await {
        Ok(built) => built,
        Err(message) => fail(&message),
    };
    tracing::info!(
        "Flightdeck is listening on http://{addr} ({:?} database)",
        state.db.backend
    );
    if let Err(e) = axum::serve(listener, router).await {
        fail(&format!("server stopped: {e}"));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("flightdeck: {message}");
    std::process::exit(1)
}

/// Opens the database, seeds the demo on an empty one, and assembles the
/// router. Tests call this and serve the router on `127.0.0.1:0`.
pub async fn build(config: Config) -> Result<(Router, AppState), String> {
    let db = Db::connect(&config.database_url).await?;
    // The demo (with its published password) is for the embedded default;
    // a PostgreSQL install gets it only when asked for.
    let seed = config
        .seed_demo
        .unwrap_or(db.backend == db::Backend::Sqlite);
    let seeded = if seed {
        demo::seed_if_empty(&db, &config.data_dir)
            .await
            .map_err(|e| e.message)?
    } else {
        None
    };
    let pipelines = engine::pipelines::Pipelines::load(config.pipelines_file.as_deref())?;
    let events = events::EventBus::start(db.clone())
        .await
        .map_err(|e| format!("cannot read the event log: {e}"))?;
    let engine = engine::Engine::start(
        db.clone(),
        pipelines,
        engine::EngineConfig {
            data_dir: config.data_dir.clone(),
            max_parallel: config.max_pipelines,
            grace: Duration::from_secs(5),
            preview_hosts: config.preview_hosts.clone(),
        },
    )
    .await
    .map_err(|e| e.message)?;
    if let Some((team_id, site_ids)) = seeded {
        // Like any new site, each demo site deploys once by itself.
        for site_id in site_ids {
            sites::queue_first_operations(&db, &engine, team_id, site_id)
                .await
                .map_err(|e| e.message)?;
        }
        println!(
            "\n  Flightdeck demo account created. Sign in at http://{} with\n    email:    {}\n    password: {}\n",
            config.site_addr,
            demo::DEMO_EMAIL,
            demo::DEMO_PASSWORD
        );
    }
    let leptos_options = LeptosOptions::builder()
        .output_name("flightdeck")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .build();
    let state = AppState {
        leptos_options: leptos_options.clone(),
        db: db.clone(),
        config: Arc::new(config),
        engine,
        events,
    };

    let store = DbSessionStore::new(db);
    spawn_session_cleanup(store.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("flightdeck_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)))
        // Saving on every request slides the expiry, so only 14 idle days sign a person out.
        .with_always_save(true);

    let routes = generate_route_list(App);
    let context_state = state.clone();
    let router = Router::new()
        .route("/ws", axum::routing::get(live::handler))
        .route(
            "/api/upload_archive",
            axum::routing::post(archives::upload).layer(axum::extract::DefaultBodyLimit::max(
                state.config.upload_limits.upload_bytes + 64 * 1024,
            )),
        )
        .route(
            "/hooks/github/{site_id}",
            axum::routing::post(webhooks::github),
        )
        .route(
            "/deployments/{deployment_id}/steps/{step_id}/log",
            axum::routing::get(http::step_log),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(http::server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::page_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::same_origin_writes,
        ))
        .layer(sessions)
        // Outermost: deployed sites never reach the session layer.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            preview::route,
        ))
        .with_state(state.clone());
    Ok((router, state))
}

fn spawn_session_cleanup(store: DbSessionStore) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
        }
    });
}
