//! Each metric's definition on a hand-built history with known answers.

use super::build::{DayRow, DurationRow, build};
use super::histogram::bucket_of;
use super::rules::{DayCounts, Finished};
use super::{DAY_MS, Series, Window};
use crate::model::{DeploymentStatus, PipelineType, TriggerKind};

const H: i64 = 3_600_000;

fn deploy(status: DeploymentStatus, finished_at: i64) -> Finished {
    Finished {
        pipeline: PipelineType::Deploy,
        trigger: TriggerKind::Push,
        status,
        staging: false,
        rollback: false,
        finished_at,
        commit_at: None,
    }
}

fn near(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!(
        (got - want).abs() <= want * 0.045,
        "{got} is not about {want}"
    );
}

/// One site's week, as the store would keep it: every end's effects, and
/// each replaced change marked on the day it went live.
struct History {
    days: Vec<DayRow>,
    durations: Vec<DurationRow>,
    failing_since: Option<i64>,
    live: Option<Finished>,
}

impl History {
    fn new() -> Self {
        Self {
            days: Vec::new(),
            durations: Vec::new(),
            failing_since: None,
            live: None,
        }
    }

    fn end(&mut self, f: Finished) {
        let e = f.effects(self.failing_since);
        self.failing_since = e.failing_since;
        self.days.push(DayRow {
            day: e.day,
            counts: e.counts,
        });
        for (series, ms) in [
            (Series::LeadTime, e.lead_time),
            (Series::Restore, e.restore),
        ] {
            if let Some(ms) = ms {
                self.durations.push(DurationRow {
                    day: e.day,
                    series,
                    pipeline: None,
                    step: String::new(),
                    position: 0,
                    bucket: bucket_of(ms),
                    samples: 1,
                });
            }
        }
        if f.status == DeploymentStatus::Completed && f.is_production_deploy() {
            if let Some(prev) = self.live.take()
                && prev.failed_when_replaced_by(&f)
            {
                self.days.push(DayRow {
                    day: super::day_of(prev.finished_at),
                    counts: DayCounts {
                        failed_changes: 1,
                        ..DayCounts::default()
                    },
                });
            }
            self.live = Some(f);
        }
    }
}

#[test]
fn the_four_metrics_of_a_week_with_a_failure_a_hotfix_and_a_rollback() {
    let start = 20_000 * DAY_MS;
    let mut h = History::new();
    // Day 0: a change goes live 2 h after its commit.
    h.end(Finished {
        commit_at: Some(start + 8 * H),
        ..deploy(DeploymentStatus::Completed, start + 10 * H)
    });
    // Day 1: two deploys fail; day 2 one succeeds: one restore of 40 h.
    h.end(deploy(DeploymentStatus::Failed, start + DAY_MS + 2 * H));
    h.end(deploy(DeploymentStatus::Failed, start + DAY_MS + 5 * H));
    h.end(Finished {
        commit_at: Some(start + 2 * DAY_MS + 12 * H),
        ..deploy(DeploymentStatus::Completed, start + 2 * DAY_MS + 18 * H)
    });
    // 30 min later a hotfix replaces it: the change it replaced failed.
    h.end(Finished {
        commit_at: Some(start + 2 * DAY_MS + 18 * H),
        ..deploy(
            DeploymentStatus::Completed,
            start + 2 * DAY_MS + 18 * H + H / 2,
        )
    });
    // Day 4: a rollback undoes the hotfix; it is no change of its own.
    h.end(Finished {
        rollback: true,
        ..deploy(DeploymentStatus::Completed, start + 4 * DAY_MS)
    });
    // Neither a preview nor a staging copy is production.
    h.end(Finished {
        trigger: TriggerKind::PullRequest,
        ..deploy(DeploymentStatus::Failed, start + 4 * DAY_MS + H)
    });
    h.end(Finished {
        staging: true,
        ..deploy(DeploymentStatus::Failed, start + 4 * DAY_MS + H)
    });
    // A change of the week before, for the comparison.
    h.end(deploy(DeploymentStatus::Completed, start - 3 * DAY_MS));

    let window = Window {
        days: 7,
        end_day: super::day_of(start) + 7,
    };
    let insights = build(window, None, Some(0), &h.days, &h.durations);

    // Three changes succeeded in 7 days.
    near(insights.frequency.value, 3.0 / 7.0);
    near(insights.frequency.previous, 1.0 / 7.0);
    assert_eq!(insights.frequency.samples, 3);
    assert_eq!(
        insights.frequency.points,
        [1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0].map(Some)
    );
    // Lead times 2 h, 6 h and 30 min: the median is 2 h.
    near(insights.lead_time.value, (2 * H) as f64);
    assert_eq!(insights.lead_time.samples, 3);
    assert_eq!(insights.lead_time.points[1], None);
    // Five changes; two failed, one was replaced within the hour and one
    // was rolled back: 4 of 5.
    near(insights.failure_rate.value, 0.8);
    assert_eq!(insights.failure_rate.samples, 5);
    assert_eq!(insights.failure_rate.points[1], Some(1.0));
    assert_eq!(insights.failure_rate.points[2], Some(1.0));
    assert_eq!(insights.failure_rate.points[3], None);
    assert_eq!(insights.failure_rate.previous, Some(0.0));
    // One restore: from the first failure (day 1, 02:00) to day 2, 18:00.
    near(insights.restore.value, (40 * H) as f64);
    assert_eq!(insights.restore.samples, 1);
    assert_eq!(insights.restore.previous, None);

    // A history that starts within the window before compares with nothing.
    let young = build(
        window,
        None,
        Some(window.previous_first_day() + 1),
        &h.days,
        &h.durations,
    );
    assert_eq!(young.frequency.previous, None);
    assert_eq!(young.failure_rate.previous, None);
    assert_eq!(young.frequency.value, insights.frequency.value);
}

#[test]
fn a_site_that_keeps_failing_restores_once_and_a_rollback_restores_it() {
    let mut h = History::new();
    h.end(deploy(DeploymentStatus::Failed, 1_000));
    h.end(deploy(DeploymentStatus::Failed, 2_000));
    assert_eq!(h.failing_since, Some(1_000));
    // A cancelled deploy neither fails nor restores.
    h.end(deploy(DeploymentStatus::Cancelled, 2_500));
    assert_eq!(h.failing_since, Some(1_000));
    h.end(Finished {
        rollback: true,
        ..deploy(DeploymentStatus::Completed, 5_000)
    });
    assert_eq!(h.failing_since, None);
    let restores: Vec<_> = h
        .durations
        .iter()
        .filter(|r| r.series == Series::Restore)
        .collect();
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0].bucket, bucket_of(4_000));
}

#[test]
fn a_change_replaced_after_the_hour_by_a_deploy_did_not_fail() {
    let live = deploy(DeploymentStatus::Completed, 0);
    assert!(!live.failed_when_replaced_by(&deploy(DeploymentStatus::Completed, 2 * H)));
    assert!(live.failed_when_replaced_by(&deploy(DeploymentStatus::Completed, H - 1)));
    let restore = Finished {
        pipeline: PipelineType::Restore,
        ..deploy(DeploymentStatus::Completed, 30 * DAY_MS)
    };
    assert!(live.failed_when_replaced_by(&restore));
    // A rollback replaced is no change, so it cannot fail one.
    let rollback = Finished {
        rollback: true,
        ..live.clone()
    };
    assert!(!rollback.failed_when_replaced_by(&deploy(DeploymentStatus::Completed, 1)));
}

#[test]
fn step_durations_are_grouped_by_pipeline_in_step_order() {
    let window = Window {
        days: 2,
        end_day: 12,
    };
    let step = |pipeline, step: &str, position, day, ms, samples| DurationRow {
        day,
        series: Series::Step,
        pipeline: Some(pipeline),
        step: step.into(),
        position,
        bucket: bucket_of(ms),
        samples,
    };
    let rows = [
        step(PipelineType::Restart, "Restart", 0, 10, 500, 1),
        step(PipelineType::Deploy, "Publish", 2, 10, 2_000, 9),
        step(PipelineType::Deploy, "Build", 1, 10, 60_000, 19),
        step(PipelineType::Deploy, "Build", 1, 11, 600_000, 1),
        // Outside the window: left out.
        step(PipelineType::Deploy, "Build", 1, 9, 9_000_000, 100),
    ];
    let insights = build(window, None, None, &[], &rows);
    let names: Vec<_> = insights
        .pipelines
        .iter()
        .map(|p| {
            (
                p.pipeline,
                p.steps
                    .iter()
                    .map(|s| s.stats.name.as_str())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (PipelineType::Deploy, vec!["Build", "Publish"]),
            (PipelineType::Restart, vec!["Restart"]),
        ]
    );
    let build_step = &insights.pipelines[0].steps[0];
    assert_eq!(build_step.stats.runs, 20);
    near(Some(build_step.stats.p50 as f64), 60_000.0);
    near(Some(build_step.stats.p95 as f64), 60_000.0);
    assert!(build_step.points[1].is_some_and(|(p50, _)| p50 > 500_000));
    assert_eq!(insights.slowest[0].name, "Build");
    assert_eq!(insights.slowest.len(), 3);
}

#[test]
fn ninety_days_come_by_week_counted_back_from_today() {
    let window = Window {
        days: 90,
        end_day: 1000,
    };
    assert_eq!((window.point_days(), window.points()), (7, 13));
    let spans = window.point_spans();
    // The newest week is whole and ends today; the oldest is 6 days.
    assert_eq!(spans[12], (993, 7));
    assert_eq!(spans[0], (910, 6));
    assert_eq!(spans.iter().map(|(_, d)| d).sum::<u32>(), 90);
    assert_eq!(window.point_of(999), Some(12));
    assert_eq!(window.point_of(993), Some(12));
    assert_eq!(window.point_of(992), Some(11));
    assert_eq!(window.point_of(910), Some(0));
    assert_eq!(window.point_of(909), None);
    assert_eq!(window.point_of(1000), None);
    let month = Window {
        days: 30,
        end_day: 1000,
    };
    assert_eq!((month.point_days(), month.points()), (1, 30));
    assert_eq!(month.point_of(970), Some(0));
}
