//! The clock is an input: every "now" in the harness comes from a [`Clock`].
//!
//! Nothing else in the crate reads the system time, so tests and scenarios can pin the
//! time with a [`FixedClock`] and get byte-identical tokens.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> i64;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970 is not worth a panic; report the epoch.
            Err(_) => 0,
        }
    }
}

/// A clock that stands still until it is told to move.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `unix_seconds`.
    pub fn at(unix_seconds: i64) -> Self {
        Self(AtomicI64::new(unix_seconds))
    }

    /// Moves the clock forward (or back, with a negative value) by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock to `unix_seconds`.
    pub fn set(&self, unix_seconds: i64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Parses an RFC 3339 timestamp (`2026-01-01T00:00:00Z`) into Unix seconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, time::error::Parse> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)?;
    Ok(parsed.unix_timestamp())
}

/// Formats Unix seconds as an HTTP date (`Mon, 01 Jan 1990 00:00:00 GMT`), as `Expires` wants.
pub fn http_date(unix_seconds: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at(1_700_000_000);
        assert_eq!(clock.now(), 1_700_000_000);
        clock.advance(3600);
        assert_eq!(clock.now(), 1_700_003_600);
        clock.set(5);
        assert_eq!(clock.now(), 5);
    }

    #[test]
    fn http_date_matches_googles_expires_header() {
        assert_eq!(http_date(631_152_000), "Mon, 01 Jan 1990 00:00:00 GMT");
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(parse_rfc3339("1990-01-01T00:00:00Z").unwrap(), 631_152_000);
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
