//! Durations kept as counts per bucket, so a window's percentiles come
//! from a few rows a day rather than from every sample. A bucket is an
//! eighth of a doubling wide (about 9%), and stands for its geometric
//! middle: a percentile read from it is within 4.5% of the exact one.

use std::collections::BTreeMap;

/// Buckets per doubling of the duration.
const PER_DOUBLING: f64 = 8.0;

/// The bucket a duration (ms) falls in; anything under a millisecond
/// counts as one.
pub fn bucket_of(ms: i64) -> i64 {
    ((ms.max(1) as f64).log2() * PER_DOUBLING).floor() as i64
}

/// The duration (ms) a bucket stands for.
pub fn value_of(bucket: i64) -> i64 {
    2f64.powf((bucket as f64 + 0.5) / PER_DOUBLING).round() as i64
}

/// Samples per bucket, merged from any number of stored rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    counts: BTreeMap<i64, u64>,
}

impl Histogram {
    pub fn add(&mut self, bucket: i64, samples: u64) {
        *self.counts.entry(bucket).or_default() += samples;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (bucket, n) in &other.counts {
            self.add(*bucket, *n);
        }
    }

    pub fn samples(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The nearest-rank percentile (`q` from 0 to 1): the smallest
    /// duration that at least `q` of the samples do not exceed.
    pub fn quantile(&self, q: f64) -> Option<i64> {
        let n = self.samples();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        self.counts.iter().find_map(|(bucket, count)| {
            seen += count;
            (seen >= rank).then(|| value_of(*bucket))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_stands_for_its_durations_within_five_percent() {
        for ms in [1, 2, 7, 999, 1000, 61_000, 3_600_000, 86_400_000 * 9] {
            let back = value_of(bucket_of(ms)) as f64;
            assert!(
                (back - ms as f64).abs() <= ms as f64 * 0.045 + 1.0,
                "{ms} came back as {back}"
            );
        }
        assert_eq!(bucket_of(0), bucket_of(1));
        assert!(bucket_of(1000) < bucket_of(1100));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in [1000, 2000, 3000, 4000] {
            h.add(bucket_of(ms), 1);
        }
        h.add(bucket_of(60_000), 1);
        let near = |got: Option<i64>, want: i64| {
            let got = got.expect("a value") as f64;
            assert!(
                (got - want as f64).abs() <= want as f64 * 0.045,
                "{got} is not {want}"
            );
        };
        near(h.quantile(0.5), 3000);
        near(h.quantile(0.95), 60_000);
        near(h.quantile(0.0), 1000);
        let mut other = Histogram::default();
        other.add(bucket_of(1000), 5);
        h.merge(&other);
        assert_eq!(h.samples(), 10);
        near(h.quantile(0.5), 1000);
    }
}
