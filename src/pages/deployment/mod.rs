//! One deployment: its source, trigger, timing, every step with its output,
//! and the actions its state and the reader's role allow.

mod source;
mod steps;

use crate::api::deployments::{
    ApproveDeployment, CancelDeployment, PromoteDeployment, RetryDeployment, RollbackDeployment,
    get_deployment_view,
};
use crate::components::log_view::LogBook;
use crate::components::shell::SessionResource;
use crate::components::states::{ErrorState, LoadingRows, NotFoundState};
use crate::components::status::DeploymentBadge;
use crate::components::time::RelativeTime;
use crate::live::use_live;
use crate::model::live::{LiveMessage, apply_deployment, apply_step};
use crate::model::log::Appended;
use crate::model::{Deployment, ErrorKind, StepStatus, time};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use source::{DeploymentLink, Source};
use steps::{LogTools, StepItem};

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let cancel = ServerAction::<CancelDeployment>::new();
    let retry = ServerAction::<RetryDeployment>::new();
    let approve = ServerAction::<ApproveDeployment>::new();
    let rollback = ServerAction::<RollbackDeployment>::new();
    let promote = ServerAction::<PromoteDeployment>::new();
    let live = use_live();
    let deployment = Resource::new(
        move || {
            (
                id(),
                cancel.version().get(),
                approve.version().get(),
                live.resync.get(),
            )
        },
        |(id, ..)| get_deployment_view(id),
    );
    let session = expect_context::<SessionResource>();
    // A retry, redeploy, rollback or promotion is a new deployment: go
    // and watch it.
    let navigate = use_navigate();
    Effect::new(move |_| {
        let started = retry
            .value()
            .get()
            .or_else(|| rollback.value().get())
            .or_else(|| promote.value().get());
        if let Some(Ok(new)) = started {
            navigate(&format!("/deployments/{}", new.id), Default::default());
        }
    });
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=4 /> }>
            {move || Suspend::new(async move {
                let can_act = matches!(session.await, Ok(Some(ref s)) if s.team.role.can_trigger());
                match deployment.await {
                    Err(e) if e.kind == ErrorKind::NotFound => view! {
                        <Title text="Deployment not found" />
                        <NotFoundState
                            title="Deployment not found"
                            body="There is no deployment at this address in your team. It may belong to another team, or the link is mistyped."
                            back_href="/"
                            back_label="All deployments"
                        />
                    }.into_any(),
                    Err(error) => view! { <ErrorState error /> }.into_any(),
                    Ok(d) => view! { <LiveDeployment d can_act actions=Actions { cancel, retry, approve, rollback, promote } /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The buttons of a deployment's page.
#[derive(Clone, Copy)]
struct Actions {
    cancel: ServerAction<CancelDeployment>,
    retry: ServerAction<RetryDeployment>,
    approve: ServerAction<ApproveDeployment>,
    rollback: ServerAction<RollbackDeployment>,
    promote: ServerAction<PromoteDeployment>,
}

/// A deployment kept up to date from the live channel: records by their
/// version, output appended at its offset to the step's log.
#[component]
fn LiveDeployment(d: Deployment, can_act: bool, actions: Actions) -> impl IntoView {
    let live = use_live();
    let mut d = d;
    let open = d.focus_step();
    let book = LogBook::new(d.id, &mut d.steps, open);
    let state = RwSignal::new(d);
    // A step the page did not know gets its log under this page, so it
    // goes with the page.
    let owner = Owner::current();
    let add_step = move |step: &crate::model::DeploymentStep| match &owner {
        Some(owner) => owner.with(|| book.add_step(step)),
        None => book.add_step(step),
    };
    live.subscribe(move |message| match message {
        LiveMessage::Deployment { deployment, .. } => {
            for step in &deployment.steps {
                add_step(step);
            }
            state.maybe_update(|d| apply_deployment(d, deployment));
        }
        LiveMessage::Step { step, .. } => {
            add_step(step);
            state.maybe_update(|d| apply_step(d, step));
        }
        // Text before it is missing: only a refetch can say what is right.
        LiveMessage::Output {
            step_id,
            offset,
            text,
            times,
            ..
        } if book.append(*step_id, *offset, text, times) == Appended::Gap => {
            live.resync.update(|n| *n += 1);
        }
        _ => {}
    });
    // The page's records hold no output: the book has it.
    let summary = Memo::new(move |_| state.get());
    let focus = Memo::new(move |_| summary.with(Deployment::focus_step));
    // The step that runs, or failed, is open, as on a fresh load: each one
    // that starts or fails opens, and the one it follows closes.
    let opened = StoredValue::new(open);
    Effect::new(move |_| {
        let now = focus.get();
        if let Some(before) = opened.get_value().filter(|id| Some(*id) != now)
            && let Some(step) = book.step(before)
        {
            step.open.set(false);
        }
        if let Some(step) = now.and_then(|id| book.step(id)) {
            step.open.set(true);
        }
        opened.set_value(now);
    });
    book.follow_address();
    let steps_class = move || {
        let mut class = "steps".to_string();
        if !book.times.get() {
            class.push_str(" no-times");
        }
        if book.wrap.get() {
            class.push_str(" wrap");
        }
        class
    };
    view! {
        {move || view! { <DeploymentDetail d=summary.get() can_act actions /> }}
        <section class=steps_class aria-label="Steps">
            <div class="section-header">
                <h2>"Steps"</h2>
                <span class="muted">{move || summary.with(|d| {
                    let done = d.steps.iter().filter(|s| s.status == StepStatus::Completed).count();
                    format!("{done} of {} completed", d.steps.len())
                })}</span>
            </div>
            {move || summary.with(|d| d.steps.is_empty()).then(|| view! { <p class="muted">"This pipeline has no steps."</p> })}
            {move || summary.with(|d| !d.steps.is_empty()).then(|| view! { <LogTools book /> })}
            <ol class="step-list">
                <For
                    each=move || summary.with(|d| d.steps.iter().map(|s| s.id).collect::<Vec<_>>())
                    key=|id| *id
                    let:step_id
                >
                    {book.step(step_id).map(|log| view! { <StepItem step_id summary book log /> })}
                </For>
            </ol>
        </section>
    }
}

#[component]
fn DeploymentDetail(d: Deployment, can_act: bool, actions: Actions) -> impl IntoView {
    let Actions {
        cancel,
        retry,
        approve,
        rollback,
        promote,
    } = actions;
    let id = d.id.to_string();
    let (cancel_id, retry_id, approve_id) = (id.clone(), id.clone(), id.clone());
    let (rollback_id, promote_id) = (id.clone(), id.clone());
    let action_error = move || {
        let failed = |r: Option<Result<(), crate::model::AppError>>| r.and_then(Result::err);
        failed(cancel.value().get().map(|r| r.map(|_| ())))
            .or_else(|| failed(retry.value().get().map(|r| r.map(|_| ()))))
            .or_else(|| failed(approve.value().get()))
            .or_else(|| failed(rollback.value().get().map(|r| r.map(|_| ()))))
            .or_else(|| failed(promote.value().get().map(|r| r.map(|_| ()))))
    };
    let busy = move || {
        cancel.pending().get()
            || retry.pending().get()
            || approve.pending().get()
            || rollback.pending().get()
            || promote.pending().get()
    };
    let waits = d.waits_for_approval();
    // An earlier deploy of the site is offered for rollback; once its
    // release is gone the button stays, disabled, saying why.
    let rollback_refusal = d.rollback_refusal();
    let offers_rollback = d.offers_rollback();
    let rollback_title = rollback_refusal
        .clone()
        .unwrap_or_else(|| "Publish this deployment's release again, with no build".into());
    let can_roll_back = rollback_refusal.is_none();
    let offers_promote = d.promote_refusal().is_none();
    let removed = d.release_removed_note();
    view! {
        <Title text=d.operation_name.clone() />
        <nav class="breadcrumb" aria-label="Breadcrumb">
            <a href="/">"Deployments"</a>
            <span aria-hidden="true">"/"</span>
            <a href=format!("/sites/{}", d.site_id)>{d.site_name.clone()}</a>
            <span aria-hidden="true">"/"</span>
            <code>{d.id.short()}</code>
        </nav>
        <div class="page-header detail-header">
            <div class="detail-title">
                <div class="title-row">
                    <h1>{d.operation_name.clone()}</h1>
                    <DeploymentBadge deployment=d.clone() />
                </div>
                <p class="muted">
                    <span class="tag">{d.pipeline_type.label()}</span>
                    " "
                    <span>"Deployment "</span>
                    <code title=id.clone()>{d.id.short()}</code>
                    {d.progress().map(|p| view! { " · " <span class="progress-text">{p}</span> })}
                </p>
            </div>
            <div class="actions">
                {d.preview_url.clone().filter(|_| removed.is_none()).map(|url| view! {
                    <a class="button" href=url target="_blank" rel="noopener noreferrer">"Preview ↗"</a>
                })}
                {(can_act && offers_rollback).then(|| view! {
                    <ActionForm action=rollback>
                        <input type="hidden" name="id" value=rollback_id />
                        <button class="button" type="submit" disabled=move || !can_roll_back || busy() title=rollback_title>
                            {move || if rollback.pending().get() { "Rolling back…" } else { "Roll back to this deployment" }}
                        </button>
                    </ActionForm>
                })}
                {(can_act && offers_promote).then(|| view! {
                    <ActionForm action=promote>
                        <input type="hidden" name="id" value=promote_id />
                        <button class="button button-primary" type="submit" disabled=busy
                            title="Make this preview the site's current deployment, exactly as it was reviewed">
                            {move || if promote.pending().get() { "Promoting…" } else { "Promote to production" }}
                        </button>
                    </ActionForm>
                })}
                {(can_act && d.can_cancel()).then(|| view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=cancel_id />
                        <button class="button button-danger" type="submit" disabled=busy>
                            {move || if cancel.pending().get() { "Cancelling…" } else if waits { "Reject" } else { "Cancel" }}
                        </button>
                    </ActionForm>
                })}
                {(can_act && waits).then(|| view! {
                    <ActionForm action=approve>
                        <input type="hidden" name="id" value=approve_id />
                        <button class="button button-primary" type="submit" disabled=busy>
                            {move || if approve.pending().get() { "Approving…" } else { "Approve and run" }}
                        </button>
                    </ActionForm>
                })}
                {(can_act && (d.can_retry() || d.can_redeploy())).then(|| {
                    let label = if d.can_retry() { "Retry" } else { "Redeploy" };
                    view! {
                        <ActionForm action=retry>
                            <input type="hidden" name="id" value=retry_id />
                            <button class="button button-primary" type="submit" disabled=busy>{label}</button>
                        </ActionForm>
                    }
                })}
            </div>
        </div>
        {move || action_error().map(|e| view! { <p class="form-error" role="alert">{e.message}</p> })}
        {waits.then(|| view! {
            <div class="alert alert-awaiting" role="status">
                <strong>"Waiting for approval: "</strong>
                "this pull request comes from a fork, so its code runs nothing until an owner or member approves it. "
                {match d.pr_url() {
                    Some(url) => view! { <a href=url target="_blank" rel="noopener noreferrer">"Review its changes on GitHub"</a> }.into_any(),
                    None => view! { <span>"Review its changes first."</span> }.into_any(),
                }}
                {(!can_act).then_some(" Viewers cannot approve.")}
            </div>
        })}
        {removed.clone().map(|note| view! {
            <div class="alert alert-removed" role="status">
                <strong>"Preview removed: "</strong>{note}
                {d.offers_rollback().then_some(" Rollback to it is unavailable; deploy its commit again instead.")}
            </div>
        })}
        {d.error_message.clone().map(|message| view! {
            <div class=format!("alert alert-{}", d.status) role="status">
                <strong>{if d.status == crate::model::DeploymentStatus::Failed { "Failed: " } else { "Note: " }}</strong>
                {message}
            </div>
        })}
        <section class="card detail-facts" aria-label="Details">
            <dl class="facts facts-wide">
                <dt>"Status"</dt>
                <dd>
                    <DeploymentBadge deployment=d.clone() />
                    {d.lifecycle()
                        .filter(|l| l.as_str() != d.status.as_str())
                        .map(|_| view! { <span class="muted">{format!("status: {}", d.status)}</span> })}
                </dd>
                <dt>"Site"</dt>
                <dd><a href=format!("/sites/{}", d.site_id)>{d.site_name.clone()}</a></dd>
                <dt>"Source"</dt>
                <dd><Source d=d.clone() /></dd>
                <dt>"Triggered by"</dt>
                <dd>{d.triggered_by.clone()} <span class="muted">"·"</span> <RelativeTime ms=d.created_at /></dd>
                {d.pr_number.map(|n| view! {
                    <dt>"Pull request"</dt>
                    <dd>{match d.pr_url() {
                        Some(url) => view! { <a href=url target="_blank" rel="noopener noreferrer">{format!("#{n}")}</a> }.into_any(),
                        None => view! { <span>{format!("#{n}")}</span> }.into_any(),
                    }}</dd>
                })}
                <dt>"Build duration"</dt>
                <dd>{d.build_duration_ms().map(time::duration).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Total duration"</dt>
                <dd>{d.duration_ms().map(time::duration).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Started"</dt>
                <dd>{match d.started_at {
                    Some(ms) => view! { <RelativeTime ms /> }.into_any(),
                    None => view! { <span class="muted">"Not started"</span> }.into_any(),
                }}</dd>
                {d.retry_of_id.map(|other| view! {
                    <dt>"Runs again"</dt>
                    <dd><DeploymentLink id=other /></dd>
                })}
                {d.meta.rollback_of.map(|other| view! {
                    <dt>"Rolls back to"</dt>
                    <dd><DeploymentLink id=other /> <span class="muted">"· its release published again, no build"</span></dd>
                })}
                {d.meta.promoted_from.map(|other| view! {
                    <dt>"Promotes"</dt>
                    <dd><DeploymentLink id=other /> <span class="muted">"· the pull request's preview, as reviewed"</span></dd>
                })}
                {d.superseded_by_id.map(|other| view! {
                    <dt>"Superseded by"</dt>
                    <dd><DeploymentLink id=other /></dd>
                })}
            </dl>
        </section>
    }
}
