//! Slowing down admin-token guessing, per network (IPv4 /24, IPv6 /64: see
//! [`crate::network`]), kept in the `GalleryLog` object named `AUTH_OBJECT`.
//!
//! The token is compared first (in constant time), then one call to that object decides, with
//! the verdict in hand: a network that must wait gets 429 whatever it sent, so a guesser learns
//! nothing while locked out; otherwise a wrong token is booked as a failure in the same step,
//! and a right one is never counted (it forgives the network's earlier typos). The object takes
//! one request at a time, so parallel guesses are decided one after another and only the free
//! tries answer 401; parallel right tokens all pass.
//!
//! There is no budget for everyone together: the worker refuses admin tokens under 32
//! characters, so guessing one is hopeless whatever the number of networks, and such a budget
//! only let anyone pause the owner's sign-in (the emergency disable included).

use serde::{Deserialize, Serialize};

/// Failures allowed before any waiting, so an owner mistyping the token is not locked out.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait between guesses.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// A quiet hour forgives earlier failures.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;
/// The most networks whose failures are kept (the least recent go first): storage stays
/// bounded whatever the number of networks guessing, and a network pushed out only starts
/// again from its free failures, each of which costs it a wrong token against 32 characters.
pub const MAX_NETWORKS_KEPT: usize = 10_000;

/// Who tried to sign in, when (Unix seconds), and whether the token was right.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    /// The client's network ([`crate::network::Network::net`]).
    pub network: String,
    pub now: i64,
    pub correct: bool,
}

impl AuthRequest {
    pub fn new(ip: &str, now: i64, correct: bool) -> AuthRequest {
        AuthRequest { network: crate::network::Network::of(ip).net, now, correct }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthAnswer {
    /// 0: the verdict stands (a wrong token was booked); otherwise seconds to wait.
    pub retry_after: i64,
}

impl AuthAnswer {
    /// What the owner reads on a 429.
    pub fn message(&self) -> String {
        format!("too many wrong tokens from this network: try again in {} s (other networks are not affected)", self.retry_after)
    }
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

/// What a network's try comes to, given its failures on record (count, last one's time):
/// `Err(seconds to wait)` while it must wait (right token or not), else the failures to
/// store afterwards (`None`: forget them, the token was right).
pub fn decide(on_record: Option<(u32, i64)>, correct: bool, now: i64) -> Result<Option<u32>, i64> {
    let wait = on_record.map_or(0, |(failures, last)| retry_after(failures, last, now));
    if wait > 0 {
        return Err(wait);
    }
    if correct {
        return Ok(None);
    }
    Ok(Some(on_record.map_or(1, |(failures, last)| next_failures(failures, last, now))))
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
    fn a_right_token_is_never_a_failure_and_forgives_earlier_typos() {
        assert_eq!(decide(None, true, 100), Ok(None));
        assert_eq!(decide(Some((2, 90)), true, 100), Ok(None), "two typos, then the right token: forgotten");
        assert_eq!(decide(None, false, 100), Ok(Some(1)));
        assert_eq!(decide(Some((2, 90)), false, 100), Ok(Some(3)));
    }

    #[test]
    fn a_network_that_must_wait_waits_whatever_it_sends() {
        assert_eq!(decide(Some((3, 100)), false, 101), Err(1));
        assert_eq!(decide(Some((3, 100)), true, 101), Err(1), "a locked network learns nothing from a right guess");
        assert_eq!(decide(Some((3, 100)), false, 102), Ok(Some(4)));
    }

    #[test]
    fn requests_key_on_the_network() {
        assert_eq!(AuthRequest::new("203.0.113.7", 1, false).network, "203.0.113.0/24");
        assert_eq!(AuthRequest::new("2001:db8:1:2:aaaa::1", 1, false).network, "2001:db8:1:2::/64");
    }
}
