//! A link's copies of its wider scopes' states, which its open decides from in one object call.
//!
//! A wider scope's object (a gallery's, an audience's) keeps the names of the link objects that
//! hold a copy of its state (its subscribers, at most [`SUBSCRIBERS_MAX`]) and pushes every
//! change to each of them before it answers the owner: a disable or revoke is in every copy by
//! the time the admin API reports it, so the next open of any link sees it. A link asks the
//! scope's object itself (and subscribes) when it holds no copy, when its copy is older than
//! [`COPY_SECONDS`] (which bounds what a push that failed can leave behind; the owner is told of
//! such a failure), when the scope has no room for it, or when the copy is not settled against
//! the terms the scope was published with (the scope's object stores the lapse, as before).

use super::{GateClient, LinkGate, Scope, Status};
use futures_util::future::join_all;
use gatefold_contract::{LinkPolicy, Overrides};
use serde::{Deserialize, Serialize};
use worker::{Result, SqlStorage, SqlStorageValue};

/// How long a link decides from a copy without asking the scope's object again. Pushes keep
/// copies current; this bounds how long a copy a push could not reach stays in use.
pub(super) const COPY_SECONDS: i64 = 60;

/// Link objects a scope pushes its changes to at most: every push is one subrequest of the
/// owner's call, which may make 1,000 (a push that fails is tried once more). Links beyond it
/// ask the scope's object on every open, as every link did before copies.
pub(super) const SUBSCRIBERS_MAX: i64 = 400;

/// Pushes in flight at once.
const PUSH_AT_ONCE: usize = 50;

/// One scope's state as its object holds it, at a revision (which grows with every write).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ScopeCopy {
    /// The scope's object name.
    pub scope: String,
    pub revision: i64,
    pub overrides: Overrides,
    pub session_epoch: u32,
}

impl ScopeCopy {
    pub(super) fn status(&self) -> Status {
        Status { overrides: self.overrides.clone(), session_epoch: self.session_epoch, ..Status::default() }
    }
}

/// A link's object asking a wider scope's object for its state, settled against the terms the
/// scope was published with, and to be told of its changes from now on.
#[derive(Debug, Deserialize, Serialize)]
pub struct SubscribeRequest {
    pub terms: LinkPolicy,
    /// The asking link's object name.
    pub subscriber: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct SubscribeResponse {
    pub copy: ScopeCopy,
    /// Whether the scope will push its changes to the asker (false once it has
    /// [`SUBSCRIBERS_MAX`]): only then may the asker keep the copy.
    pub subscribed: bool,
}

/// A copy as a link stores it, with when it was stored or last confirmed (seconds).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Held {
    pub(super) copy: ScopeCopy,
    pub(super) at: i64,
}

/// Whether a link may decide from the copy it holds of a wider scope at `now`: one is held, it
/// was stored or confirmed less than [`COPY_SECONDS`] ago (a clock that went back asks again),
/// and it is settled against `terms` (else the scope's object must store the lapse first).
pub(super) fn usable(held: Option<&Held>, terms: &LinkPolicy, now: i64) -> bool {
    held.is_some_and(|h| (0..COPY_SECONDS).contains(&(now - h.at)) && h.copy.overrides.settled(terms) == h.copy.overrides)
}

/// Both tables (idempotent, run when the object starts): a link's copies of its wider scopes'
/// states (`overrides` is `contract::Overrides` as JSON), and a scope's subscribers.
pub(super) fn create_tables(sql: &SqlStorage) {
    for table in [
        "CREATE TABLE IF NOT EXISTS scope_copies (scope TEXT PRIMARY KEY, revision INTEGER NOT NULL, overrides TEXT NOT NULL,
           session_epoch INTEGER NOT NULL, at INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS subscribers (name TEXT PRIMARY KEY)",
    ] {
        if let Err(e) = sql.exec(table, None) {
            worker::console_error!("LinkGate: creating a table failed ({table}): {e}");
        }
    }
}

#[derive(Deserialize)]
struct CopyRow {
    revision: i64,
    overrides: String,
    session_epoch: i64,
    at: i64,
}

#[derive(Deserialize)]
struct NameRow {
    name: String,
}

fn now_seconds() -> i64 {
    worker::Date::now().as_millis() as i64 / 1000
}

impl LinkGate {
    /// The copy held of `scope` (`None`: none, or one this version cannot read, which is asked
    /// for again).
    fn held(&self, scope: &str) -> Result<Option<Held>> {
        let rows: Vec<CopyRow> = self
            .sql()
            .exec("SELECT revision, overrides, session_epoch, at FROM scope_copies WHERE scope = ?", vec![SqlStorageValue::String(scope.into())])?
            .to_array()?;
        Ok(rows.into_iter().next().and_then(|r| {
            let overrides = serde_json::from_str(&r.overrides).ok()?;
            let copy = ScopeCopy { scope: scope.into(), revision: r.revision, overrides, session_epoch: u32::try_from(r.session_epoch).unwrap_or(u32::MAX) };
            Some(Held { copy, at: r.at })
        }))
    }

    /// Stores `copy` unless a newer revision is held (pushes and answers may arrive out of
    /// order); the same revision confirms the copy held.
    fn hold(&self, copy: &ScopeCopy) -> Result<()> {
        self.sql().exec(
            "INSERT INTO scope_copies (scope, revision, overrides, session_epoch, at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(scope) DO UPDATE SET revision = excluded.revision, overrides = excluded.overrides,
               session_epoch = excluded.session_epoch, at = excluded.at
             WHERE excluded.revision >= scope_copies.revision",
            vec![
                SqlStorageValue::String(copy.scope.clone()),
                SqlStorageValue::Integer(copy.revision),
                SqlStorageValue::String(serde_json::to_string(&copy.overrides)?),
                SqlStorageValue::Integer(i64::from(copy.session_epoch)),
                SqlStorageValue::Integer(now_seconds()),
            ],
        )?;
        Ok(())
    }

    /// The wider scopes' states (in [`Scope::wider`] order), from the copies this link holds,
    /// asking the scopes' objects (at once) for any copy it may not use.
    pub(super) async fn wider_states(&self, scope: &Scope, terms: &[LinkPolicy]) -> Result<Vec<Status>> {
        let wider = scope.wider();
        if terms.len() != wider.len() {
            let name = scope.object_name();
            return Err(worker::Error::RustError(format!("LinkGate {name}: {} wider scopes but terms for {}", wider.len(), terms.len())));
        }
        let now = now_seconds();
        let held = wider.iter().map(|w| self.held(&w.object_name())).collect::<Result<Vec<_>>>()?;
        let mut states: Vec<Option<Status>> = held.iter().zip(terms).map(|(h, t)| usable(h.as_ref(), t, now).then(|| h.as_ref().map(|h| h.copy.status())).flatten()).collect();
        let missing: Vec<usize> = (0..wider.len()).filter(|&i| states[i].is_none()).collect();
        if missing.is_empty() {
            return Ok(states.into_iter().flatten().collect());
        }
        let subscriber = scope.object_name();
        let wider = &wider;
        let asks = missing.iter().map(|&i| {
            let req = SubscribeRequest { terms: terms[i].clone(), subscriber: subscriber.clone() };
            async move { GateClient::for_scope(&self.env, &wider[i])?.subscribe(&req).await }
        });
        for (&i, answer) in missing.iter().zip(join_all(asks).await) {
            let answer = answer?;
            if answer.subscribed {
                self.hold(&answer.copy)?;
            }
            states[i] = Some(answer.copy.status());
        }
        Ok(states.into_iter().flatten().collect())
    }

    /// A link storing a copy a wider scope pushed: only its own wider scopes' are taken.
    pub(super) fn take_push(&self, copy: &ScopeCopy) -> Result<bool> {
        let ours = self.scope()?.wider().iter().any(|w| w.object_name() == copy.scope);
        if ours {
            self.hold(copy)?;
        }
        Ok(ours)
    }

    /// A scope answering a link's [`SubscribeRequest`]: its state settled against the terms
    /// (a lapse is stored and pushed first), and the link added to its subscribers while there
    /// is room. Adding and reading happen with no await between, so every later change is
    /// pushed to the link.
    pub(super) async fn subscribe(&self, req: &SubscribeRequest) -> Result<std::result::Result<SubscribeResponse, String>> {
        let scope = self.scope()?;
        let fits = match (&scope, Scope::from_object_name(&req.subscriber)) {
            (Scope::Link { .. }, _) => false,
            (_, Some(link @ Scope::Link { .. })) => link.wider().contains(&scope),
            _ => false,
        };
        if !fits {
            return Ok(Err(format!("{:?} is not a link under {}", req.subscriber, scope.object_name())));
        }
        self.settle(&req.terms).await?;
        let sql = self.sql();
        sql.exec(
            "INSERT OR IGNORE INTO subscribers (name) SELECT ? WHERE (SELECT COUNT(*) FROM subscribers) < ?",
            vec![SqlStorageValue::String(req.subscriber.clone()), SqlStorageValue::Integer(SUBSCRIBERS_MAX)],
        )?;
        let found: Vec<NameRow> = sql.exec("SELECT name FROM subscribers WHERE name = ?", vec![SqlStorageValue::String(req.subscriber.clone())])?.to_array()?;
        Ok(Ok(SubscribeResponse { copy: self.copy_now(&scope)?, subscribed: !found.is_empty() }))
    }

    /// This scope's state as a copy.
    fn copy_now(&self, scope: &Scope) -> Result<ScopeCopy> {
        let loaded = self.load()?;
        Ok(ScopeCopy { scope: scope.object_name(), revision: loaded.revision, overrides: loaded.status.overrides, session_epoch: loaded.status.session_epoch })
    }

    /// Pushes this scope's state to every subscriber, each failed push tried once more; answers
    /// how many links it could not reach (they decide from their copy until it is
    /// [`COPY_SECONDS`] old). A link's own object has no subscribers.
    pub(super) async fn push(&self, scope: &Scope) -> Result<usize> {
        if matches!(scope, Scope::Link { .. }) {
            return Ok(0);
        }
        let names: Vec<NameRow> = self.sql().exec("SELECT name FROM subscribers", None)?.to_array()?;
        if names.is_empty() {
            return Ok(0);
        }
        let mut pending: Vec<String> = names.into_iter().map(|n| n.name).collect();
        for _ in 0..2 {
            let copy = self.copy_now(scope)?;
            let mut failed = Vec::new();
            for chunk in pending.chunks(PUSH_AT_ONCE) {
                let pushes = chunk.iter().map(|name| async { GateClient::for_object(&self.env, name)?.push(&copy).await });
                for (name, sent) in chunk.iter().zip(join_all(pushes).await) {
                    if let Err(e) = sent {
                        worker::console_error!("LinkGate {}: pushing its state to {name} failed: {e}", scope.object_name());
                        failed.push(name.clone());
                    }
                }
            }
            pending = failed;
            if pending.is_empty() {
                break;
            }
        }
        Ok(pending.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(overrides: Overrides, at: i64) -> Held {
        Held { copy: ScopeCopy { scope: "spring/*".into(), revision: 3, overrides, session_epoch: 0 }, at }
    }

    #[test]
    fn a_link_decides_from_a_recent_settled_copy_only() {
        let terms = LinkPolicy::default();
        let now = 1_000_000;
        assert!(usable(Some(&held(Overrides::default(), now - 5)), &terms, now));
        assert!(!usable(None, &terms, now), "no copy: ask the scope");
        assert!(!usable(Some(&held(Overrides::default(), now - COPY_SECONDS)), &terms, now), "a copy as old as the bound: ask again");
        assert!(!usable(Some(&held(Overrides::default(), now + 5)), &terms, now), "a clock that went back: ask again");
    }

    #[test]
    fn a_copy_a_publish_made_stale_sends_the_link_to_the_scope() {
        let terms = LinkPolicy::default();
        let now = 1_000_000;
        // An extension without memory of the published value: the scope must record it first.
        let unsettled = Overrides { expires_at: Some(now + 3600), ..Overrides::default() };
        assert_ne!(unsettled.settled(&terms), unsettled);
        assert!(!usable(Some(&held(unsettled, now)), &terms, now));
    }

    #[test]
    fn a_closed_copy_stays_usable_and_closed() {
        let terms = LinkPolicy::default();
        let now = 1_000_000;
        for closed in [Overrides { disabled: Some(true), ..Overrides::default() }, Overrides::unreadable()] {
            let h = held(closed, now);
            assert!(usable(Some(&h), &terms, now));
            assert!(h.copy.status().overrides.is_disabled());
        }
    }
}
