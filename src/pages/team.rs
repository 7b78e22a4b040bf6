//! The team's members; owners add people by email with a role.

use crate::api::teams::{AddMember, list_members};
use crate::components::shell::SessionResource;
use crate::components::states::{ErrorState, LoadingRows};
use crate::components::time::RelativeTime;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TeamPage() -> impl IntoView {
    let add = ServerAction::<AddMember>::new();
    let members = Resource::new(move || add.version().get(), |_| list_members());
    let session = expect_context::<SessionResource>();
    view! {
        <Title text="Team" />
        <div class="page-header">
            <div>
                <h1>"Team"</h1>
                <p class="muted">"Owners manage members; members deploy; viewers watch."</p>
            </div>
        </div>
        <Suspense fallback=|| view! { <LoadingRows rows=2 /> }>
            {move || Suspend::new(async move {
                let is_owner = matches!(session.await, Ok(Some(ref s)) if s.team.role == Role::Owner);
                let list = match members.await {
                    Err(error) => return view! { <ErrorState error /> }.into_any(),
                    Ok(list) => list,
                };
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|m| view! {
                                    <tr>
                                        <td class="cell-title">{m.user.name}</td>
                                        <td>{m.user.email}</td>
                                        <td><span class=format!("tag role-{}", m.role)>{m.role.label()}</span></td>
                                        <td><RelativeTime ms=m.joined_at /></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {is_owner.then(|| view! { <AddMemberForm add /> })}
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn AddMemberForm(add: ServerAction<AddMember>) -> impl IntoView {
    let result = move || add.value().get();
    view! {
        <section class="card form-card">
            <h2>"Add a member"</h2>
            <p class="muted">"They need a Flightdeck account first."</p>
            <ActionForm action=add attr:class="inline-form">
                <div class="field">
                    <label for="member-email">"Email"</label>
                    <input id="member-email" name="email" type="text" inputmode="email" placeholder="colleague@example.com" />
                </div>
                <div class="field">
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role">
                        <option value="member" selected>"Member"</option>
                        <option value="viewer">"Viewer"</option>
                        <option value="owner">"Owner"</option>
                    </select>
                </div>
                <button class="button button-primary" type="submit" disabled=move || add.pending().get()>"Add member"</button>
            </ActionForm>
            {move || match result() {
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(())) => view! { <p class="form-success" role="status">"Member added."</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
