//! The site page's card of what the site does by itself: deploy pushes,
//! deploy pull request previews.

use crate::api::sites::UpdateSite;
use crate::model::Site;
use leptos::prelude::*;

/// Auto-deploy and previews, switched by owners and members.
#[component]
pub fn AutomationSettings(site: Site, update: ServerAction<UpdateSite>) -> impl IntoView {
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    let error = move || update.value().get().and_then(Result::err);
    view! {
        <section class="card settings" aria-labelledby="automation-title">
            <div class="section-header">
                <h2 id="automation-title">"Automatic deploys"</h2>
            </div>
            <ActionForm action=update>
                <input type="hidden" name="site_id" value=site.id.to_string() />
                <label class="checkbox checkbox-tight">
                    <input type="checkbox" name="auto_deploy" value="on" checked=site.auto_deploy />
                    <span>{format!("Deploy every push to {}", site.branch)}</span>
                </label>
                <label class="checkbox checkbox-tight">
                    <input type="checkbox" name="previews" value="on" checked=site.previews />
                    <span>"Deploy a preview of every pull request"</span>
                </label>
                <p class="hint">
                    "A pull request from a fork always waits for an owner or member to approve it before anything of it runs. With auto-deploy off, no webhook runs anything."
                </p>
                <div class="inline-form">
                    <button class="button" type="submit" disabled=move || update.pending().get()>
                        {move || if update.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                    {move || saved().then(|| view! { <span class="form-success" role="status">"Saved."</span> })}
                </div>
            </ActionForm>
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
        </section>
    }
}
