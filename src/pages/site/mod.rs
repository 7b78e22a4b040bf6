//! One site: what it serves, what it runs, its own history and its buttons.

mod automation;
mod backups;
mod lock;
mod webhooks;

use crate::api::deployments::{TriggerDeployment, list_deployments};
use crate::api::sites::{
    CloneSite, CreateStaging, LockSite, RotateWebhookSecret, UnlockSite, UpdateSite, get_site,
    get_site_hooks,
};
use crate::components::deployment_table::{Accepts, DeploymentTable};
use crate::components::filters::{DeploymentFilters, Pager};
use crate::components::shell::SessionResource;
use crate::components::states::{EmptyState, ErrorState, LoadingRows, NotFoundState};
use crate::components::status::{LockBadge, SiteStateBadge};
use crate::components::time::RelativeTime;
use crate::live::use_live;
use crate::model::live::LiveMessage;
use crate::model::{DeploymentStatus, ErrorKind, PipelineType, Site, SiteState, time};
use crate::pages::sites::{ActiveOperation, CurrentDeployment};
use automation::AutomationSettings;
use backups::BackupsAndCopies;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use lock::LockControl;
use webhooks::WebhookSettings;

#[component]
pub fn SitePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let live = use_live();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let trigger = ServerAction::<TriggerDeployment>::new();
    let update = ServerAction::<UpdateSite>::new();
    let lock = ServerAction::<LockSite>::new();
    let unlock = ServerAction::<UnlockSite>::new();
    // Any change to one of the site's deployments, or to its lock, may
    // change what it serves, whether it is busy and what its buttons allow.
    let refresh = RwSignal::new(0u64);
    live.subscribe(move |message| {
        let site_id = match message {
            LiveMessage::Deployment { deployment, .. } => Some(deployment.site_id),
            LiveMessage::SiteLock { site, .. } => Some(site.site_id),
            _ => None,
        };
        if site_id.is_some_and(|s| s.to_string() == id()) {
            refresh.update(|n| *n += 1);
        }
    });
    let site = Resource::new(
        move || {
            (
                id(),
                trigger.version().get(),
                update.version().get(),
                lock.version().get(),
                unlock.version().get(),
                refresh.get(),
                live.resync.get(),
            )
        },
        |(id, ..)| get_site(id),
    );
    let history_params = move || {
        let (status, kind, cursor) = query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
            (get("status"), get("type"), get("cursor"))
        });
        (id(), status, kind, cursor, live.resync.get())
    };
    let history = Resource::new(history_params, |(id, status, kind, cursor, _)| {
        list_deployments(Some(id), status, kind, cursor)
    });
    // Created here, not inside the Suspense below, so the server renders
    // and serialises it with the page. Viewers get a refusal, never shown.
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let hooks = Resource::new(
        move || (id(), rotate.version().get()),
        |(id, _)| get_site_hooks(id),
    );
    // The site's capsules, newest first, for its restore buttons.
    let capsules = Resource::new(
        move || (id(), refresh.get(), live.resync.get()),
        |(id, ..)| {
            list_deployments(
                Some(id),
                Some("completed".into()),
                Some("time_capsule".into()),
                None,
            )
        },
    );
    let clone = ServerAction::<CloneSite>::new();
    let staging = ServerAction::<CreateStaging>::new();
    let session = expect_context::<SessionResource>();
    // A started operation is a new deployment: go and watch it; a copy is
    // a new site: go to it.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(d)) = trigger.value().get() {
            navigate(&format!("/deployments/{}", d.id), Default::default());
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        let copied = clone.value().get().or_else(|| staging.value().get());
        if let Some(Ok(site)) = copied {
            navigate(&format!("/sites/{}", site.id), Default::default());
        }
    });
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=4 /> }>
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
                view! {
                    <SiteHeader site=site.clone() can_act trigger />
                    <LockControl site=site.clone() can_act lock unlock />
                    <section class="card detail-facts" aria-label="Site">
                        <dl class="facts facts-wide">
                            <dt>"Current"</dt>
                            <dd><CurrentDeployment site=site.clone() /></dd>
                            <dt>"Now"</dt>
                            <dd><ActiveOperation site=site.clone() /></dd>
                            <dt>"URL"</dt>
                            <dd>{match (site.url.clone(), site.current_deployment.is_some()) {
                                (Some(url), true) => view! {
                                    <a class="truncate" href=url.clone() target="_blank" rel="noopener">{url.clone()}</a>
                                }.into_any(),
                                _ => view! { <span class="muted">"Not deployed yet"</span> }.into_any(),
                            }}</dd>
                            <dt>"Repository"</dt>
                            <dd class="truncate" title=site.repository.clone()>{site.repository.clone()}</dd>
                            <dt>"Branch"</dt>
                            <dd><code>{site.branch.clone()}</code></dd>
                            <dt>"Auto-deploy"</dt>
                            <dd>{if site.auto_deploy { "On: every push to the branch deploys" } else { "Off" }}</dd>
                            <dt>"Previews"</dt>
                            <dd>{match (site.auto_deploy, site.previews) {
                                (true, true) => "On: every pull request gets a preview (a fork's after approval)",
                                (false, true) => "Paused while auto-deploy is off",
                                (_, false) => "Off",
                            }}</dd>
                            <dt>"Created"</dt>
                            <dd><RelativeTime ms=site.created_at /></dd>
                            {site.disk.map(|disk| view! {
                                <dt>"Disk"</dt>
                                <dd>
                                    {format!(
                                        "{} in {} release{} · {} in {} time capsule{}",
                                        time::bytes(disk.release_bytes), disk.releases, if disk.releases == 1 { "" } else { "s" },
                                        time::bytes(disk.capsule_bytes), disk.capsules, if disk.capsules == 1 { "" } else { "s" },
                                    )}
                                </dd>
                            })}
                        </dl>
                    </section>
                    {can_act.then(|| view! {
                        <AutomationSettings site=site.clone() update />
                        <BackupsAndCopies site=site.clone() capsules trigger clone staging />
                        <WebhookSettings site_id=site.id.to_string() hooks rotate />
                    })}
                }.into_any()
            })}
        </Transition>
        <Transition fallback=|| view! { <LoadingRows rows=4 /> }>
            {move || Suspend::new(async move {
                let path = format!("/sites/{}", id());
                let (_, status, kind, cursor, _) = history_params();
                let accepts = Accepts {
                    first_page: cursor.is_none(),
                    site_id: id().parse().ok(),
                    status: status.as_deref().and_then(DeploymentStatus::parse),
                    pipeline_type: kind.as_deref().and_then(PipelineType::parse),
                };
                let table = match history.await {
                    // The site block above says what is wrong.
                    Err(_) => return ().into_any(),
                    Ok(page) => view! {
                        <DeploymentTable
                            deployments=page.deployments
                            show_site=false
                            accepts
                            empty=|| view! {
                                <EmptyState title="No deployments here" body="Nothing of this site matches. Deploy it, or clear the filters." />
                            }
                        />
                        <Pager path=path.clone() older=page.next_cursor.map(|c| c.to_string()) at_start=cursor.is_none() />
                    }.into_any(),
                };
                view! {
                    <section class="history" aria-label="History">
                        <div class="section-header">
                            <h2>"History"</h2>
                        </div>
                        <DeploymentFilters path=path.clone() />
                        {table}
                    </section>
                }.into_any()
            })}
        </Transition>
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
    // A lock refuses deploys (not restart or stop); the button says why.
    let locked = site.lock_reason();
    let deploy_blocked = is_busy || locked.is_some();
    let deploy_reason = locked.clone().unwrap_or_else(|| busy_title.clone());
    let site_id = site.id.to_string();
    let error = move || trigger.value().get().and_then(Result::err);
    let pending = move || trigger.pending().get();
    let (deploy_site_id, deploy_title) = (site_id.clone(), deploy_reason.clone());
    let (upload_site_id, upload_title) = (site_id.clone(), deploy_reason);
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
                    {site.lock.clone().map(|lock| view! { <LockBadge lock /> })}
                </div>
                <p class="muted">{format!("{} · {}", site.repository, site.branch)}</p>
            </div>
            {can_act.then(|| view! {
                <div class="actions">
                    {lifecycle_button}
                    // A plain form: the browser sends the file and follows
                    // the answer to the new deployment's page.
                    <form class="upload-form" method="post" action="/api/upload_archive" enctype="multipart/form-data">
                        <input type="hidden" name="site_id" value=upload_site_id />
                        <label class="button" class:disabled=deploy_blocked title=upload_title>
                            "Upload .zip"
                            <input class="visually-hidden" type="file" name="archive" accept=".zip,application/zip"
                                required disabled=deploy_blocked
                                onchange="this.files.length && this.form.submit()" />
                        </label>
                    </form>
                    <ActionForm action=trigger attr:class="deploy-form">
                        <input type="hidden" name="site_id" value=deploy_site_id />
                        <input type="hidden" name="kind" value="deploy" />
                        <label class="visually-hidden" for="deploy-ref">"Branch or commit"</label>
                        <input id="deploy-ref" name="git_ref" type="text" placeholder=site.branch.clone()
                            maxlength="200" spellcheck="false" autocapitalize="off" disabled=deploy_blocked />
                        <button class="button button-primary" type="submit"
                            disabled=move || deploy_blocked || pending()
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
