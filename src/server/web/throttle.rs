//! Sign-in throttling, per email and per client address: a few failures
//! are free, then each further one doubles the wait (1 s, 2 s, 4 s, ... up
//! to 15 minutes). Kept in memory: each instance throttles what it sees.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waits begin.
const FREE: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A key with no failure for this long is forgotten.
const FORGET: Duration = Duration::from_secs(3600);
/// Past this many keys, forgotten ones are dropped at the next failure.
const PRUNE_AT: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
    until: Instant,
}

#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<Key, Failures>>,
}

impl Throttle {
    fn keys(email: &str, address: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Email(email.to_lowercase())];
        keys.extend(address.map(Key::Address));
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Failures>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long to wait before trying this email from this address again,
    /// if at all.
    pub fn wait(&self, email: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        Self::wait_in(&self.lock(), email, address, now)
    }

    fn wait_in(
        failures: &HashMap<Key, Failures>,
        email: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Option<Duration> {
        Self::keys(email, address)
            .iter()
            .filter_map(|k| failures.get(k))
            .filter_map(|f| f.until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
            .max()
    }

    /// Starts an attempt: the wait when there is one, else the attempt is
    /// counted as failed at once, under the same lock, so many attempts
    /// at the same moment cannot all pass before the first one fails. A
    /// right password takes it back ([`Throttle::succeeded`]).
    pub fn attempt(&self, email: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let mut failures = self.lock();
        let wait = Self::wait_in(&failures, email, address, now);
        if wait.is_none() {
            Self::count(&mut failures, email, address, now);
        }
        wait
    }

    /// Counts a wrong password.
    pub fn failed(&self, email: &str, address: Option<IpAddr>, now: Instant) {
        Self::count(&mut self.lock(), email, address, now);
    }

    fn count(
        failures: &mut HashMap<Key, Failures>,
        email: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) {
        if failures.len() > PRUNE_AT {
            failures.retain(|_, f| now.duration_since(f.last) < FORGET);
        }
        for key in Self::keys(email, address) {
            let f = failures.entry(key).or_insert(Failures {
                count: 0,
                last: now,
                until: now,
            });
            if now.duration_since(f.last) >= FORGET {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
            if f.count > FREE {
                let doubling = (f.count - FREE - 1).min(20);
                f.until = now + Duration::from_secs(1 << doubling).min(MAX_WAIT);
            }
        }
    }

    /// A correct password clears the email's failures and takes back the
    /// address's count of this attempt (only that: one good account does
    /// not unlock guessing others from the same address).
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        let mut failures = self.lock();
        failures.remove(&Key::Email(email.to_lowercase()));
        if let Some(f) = address.and_then(|a| failures.get_mut(&Key::Address(a))) {
            f.count = f.count.saturating_sub(1);
            if f.count <= FREE {
                f.until = f.last;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_failures_are_free_then_each_doubles_the_wait() {
        let t = Throttle::default();
        let now = Instant::now();
        let addr: Option<IpAddr> = Some("10.0.0.7".parse().expect("ip"));
        for _ in 0..FREE {
            assert_eq!(t.wait("ada@example.com", addr, now), None);
            t.failed("ada@example.com", addr, now);
        }
        assert_eq!(t.wait("ada@example.com", addr, now), None);
        t.failed("ada@example.com", addr, now);
        assert_eq!(
            t.wait("ada@example.com", addr, now),
            Some(Duration::from_secs(1))
        );
        t.failed("ada@example.com", addr, now);
        assert_eq!(
            t.wait("ADA@example.com", None, now),
            Some(Duration::from_secs(2))
        );
        // Another email from the same address waits too; the wait ends.
        assert_eq!(
            t.wait("bob@example.com", addr, now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(t.wait("bob@example.com", None, now), None);
        assert_eq!(
            t.wait("ada@example.com", addr, now + Duration::from_secs(3)),
            None
        );
        // Many failures wait 15 minutes at most.
        for _ in 0..40 {
            t.failed("ada@example.com", None, now);
        }
        assert_eq!(t.wait("ada@example.com", None, now), Some(MAX_WAIT));
        t.succeeded("ada@example.com", None);
        assert_eq!(t.wait("ada@example.com", None, now), None);
    }

    #[test]
    fn attempts_at_the_same_moment_count_before_any_of_them_ends() {
        let t = Throttle::default();
        let now = Instant::now();
        let addr: Option<IpAddr> = Some("10.0.0.8".parse().expect("ip"));
        // Many guesses in flight at once: only the free ones get through.
        let through = (0..40)
            .filter(|_| t.attempt("eve@example.com", addr, now).is_none())
            .count();
        assert_eq!(through, FREE as usize + 1);
        // A right password from a quiet address is not held back by its
        // own attempt.
        let home: Option<IpAddr> = Some("10.0.0.9".parse().expect("ip"));
        for _ in 0..10 {
            assert_eq!(t.attempt("ada@example.com", home, now), None);
            t.succeeded("ada@example.com", home);
        }
    }
}
