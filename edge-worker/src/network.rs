//! The network a request comes from, as the throttles count it: one definition for the link
//! passwords' throttle and the admin sign-in throttle.
//!
//! A person (or a guesser) can choose their User-Agent and, within what their provider gives
//! them, their address, but not their provider's allocation. So throttles count per network:
//! IPv4 by its /24 and IPv6 by its /64 (what one line or one device is usually given). For the
//! distributed bound an IPv6 address also counts by its /48 (one site's allocation, 65,536 /64s),
//! so moving between /64s of one allocation never looks like many networks. IPv4 has no wider
//! key: a /16 holds many unrelated customers.

use std::net::{IpAddr, Ipv6Addr};

/// A request's network and the wider allocation it is counted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// IPv4 /24 or IPv6 /64, e.g. `203.0.113.0/24`, `2001:db8:1:2::/64`.
    pub net: String,
    /// IPv6 /48 (`2001:db8:1::/48`); for IPv4 the /24 again.
    pub wide: String,
}

/// The client's address as Cloudflare hands it over (`header` reads a request header):
/// `Cf-Connecting-IPv6` when present, because a zone with "Pseudo IPv4: overwrite headers" puts
/// a made-up 240.0.0.0/4 address in `CF-Connecting-IP` (a hash of the IPv6 address, so every
/// /64 would count as many networks, or unrelated ones as one); else `CF-Connecting-IP`.
pub fn client_ip(header: impl Fn(&str) -> Option<String>) -> Option<String> {
    header("Cf-Connecting-IPv6").filter(|v| !v.trim().is_empty()).or_else(|| header("CF-Connecting-IP"))
}

impl Network {
    /// The network of the client's address ([`client_ip`]). An address that does not parse (only seen locally)
    /// is its own network, cut to a sane length.
    pub fn of(ip: &str) -> Network {
        let ip = ip.trim();
        match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => v4_network(v4.octets()),
            Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4_network(v4.octets()),
                None => v6_network(&v6),
            },
            Err(_) => {
                let own: String = ip.chars().take(64).collect();
                Network { net: own.clone(), wide: own }
            }
        }
    }
}

fn v4_network([a, b, c, _]: [u8; 4]) -> Network {
    let net = format!("{a}.{b}.{c}.0/24");
    Network { wide: net.clone(), net }
}

fn v6_network(v6: &Ipv6Addr) -> Network {
    let s = v6.segments();
    Network { net: format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]), wide: format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_counts_by_its_24_and_has_no_wider_key() {
        let n = Network::of("203.0.113.7");
        assert_eq!(n, Network { net: "203.0.113.0/24".into(), wide: "203.0.113.0/24".into() });
        assert_eq!(Network::of("203.0.113.250"), n);
        assert_ne!(Network::of("203.0.114.7"), n);
        assert_eq!(Network::of("::ffff:203.0.113.9"), n, "an IPv4-mapped address is its IPv4 network");
    }

    #[test]
    fn ipv6_counts_by_its_64_within_its_48() {
        let n = Network::of("2001:db8:1:2:aaaa::1");
        assert_eq!(n.net, "2001:db8:1:2::/64");
        assert_eq!(n.wide, "2001:db8:1::/48");
        assert_eq!(Network::of("2001:db8:1:2:ffff:ffff:ffff:ffff"), n);
        let next = Network::of("2001:db8:1:3::1");
        assert_ne!(next.net, n.net, "the next /64 is another network");
        assert_eq!(next.wide, n.wide, "in the same /48");
        assert_ne!(Network::of("2001:db8:2::1").wide, n.wide);
    }

    #[test]
    fn the_real_ipv6_address_wins_over_a_pseudo_ipv4_one() {
        let headers = |pairs: &'static [(&'static str, &'static str)]| move |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string());
        let pseudo = headers(&[("CF-Connecting-IP", "240.17.3.9"), ("Cf-Connecting-IPv6", "2001:db8:1:2::7")]);
        assert_eq!(client_ip(pseudo).as_deref(), Some("2001:db8:1:2::7"));
        assert_eq!(client_ip(headers(&[("CF-Connecting-IP", "203.0.113.7")])).as_deref(), Some("203.0.113.7"));
        assert_eq!(client_ip(headers(&[("CF-Connecting-IP", "203.0.113.7"), ("Cf-Connecting-IPv6", " ")])).as_deref(), Some("203.0.113.7"));
        assert_eq!(client_ip(headers(&[])), None);
    }

    #[test]
    fn anything_else_is_its_own_bounded_network() {
        assert_eq!(Network::of(" unknown ").net, "unknown");
        assert_eq!(Network::of(&"x".repeat(500)).net.len(), 64);
    }
}
