//! Timestamps are milliseconds since the Unix epoch (UTC), the same on
//! both backends and both sides of the wire.

/// "just now", "5 min ago", "3 h ago", "2 days ago"; "in 7 days" for a
/// time a minute or more ahead (an expiry). A few seconds ahead is a
/// clock a little off, and reads "just now".
pub fn relative(then_ms: i64, now_ms: i64) -> String {
    let ahead = (then_ms - now_ms) / 1000;
    if ahead >= 60 {
        return match ahead {
            60..=3599 => format!("in {} min", ahead / 60),
            3600..=86_399 => format!("in {} h", ahead / 3600),
            86_400..=172_799 => "tomorrow".to_string(),
            // Rounded: a week's expiry made a second ago reads "in 7 days".
            _ => format!("in {} days", (ahead + 43_200) / 86_400),
        };
    }
    let secs = (now_ms - then_ms).max(0) / 1000;
    match secs {
        0..=9 => "just now".to_string(),
        10..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        86_400..=172_799 => "yesterday".to_string(),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// "1m 05s", "42s", "1h 02m": how long something took.
pub fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    if secs < 60 {
        if ms < 1000 {
            format!("{}ms", ms.max(0))
        } else {
            format!("{secs}s")
        }
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// "2026-11-22 10:04:05 UTC": the exact time, shown on hover.
pub fn exact_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A wall clock: ("14:05", "Wed 2 Dec") for `ms` in a time zone
/// `offset_minutes` east of UTC.
pub fn wall_clock(ms: i64, offset_minutes: i64) -> (String, String) {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let secs = ms.div_euclid(1000) + offset_minutes * 60;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (_, m, d) = civil_from_days(days);
    (
        format!("{:02}:{:02}", rem / 3600, (rem % 3600) / 60),
        format!(
            "{} {d} {}",
            DAYS[days.rem_euclid(7) as usize],
            MONTHS[(m - 1) as usize]
        ),
    )
}

/// "Dec 1": a UTC day (days since the epoch), as a chart's axis shows it.
pub fn short_date(day: i64) -> String {
    let (_, m, d) = civil_from_days(day);
    format!("{} {d}", MONTHS[(m - 1) as usize])
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// How many minutes east of UTC the reader's clock is (0 on the server).
pub fn local_offset_minutes(ms: i64) -> i64 {
    #[cfg(all(target_arch = "wasm32", feature = "hydrate"))]
    {
        -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).get_timezone_offset()
            as i64)
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "hydrate")))]
    {
        let _ = ms;
        0
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A size as people read it: "512 KB", "10.0 MB", "1.2 GB".
pub fn bytes(n: i64) -> String {
    const KB: i64 = 1024;
    if n >= KB * KB * KB {
        format!("{:.1} GB", n as f64 / (KB * KB * KB) as f64)
    } else if n >= KB * KB {
        format!("{:.1} MB", n as f64 / (KB * KB) as f64)
    } else if n >= KB {
        format!("{} KB", n / KB)
    } else {
        format!("{n} bytes")
    }
}

/// Now, in milliseconds since the epoch, on either side of the wire.
pub fn now_ms() -> i64 {
    #[cfg(all(target_arch = "wasm32", feature = "hydrate"))]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "hydrate")))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_the_largest_unit() {
        assert_eq!(bytes(12), "12 bytes");
        assert_eq!(bytes(512 * 1024), "512 KB");
        assert_eq!(bytes(10 * 1024 * 1024 + 100_000), "10.1 MB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GB");
    }

    #[test]
    fn exact_times_are_formatted_in_utc() {
        assert_eq!(exact_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(exact_utc(1_795_341_845_000), "2026-11-22 10:04:05 UTC");
        assert_eq!(exact_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_000_000_000;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now - 30_000, now), "30 s ago");
        assert_eq!(relative(now - 5 * 60_000, now), "5 min ago");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative(now - 3 * 86_400_000, now), "3 days ago");
        assert_eq!(relative(now + 5_000, now), "just now");
        assert_eq!(relative(now + 5 * 60_000, now), "in 5 min");
        assert_eq!(relative(now + 7 * 86_400_000 - 1_000, now), "in 7 days");
        assert_eq!(relative(now + 7 * 86_400_000, now), "in 7 days");
    }

    #[test]
    fn the_wall_clock_reads_in_the_readers_time_zone() {
        // 2026-11-22 10:04:05 UTC was a Sunday.
        let ms = 1_795_341_845_000;
        assert_eq!(wall_clock(ms, 0), ("10:04".into(), "Sun 22 Nov".into()));
        assert_eq!(
            wall_clock(ms, 14 * 60),
            ("00:04".into(), "Mon 23 Nov".into())
        );
        assert_eq!(
            wall_clock(ms, -11 * 60),
            ("23:04".into(), "Sat 21 Nov".into())
        );
    }

    #[test]
    fn durations_are_compact() {
        assert_eq!(duration(420), "420ms");
        assert_eq!(duration(42_000), "42s");
        assert_eq!(duration(65_000), "1m 05s");
        assert_eq!(duration(3_720_000), "1h 02m");
    }
}
