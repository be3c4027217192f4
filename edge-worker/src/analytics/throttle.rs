//! Slowing down admin-token guessing: per-IP failure counts kept in the `GalleryLog` object
//! named `AUTH_OBJECT` (strongly consistent, so parallel guesses all see every failure).

/// Failures allowed before any waiting, so an owner mistyping the token is not locked out.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait between guesses.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// A quiet hour forgives earlier failures.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;

/// Seconds an IP must wait after its latest failure: 0 for the first free failures, then
/// doubling from 2 s up to [`MAX_LOCK_SECONDS`].
pub fn lock_seconds(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        0
    } else {
        let doublings = (failures - FREE_FAILURES).min(20);
        (2i64 << doublings).min(MAX_LOCK_SECONDS)
    }
}

/// Seconds still to wait at `now` (0 = may try), given the failures and the last one's time.
pub fn retry_after(failures: u32, last_failure: i64, now: i64) -> i64 {
    if now - last_failure >= FORGET_AFTER_SECONDS {
        return 0;
    }
    (last_failure + lock_seconds(failures) - now).max(0)
}

/// Failures to keep after another one at `now`.
pub fn next_failures(failures: u32, last_failure: i64, now: i64) -> u32 {
    if now - last_failure >= FORGET_AFTER_SECONDS { 1 } else { failures.saturating_add(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_typos_cost_nothing_then_waits_double_up_to_a_cap() {
        assert_eq!((0..FREE_FAILURES).map(lock_seconds).collect::<Vec<_>>(), vec![0, 0, 0]);
        assert_eq!(lock_seconds(3), 2);
        assert_eq!(lock_seconds(4), 4);
        assert_eq!(lock_seconds(12), 1024.min(MAX_LOCK_SECONDS));
        assert_eq!(lock_seconds(1000), MAX_LOCK_SECONDS);
    }

    #[test]
    fn the_wait_counts_from_the_last_failure_and_is_forgotten_after_an_hour() {
        assert_eq!(retry_after(5, 100, 100), 8);
        assert_eq!(retry_after(5, 100, 105), 3);
        assert_eq!(retry_after(5, 100, 200), 0);
        assert_eq!(retry_after(50, 100, 100 + FORGET_AFTER_SECONDS), 0);
        assert_eq!(next_failures(50, 100, 100 + FORGET_AFTER_SECONDS), 1);
        assert_eq!(next_failures(5, 100, 101), 6);
    }
}
