//! Creating a site: its first deploy starts by itself.

use crate::api::sites::CreateSite;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn NewSitePage() -> impl IntoView {
    let create = ServerAction::<CreateSite>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(site)) = create.value().get() {
            navigate(&format!("/sites/{}", site.id), Default::default());
        }
    });
    let error = move || create.value().get().and_then(Result::err);
    view! {
        <Title text="New site" />
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href="/sites">"Sites"</a>
            <span aria-hidden="true">"/"</span>
            <span>"New site"</span>
        </nav>
        <div class="page-header">
            <div>
                <h1>"New site"</h1>
                <p class="muted">"A site deploys one branch of a repository. Its first deploy starts as soon as it is created."</p>
            </div>
        </div>
        <section class="card form-page">
            <ActionForm action=create>
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
                <div class="field">
                    <label for="site-name">"Name"</label>
                    <input id="site-name" name="name" type="text" required maxlength="100" placeholder="Marketing site" />
                </div>
                <div class="field">
                    <label for="site-repository">"Repository"</label>
                    <input id="site-repository" name="repository" type="text" required maxlength="500"
                        placeholder="https://github.com/acme/marketing-site" spellcheck="false" autocapitalize="off" />
                    <p class="hint">"A git URL (https or ssh), or the path of a git repository in your team's folder on this server (repos/<team id>/ in the data folder)."</p>
                </div>
                <div class="field">
                    <label for="site-branch">"Branch"</label>
                    <input id="site-branch" name="branch" type="text" required maxlength="200" value="main" spellcheck="false" autocapitalize="off" />
                </div>
                <label class="checkbox">
                    <input type="checkbox" name="auto_deploy" value="on" checked />
                    <span>"Deploy automatically on every push to this branch"</span>
                </label>
                <div class="form-actions">
                    <a class="button button-ghost" href="/sites">"Cancel"</a>
                    <button class="button button-primary" type="submit" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create site" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
