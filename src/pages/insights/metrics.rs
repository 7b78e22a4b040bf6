//! The four DORA metrics, each a card: the window's number, how it moved
//! since the window before, its chart, and how it is computed.

use crate::model::chart::{Chart, Kind, Scale, Series};
use crate::model::insights::{Insights, Metric};
use crate::model::time::duration;
use leptos::prelude::*;

/// Whether a metric is better when it goes up or down.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Up,
    Down,
}

/// "▲ 25% vs the 30 days before", and whether that is good news.
fn delta(m: &Metric, scale: Scale, better: Better, days: u32) -> Option<(String, &'static str)> {
    let (value, previous) = (m.value?, m.previous?);
    let change = match scale {
        // Rates move in points: 10% to 15% is "5 pts", not "50%".
        Scale::Fraction => (value - previous) * 100.0,
        _ if previous > 0.0 => (value - previous) / previous * 100.0,
        _ => return None,
    };
    let unit = if scale == Scale::Fraction {
        " pts"
    } else {
        "%"
    };
    if change.abs() < 0.5 {
        return Some((format!("Same as the {days} days before"), "delta-same"));
    }
    let up = change > 0.0;
    let good = up == (better == Better::Up);
    Some((
        format!(
            "{} {:.0}{unit} vs the {days} days before",
            if up { "▲" } else { "▼" },
            change.abs()
        ),
        if good { "delta-good" } else { "delta-bad" },
    ))
}

/// "4.3 a day", or "2.5 a week" for a team that ships less than daily.
fn per_day(v: f64) -> String {
    if v >= 1.0 || v == 0.0 {
        format!("{v:.1} a day")
    } else {
        format!("{:.1} a week", v * 7.0)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[component]
pub fn MetricCards(data: Insights) -> impl IntoView {
    let days = data.days;
    let (starts, weekly) = (&data.point_starts, data.point_days > 1);
    let (f, l, r, t) = (
        &data.frequency,
        &data.lead_time,
        &data.failure_rate,
        &data.restore,
    );
    let cards = [
        Card {
            name: "Deployment frequency",
            value: f.value.map(per_day),
            detail: format!(
                "{} in {days} days",
                plural(f.samples, "successful deploy", "successful deploys")
            ),
            delta: delta(f, Scale::Count, Better::Up, days),
            chart: Chart {
                title: if weekly {
                    "Successful production deploys a day, by week"
                } else {
                    "Successful production deploys per day"
                },
                y_label: "deploys",
                starts,
                weekly,
                kind: Kind::Bars,
                scale: Scale::Count,
                series: &[Series {
                    label: "Successful deploys",
                    class: "s-success",
                    values: &f.points,
                }],
                small: false,
            }
            .html(),
            how: "Deploys of production sites that completed, per day. Rollbacks, \
                  pull-request previews and staging sites are left out.",
        },
        Card {
            name: "Lead time for changes",
            value: l.value.map(|v| duration(v as i64)),
            detail: if l.samples == 0 {
                "No change went live with a known commit time".into()
            } else {
                format!("Median of {}", plural(l.samples, "change", "changes"))
            },
            delta: delta(l, Scale::Duration, Better::Down, days),
            chart: Chart {
                title: if weekly {
                    "Median lead time by week"
                } else {
                    "Median lead time per day"
                },
                y_label: "lead time",
                starts,
                weekly,
                kind: Kind::Lines,
                scale: Scale::Duration,
                series: &[Series {
                    label: "Median lead time",
                    class: "s-accent",
                    values: &l.points,
                }],
                small: false,
            }
            .html(),
            how: "From the time of the commit a deploy checked out to the moment that deploy \
                  went live; the median. Deploys of an upload have no commit time and are left out.",
        },
        Card {
            name: "Change failure rate",
            value: r.value.map(|v| format!("{:.0}%", v * 100.0)),
            detail: if r.samples == 0 {
                "No production deploy ended".into()
            } else {
                format!("Of {}", plural(r.samples, "deploy", "deploys"))
            },
            delta: delta(r, Scale::Fraction, Better::Down, days),
            chart: Chart {
                title: if weekly {
                    "Change failure rate by week"
                } else {
                    "Change failure rate per day"
                },
                y_label: "failed",
                starts,
                weekly,
                kind: Kind::Bars,
                scale: Scale::Fraction,
                series: &[Series {
                    label: "Change failure rate",
                    class: "s-failed",
                    values: &r.points,
                }],
                small: false,
            }
            .html(),
            how: "Deploys that failed, and deploys that went live and were then rolled back \
                  (or restored from a capsule) or replaced within an hour, over all deploys that \
                  succeeded or failed (cancelled ones and rollbacks are left out); counted on \
                  the day the deploy ended.",
        },
        Card {
            name: "Time to restore",
            value: t.value.map(|v| duration(v as i64)),
            detail: if t.samples == 0 {
                "No failed deploy needed restoring".into()
            } else {
                format!("Median of {}", plural(t.samples, "restore", "restores"))
            },
            delta: delta(t, Scale::Duration, Better::Down, days),
            chart: Chart {
                title: if weekly {
                    "Median time to restore by week"
                } else {
                    "Median time to restore per day"
                },
                y_label: "to restore",
                starts,
                weekly,
                kind: Kind::Points,
                scale: Scale::Duration,
                series: &[Series {
                    label: "Median time to restore",
                    class: "s-awaiting",
                    values: &t.points,
                }],
                small: false,
            }
            .html(),
            how: "From a failed deploy of a site to its next successful deploy (a rollback \
                  counts); failures in a row are one, timed from the first. The median, on the \
                  day the site was restored.",
        },
    ];
    view! {
        <section class="metric-grid" aria-label="DORA metrics">
            {cards.into_iter().map(|c| c.view()).collect_view()}
        </section>
    }
}

struct Card {
    name: &'static str,
    value: Option<String>,
    detail: String,
    delta: Option<(String, &'static str)>,
    chart: String,
    how: &'static str,
}

impl Card {
    fn view(self) -> impl IntoView {
        view! {
            <article class="card metric">
                <h2 class="metric-name">{self.name}</h2>
                <p class="metric-value">{self.value.unwrap_or_else(|| "–".into())}</p>
                <p class="metric-detail">
                    <span class="muted">{self.detail}</span>
                    {self.delta.map(|(text, class)| {
                        // Colour says which way is good; words say it too.
                        let verdict = match class {
                            "delta-good" => ", better",
                            "delta-bad" => ", worse",
                            _ => "",
                        };
                        view! {
                            <span class=format!("delta {class}")>
                                {text}<span class="visually-hidden">{verdict}</span>
                            </span>
                        }
                    })}
                </p>
                <figure class="chart" inner_html=self.chart></figure>
                <details class="how">
                    <summary>"How it’s computed"</summary>
                    <p>{self.how}</p>
                </details>
            </article>
        }
    }
}
