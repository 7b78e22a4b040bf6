//! The frame shared by the sign-in and sign-up pages.

use crate::components::shell::Logo;
use leptos::prelude::*;

#[component]
pub fn AuthCard(title: &'static str, subtitle: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <Logo />
                    <span>"Flightdeck"</span>
                </div>
                <h1>{title}</h1>
                <p class="muted">{subtitle}</p>
                {children()}
            </div>
        </div>
    }
}

/// The message of a refused submission, read out by screen readers.
#[component]
pub fn FormError(message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="form-error" role="alert">{move || message.get()}</p>
        </Show>
    }
}
