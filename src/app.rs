//! The HTML shell, the root component and the routes.

use crate::components::shell::AppShell;
use crate::pages::{
    AccountPage, DeploymentPage, DeploymentsPage, InsightsPage, NewSitePage, NotFoundPage,
    SignInPage, SignUpPage, SitePage, SitesPage, TeamPage, WallboardPage,
};
use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The document around the app, rendered on the server only. The
/// stylesheet is named as this build names it (with its hash in a
/// release build), which only the server knows.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    let stylesheet = crate::server::web::assets::Bundle::current()
        .stylesheet
        .clone();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href=stylesheet />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Flightdeck".to_string() } else { format!("{title} · Flightdeck") }
        } />
        <Router>
            <Routes fallback=NotFoundPage>
                // Async rendering sends each page whole, so it reads without JavaScript.
                <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async />
                <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async />
                // Full screen, without the app's frame: a TV's page.
                <Route path=path!("/wallboard") view=WallboardPage ssr=SsrMode::Async />
                <Route path=path!("/wallboard/:token") view=WallboardPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("") view=DeploymentsPage ssr=SsrMode::Async />
                    <Route path=path!("deployments/:id") view=DeploymentPage ssr=SsrMode::Async />
                    <Route path=path!("sites") view=SitesPage ssr=SsrMode::Async />
                    <Route path=path!("sites/new") view=NewSitePage ssr=SsrMode::Async />
                    <Route path=path!("sites/:id") view=SitePage ssr=SsrMode::Async />
                    <Route path=path!("insights") view=InsightsPage ssr=SsrMode::Async />
                    <Route path=path!("team") view=TeamPage ssr=SsrMode::Async />
                    <Route path=path!("account") view=AccountPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
