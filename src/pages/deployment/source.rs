//! Where a deployment's code came from, and links to other deployments.

use crate::model::{Deployment, DeploymentId, SourceKind, deployment::github_web_url};
use leptos::prelude::*;

#[component]
pub fn DeploymentLink(id: DeploymentId) -> impl IntoView {
    view! { <a href=format!("/deployments/{id}")><code>{id.short()}</code></a> }
}

/// Branch and commit (linked on GitHub), or the uploaded archive.
#[component]
pub fn Source(d: Deployment) -> impl IntoView {
    match d.source_kind {
        SourceKind::Archive => view! {
            <span>"Archive upload"</span>
            {d.archive_name.clone().map(|name| view! { <code class="truncate">{name}</code> })}
        }
        .into_any(),
        SourceKind::None => {
            view! { <span class="muted">"No source: a lifecycle operation"</span> }.into_any()
        }
        SourceKind::Git => {
            let repo_web = d.repository.as_deref().and_then(github_web_url);
            let commit = d.commit_sha.clone().map(|sha| {
                let short: String = sha.chars().take(7).collect();
                match d.commit_url() {
                    Some(url) => view! { <a href=url target="_blank" rel="noopener noreferrer"><code>{short}</code></a> }.into_any(),
                    None => view! { <code>{short}</code> }.into_any(),
                }
            });
            view! {
                {d.branch.clone().map(|b| view! { <code class="branch">{b}</code> })}
                {commit}
                {d.repository.clone().map(|repo| match repo_web {
                    Some(url) => view! { <a class="muted truncate" href=url target="_blank" rel="noopener noreferrer">{repo}</a> }.into_any(),
                    None => view! { <span class="muted truncate">{repo}</span> }.into_any(),
                })}
            }
            .into_any()
        }
    }
}
