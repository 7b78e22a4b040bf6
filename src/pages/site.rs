//! One site: what it serves, what it runs, its own history and its buttons.

use crate::api::deployments::{TriggerDeployment, list_deployments};
use crate::api::sites::get_site;
use crate::components::deployment_table::DeploymentTable;
use crate::components::filters::{DeploymentFilters, Pager};
use crate::components::shell::SessionResource;
use crate::components::states::{EmptyState, ErrorState, LoadingRows, NotFoundState};
use crate::components::status::SiteStateBadge;
use crate::components::time::RelativeTime;
use crate::model::{ErrorKind, Site, SiteState};
use crate::pages::sites::{ActiveOperation, CurrentDeployment};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn SitePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let trigger = ServerAction::<TriggerDeployment>::new();
    let site = Resource::new(
        move || (id(), trigger.version().get()),
        |(id, _)| get_site(id),
    );
    let history_params = move || {
        let (status, kind, cursor) = query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            (get("status"), get("type"), get("cursor"))
        });
        (id(), status, kind, cursor, trigger.version().get())
    };
    let history = Resource::new(history_params, |(id, status, kind, cursor, _)| {
        list_deployments(Some(id), status, kind, cursor)
    });
    let session = expect_context::<SessionResource>();
    // A started operation is a new deployment: go and watch it.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(d)) = trigger.value().get() {
            navigate(&format!("/deployments/{}", d.id), Default::default());
        }
    });
    view! {
        <Suspense fallback=|| view! { <LoadingRows rows=4 /> }>
            {move || Suspend::new(async move {
                let can_act = matches!(session.await, Ok(Some(ref s)) if s.team.role.can_trigger());
                let site = match site.await {
                    Err(e) if e.kind == ErrorKind::NotFound => return view! {
                        <Title text="Site not found" />
                        <NotFoundState
                            title="Site not found"
                            body="There is no site at this address in your team. It may belong to another team, or the link is mistyped."
                            back_href="/sites"
                            back_label="All sites"
                        />
                    }.into_any(),
                    Err(error) => return view! { <ErrorState error /> }.into_any(),
                    Ok(site) => site,
                };
                let path = format!("/sites/{}", site.id);
                let at_start = query.with(|q| q.get("cursor").is_none());
                let history = match history.await {
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(page) if page.deployments.is_empty() => view! {
                        <EmptyState title="No deployments here" body="Nothing of this site matches. Deploy it, or clear the filters." />
                    }.into_any(),
                    Ok(page) => view! {
                        <DeploymentTable deployments=page.deployments show_site=false />
                        <Pager path=path.clone() older=page.next_cursor.map(|c| c.to_string()) at_start />
                    }.into_any(),
                };
                view! {
                    <SiteHeader site=site.clone() can_act trigger />
                    <section class="card detail-facts" aria-label="Site">
                        <dl class="facts facts-wide">
                            <dt>"Current"</dt>
                            <dd><CurrentDeployment site=site.clone() /></dd>
                            <dt>"Now"</dt>
                            <dd><ActiveOperation site=site.clone() /></dd>
                            <dt>"Repository"</dt>
                            <dd class="truncate" title=site.repository.clone()>{site.repository.clone()}</dd>
                            <dt>"Branch"</dt>
                            <dd><code>{site.branch.clone()}</code></dd>
                            <dt>"Auto-deploy"</dt>
                            <dd>{if site.auto_deploy { "On: every push to the branch deploys" } else { "Off" }}</dd>
                            <dt>"Created"</dt>
                            <dd><RelativeTime ms=site.created_at /></dd>
                        </dl>
                    </section>
                    <section class="history" aria-label="History">
                        <div class="section-header">
                            <h2>"History"</h2>
                        </div>
                        <DeploymentFilters path=path.clone() />
                        {history}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn SiteHeader(
    site: Site,
    can_act: bool,
    trigger: ServerAction<TriggerDeployment>,
) -> impl IntoView {
    let busy = site.busy_reason();
    let is_busy = busy.is_some();
    let busy_title = busy.clone().unwrap_or_default();
    let site_id = site.id.to_string();
    let error = move || trigger.value().get().and_then(Result::err);
    let pending = move || trigger.pending().get();
    let (deploy_site_id, deploy_title) = (site_id.clone(), busy_title.clone());
    // A stopped site can be restarted; a running one stopped.
    let (kind, label) = match site.state {
        SiteState::Stopped => ("restart", "Restart"),
        SiteState::Running => ("stop", "Stop"),
    };
    let lifecycle_button = view! {
        <ActionForm action=trigger>
            <input type="hidden" name="site_id" value=site_id />
            <input type="hidden" name="kind" value=kind />
            <button class="button" type="submit" disabled=move || is_busy || pending() title=busy_title>
                {label}
            </button>
        </ActionForm>
    };
    view! {
        <Title text=site.name.clone() />
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href="/sites">"Sites"</a>
            <span aria-hidden="true">"/"</span>
            <span>{site.name.clone()}</span>
        </nav>
        <div class="page-header">
            <div>
                <div class="title-row">
                    <h1>{site.name.clone()}</h1>
                    <SiteStateBadge state=site.state />
                </div>
                <p class="muted">{format!("{} · {}", site.repository, site.branch)}</p>
            </div>
            {can_act.then(|| view! {
                <div class="actions">
                    {lifecycle_button}
                    <ActionForm action=trigger attr:class="deploy-form">
                        <input type="hidden" name="site_id" value=deploy_site_id />
                        <input type="hidden" name="kind" value="deploy" />
                        <label class="visually-hidden" for="deploy-ref">"Branch or commit"</label>
                        <input id="deploy-ref" name="git_ref" type="text" placeholder=site.branch.clone()
                            maxlength="200" spellcheck="false" autocapitalize="off" disabled=is_busy />
                        <button class="button button-primary" type="submit"
                            disabled=move || is_busy || pending()
                            title=deploy_title>
                            {move || if pending() { "Starting…" } else { "Deploy" }}
                        </button>
                    </ActionForm>
                </div>
            })}
        </div>
        {busy.map(|reason| view! {
            <p class="alert alert-running" role="status">
                <strong>"Busy: "</strong>{reason}
                {site.active_deployment.as_ref().map(|d| view! {
                    " " <a href=format!("/deployments/{}", d.id)>"Watch it"</a>
                })}
            </p>
        })}
        {move || error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
    }
}
