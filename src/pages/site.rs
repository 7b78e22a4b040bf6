//! One site: what it serves, what it runs, its own history and its buttons.

use crate::api::deployments::{TriggerDeployment, list_deployments};
use crate::api::sites::{CloneSite, CreateStaging, RotateWebhookSecret, get_site, get_site_hooks};
use crate::components::deployment_table::{Accepts, DeploymentTable};
use crate::components::filters::{DeploymentFilters, Pager};
use crate::components::shell::SessionResource;
use crate::components::states::{EmptyState, ErrorState, LoadingRows, NotFoundState};
use crate::components::status::SiteStateBadge;
use crate::components::time::RelativeTime;
use crate::live::use_live;
use crate::model::live::LiveMessage;
use crate::model::{DeploymentStatus, ErrorKind, PipelineType, Site, SiteState};
use crate::pages::sites::{ActiveOperation, CurrentDeployment};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn SitePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let live = use_live();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let trigger = ServerAction::<TriggerDeployment>::new();
    // Any change to one of the site's deployments may change what it
    // serves, whether it is busy and what its buttons allow.
    let refresh = RwSignal::new(0u64);
    live.subscribe(move |message| {
        if let LiveMessage::Deployment { deployment, .. } = message
            && deployment.site_id.to_string() == id()
        {
            refresh.update(|n| *n += 1);
        }
    });
    let site = Resource::new(
        move || {
            (
                id(),
                trigger.version().get(),
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
                            <dt>"Created"</dt>
                            <dd><RelativeTime ms=site.created_at /></dd>
                        </dl>
                    </section>
                    {can_act.then(|| view! {
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
    let site_id = site.id.to_string();
    let error = move || trigger.value().get().and_then(Result::err);
    let pending = move || trigger.pending().get();
    let (deploy_site_id, deploy_title) = (site_id.clone(), busy_title.clone());
    let (upload_site_id, upload_title) = (site_id.clone(), busy_title.clone());
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
                    // A plain form: the browser sends the file and follows
                    // the answer to the new deployment's page.
                    <form class="upload-form" method="post" action="/api/upload_archive" enctype="multipart/form-data">
                        <input type="hidden" name="site_id" value=upload_site_id />
                        <label class="button" class:disabled=is_busy title=upload_title>
                            "Upload .zip"
                            <input class="visually-hidden" type="file" name="archive" accept=".zip,application/zip"
                                required disabled=is_busy
                                onchange="this.files.length && this.form.submit()" />
                        </label>
                    </form>
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

/// Where GitHub sends this site's pushes and pull requests, and the secret
/// that signs them; owners and members only.
#[component]
fn WebhookSettings(
    site_id: String,
    hooks: Resource<Result<crate::api::sites::SiteHooks, crate::model::AppError>>,
    rotate: ServerAction<RotateWebhookSecret>,
) -> impl IntoView {
    let reveal = RwSignal::new(false);
    view! {
        <section class="card settings" aria-labelledby="webhook-title">
            <div class="section-header">
                <h2 id="webhook-title">"GitHub webhook"</h2>
            </div>
            <p class="muted">
                "In the repository's Settings → Webhooks, add this URL with content type "
                <code>"application/json"</code>
                " and the secret below. Pushes to the branch deploy (when auto-deploy is on); pull requests deploy a preview."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match hooks.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                        Ok(h) => {
                            let secret = h.secret.clone();
                            view! {
                                <dl class="facts facts-wide">
                                    <dt>"Payload URL"</dt>
                                    <dd><code class="selectable">{h.webhook_url}</code></dd>
                                    <dt>"Secret"</dt>
                                    <dd class="secret-row">
                                        <code class="selectable" data-testid="webhook-secret">
                                            {move || if reveal.get() { secret.clone() } else { "•".repeat(24) }}
                                        </code>
                                        <button class="button button-small" type="button"
                                            on:click=move |_| reveal.update(|r| *r = !*r)>
                                            {move || if reveal.get() { "Hide" } else { "Show" }}
                                        </button>
                                    </dd>
                                </dl>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <ActionForm action=rotate attr:class="inline-form">
                <input type="hidden" name="id" value=site_id />
                <button class="button" type="submit" disabled=move || rotate.pending().get()>
                    "Rotate secret"
                </button>
                <span class="muted">" Deliveries signed with the old secret are refused at once."</span>
            </ActionForm>
        </section>
    }
}

/// Time capsules of the site with their restore buttons, and the forms that
/// copy it into a new site.
#[component]
fn BackupsAndCopies(
    site: Site,
    capsules: Resource<Result<crate::model::DeploymentPage, crate::model::AppError>>,
    trigger: ServerAction<TriggerDeployment>,
    clone: ServerAction<CloneSite>,
    staging: ServerAction<CreateStaging>,
) -> impl IntoView {
    let busy = site.busy_reason();
    let is_busy = busy.is_some();
    let busy_title = busy.unwrap_or_default();
    let site_id = site.id.to_string();
    let deployed = site.current_deployment.is_some();
    let nothing = (!deployed).then_some("Deploy the site first: there is nothing to copy yet.");
    let (capsule_site, clone_site, staging_site) =
        (site_id.clone(), site_id.clone(), site_id.clone());
    let copy_error = move || {
        clone
            .value()
            .get()
            .or_else(|| staging.value().get())
            .and_then(Result::err)
    };
    let title = busy_title.clone();
    view! {
        <section class="card settings" aria-labelledby="copies-title">
            <div class="section-header">
                <h2 id="copies-title">"Backups and copies"</h2>
            </div>
            <div class="inline-form">
                <ActionForm action=trigger>
                    <input type="hidden" name="site_id" value=capsule_site />
                    <input type="hidden" name="kind" value="time_capsule" />
                    <button class="button" type="submit" disabled=is_busy || !deployed
                        title=nothing.map(str::to_string).unwrap_or(busy_title.clone())>
                        "Take a time capsule"
                    </button>
                </ActionForm>
                <ActionForm action=staging>
                    <input type="hidden" name="site_id" value=staging_site />
                    <button class="button" type="submit" disabled=move || !deployed || staging.pending().get()
                        title=nothing.unwrap_or_default()>
                        "Create staging copy"
                    </button>
                </ActionForm>
                <ActionForm action=clone attr:class="deploy-form">
                    <input type="hidden" name="site_id" value=clone_site />
                    <label class="visually-hidden" for="clone-name">"Name of the copy"</label>
                    <input id="clone-name" name="name" type="text" required maxlength="100"
                        placeholder=format!("{} copy", site.name) disabled=!deployed />
                    <button class="button" type="submit" disabled=move || !deployed || clone.pending().get()
                        title=nothing.unwrap_or_default()>
                        "Clone"
                    </button>
                </ActionForm>
            </div>
            {move || copy_error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
            <h3 class="subheading">"Time capsules"</h3>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let title = title.clone();
                    let site_id = site_id.clone();
                    Suspend::new(async move {
                        let list = capsules.await.map(|p| p.deployments).unwrap_or_default();
                        if list.is_empty() {
                            return view! {
                                <p class="muted">"No capsules yet. A capsule keeps what the site serves now, to restore later."</p>
                            }.into_any();
                        }
                        view! {
                            <ul class="capsules">
                                {list.into_iter().map(|d| {
                                    let capsule = d.meta["capsule_id"].as_str().unwrap_or_default().to_string();
                                    let (site_id, title) = (site_id.clone(), title.clone());
                                    view! {
                                        <li>
                                            <a href=format!("/deployments/{}", d.id)>{format!("Capsule {}", d.id.short())}</a>
                                            <span class="muted"><RelativeTime ms=d.finished_at.unwrap_or(d.created_at) /></span>
                                            <ActionForm action=trigger>
                                                <input type="hidden" name="site_id" value=site_id />
                                                <input type="hidden" name="kind" value="restore" />
                                                <input type="hidden" name="capsule_id" value=capsule />
                                                <button class="button button-small" type="submit" disabled=is_busy title=title>
                                                    "Restore"
                                                </button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    })
                }}
            </Transition>
        </section>
    }
}
