use super::auth_form::{AuthCard, FormError};
use crate::api::auth::SignUp;
use crate::model::validate::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            let _ = window().location().set_href("/");
        }
    });
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    });
    view! {
        <Title text="Create an account" />
        <AuthCard title="Create an account" subtitle="You get a team of your own; invite others later.">
            <ActionForm action>
                <div class="field">
                    <label for="name">"Your name"</label>
                    <input id="name" name="name" type="text" autocomplete="name" />
                </div>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="text" inputmode="email" autocomplete="email" placeholder="you@example.com" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="new-password" />
                    <p class="hint">{format!("{PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters.")}</p>
                </div>
                <div class="field">
                    <label for="team">"Team name"</label>
                    <input id="team" name="team" type="text" autocomplete="organization" placeholder="Acme Web" />
                </div>
                <FormError message=error />
                <button class="button button-primary button-wide" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="auth-switch">"Already have an account? " <a href="/signin">"Sign in"</a></p>
        </AuthCard>
    }
}
