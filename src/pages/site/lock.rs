//! The site page's deploy lock: who holds the site and why, with Unlock;
//! or, for owners and members, a reason and Lock.

use crate::api::sites::{LockSite, UnlockSite};
use crate::components::status::LockIcon;
use crate::components::time::RelativeTime;
use crate::model::Site;
use leptos::prelude::*;

/// The lock's banner (everyone sees it), or the form that sets one.
#[component]
pub fn LockControl(
    site: Site,
    can_act: bool,
    lock: ServerAction<LockSite>,
    unlock: ServerAction<UnlockSite>,
) -> impl IntoView {
    let site_id = site.id.to_string();
    let error = move || {
        lock.value()
            .get()
            .and_then(Result::err)
            .or_else(|| unlock.value().get().and_then(Result::err))
    };
    let pending = move || lock.pending().get() || unlock.pending().get();
    let body = match site.lock.clone() {
        Some(held) => view! {
            <div class="alert alert-locked" role="status">
                <span>
                    <strong><LockIcon />" "{held.refusal()}</strong>
                    <span class="muted">" · "</span><RelativeTime ms=held.at />
                    <br />
                    "Deploys are refused and pushes wait until it is unlocked. Restart, stop, time capsules, restores and rollbacks still run."
                </span>
                {can_act.then(|| view! {
                    <ActionForm action=unlock>
                        <input type="hidden" name="site_id" value=site_id.clone() />
                        <button class="button" type="submit" disabled=pending>
                            {move || if unlock.pending().get() { "Unlocking…" } else { "Unlock" }}
                        </button>
                    </ActionForm>
                })}
            </div>
        }
        .into_any(),
        None if can_act => view! {
            <details class="card settings lock-card">
                <summary>"Lock deploys"</summary>
                <p class="hint">"While the site is locked, nothing new goes live: manual deploys are refused with your reason and pushes wait, then run once it is unlocked."</p>
                <ActionForm action=lock attr:class="lock-form">
                    <input type="hidden" name="site_id" value=site_id.clone() />
                    <label class="visually-hidden" for="lock-reason">"Reason"</label>
                    <input id="lock-reason" name="reason" type="text" required maxlength="200"
                        placeholder="Why? e.g. release freeze until Monday" />
                    <button class="button" type="submit" disabled=pending>
                        {move || if lock.pending().get() { "Locking…" } else { "Lock" }}
                    </button>
                </ActionForm>
            </details>
        }
        .into_any(),
        None => ().into_any(),
    };
    view! {
        {body}
        {move || error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
    }
}
