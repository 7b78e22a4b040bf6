//! From the stored daily totals to the page's numbers: pure, so each
//! metric's arithmetic is tested without a database.

use super::histogram::Histogram;
use super::rules::DayCounts;
use super::{Insights, Metric, PipelineSteps, Series, StepSeries, StepStats, Window};
use crate::model::PipelineType;
use crate::model::ids::SiteId;
use std::collections::BTreeMap;

/// How many steps the slowest-steps table lists.
pub const SLOWEST: usize = 5;

/// A day's production deploys (of a site, or of the team).
#[derive(Clone, Debug, PartialEq)]
pub struct DayRow {
    pub day: i64,
    pub counts: DayCounts,
}

/// Samples of one series in one bucket on one day (or, summed, on the
/// days of one chart point: then `day` is one of them).
#[derive(Clone, Debug, PartialEq)]
pub struct DurationRow {
    pub day: i64,
    pub series: Series,
    /// A step's pipeline; None for the other series.
    pub pipeline: Option<PipelineType>,
    pub step: String,
    /// A step's place in its pipeline.
    pub position: i64,
    pub bucket: i64,
    pub samples: i64,
}

/// Durations of one series: over the window, per point, and over the
/// window before.
#[derive(Default)]
struct Durations {
    total: Histogram,
    points: Vec<Histogram>,
    previous: Histogram,
}

impl Durations {
    fn new(points: usize) -> Self {
        Self {
            points: vec![Histogram::default(); points],
            ..Self::default()
        }
    }

    fn add(&mut self, at: Option<usize>, bucket: i64, samples: u64) {
        match at {
            Some(i) => {
                self.total.add(bucket, samples);
                self.points[i].add(bucket, samples);
            }
            None => self.previous.add(bucket, samples),
        }
    }

    fn median(&self) -> Metric {
        let median = |h: &Histogram| h.quantile(0.5).map(|v| v as f64);
        Metric {
            value: median(&self.total),
            previous: median(&self.previous),
            samples: self.total.samples(),
            points: self.points.iter().map(median).collect(),
        }
    }
}

/// The page's numbers from the rows of the window and of the window
/// before it (step rows are read for the window only). `history_from` is
/// the first day with totals: a window before that is no comparison.
pub fn build(
    window: Window,
    site_id: Option<SiteId>,
    history_from: Option<i64>,
    days: &[DayRow],
    durations: &[DurationRow],
) -> Insights {
    let n = window.points();
    let first = window.first_day();
    // The day's point in the window; None for the window before.
    let at = |day: i64| window.point_of(day);
    let in_range = |day: i64| day >= window.previous_first_day() && day < window.end_day;

    let mut per_point = vec![DayCounts::default(); n];
    let (mut total, mut previous) = (DayCounts::default(), DayCounts::default());
    for row in days.iter().filter(|r| in_range(r.day)) {
        match at(row.day) {
            Some(i) => {
                per_point[i].add(row.counts);
                total.add(row.counts);
            }
            None => previous.add(row.counts),
        }
    }

    let (mut lead, mut restore) = (Durations::new(n), Durations::new(n));
    let mut steps: BTreeMap<(PipelineType, String), (i64, Durations)> = BTreeMap::new();
    for row in durations.iter().filter(|r| in_range(r.day)) {
        let samples = row.samples.max(0) as u64;
        match (row.series, row.pipeline) {
            (Series::LeadTime, _) => lead.add(at(row.day), row.bucket, samples),
            (Series::Restore, _) => restore.add(at(row.day), row.bucket, samples),
            (Series::Step, Some(pipeline)) => {
                let Some(i) = at(row.day) else { continue };
                let (position, d) = steps
                    .entry((pipeline, row.step.clone()))
                    .or_insert_with(|| (row.position, Durations::new(n)));
                *position = (*position).min(row.position);
                d.add(Some(i), row.bucket, samples);
            }
            (Series::Step, None) => {}
        }
    }

    let rate = |c: &DayCounts| {
        (c.deploys > 0).then(|| (c.failed + c.failed_changes) as f64 / c.deploys as f64)
    };
    let per_day = |c: &DayCounts| Some(c.succeeded as f64 / f64::from(window.days));
    let spans = window.point_spans();
    let (pipelines, slowest) = step_tables(steps);
    let compared = history_from.is_some_and(|d| d <= window.previous_first_day());
    let mut insights = Insights {
        days: window.days,
        first_day: first,
        point_starts: spans.iter().map(|(start, _)| *start).collect(),
        point_days: window.point_days(),
        site_id,
        frequency: Metric {
            value: per_day(&total),
            previous: per_day(&previous),
            samples: total.succeeded as u64,
            points: per_point
                .iter()
                .zip(&spans)
                .map(|(c, (_, days))| Some(c.succeeded as f64 / f64::from(*days)))
                .collect(),
        },
        lead_time: lead.median(),
        failure_rate: Metric {
            value: rate(&total),
            previous: rate(&previous),
            samples: total.deploys as u64,
            points: per_point.iter().map(rate).collect(),
        },
        restore: restore.median(),
        pipelines,
        slowest,
    };
    if !compared {
        for m in [
            &mut insights.frequency,
            &mut insights.lead_time,
            &mut insights.failure_rate,
            &mut insights.restore,
        ] {
            m.previous = None;
        }
    }
    insights
}

/// Steps grouped by pipeline in pipeline order, and the slowest of all.
fn step_tables(
    steps: BTreeMap<(PipelineType, String), (i64, Durations)>,
) -> (Vec<PipelineSteps>, Vec<StepStats>) {
    let mut by_pipeline: Vec<(PipelineType, Vec<(i64, StepSeries)>)> = Vec::new();
    for ((pipeline, name), (position, d)) in steps {
        let (Some(p50), Some(p95)) = (d.total.quantile(0.5), d.total.quantile(0.95)) else {
            continue;
        };
        let series = StepSeries {
            stats: StepStats {
                pipeline,
                name,
                runs: d.total.samples(),
                p50,
                p95,
            },
            points: d
                .points
                .iter()
                .map(|h| Some((h.quantile(0.5)?, h.quantile(0.95)?)))
                .collect(),
        };
        match by_pipeline.iter_mut().find(|(p, _)| *p == pipeline) {
            Some((_, list)) => list.push((position, series)),
            None => by_pipeline.push((pipeline, vec![(position, series)])),
        }
    }
    let order = |p: &PipelineType| PipelineType::ALL.iter().position(|q| q == p);
    by_pipeline.sort_by_key(|(p, _)| order(p));
    let mut slowest: Vec<StepStats> = by_pipeline
        .iter()
        .flat_map(|(_, list)| list.iter().map(|(_, s)| s.stats.clone()))
        .collect();
    slowest.sort_by(|a, b| b.p95.cmp(&a.p95).then_with(|| a.name.cmp(&b.name)));
    slowest.truncate(SLOWEST);
    let pipelines = by_pipeline
        .into_iter()
        .map(|(pipeline, mut list)| {
            list.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| a.1.stats.name.cmp(&b.1.stats.name))
            });
            PipelineSteps {
                pipeline,
                steps: list.into_iter().map(|(_, s)| s).collect(),
            }
        })
        .collect();
    (pipelines, slowest)
}
