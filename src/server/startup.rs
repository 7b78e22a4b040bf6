//! Starting and stopping: the configuration, the layers built bottom-up,
//! the router, and a shutdown that leaves nothing running.

use super::config::Config;
use super::engine::pipelines::Pipelines;
use super::engine::sandbox::Sandbox;
use super::engine::{Engine, EngineConfig};
use super::notifications::Notifier;
use super::realtime::bus::EventBus;
use super::store::Db;
use super::store::sessions::DbSessionStore;
use super::web::state::{AppState, BuildId};
use super::web::{assets, bearer, downloads, hooks, live, logs, middleware, previews, uploads};
use super::{demo, insights, retention, sites};
use crate::app::{App, shell};
use axum::Router;
use axum::routing::{get, post};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// How long requests still in flight at shutdown may take to finish.
const DRAIN: Duration = Duration::from_secs(5);

/// Starts Flightdeck with the configuration of the environment and the
/// process's flags, and serves until SIGTERM or Ctrl-C (see [`shut_down`]).
pub async fn run() {
    run_with(std::env::args().skip(1).collect()).await
}

/// [`run`] with these flags.
pub async fn run_with(flags: Vec<String>) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        // A log whose reader went away (a pipe closed, `| tee` stopped by
        // Ctrl-C) must not take the server down mid-shutdown: the lost
        // lines are dropped, not reported on a stderr that is gone too.
        .log_internal_errors(false)
        .init();
    let config = match Config::from_args(&flags) {
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
    let signals = match signals() {
        Ok(signals) => signals,
        Err(e) => fail(&format!("cannot listen for signals: {e}")),
    };
    let (router, state) = match build(config).await {
        Ok(built) => built,
        Err(message) => fail(&message),
    };
    tracing::info!(
        "Flightdeck is listening on http://{addr} ({:?} database)",
        state.db.backend
    );
    let first = received(signals.clone(), 1);
    // With each connection's address: sign-in is throttled per client.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let mut http = tokio::spawn(
        axum::serve(listener, service)
            .with_graceful_shutdown(first)
            .into_future(),
    );
    tokio::select! {
        // A signal stops the server too: when both are ready, it was the signal.
        biased;
        _ = received(signals.clone(), 1) => {}
        served = &mut http => match served {
            Ok(Err(e)) => fail(&format!("server stopped: {e}")),
            _ => fail("server stopped"),
        },
    }
    shut_down(&state, signals).await;
    if tokio::time::timeout(DRAIN, http).await.is_err() {
        tracing::warn!("requests still open after {DRAIN:?} were dropped");
    }
    state.db.pool.close().await;
    tracing::info!("Flightdeck stopped");
}

/// After the first SIGTERM or Ctrl-C: new connections are refused, every
/// socket is closed as "going away" (pages reconnect by themselves),
/// nothing new is claimed, running steps get the grace period
/// (`FLIGHTDECK_SHUTDOWN_GRACE_SECS`), and what still runs is then
/// cancelled with a message. A second signal skips the grace period.
async fn shut_down(state: &AppState, signals: watch::Receiver<u32>) {
    let grace = state.config.shutdown_grace;
    tracing::info!(
        "shutting down: running steps get {}s to finish (a second signal stops them now)",
        grace.as_secs()
    );
    state.bus.close_all();
    state.engine.shutdown(grace, received(signals, 2)).await;
}

/// Counts SIGTERM and SIGINT (Ctrl-C) as they arrive.
fn signals() -> std::io::Result<watch::Receiver<u32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = watch::channel(0);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tx.send_modify(|n| *n += 1);
        }
    });
    Ok(rx)
}

/// Resolves once `n` signals have arrived.
async fn received(mut signals: watch::Receiver<u32>, n: u32) {
    let _ = signals.wait_for(|count| *count >= n).await;
}

fn fail(message: &str) -> ! {
    eprintln!("flightdeck: {message}");
    std::process::exit(1)
}

/// Opens the database, seeds the demo on an empty one, starts the engine
/// and the event bus, and assembles the router. Tests call this and serve
/// the router on `127.0.0.1:0`.
pub async fn build(config: Config) -> Result<(Router, AppState), String> {
    let db = Db::connect(&config.database_url).await?;
    std::fs::create_dir_all(config.data_dir.root()).map_err(|e| {
        format!(
            "cannot create the data folder {}: {e}",
            config.data_dir.root().display()
        )
    })?;
    check_shared_data_dir(&db, &config.data_dir).await?;
    insights::build_if_needed(&db).await?;
    // The demo (with its published password) only where it is asked for.
    let seeded = if config.seed_demo {
        demo::seed_if_empty(&db, &config.data_dir)
            .await
            .map_err(|e| e.message)?
    } else {
        None
    };
    let pipelines = Pipelines::load(config.pipelines_file.as_deref())?;
    let sandbox = if config.sandbox {
        Some(Sandbox::detect(
            config.sandbox_network,
            config.data_dir.root(),
        )?)
    } else {
        tracing::warn!(
            "FLIGHTDECK_SANDBOX=off: steps run on this machine as the server's own user, \
             with access to everything it can reach; every page says so"
        );
        None
    };
    let bus = EventBus::start(db.clone())
        .await
        .map_err(|e| format!("cannot read the event log: {e}"))?;
    let engine = Engine::start(
        db.clone(),
        pipelines,
        EngineConfig {
            data: config.data_dir.clone(),
            max_parallel: config.max_pipelines,
            grace: Duration::from_secs(5),
            preview_hosts: config.preview_hosts.clone(),
            sandbox,
            db_patience: Duration::from_secs(30),
            lease: config.lease,
        },
    )
    .await
    .map_err(|e| e.message)?;
    if let Some((team_id, demo_sites)) = seeded {
        // Like any new site, each demo site deploys once by itself.
        for site in demo_sites {
            sites::queue_first_operations(
                &engine,
                team_id,
                site.id,
                &site.repository,
                demo::DEMO_BRANCH,
            )
            .await
            .map_err(|e| e.message)?;
        }
        // Not `println!`: a closed stdout must not stop the start.
        use std::io::Write;
        let _ = writeln!(
            std::io::stdout(),
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
        // Names with hashes when the release build wrote them.
        .hash_files(assets::Bundle::current().hashed)
        .build();
    let build_id = BuildId::of_site(config.site_root.clone()).await;
    retention::spawn(
        db.clone(),
        engine.clone(),
        config.data_dir.clone(),
        config.retention.clone(),
    );
    let notifier = Notifier::new(db.clone(), config.origin(None), config.hooks_allow_private)?;
    notifier.spawn();
    let state = AppState {
        notifier,
        build: build_id,
        leptos_options,
        db,
        config: Arc::new(config),
        engine,
        bus,
        throttle: Default::default(),
    };
    Ok((router(state.clone()), state))
}

/// The app's pages, listed once per process: listing them runs the app
/// with resource loading switched off for the whole process (Leptos's
/// `SuppressResourceLoad` is a global flag), so a second listing while
/// another server in the process renders would leave that page waiting
/// forever (leptos-rs/leptos#4773). Tests start many servers in one process.
fn routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Every route, and the layers around them (outermost last).
fn router(state: AppState) -> Router {
    let store = DbSessionStore::new(state.db.clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name("flightdeck_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)))
        // Saving on every request slides the expiry, so only 14 idle days sign a person out.
        .with_always_save(true);
    let upload_limit = state.config.upload_limits.upload_bytes + 64 * 1024;
    let context_state = state.clone();
    let options = state.leptos_options.clone();
    // Pages and server functions: small bodies only.
    let app = Router::new()
        .leptos_routes_with_context(
            &state,
            routes(),
            move || provide_context(context_state.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(middleware::limit_body));
    // What a browser reads: pages, server functions, the bundle, logs;
    // brotli or gzip when it accepts them (at a level cheap enough for
    // every response), kept as long as each may be. Not the live channel,
    // uploads, hooks or the command line's binary, and never what a
    // preview host serves (that is answered by the outermost layer).
    let read = Router::new()
        .route(
            "/deployments/{deployment_id}/steps/{step_id}/log",
            get(logs::step_log),
        )
        .route(
            "/deployments/{deployment_id}/log",
            get(logs::deployment_log),
        )
        .merge(app)
        // Inside compression: it reads a refused call's body.
        .layer(axum::middleware::from_fn(middleware::server_fn_status))
        .layer(axum::middleware::from_fn(assets::cache_control))
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(assets::worth_compressing)),
        );
    Router::new()
        .route("/ws", get(live::upgrade))
        .route(
            "/api/upload_archive",
            post(uploads::upload_archive).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/hooks/github/{site_id}", post(hooks::github_delivery))
        .route("/cli/flightdeck", get(downloads::command_line))
        .merge(read)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::page_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::same_origin_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            bearer::bearer_tokens,
        ))
        .layer(sessions)
        // Only the dashboard's own names are answered (no DNS rebinding)...
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::known_hosts,
        ))
        // ...and outermost, deployed sites, which never reach the session layer.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            previews::route,
        ))
        .with_state(state)
}

/// Every instance on one database must see the same data folder: the
/// releases previews serve, uploaded archives and local repositories live
/// there, whichever instance wrote them. The first start stores a token
/// in the database and in the folder; a folder with another token, or
/// none while other instances are running, is refused.
async fn check_shared_data_dir(db: &Db, data: &super::config::DataDir) -> Result<(), String> {
    use super::store::instances;
    let file = data.token_file();
    let here = std::fs::read_to_string(&file)
        .ok()
        .map(|t| t.trim().to_string());
    let proposed = here
        .clone()
        .unwrap_or_else(|| crate::model::InstanceId::new().to_string());
    let stored = instances::data_dir_token(db, &proposed)
        .await
        .map_err(|e| format!("cannot read the data folder's token: {e}"))?;
    let folder = data.root().display();
    match here {
        Some(token) if token == stored => Ok(()),
        Some(_) => Err(format!(
            "the data folder {folder} belongs to another Flightdeck database: every instance \
             must use the data folder of the database it connects to (FLIGHTDECK_DATA_DIR)"
        )),
        None => {
            if stored != proposed {
                let others = instances::live_others(db, crate::model::InstanceId::new())
                    .await
                    .map_err(|e| format!("cannot read the instances: {e}"))?;
                if others > 0 {
                    return Err(format!(
                        "{others} other instance(s) use this database, but the data folder {folder} \
                         is not theirs: FLIGHTDECK_DATA_DIR must be one folder shared by every \
                         instance (releases, uploads and repositories live there)"
                    ));
                }
                tracing::warn!(
                    "the data folder {folder} is new to this database: releases published before \
                     are not in it"
                );
            }
            std::fs::write(&file, &stored)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))
        }
    }
}
