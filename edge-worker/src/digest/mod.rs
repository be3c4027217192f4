//! The daily digest. One hourly cron run (UTC) decides in code whether it is the site's digest
//! hour; if so it posts the galleries that want a digest to one coordinator log
//! ([`COORDINATOR`]), whose alarm asks at most [`FAN_OUT`] galleries' logs per run to build and
//! enqueue their digest, re-arming until every gallery had its turn. A run never visits 1,000
//! galleries' objects itself, and a repeated run of the same day changes nothing (the
//! coordinator keeps each (day, gallery) once, each log remembers the day it digested).

use gatefold_contract::manifest::Site;
use gatefold_contract::time::{self, WallTime};
use serde::{Deserialize, Serialize};
use worker::Env;

/// The log that spreads a day's digests over its alarms. Gallery ids are folder names of
/// letters, digits and dashes: a name with a colon is no gallery's.
pub const COORDINATOR: &str = "gatefold:digest";

/// Galleries asked per coordinator alarm run (each ask is one subrequest).
pub const FAN_OUT: u32 = 25;

/// What a gallery's log is asked to digest: the local day and its bounds in Unix ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRequest {
    pub gallery: String,
    pub day: String,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The coordinator's order: every gallery to digest for one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestPlan {
    pub requests: Vec<DigestRequest>,
}

/// The day a digest at `now_ms` covers, when `now_ms` falls in the site's digest hour: the
/// local day before, as `YYYY-MM-DD`, with its bounds in Unix ms.
pub fn due_day(site: &Site, now_ms: i64) -> Option<(String, i64, i64)> {
    let now = now_ms.div_euclid(1000);
    if WallTime::at(site, now).hour() != site.digest_hour {
        return None;
    }
    let day = time::day_before(site, now);
    Some((day.date, day.from * 1000, day.to * 1000))
}

/// The hourly cron: at the digest hour, hands the galleries with a digest to the coordinator.
pub async fn scheduled(env: &Env, now_ms: i64) -> Result<(), String> {
    let site = crate::site::load(env).await?;
    let Some((day, from_ms, to_ms)) = due_day(&site.settings, now_ms) else { return Ok(()) };
    let index = site.index(env).await?;
    let requests: Vec<DigestRequest> = index
        .galleries
        .iter()
        .filter(|g| g.digest)
        .map(|g| DigestRequest { gallery: g.id.clone(), day: day.clone(), from_ms, to_ms })
        .collect();
    if requests.is_empty() {
        return Ok(());
    }
    let coordinator = crate::gallery_log::GalleryLogClient::new(env, COORDINATOR).map_err(|e| e.to_string())?;
    coordinator.plan_digests(&DigestPlan { requests }).await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(offset: i32, hour: u8) -> Site {
        Site {
            title: "t".into(),
            base_url: String::new(),
            default_locale: gatefold_contract::Locale::En,
            timezone: "Asia/Shanghai".into(),
            ip_logging: gatefold_contract::manifest::IpLogging::Truncated,
            utc_offsets: vec![(i64::MIN, offset)],
            dev_key: false,
            key_fingerprint: String::new(),
            analytics: Default::default(),
            digest_hour: hour,
        }
    }

    #[test]
    fn the_digest_hour_is_local_and_covers_the_local_day_before() {
        // 2026-12-02T01:00Z is 09:00 in Shanghai (UTC+8).
        let at = 1_796_173_200_000;
        let (day, from, to) = due_day(&site(8 * 3600, 9), at).unwrap();
        assert_eq!(day, "2026-12-01");
        assert_eq!(to, 1_796_140_800_000); // 2026-12-01T16:00Z, Shanghai midnight
        assert_eq!(to - from, 86_400_000);
        assert_eq!(due_day(&site(8 * 3600, 10), at), None);
        assert_eq!(due_day(&site(0, 1), at).map(|d| d.0).as_deref(), Some("2026-12-01"));
    }
}
