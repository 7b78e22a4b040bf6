//! Flightdeck: self-hosted live deployment tracking for teams.

// Leptos views are deeply nested types; hydration's async layout needs room.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod live;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;

/// The `flightdeck` command's other commands (deploy, status, logs, ...).
#[cfg(feature = "ssr")]
pub mod cli;

/// Entry point of the browser bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Tells browser tests (and curious people) that the page is interactive now.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
