//! Notification hooks: where the team's deployment and lock events are
//! sent (signed JSON or Slack), each with its delivery log, a test
//! button, and "Redeliver" for any delivery.

use crate::api::integrations::{
    CreateNotificationHook, DeleteNotificationHook, RedeliverNotification, SendTestNotification,
    UpdateNotificationHook,
};
use crate::components::copy_field::CopyField;
use crate::components::states::CardList;
use crate::components::time::RelativeTime;
use crate::model::{AppError, Delivery, DeliveryState, NotificationEvent, NotificationHook, Site};
use leptos::prelude::*;

type HooksResource = Resource<Result<Vec<NotificationHook>, AppError>>;
type SitesResource = Resource<Result<Vec<Site>, AppError>>;

/// What can be done to hooks and deliveries.
#[derive(Clone, Copy)]
pub struct HookActions {
    pub create: ServerAction<CreateNotificationHook>,
    pub update: ServerAction<UpdateNotificationHook>,
    pub delete: ServerAction<DeleteNotificationHook>,
    pub test: ServerAction<SendTestNotification>,
    pub redeliver: ServerAction<RedeliverNotification>,
}

/// What a new hook receives unless the person picks otherwise.
const DEFAULT_EVENTS: &[NotificationEvent] = &[
    NotificationEvent::DeploymentSucceeded,
    NotificationEvent::DeploymentFailed,
];

#[component]
pub fn NotificationHooksCard(
    hooks: HooksResource,
    sites: SitesResource,
    actions: HookActions,
) -> impl IntoView {
    view! {
        <section class="card form-card" aria-labelledby="hooks-title" id="notification-hooks">
            <h2 id="hooks-title">"Notification hooks"</h2>
            <p class="muted">
                "Flightdeck posts each event you pick to your URL as it happens: signed JSON for your own service (see the README for the signature), or a Slack incoming webhook. A failing receiver is retried for about half an hour, then the hook is disabled."
            </p>
            <NewHookForm sites create=actions.create />
            <CardList items=hooks loading="Loading hooks…" empty="No notification hooks yet."
                list=move |list| view! {
                    <ActionErrors actions />
                    <ul class="hook-list">
                        {list.into_iter().map(|hook| view! { <HookItem hook actions /> }).collect_view()}
                    </ul>
                } />
        </section>
    }
}

#[component]
fn NewHookForm(
    sites: SitesResource,
    create: ServerAction<CreateNotificationHook>,
) -> impl IntoView {
    let chosen = RwSignal::new(DEFAULT_EVENTS.to_vec());
    // In the order the list shows them, whatever order they were ticked.
    let events_text = move || {
        let chosen = chosen.get();
        let ordered: Vec<NotificationEvent> = NotificationEvent::SUBSCRIBABLE
            .iter()
            .copied()
            .filter(|e| chosen.contains(e))
            .collect();
        NotificationEvent::list_text(&ordered)
    };
    view! {
        <ActionForm action=create attr:class="hook-form">
            <div class="field">
                <label for="hook-url">"Payload URL"</label>
                <input id="hook-url" name="url" type="url" required maxlength="2048"
                    placeholder="https://hooks.slack.com/services/…" autocomplete="off" />
            </div>
            <fieldset class="event-choices">
                <legend>"Events"</legend>
                <input type="hidden" name="events" prop:value=events_text value=events_text />
                {NotificationEvent::SUBSCRIBABLE.iter().copied().map(|event| {
                    let id = format!("hook-event-{}", event.as_str().replace('.', "-"));
                    let toggle = move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        chosen.update(|list| {
                            list.retain(|e| *e != event);
                            if on {
                                list.push(event);
                            }
                        });
                    };
                    let label_for = id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input id=id type="checkbox" checked=DEFAULT_EVENTS.contains(&event)
                                on:change=toggle />
                            <span>{event.label()}</span>
                            " "<code class="muted">{event.as_str()}</code>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <div class="inline-form">
                <div class="field">
                    <label for="hook-format">"Format"</label>
                    <select id="hook-format" name="format">
                        <option value="json" selected>"JSON (signed)"</option>
                        <option value="slack">"Slack"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="hook-site">"Sites"</label>
                    <select id="hook-site" name="site_id">
                        <option value="" selected>"Every site of the team"</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                sites.await.unwrap_or_default().into_iter().map(|site| view! {
                                    <option value=site.id.to_string()>{format!("Only {}", site.name)}</option>
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <button class="button button-primary" type="submit"
                    disabled=move || create.pending().get() || chosen.get().is_empty()>
                    {move || if create.pending().get() { "Adding…" } else { "Add hook" }}
                </button>
            </div>
        </ActionForm>
        {move || match create.value().get() {
            Some(Err(e)) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(new)) => view! {
                <div class="new-invite" role="status">
                    <p>"The hook's signing secret. It is shown only now: your receiver checks "
                        <code>"X-Flightdeck-Signature-256"</code>" with it."</p>
                    <CopyField value=new.secret label="Signing secret" id="hook-secret" />
                </div>
            }.into_any(),
            None => ().into_any(),
        }}
    }
}

/// The refusals of the actions on listed hooks.
#[component]
fn ActionErrors(actions: HookActions) -> impl IntoView {
    let error = move || {
        [
            actions.update.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
            actions.test.value().get().and_then(Result::err),
            actions.redeliver.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    move || error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })
}

#[component]
fn HookItem(hook: NotificationHook, actions: HookActions) -> impl IntoView {
    let id = hook.id.to_string();
    let scope = hook
        .site_name
        .clone()
        .map_or("Every site".to_string(), |name| format!("Only {name}"));
    let events = hook
        .events
        .iter()
        .map(|e| e.label())
        .collect::<Vec<_>>()
        .join(" · ");
    let disabled = hook.disabled_at.is_some();
    let url = hook.display_url();
    let (label, delete_label) = (
        format!("Hook to {url}"),
        format!("Delete the hook to {url}"),
    );
    let hook_id = hook.id;
    let last_test = move || {
        actions
            .test
            .value()
            .get()
            .and_then(Result::ok)
            .filter(|d| d.hook_id == hook_id)
    };
    view! {
        <li class="hook" aria-label=label>
            <div class="hook-head">
                <div class="hook-title">
                    <span class="hook-url">{url}</span>
                    <span class="muted">{format!("{} · {} · {}", hook.format.as_str().to_uppercase(), scope, events)}</span>
                </div>
                <div class="hook-actions">
                    {if disabled {
                        view! { <span class="badge status-failed">"disabled"</span> }.into_any()
                    } else {
                        view! { <span class="badge status-completed">"active"</span> }.into_any()
                    }}
                    {(!disabled).then(|| { let id = id.clone(); view! {
                        <ActionForm action=actions.test>
                            <input type="hidden" name="id" value=id />
                            <button class="button button-small" type="submit"
                                disabled=move || actions.test.pending().get()>
                                {move || if actions.test.pending().get() { "Sending…" } else { "Send test" }}
                            </button>
                        </ActionForm>
                    }})}
                    {disabled.then(|| { let id = id.clone(); view! {
                        <ActionForm action=actions.update>
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="enabled" value="true" />
                            <button class="button button-small" type="submit">"Enable"</button>
                        </ActionForm>
                    }})}
                    <ActionForm action=actions.delete>
                        <input type="hidden" name="id" value=id.clone() />
                        <button class="button button-small button-ghost" type="submit"
                            aria-label=delete_label>"Delete"</button>
                    </ActionForm>
                </div>
            </div>
            {hook.disabled_reason.clone().filter(|_| disabled).map(|why| view! {
                <p class="notice-card hook-notice" role="status">{why}</p>
            })}
            {move || last_test().map(|d| view! {
                <p class=if d.state == DeliveryState::Delivered { "form-success" } else { "form-error" } role="status">
                    {test_outcome(&d)}
                </p>
            })}
            <DeliveryLog deliveries=hook.deliveries.clone() redeliver=actions.redeliver />
        </li>
    }
}

/// How a test went, in a sentence.
fn test_outcome(d: &Delivery) -> String {
    let took = d
        .last_duration_ms
        .map(|ms| format!(" in {ms} ms"))
        .unwrap_or_default();
    match (d.state, d.last_status, &d.last_error) {
        (DeliveryState::Delivered, Some(code), _) => {
            format!("Test delivered: the receiver answered {code}{took}.")
        }
        (_, _, Some(error)) => format!("Test not delivered: {error}"),
        (_, Some(code), None) => format!("Test not delivered: the receiver answered {code}{took}."),
        _ => "Test sent.".to_string(),
    }
}

#[component]
fn DeliveryLog(
    deliveries: Vec<Delivery>,
    redeliver: ServerAction<RedeliverNotification>,
) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="muted hook-empty">"Nothing sent yet."</p> }.into_any();
    }
    view! {
        <details class="delivery-log" open=true>
            <summary>{format!("Recent deliveries ({})", deliveries.len())}</summary>
            <div class="table-wrap">
                <table class="table deliveries">
                    <thead>
                        <tr>
                            <th>"Event"</th>
                            <th>"Result"</th>
                            <th>"Tries"</th>
                            <th>"When"</th>
                            <th>"Answer"</th>
                            <th><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {deliveries.into_iter().map(|d| view! { <DeliveryRow d redeliver /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
    .into_any()
}

#[component]
fn DeliveryRow(d: Delivery, redeliver: ServerAction<RedeliverNotification>) -> impl IntoView {
    let (class, word) = match d.state {
        DeliveryState::Delivered => ("badge status-completed", "delivered"),
        DeliveryState::Pending => ("badge status-awaiting", "retrying"),
        DeliveryState::Failed => ("badge status-failed", "failed"),
    };
    let code = d.last_status.map(|c| c.to_string());
    let answer = d
        .last_error
        .clone()
        .or_else(|| d.last_response.clone())
        .unwrap_or_default();
    let short: String = answer.chars().take(80).collect();
    view! {
        <tr>
            <td>
                <div class="cell-title">{d.event.label()}</div>
                <div class="muted truncate">{d.summary.clone()}</div>
            </td>
            <td>
                <span class=class>{word}</span>
                {code.map(|c| view! { " " <code>{c}</code> })}
            </td>
            <td>{d.attempts}</td>
            <td>
                <RelativeTime ms=d.created_at />
                {d.next_attempt_at.map(|ms| view! { <div class="muted">"next try " <RelativeTime ms /></div> })}
                {d.last_duration_ms.map(|ms| view! { <div class="muted">{format!("{ms} ms")}</div> })}
            </td>
            <td class="answer" title=answer.clone()>{short}</td>
            <td class="cell-actions">
                <ActionForm action=redeliver>
                    <input type="hidden" name="id" value=d.id.to_string() />
                    <button class="button button-small button-ghost" type="submit"
                        aria-label=format!("Redeliver {}", d.summary)
                        disabled=move || redeliver.pending().get()>"Redeliver"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
