//! Slowing down admin-token guessing: failure counts per address (IPv6 per /64) and for
//! everyone together, kept in the `GalleryLog` object named `AUTH_OBJECT`. Each try is
//! checked and booked as a failure in one call to that object, before the token is compared
//! (a right token then takes the booking back), so parallel guesses cannot all be compared.

use serde::{Deserialize, Serialize};
use std::net::Ipv6Addr;

/// Failures allowed before any waiting, so an owner mistyping the token is not locked out.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait between guesses.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// A quiet hour forgives earlier failures.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;

/// Wrong tokens allowed per hour from all addresses together: a spread-out guesser gets no
/// more tries than this, whatever their number of addresses. While it is spent, every sign-in
/// waits (the owner too) until the budget refills.
pub const GLOBAL_FAILURES_PER_HOUR: f64 = 100.0;

/// Who is trying to sign in, and when (Unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    /// [`address_key`] of the client.
    pub ip: String,
    pub now: i64,
}

impl AuthRequest {
    pub fn new(ip: &str, now: i64) -> AuthRequest {
        AuthRequest { ip: address_key(ip), now }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthAnswer {
    /// 0: compare the token (the try is booked); otherwise seconds to wait.
    pub retry_after: i64,
    /// The wait comes from the budget of all addresses, not this address's own failures.
    #[serde(default)]
    pub everyone: bool,
}

impl AuthAnswer {
    /// What the owner reads on a 429.
    pub fn message(&self) -> String {
        if self.everyone {
            format!("too many wrong admin tokens from many addresses: sign-in is paused for everyone, try again in {} s", self.retry_after)
        } else {
            format!("too many wrong tokens from this address: try again in {} s", self.retry_after)
        }
    }
}

/// The throttle's key for an address: IPv6 by its /64 (one customer's whole allocation, which
/// they can rotate through freely), anything else as given, cut to a sane length.
pub fn address_key(ip: &str) -> String {
    let ip = ip.trim();
    match ip.parse::<Ipv6Addr>() {
        Ok(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(v6) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        Err(_) => ip.chars().take(64).collect(),
    }
}

/// The global budget as a leaky bucket: `spent` failures at `at` (seconds) leak away at
/// [`GLOBAL_FAILURES_PER_HOUR`]. Returns what is still spent at `now`.
pub fn global_spent(spent: f64, at: i64, now: i64) -> f64 {
    (spent - (now - at).max(0) as f64 * GLOBAL_FAILURES_PER_HOUR / 3600.0).max(0.0)
}

/// Seconds until the global budget has room for one more failure (0 = it has room now).
pub fn global_wait(spent_now: f64) -> i64 {
    let over = spent_now + 1.0 - GLOBAL_FAILURES_PER_HOUR;
    if over <= 0.0 { 0 } else { (over * 3600.0 / GLOBAL_FAILURES_PER_HOUR).ceil() as i64 }
}

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

    #[test]
    fn ipv6_addresses_share_a_key_per_64_and_ipv4_keeps_its_address() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), address_key("2001:db8:1:2::9"));
        assert_ne!(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key(&"x".repeat(500)).len(), 64);
    }

    #[test]
    fn the_global_budget_refills_over_an_hour() {
        assert_eq!(global_wait(0.0), 0);
        assert_eq!(global_wait(GLOBAL_FAILURES_PER_HOUR - 1.0), 0);
        assert_eq!(global_wait(GLOBAL_FAILURES_PER_HOUR), 36);
        assert_eq!(global_spent(GLOBAL_FAILURES_PER_HOUR, 0, 36), GLOBAL_FAILURES_PER_HOUR - 1.0);
        assert_eq!(global_spent(5.0, 0, 3600), 0.0);
        assert_eq!(global_spent(5.0, 100, 50), 5.0, "a clock going back never refunds");
    }
}
