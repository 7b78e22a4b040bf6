//! A chart's value axis: the round number it ends at and how its values
//! read, for counts, durations and rates.

use crate::model::time::duration;

/// What the values are, which sets the axis's round numbers and labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Count,
    /// Milliseconds.
    Duration,
    /// 0 to 1, shown as a percentage.
    Fraction,
}

impl Scale {
    /// A value as the axis shows it: the round numbers it ends at.
    pub(super) fn tick(self, v: f64) -> String {
        let ms = v.round() as i64;
        match self {
            Scale::Duration if ms >= 3_600_000 && ms % 3_600_000 == 0 => {
                format!("{}h", ms / 3_600_000)
            }
            Scale::Duration if ms >= 60_000 && ms % 60_000 == 0 => format!("{}m", ms / 60_000),
            Scale::Duration if (1_000..60_000).contains(&ms) && ms % 1_000 == 0 => {
                format!("{}s", ms / 1_000)
            }
            _ => self.label(v),
        }
    }

    pub fn label(self, v: f64) -> String {
        match self {
            Scale::Count if v.fract() == 0.0 => format!("{v:.0}"),
            Scale::Count => format!("{v:.1}"),
            Scale::Duration => duration(v.round() as i64),
            Scale::Fraction => format!("{:.0}%", v * 100.0),
        }
    }

    /// The round number at or above `max` the axis ends at.
    pub(super) fn top(self, max: f64) -> f64 {
        const TIMES: [f64; 20] = [
            1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5,
            216e5, 432e5, 864e5, 1728e5, 6048e5,
        ];
        const FRACTIONS: [f64; 6] = [0.05, 0.1, 0.2, 0.25, 0.5, 1.0];
        match self {
            Scale::Fraction => FRACTIONS.into_iter().find(|f| *f >= max).unwrap_or(1.0),
            Scale::Duration if max <= 1e3 => round_up(max.max(1.0)),
            Scale::Duration => TIMES
                .into_iter()
                .find(|t| *t >= max)
                .unwrap_or_else(|| (max / 864e5).ceil() * 864e5),
            Scale::Count => round_up(max.max(1.0)),
        }
    }
}

/// 1, 2 or 5 times a power of ten, at or above `v`.
fn round_up(v: f64) -> f64 {
    let base = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|t| *t >= v)
        .unwrap_or(10.0 * base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_at_round_numbers() {
        assert_eq!(Scale::Count.top(0.0), 1.0);
        assert_eq!(Scale::Count.top(3.0), 5.0);
        assert_eq!(Scale::Count.top(12.0), 20.0);
        assert_eq!(Scale::Fraction.top(0.3), 0.5);
        assert_eq!(Scale::Duration.top(70_000.0), 120_000.0);
        assert_eq!(
            Scale::Duration.top(40.0 * 86_400_000.0),
            40.0 * 86_400_000.0
        );
        assert_eq!(Scale::Fraction.label(0.25), "25%");
        assert_eq!(Scale::Duration.label(90_000.0), "1m 30s");
        assert_eq!(Scale::Duration.tick(10_800_000.0), "3h");
        assert_eq!(Scale::Duration.tick(5_400_000.0), "90m");
        assert_eq!(Scale::Duration.tick(0.0), "0ms");
        assert_eq!(Scale::Duration.tick(150_000.0), "2m 30s");
        assert_eq!(Scale::Duration.tick(15_000.0), "15s");
    }
}
