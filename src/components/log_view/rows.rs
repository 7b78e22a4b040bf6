//! The rows of a log as the viewer lays them out: which lines are shown
//! with the folds as they are, where each starts, and their markup.

use super::book::{LogBook, StepLog};
use crate::model::log::LogModel;
use crate::model::log::render::{RowOptions, rows_html};
use leptos::prelude::*;

/// The height of one row in px: `.log-view .ll` in the stylesheet.
#[cfg(feature = "hydrate")]
pub const ROW: f64 = 20.0;
/// Rows a page arrives with, from the end.
pub const FIRST_ROWS: usize = 200;

/// Rows drawn above and below those in view.
#[cfg(feature = "hydrate")]
pub const MARGIN: usize = 40;

/// How rows are laid out: which lines are shown, and in wrap mode where
/// each starts (estimated from its length).
#[cfg(feature = "hydrate")]
#[derive(Default)]
pub struct Layout {
    pub rows: Vec<u32>,
    /// `tops[i]` is where row `i` starts; one more for the end. Empty when
    /// every row is one [`ROW`] high.
    tops: Vec<f64>,
}

#[cfg(feature = "hydrate")]
impl Layout {
    pub fn height(&self) -> f64 {
        self.tops
            .last()
            .copied()
            .unwrap_or(self.rows.len() as f64 * ROW)
    }

    pub fn top_of(&self, row: usize) -> f64 {
        self.tops.get(row).copied().unwrap_or(row as f64 * ROW)
    }

    /// The row at `y`.
    pub fn row_at(&self, y: f64) -> usize {
        if self.tops.is_empty() {
            (y / ROW).max(0.0) as usize
        } else {
            self.tops.partition_point(|t| *t <= y).saturating_sub(1)
        }
    }
}

#[cfg(feature = "hydrate")]
pub fn layout(step: &StepLog, wrap_columns: Option<usize>) -> Layout {
    step.log.with_value(|log| {
        let rows = log.rows(|line| step.folded(line));
        let tops = match wrap_columns {
            Some(columns) => {
                let mut tops = Vec::with_capacity(rows.len() + 1);
                let mut y = 0.0;
                for &line in &rows {
                    tops.push(y);
                    let chars = log.text(line).chars().count().max(1);
                    y += ROW * chars.div_ceil(columns.max(1)) as f64;
                }
                tops.push(y);
                tops
            }
            None => Vec::new(),
        };
        Layout { rows, tops }
    })
}

pub fn draw_rows(
    book: &LogBook,
    step: &StepLog,
    log: &LogModel,
    rows: &[u32],
    started_at: Option<i64>,
) -> String {
    let current = book.current_in(step.step_id);
    step.matches.with_value(|matches| {
        rows_html(
            log,
            rows,
            &RowOptions {
                step: step.number,
                started_at,
                matches,
                current,
                highlight: step.highlight.get_untracked(),
                folded: &|line| step.folded(line),
            },
        )
    })
}

/// The style that makes the line number column as wide as the log's last
/// line number needs.
pub fn number_width(log: &LogModel) -> String {
    let digits = log.number(log.lines().len() as u32).to_string().len();
    format!("--ln:{}ch", digits.max(3) + 1)
}
