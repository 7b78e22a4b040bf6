//! The site page's "Backups and copies" card: time capsules, restores,
//! clones and staging copies.

use crate::api::deployments::TriggerDeployment;
use crate::api::sites::{CloneSite, CreateStaging};
use crate::components::time::RelativeTime;
use crate::model::Site;
use leptos::prelude::*;

/// Time capsules of the site with their restore buttons, and the forms that
/// copy it into a new site.
#[component]
pub fn BackupsAndCopies(
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
                                    let capsule = d.meta.capsule_id.map(|c| c.to_string()).unwrap_or_default();
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
