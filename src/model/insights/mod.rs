//! Insights: the four DORA metrics of a team's production deploys and the
//! durations of its pipelines' steps, over the last 7, 30 or 90 days.
//!
//! - [`rules`]: what each deployment's end adds (the definitions);
//! - [`histogram`]: durations as counts per bucket, and their percentiles;
//! - [`build`]: from the stored daily totals to the page's numbers.

pub mod build;
pub mod histogram;
pub mod rules;
#[cfg(test)]
mod tests;

use super::PipelineType;
use super::ids::SiteId;
use super::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// A UTC day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// The windows the page offers, in days.
pub const WINDOWS: [u32; 3] = [7, 30, 90];
/// The window a page opens with.
pub const DEFAULT_WINDOW: u32 = 30;

/// The UTC day (days since the epoch) a time falls on.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The days a page covers: the last `days` UTC days, today included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub days: u32,
    /// The day after the last one shown.
    pub end_day: i64,
}

impl Window {
    /// The window of `days` days that ends today.
    pub fn ending_at(days: u32, now_ms: i64) -> Self {
        Self {
            days,
            end_day: day_of(now_ms) + 1,
        }
    }

    pub fn first_day(&self) -> i64 {
        self.end_day - i64::from(self.days)
    }

    /// The first day of the window as long just before this one, which
    /// the headline numbers compare with.
    pub fn previous_first_day(&self) -> i64 {
        self.first_day() - i64::from(self.days)
    }

    /// Days per point of a chart: a day up to a month, a week beyond.
    pub fn point_days(&self) -> u32 {
        if self.days > 31 { 7 } else { 1 }
    }

    /// Points per chart. Counted back from today, so the newest point is
    /// whole and only the oldest may be shorter.
    pub fn points(&self) -> usize {
        self.days.div_ceil(self.point_days()) as usize
    }

    /// A day's point, oldest first; None outside the window.
    pub fn point_of(&self, day: i64) -> Option<usize> {
        if day < self.first_day() || day >= self.end_day {
            return None;
        }
        let back = ((self.end_day - 1 - day) / i64::from(self.point_days())) as usize;
        Some(self.points() - 1 - back)
    }

    /// The first day of each point, and how many days it covers.
    pub fn point_spans(&self) -> Vec<(i64, u32)> {
        let step = self.point_days();
        (0..self.points())
            .map(|i| {
                let back = (self.points() - 1 - i) as i64;
                let last = self.end_day - 1 - back * i64::from(step);
                let first = (last + 1 - i64::from(step)).max(self.first_day());
                (first, (last + 1 - first) as u32)
            })
            .collect()
    }
}

/// Which durations a stored row counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    /// From a deploy's commit to live.
    LeadTime,
    /// From a failure to the next successful deploy of the site.
    Restore,
    /// A step of a pipeline.
    Step,
}

text_enum!(Series {
    LeadTime => "lead_time",
    Restore => "restore",
    Step => "step",
});

/// The page's numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    pub days: u32,
    /// The first day shown (UTC days since the epoch).
    pub first_day: i64,
    /// Each chart point's first day, oldest first: one a day up to 30
    /// days, one a week for 90.
    pub point_starts: Vec<i64>,
    /// Days per point (1 or 7; the oldest point may cover fewer).
    pub point_days: u32,
    pub site_id: Option<SiteId>,
    /// Successful deploys per day.
    pub frequency: Metric,
    /// Commit to live, the median (ms).
    pub lead_time: Metric,
    /// Failed changes over deploys (0 to 1).
    pub failure_rate: Metric,
    /// Failure to the next success, the median (ms).
    pub restore: Metric,
    /// Each pipeline's steps, in pipeline order.
    pub pipelines: Vec<PipelineSteps>,
    /// The steps that take longest (by p95), slowest first.
    pub slowest: Vec<StepStats>,
}

/// One metric: its value over the window, over the window before, and day by day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// None when there is nothing to compute it from.
    pub value: Option<f64>,
    /// Over the window before; None also when the history does not
    /// reach back that far.
    pub previous: Option<f64>,
    /// How many deploys, changes or restores the value comes from.
    pub samples: u64,
    /// One value per point of the window, oldest first (deploys a day,
    /// the median, the rate of the point); None where there is nothing
    /// to compute it from.
    pub points: Vec<Option<f64>>,
}

/// A pipeline's steps over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineSteps {
    pub pipeline: PipelineType,
    pub steps: Vec<StepSeries>,
}

/// A step's durations over the window and day by day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSeries {
    pub stats: StepStats,
    /// (p50, p95) per point of the window (ms), oldest first.
    pub points: Vec<Option<(i64, i64)>>,
}

/// A step's durations over the whole window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    pub pipeline: PipelineType,
    pub name: String,
    /// Completed runs.
    pub runs: u64,
    pub p50: i64,
    pub p95: i64,
}
