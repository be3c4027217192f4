//! The access requests' room: the `requests` table of what refused people asked for, and the
//! owner's answers.
//!
//! Bounds, and why no one can turn them against the owner or a recipient:
//! - **Per network and link**: [`PER_NETWORK_PER_HOUR`] requests from one network (IPv4 /24,
//!   IPv6 /64) and [`PER_WIDE_PER_HOUR`] from one IPv6 /48 within an hour. The throttle only
//!   ever refuses the network that asked: a flood from elsewhere never uses up a recipient's
//!   own budget, and a browser whose request is waiting is shown it rather than asking again.
//! - **Per link**: the newest [`OPEN_PER_LINK`] open requests are kept; an older open one makes
//!   room. A flood spread over many networks can push old requests out but can never refuse
//!   a new one, so the recipient can always ask (and is always the newest when they do).
//! - **Per gallery**: at most [`GALLERY_MAX`] rows (answered ones go first), and nothing older
//!   than the access log's retention.
//! - **The owner** hears of a link's requests at most once per batching window (the outbox
//!   folds them into one message with their count), and sees every open one in the admin page.

use super::{AskAccess, Asked, RequestView, ViewQuery};
use gatefold_contract::requests::RequestState;
use serde::{Deserialize, Serialize};
use worker::{Result, SqlStorage, SqlStorageValue as V};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS requests (
  key TEXT PRIMARY KEY, link TEXT NOT NULL, at INTEGER NOT NULL, name TEXT, message TEXT, reason TEXT NOT NULL,
  device TEXT NOT NULL, place TEXT, network TEXT NOT NULL, wide TEXT NOT NULL, state TEXT NOT NULL,
  answered_at INTEGER, answer TEXT, reply TEXT);
CREATE INDEX IF NOT EXISTS requests_link ON requests(link, state, at);
CREATE INDEX IF NOT EXISTS requests_network ON requests(link, network, at);
CREATE INDEX IF NOT EXISTS requests_at ON requests(at);
";

pub const PER_NETWORK_PER_HOUR: i64 = 3;
pub const PER_WIDE_PER_HOUR: i64 = 10;
pub const OPEN_PER_LINK: i64 = 20;
pub const GALLERY_MAX: i64 = 2_000;
const HOUR_MS: i64 = 3_600_000;

pub fn create(sql: &SqlStorage) -> Result<()> {
    sql.exec(SCHEMA, None)?;
    Ok(())
}

/// A request as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// 128 random bits in hex: the browser's cookie, and with the gallery the owner's opaque id.
    pub key: String,
    pub link: String,
    pub at: i64,
    pub name: Option<String>,
    pub message: Option<String>,
    pub reason: String,
    pub device: String,
    pub place: Option<String>,
    pub state: String,
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
    pub reply: Option<String>,
}

impl Stored {
    pub fn state(&self) -> RequestState {
        // A state this version does not know reads as answered (nothing more to do).
        RequestState::from_name(&self.state).unwrap_or(RequestState::Declined)
    }
}

/// Which requests to read: one by its key, or all (or the open ones), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub open_only: bool,
    pub key: Option<String>,
}

/// An owner's answer. `Granted` and `Declined` apply only to an open request (so two owners
/// answering at once answer it once); `Open` puts back a request whose grant its gate refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub key: String,
    pub state: RequestState,
    pub at: i64,
    pub answer: Option<String>,
    pub reply: Option<String>,
}

const COLUMNS: &str = "key, link, at, name, message, reason, device, place, state, answered_at, answer, reply";

#[derive(Deserialize)]
struct Count {
    n: i64,
}

fn count(sql: &SqlStorage, query: &str, params: Vec<V>) -> Result<i64> {
    Ok(sql.exec(query, params)?.to_array::<Count>()?.first().map_or(0, |c| c.n))
}

/// Stores `ask` under the throttle and bounds (see the module's doc), or says when this network
/// may ask again. `key`: the new request's random part.
pub fn store(sql: &SqlStorage, ask: &AskAccess, key: &str) -> Result<Asked> {
    let since = ask.at - HOUR_MS;
    let from_net = count(sql, "SELECT COUNT(*) AS n FROM requests WHERE link = ? AND network = ? AND at > ?", vec![V::from(ask.link.as_str()), V::from(ask.network.as_str()), V::from(since)])?;
    let from_wide = count(sql, "SELECT COUNT(*) AS n FROM requests WHERE link = ? AND wide = ? AND at > ?", vec![V::from(ask.link.as_str()), V::from(ask.wide.as_str()), V::from(since)])?;
    if from_net >= PER_NETWORK_PER_HOUR || from_wide >= PER_WIDE_PER_HOUR {
        #[derive(Deserialize)]
        struct Oldest {
            at: i64,
        }
        let oldest = sql
            .exec("SELECT MIN(at) AS at FROM requests WHERE link = ? AND (network = ? OR wide = ?) AND at > ?", vec![V::from(ask.link.as_str()), V::from(ask.network.as_str()), V::from(ask.wide.as_str()), V::from(since)])?
            .to_array::<Oldest>()?
            .first()
            .map_or(ask.at, |o| o.at);
        return Ok(Asked::Throttled { retry_after: ((oldest + HOUR_MS - ask.at) / 1000).max(1) });
    }
    sql.exec(
        &format!("INSERT INTO requests ({COLUMNS}, network, wide) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, ?, ?)"),
        vec![
            V::from(key),
            V::from(ask.link.as_str()),
            V::from(ask.at),
            V::from(ask.name.clone()),
            V::from(ask.message.clone()),
            V::from(ask.reason.as_str()),
            V::from(ask.device.as_str()),
            V::from(ask.place.clone()),
            V::from(ask.network.as_str()),
            V::from(ask.wide.as_str()),
        ],
    )?;
    prune(sql, &ask.link, ask.at, ask.retention_days)?;
    Ok(Asked::Created { key: key.to_string() })
}

/// Keeps the bounds: the link's newest open requests, the gallery's cap, the retention.
fn prune(sql: &SqlStorage, link: &str, now: i64, retention_days: u32) -> Result<()> {
    sql.exec(
        "DELETE FROM requests WHERE key IN (SELECT key FROM requests WHERE link = ? AND state = 'open' ORDER BY at DESC LIMIT -1 OFFSET ?)",
        vec![V::from(link), V::from(OPEN_PER_LINK)],
    )?;
    sql.exec(
        "DELETE FROM requests WHERE key IN (SELECT key FROM requests ORDER BY state = 'open' DESC, at DESC LIMIT -1 OFFSET ?)",
        vec![V::from(GALLERY_MAX)],
    )?;
    sql.exec("DELETE FROM requests WHERE at < ?", vec![V::from(now - i64::from(retention_days) * 86_400_000)])?;
    Ok(())
}

/// Where a browser's request stands, if `link` has it.
pub fn view(sql: &SqlStorage, q: &ViewQuery) -> Result<Option<RequestView>> {
    let found = list(sql, &ListQuery { open_only: false, key: Some(q.key.clone()) })?;
    Ok(found.into_iter().find(|r| r.link == q.link).map(|r| RequestView { state: r.state(), at: r.at, reply: r.reply }))
}

pub fn list(sql: &SqlStorage, q: &ListQuery) -> Result<Vec<Stored>> {
    let (filter, params) = match (&q.key, q.open_only) {
        (Some(k), _) => ("WHERE key = ?", vec![V::from(k.as_str())]),
        (None, true) => ("WHERE state = 'open'", vec![]),
        (None, false) => ("", vec![]),
    };
    sql.exec(&format!("SELECT {COLUMNS} FROM requests {filter} ORDER BY at DESC LIMIT {GALLERY_MAX}"), params)?.to_array::<Stored>()
}

/// Applies `a`; the request as it now stands, `None` when there is no such request or it is no
/// longer open. The read and the write are one synchronous step of the object, so two answers
/// never both find it open.
pub fn answer(sql: &SqlStorage, a: &Answer) -> Result<Option<Stored>> {
    let Some(current) = list(sql, &ListQuery { open_only: false, key: Some(a.key.clone()) })?.into_iter().next() else { return Ok(None) };
    if a.state != RequestState::Open && current.state() != RequestState::Open {
        return Ok(None);
    }
    let (answered_at, answer, reply) = match a.state {
        RequestState::Open => (None, None, None),
        _ => (Some(a.at), a.answer.clone(), a.reply.clone()),
    };
    sql.exec(
        "UPDATE requests SET state = ?, answered_at = ?, answer = ?, reply = ? WHERE key = ?",
        vec![V::from(a.state.name()), V::from(answered_at), V::from(answer), V::from(reply), V::from(a.key.as_str())],
    )?;
    Ok(list(sql, &ListQuery { open_only: false, key: Some(a.key.clone()) })?.into_iter().next())
}
