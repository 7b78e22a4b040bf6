//! Status badges: one colour per status, defined once in the stylesheet.

use crate::model::{Deployment, DeploymentStatus, SiteLock, SiteState};
use leptos::prelude::*;

/// The badge of a deployment: its lifecycle label for deploys, its status otherwise.
#[component]
pub fn DeploymentBadge(deployment: Deployment) -> impl IntoView {
    let title = format!("status: {}", deployment.status);
    if deployment.waits_for_approval() {
        return view! { <StatusBadge word="waiting for approval" tone="awaiting" title /> };
    }
    if deployment.waits_for_unlock() {
        return view! { <StatusBadge word="waiting for unlock" tone="awaiting" title /> };
    }
    let word = deployment
        .lifecycle()
        .map(|l| l.as_str())
        .unwrap_or_else(|| deployment.status.as_str());
    view! { <StatusBadge word title /> }
}

/// A coloured pill; `tone` (by default the word itself) picks the colour
/// (`status-ready`, `status-failed`, ...).
#[component]
pub fn StatusBadge(
    word: &'static str,
    #[prop(optional)] tone: Option<&'static str>,
    #[prop(optional, into)] title: String,
) -> impl IntoView {
    let tone = tone.unwrap_or(word);
    let active = matches!(
        tone,
        "running" | "building" | "deploying" | "built" | "queued" | "pending"
    );
    view! {
        <span class=format!("badge status-{tone}") class:badge-active=active title=title>
            <span class="badge-dot" aria-hidden="true"></span>
            {word}
        </span>
    }
}

/// "Locked", with who and why on hover: a site that puts nothing new live.
#[component]
pub fn LockBadge(lock: SiteLock) -> impl IntoView {
    view! {
        <span class="lock-badge" title=lock.refusal()>
            <LockIcon />
            "Locked"
        </span>
    }
}

/// A padlock drawn in the text's colour (no emoji font needed).
#[component]
pub fn LockIcon() -> impl IntoView {
    view! {
        <svg class="lock-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <path fill="currentColor" d="M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5v-5A1.5 1.5 0 0 1 3.5 7H4Zm2 0h4V5a2 2 0 1 0-4 0v2Z" />
        </svg>
    }
}

#[component]
pub fn DeploymentStatusBadge(status: DeploymentStatus) -> impl IntoView {
    view! { <StatusBadge word=status.as_str() /> }
}

#[component]
pub fn SiteStateBadge(state: SiteState) -> impl IntoView {
    // A running site is healthy: it reads green, unlike a running deployment.
    let tone = match state {
        SiteState::Running => "ready",
        SiteState::Stopped => "stopped",
    };
    view! { <StatusBadge word=state.as_str() tone /> }
}
