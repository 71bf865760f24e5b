//! When a call to the PSA is tried again: 429, 503 and network failures always (the PSA surely
//! did not act), other 5xx and timeouts only for calls that may run twice; at most
//! `MAX_ATTEMPTS`, pausing as `Retry-After` asks (capped) or with a doubling backoff.

use std::time::Duration;

/// Attempts of one call in all (the first and two retries).
pub const MAX_ATTEMPTS: u32 = 3;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The first pause between attempts when the PSA names none; doubled each time.
const BACKOFF: Duration = Duration::from_millis(250);

/// A failure worth another attempt.
#[derive(Debug)]
pub struct Transient {
    pub reason: String,
    pub retry_after: Option<Duration>,
    /// The PSA surely did not act on the request.
    pub unprocessed: bool,
}

impl Transient {
    pub fn new(reason: impl Into<String>, unprocessed: bool) -> Self {
        Self {
            reason: reason.into(),
            retry_after: None,
            unprocessed,
        }
    }

    /// The pause before attempt `attempt + 1` (attempts count from 1).
    pub fn pause(&self, attempt: u32) -> Duration {
        self.retry_after
            .unwrap_or(BACKOFF * 2u32.pow(attempt.saturating_sub(1).min(8)))
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored), at most `MAX_RETRY_AFTER`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_capped_at_30() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("3600"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn the_backoff_doubles_unless_the_psa_names_a_pause() {
        let t = Transient::new("x", true);
        assert_eq!(t.pause(1), Duration::from_millis(250));
        assert_eq!(t.pause(2), Duration::from_millis(500));
        let named = Transient {
            retry_after: Some(Duration::from_secs(2)),
            ..t
        };
        assert_eq!(named.pause(2), Duration::from_secs(2));
    }
}
