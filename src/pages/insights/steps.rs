//! How long each pipeline's steps take: p50 and p95 per point for every
//! step, and the slowest steps of the window.

use crate::model::chart::{Chart, Kind, Scale, Series};
use crate::model::insights::{Insights, StepSeries};
use crate::model::time::duration;
use leptos::prelude::*;

#[component]
pub fn StepDurations(data: Insights) -> impl IntoView {
    let (starts, weekly) = (data.point_starts.clone(), data.point_days > 1);
    if data.pipelines.is_empty() {
        return view! {
            <section class="insights-section">
                <h2>"Step durations"</h2>
                <p class="muted">"No step completed in this window."</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="insights-section" aria-labelledby="slowest-title">
            <div class="section-header">
                <h2 id="slowest-title">"Slowest steps"</h2>
                <span class="muted">"By p95 over the window"</span>
            </div>
            <div class="table-wrap">
                <table class="table slowest-table">
                    <thead>
                        <tr>
                            <th scope="col">"Step"</th>
                            <th scope="col">"Pipeline"</th>
                            <th scope="col" class="num">"p50"</th>
                            <th scope="col" class="num">"p95"</th>
                            <th scope="col" class="num">"Runs"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {data.slowest.into_iter().map(|s| view! {
                            <tr>
                                <td class="cell-title">{s.name}</td>
                                <td>{s.pipeline.label()}</td>
                                <td class="num">{duration(s.p50)}</td>
                                <td class="num">{duration(s.p95)}</td>
                                <td class="num">{s.runs}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        {data.pipelines.into_iter().map(|p| view! {
            <section class="insights-section">
                <div class="section-header">
                    <h2>{format!("{} pipeline", p.pipeline.label())}</h2>
                    <span class="legend muted">
                        "Each step’s duration: "
                        <i class="key s-accent" aria-hidden="true"></i>"p50 "
                        <i class="key key-dashed s-p95" aria-hidden="true"></i>"p95"
                    </span>
                </div>
                <div class="step-charts">
                    {p.steps.into_iter().map(|s| step_card(s, &starts, weekly)).collect_view()}
                </div>
            </section>
        }).collect_view()}
        <details class="how how-steps">
            <summary>"How step durations are computed"</summary>
            <p>
                "Every completed step of every deployment that ended, on the day it ended: \
                 production, staging and previews alike. Half of the runs took the p50 or less, \
                 95 in 100 the p95 or less. Durations are kept in buckets about 9% wide, so a \
                 percentile is within 5% of the exact one."
            </p>
        </details>
    }
    .into_any()
}

fn step_card(s: StepSeries, starts: &[i64], weekly: bool) -> impl IntoView {
    let p50: Vec<Option<f64>> = s.points.iter().map(|d| d.map(|(v, _)| v as f64)).collect();
    let p95: Vec<Option<f64>> = s.points.iter().map(|d| d.map(|(_, v)| v as f64)).collect();
    let title = format!(
        "{}: duration {}",
        s.stats.name,
        if weekly { "by week" } else { "per day" }
    );
    let html = Chart {
        title: &title,
        y_label: "duration",
        starts,
        weekly,
        kind: Kind::Lines,
        scale: Scale::Duration,
        series: &[
            Series {
                label: "p50",
                class: "s-accent",
                values: &p50,
            },
            Series {
                label: "p95",
                class: "s-p95",
                values: &p95,
            },
        ],
        small: true,
    }
    .html();
    view! {
        <article class="card step-chart">
            <header class="step-chart-head">
                <h3>{s.stats.name.clone()}</h3>
                <span class="muted nowrap">
                    {format!("p50 {} · p95 {} · {} runs", duration(s.stats.p50), duration(s.stats.p95), s.stats.runs)}
                </span>
            </header>
            <figure class="chart" inner_html=html></figure>
        </article>
    }
}
