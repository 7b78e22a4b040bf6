//! The members table, with an owner's role and remove controls, and the
//! form that adds someone who already has an account.

use crate::api::teams::{AddMember, RemoveMember, SetMemberRole};
use crate::components::time::RelativeTime;
use crate::model::{AppError, MemberInfo, Role, UserId};
use leptos::prelude::*;

const ROLES: [Role; 3] = [Role::Owner, Role::Member, Role::Viewer];

/// What an owner can do to a member.
#[derive(Clone, Copy)]
pub struct MemberActions {
    pub set_role: ServerAction<SetMemberRole>,
    pub remove: ServerAction<RemoveMember>,
}

#[component]
pub fn MembersTable(
    list: Vec<MemberInfo>,
    me: UserId,
    is_owner: bool,
    actions: MemberActions,
) -> impl IntoView {
    let MemberActions { set_role, remove } = actions;
    // The member whose removal waits for a second click.
    let confirming = RwSignal::new(None::<UserId>);
    let error = move || {
        let failed = |r: Option<Result<(), AppError>>| r.and_then(Result::err);
        failed(set_role.value().get()).or_else(|| failed(remove.value().get()))
    };
    view! {
        {move || error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
        <div class="table-wrap">
            <table class="table members">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Email"</th>
                        <th>"Role"</th>
                        <th>"Joined"</th>
                        {is_owner.then(|| view! { <th><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|m| {
                        let is_me = m.user.id == me;
                        let manage = is_owner && !is_me;
                        view! {
                            <tr>
                                <td class="cell-title">
                                    {m.user.name.clone()}
                                    {is_me.then(|| view! { " " <span class="tag">"You"</span> })}
                                </td>
                                <td>{m.user.email.clone()}</td>
                                <td>{if manage {
                                    view! { <RoleForm member=m.clone() set_role /> }.into_any()
                                } else {
                                    view! { <span class=format!("tag role-{}", m.role)>{m.role.label()}</span> }.into_any()
                                }}</td>
                                <td><RelativeTime ms=m.joined_at /></td>
                                {is_owner.then(|| view! {
                                    <td class="cell-actions">
                                        {manage.then(|| view! { <RemoveButton member=m.clone() remove confirming /> })}
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A member's role, changed as soon as another is picked.
#[component]
fn RoleForm(member: MemberInfo, set_role: ServerAction<SetMemberRole>) -> impl IntoView {
    let select_id = format!("role-{}", member.user.id);
    view! {
        <ActionForm action=set_role attr:class="role-form">
            <input type="hidden" name="user_id" value=member.user.id.to_string() />
            <label class="visually-hidden" for=select_id.clone()>{format!("Role of {}", member.user.name)}</label>
            <select id=select_id name="role" onchange="this.form.requestSubmit()" disabled=move || set_role.pending().get()>
                {ROLES.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=r == member.role>{r.label()}</option>
                }).collect_view()}
            </select>
            <noscript><button class="button button-small" type="submit">"Save"</button></noscript>
        </ActionForm>
    }
}

/// "Remove", then "Remove Ada?" with a second button, so one slip does
/// not end someone's access.
#[component]
fn RemoveButton(
    member: MemberInfo,
    remove: ServerAction<RemoveMember>,
    confirming: RwSignal<Option<UserId>>,
) -> impl IntoView {
    let id = member.user.id;
    let asking = move || confirming.get() == Some(id);
    let name = member.user.name.clone();
    view! {
        <ActionForm action=remove attr:class="remove-form">
            <input type="hidden" name="user_id" value=id.to_string() />
            <Show
                when=asking
                fallback=move || view! {
                    <button class="button button-small button-ghost" type="button"
                        on:click=move |_| confirming.set(Some(id))>"Remove"</button>
                    <noscript><button class="button button-small button-danger" type="submit">"Remove now"</button></noscript>
                }
            >
                <span class="muted">{format!("Remove {name}?")}</span>
                <button class="button button-small button-danger" type="submit"
                    disabled=move || remove.pending().get()>"Remove"</button>
                <button class="button button-small button-ghost" type="button"
                    on:click=move |_| confirming.set(None)>"Keep"</button>
            </Show>
        </ActionForm>
    }
}

#[component]
pub fn AddMemberForm(add: ServerAction<AddMember>) -> impl IntoView {
    let result = move || add.value().get();
    view! {
        <section class="card form-card">
            <h2>"Add someone who has an account"</h2>
            <p class="muted">"For a person already on this Flightdeck; invite anyone else with a link above."</p>
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
