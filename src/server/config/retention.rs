//! How much the server keeps, so its disk and database stay bounded
//! (`docs/operations.md`). Each setting has a flag and a default.

use std::time::Duration;

/// What the periodic cleanup keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// `FLIGHTDECK_KEEP_RELEASES`: besides each site's current release,
    /// how many of its latest releases stay on disk to roll back to (10).
    pub keep_releases: usize,
    /// `FLIGHTDECK_KEEP_EVENTS`: how many of the newest live-channel
    /// events are kept at most (100,000).
    pub keep_events: i64,
    /// `FLIGHTDECK_KEEP_EVENTS_DAYS`: and for how long at most (7 days).
    pub keep_events_for: Duration,
    /// `FLIGHTDECK_KEEP_UPLOADS_HOURS`: how long an uploaded archive stays
    /// for a retry once nothing queued or running uses it (24 hours).
    pub keep_uploads_for: Duration,
    /// `FLIGHTDECK_RETENTION_SECS`: how often the cleanup runs (300 s).
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_releases: 10,
            keep_events: 100_000,
            keep_events_for: Duration::from_secs(7 * 24 * 3600),
            keep_uploads_for: Duration::from_secs(24 * 3600),
            every: Duration::from_secs(300),
        }
    }
}

impl Retention {
    /// Reads the settings through `get(flag, variable)`.
    pub fn from_settings(get: impl Fn(&str, &str) -> Option<String>) -> Result<Self, String> {
        let number = |flag: &str, var: &str, default: u64, range: std::ops::RangeInclusive<u64>| {
            let Some(raw) = get(flag, var) else {
                return Ok(default);
            };
            match raw.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(format!(
                    "{var} must be a number from {} to {} (got {raw:?})",
                    range.start(),
                    range.end()
                )),
            }
        };
        let defaults = Self::default();
        Ok(Self {
            keep_releases: number(
                "keep-releases",
                "FLIGHTDECK_KEEP_RELEASES",
                defaults.keep_releases as u64,
                0..=10_000,
            )? as usize,
            keep_events: number(
                "keep-events",
                "FLIGHTDECK_KEEP_EVENTS",
                defaults.keep_events as u64,
                1_000..=100_000_000,
            )? as i64,
            keep_events_for: Duration::from_secs(
                number(
                    "keep-events-days",
                    "FLIGHTDECK_KEEP_EVENTS_DAYS",
                    defaults.keep_events_for.as_secs() / 86_400,
                    1..=3650,
                )? * 86_400,
            ),
            keep_uploads_for: Duration::from_secs(
                number(
                    "keep-uploads-hours",
                    "FLIGHTDECK_KEEP_UPLOADS_HOURS",
                    defaults.keep_uploads_for.as_secs() / 3600,
                    1..=87_600,
                )? * 3600,
            ),
            every: Duration::from_secs(number(
                "retention-secs",
                "FLIGHTDECK_RETENTION_SECS",
                defaults.every.as_secs(),
                1..=86_400,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_has_defaults_and_refuses_nonsense() {
        assert_eq!(
            Retention::from_settings(|_, _| None),
            Ok(Retention::default())
        );
        let three = Retention::from_settings(|_, var| {
            (var == "FLIGHTDECK_KEEP_RELEASES").then(|| "3".to_string())
        })
        .expect("parses");
        assert_eq!(three.keep_releases, 3);
        for (var, bad) in [
            ("FLIGHTDECK_KEEP_RELEASES", "-1"),
            ("FLIGHTDECK_KEEP_EVENTS", "10"),
            ("FLIGHTDECK_RETENTION_SECS", "0"),
            ("FLIGHTDECK_KEEP_UPLOADS_HOURS", "soon"),
        ] {
            let err = Retention::from_settings(|_, v| (v == var).then(|| bad.to_string()))
                .expect_err(bad);
            assert!(err.starts_with(var), "{err}");
        }
    }
}
