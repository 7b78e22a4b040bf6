//! Status badges: one colour per status, defined once in the stylesheet.

use crate::model::{Deployment, DeploymentStatus, SiteState};
use leptos::prelude::*;

/// The badge of a deployment: its lifecycle label for deploys, its status otherwise.
#[component]
pub fn DeploymentBadge(deployment: Deployment) -> impl IntoView {
    let word = deployment
        .lifecycle()
        .map(|l| l.as_str())
        .unwrap_or_else(|| deployment.status.as_str());
    let title = format!("status: {}", deployment.status);
    view! { <StatusBadge word title /> }
}

/// A coloured pill; `word` picks the colour (`status-ready`, `status-failed`, ...).
#[component]
pub fn StatusBadge(word: &'static str, #[prop(optional, into)] title: String) -> impl IntoView {
    let active = matches!(
        word,
        "running" | "building" | "deploying" | "built" | "queued" | "pending"
    );
    view! {
        <span class=format!("badge status-{word}") class:badge-active=active title=title>
            <span class="badge-dot" aria-hidden="true"></span>
            {word}
        </span>
    }
}

#[component]
pub fn DeploymentStatusBadge(status: DeploymentStatus) -> impl IntoView {
    view! { <StatusBadge word=status.as_str() /> }
}

#[component]
pub fn SiteStateBadge(state: SiteState) -> impl IntoView {
    view! { <StatusBadge word=state.as_str() /> }
}
