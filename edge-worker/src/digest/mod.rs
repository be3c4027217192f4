//! The daily digest, in its own Durable Object class, `DailyDigest`, away from the gallery
//! logs it reads.
//!
//! One hourly cron run (UTC) decides in code whether it is the site's digest hour ([`due_day`]);
//! if so it posts the galleries that want a digest to the coordinator instance
//! ([`COORDINATOR`], [`coordinator`]), whose alarm asks at most [`FAN_OUT`] galleries' digests
//! per run, re-arming until every gallery had its turn. A gallery's digest runs in the
//! instance named after the gallery ([`gallery`]): it reads the day's and every link's
//! activity from the gallery's log, the links' runtime state in bulk, and hands the digest and
//! its `expires_soon` notices to the log's outbox. Each runs in an invocation of its own, so a
//! run never visits 1,000 galleries' objects, nor reads 2,000 recipients' state, in one; and a
//! repeated run of the same day changes nothing (the coordinator keeps each (day, gallery)
//! once, each gallery's instance remembers the day it digested and the expiries it told).

mod coordinator;
mod gallery;
mod object;
pub use object::DailyDigest;

use gatefold_contract::manifest::Site;
use gatefold_contract::time::{self, WallTime};
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Request, RequestInit, Stub};

/// The instance that spreads a day's digests over its alarms. Gallery ids are folder names of
/// letters, digits and dashes: a name with a colon is no gallery's.
pub const COORDINATOR: &str = "gatefold:digest";

/// Galleries asked per coordinator alarm run (each ask is one subrequest).
pub const FAN_OUT: u32 = 25;

/// What a gallery's digest covers: the local day and its bounds in Unix ms.
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

/// The operations a `DailyDigest` answers, named once for the client and the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// On the coordinator: a [`DigestPlan`] to keep and work off.
    Plan,
    /// On a gallery's instance: its [`DigestRequest`].
    Gallery,
    /// On the coordinator: `{}` → the galleries still to ask, as a `NotificationStatus` (what
    /// the tests wait on, as on a gallery's log).
    Notifications,
}

impl Op {
    const ALL: [Op; 3] = [Op::Plan, Op::Gallery, Op::Notifications];

    fn path(self) -> &'static str {
        match self {
            Op::Plan => "/plan",
            Op::Gallery => "/gallery",
            Op::Notifications => "/notifications",
        }
    }

    fn from_path(path: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.path() == path)
    }
}

/// The typed client of a `DailyDigest` instance.
struct Client {
    stub: Stub,
    name: String,
}

impl Client {
    /// The coordinator ([`COORDINATOR`]) or a gallery's instance.
    fn new(env: &Env, name: &str) -> worker::Result<Client> {
        Ok(Client { stub: env.durable_object("DAILY_DIGEST")?.id_from_name(name)?.get_stub()?, name: name.to_string() })
    }

    async fn call(&self, op: Op, body: &impl Serialize) -> worker::Result<()> {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(serde_json::to_string(body)?.into()));
        // Any host works for a stub; the object only looks at the path.
        let req = Request::new_with_init(&format!("https://daily-digest{}", op.path()), &init)?;
        let mut resp = self.stub.fetch_with_request(req).await?;
        if !(200..300).contains(&resp.status_code()) {
            let text = resp.text().await.unwrap_or_default();
            return Err(worker::Error::RustError(format!("DailyDigest {} {} answered {}: {text}", self.name, op.path(), resp.status_code())));
        }
        Ok(())
    }

    /// Hands a day's digests to the coordinator.
    async fn plan(&self, plan: &DigestPlan) -> worker::Result<()> {
        self.call(Op::Plan, plan).await
    }

    /// Asks a gallery's instance for its digest of a day.
    async fn gallery(&self, req: &DigestRequest) -> worker::Result<()> {
        self.call(Op::Gallery, req).await
    }
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
    let coordinator = Client::new(env, COORDINATOR).map_err(|e| e.to_string())?;
    coordinator.plan(&DigestPlan { requests }).await.map_err(|e| e.to_string())
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
