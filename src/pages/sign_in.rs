use super::auth_form::{AuthCard, FormError};
use crate::api::auth::SignIn;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
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
        <Title text="Sign in" />
        <AuthCard title="Sign in" subtitle="Watch every deployment of your team, live.">
            <ActionForm action>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="text" inputmode="email" autocomplete="email" placeholder="you@example.com" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" />
                </div>
                <FormError message=error />
                <button class="button button-primary button-wide" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="auth-switch">"New to Flightdeck? " <a href="/signup">"Create an account"</a></p>
        </AuthCard>
    }
}
