//! What an open session checks on every gated request: the link's and its wider scopes'
//! state as mirrored to KV, failing closed, memoised per isolate.

use super::*;
use gatefold_contract::manifest::{Gallery, Link};
use gatefold_contract::policy::Effective;
use std::collections::{BTreeSet, HashMap};

/// What an open session checks on every gated request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinkRuntime {
    /// The link's own overrides.
    pub own: Overrides,
    /// Its wider scopes' (in [`Scope::wider`] order).
    pub wider: Vec<Overrides>,
    /// What a session's epoch must reach ([`session_epoch`]).
    pub session_epoch: u32,
}

impl LinkRuntime {
    /// The link's policy in force ([`policy_in_force`]): every scope settled against the terms
    /// `gallery`'s record gives it, then combined.
    pub fn in_force(&self, gallery: &Gallery, link: &Link) -> Effective {
        let terms = Scope::link(&gallery.id, &link.name).wider_terms(gallery);
        policy_in_force(&link.policy, &self.own, &self.wider, &terms)
    }

    /// This state as the link's own object and its wider scopes' would answer it, with `views`
    /// counted elsewhere (the gallery log): what the admin API's `link_status` composes, for
    /// reports that read many links' mirrors in bulk ([`runtimes`]) instead of their objects.
    pub fn statuses(&self, views: u64) -> (Status, Vec<Status>) {
        let own = Status { views, overrides: self.own.clone(), session_epoch: self.session_epoch, ..Status::default() };
        (own, self.wider.iter().map(|o| Status { overrides: o.clone(), ..Status::default() }).collect())
    }
}

/// One object's mirrored state: its overrides and session epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Mirrored {
    pub(super) overrides: Overrides,
    pub(super) session_epoch: u32,
}

/// A KV mirror of one object's state, in this version's shape.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Mirror {
    pub(super) shape: u32,
    pub(super) overrides: Overrides,
    pub(super) session_epoch: u32,
}

impl Mirror {
    /// A stored shape this version cannot read stands for a closed link.
    pub(super) fn read(text: &str) -> Mirrored {
        match serde_json::from_str::<Mirror>(text) {
            Ok(m) if m.shape == MIRROR_SHAPE => Mirrored { overrides: m.overrides, session_epoch: m.session_epoch },
            // Closed by the overrides alone: every request of every session is refused as
            // `link_disabled`, which is what the owner is told, whatever epoch it carries.
            _ => Mirrored { overrides: Overrides::unreadable(), session_epoch: 0 },
        }
    }
}

/// How long an isolate reuses a link's runtime state it read: a gallery page asks for dozens of
/// images at once, and each would otherwise read three KV keys. Small next to the edge cache's
/// 30 s, so a disable still stops open sessions within a minute.
const RUNTIME_MEMO_MS: f64 = 5_000.0;
/// Links remembered per isolate at most; past it the memo starts over.
const RUNTIME_MEMO_LINKS: usize = 4_096;

thread_local! {
    // Workers isolates are single-threaded: a thread-local is the isolate-wide memo.
    static RUNTIME_MEMO: std::cell::RefCell<std::collections::HashMap<(String, String), (f64, LinkRuntime)>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The link's runtime state as mirrored to KV (cached at the edge for 30 s, and in the isolate
/// for [`RUNTIME_MEMO_MS`]), failing closed: a stored shape this version cannot read answers
/// disabled.
pub async fn runtime(env: &Env, gallery: &str, link: &str) -> Result<LinkRuntime> {
    let now = worker::Date::now().as_millis() as f64;
    let key = (gallery.to_string(), link.to_string());
    let memo = RUNTIME_MEMO.with(|m| m.borrow().get(&key).filter(|(at, _)| now - at < RUNTIME_MEMO_MS).map(|(_, rt)| rt.clone()));
    if let Some(rt) = memo {
        return Ok(rt);
    }
    let rt = runtime_from_kv(env, gallery, link).await?;
    RUNTIME_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= RUNTIME_MEMO_LINKS {
            m.clear();
        }
        m.insert(key, (now, rt.clone()));
    });
    Ok(rt)
}

async fn runtime_from_kv(env: &Env, gallery: &str, link: &str) -> Result<LinkRuntime> {
    let kv = env.kv("LINK_STATE")?;
    let scope = Scope::link(gallery, link);
    let get = |key: String| {
        let kv = &kv;
        async move { kv.get(&key).cache_ttl(MIRROR_CACHE_SECONDS).text().await }
    };
    let legacy = async {
        match scope.legacy_mirror_key() {
            Some(key) => get(key).await,
            None => Ok(None),
        }
    };
    // The link's keys and every wider scope's (its gallery's, a recipient's audience's) at once.
    let ((own, legacy), wider) = join(join(get(scope.mirror_key()), legacy), join_all(scope.wider().iter().map(|w| get(w.mirror_key())))).await;
    Ok(compose(own?, legacy?, wider.into_iter().collect::<std::result::Result<Vec<_>, _>>()?))
}

/// KV keys one bulk read takes at most (`KvStore::get_bulk`), each read one operation.
const BULK_KEYS: usize = 100;

/// Every listed link's runtime state in one gallery, as [`runtime`] answers it for each, read
/// in bulk: each distinct key (the links' own and legacy mirrors, each wider scope's once) in
/// reads of [`BULK_KEYS`] keys. A gallery of 2,000 recipients is 21 KV operations instead of
/// three per link, well inside the 1,000 an invocation may make. For the owners' reports (the
/// daily digest); not memoised, since they ask once.
pub async fn runtimes(env: &Env, gallery: &str, links: &[&str]) -> Result<HashMap<String, LinkRuntime>> {
    let kv = env.kv("LINK_STATE")?;
    let scopes: Vec<Scope> = links.iter().map(|l| Scope::link(gallery, l)).collect();
    let keys: BTreeSet<String> = scopes
        .iter()
        .flat_map(|s| std::iter::once(s.mirror_key()).chain(s.legacy_mirror_key()).chain(s.wider().into_iter().map(|w| w.mirror_key())))
        .collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut values: HashMap<String, Option<String>> = HashMap::with_capacity(keys.len());
    for page in join_all(keys.chunks(BULK_KEYS).map(|chunk| kv.get_bulk(chunk).cache_ttl(MIRROR_CACHE_SECONDS).text())).await {
        values.extend(page?);
    }
    let value = |key: &str| values.get(key).cloned().flatten();
    Ok(scopes
        .iter()
        .zip(links)
        .map(|(scope, link)| {
            let legacy = scope.legacy_mirror_key().and_then(|k| value(&k));
            let wider = scope.wider().iter().map(|w| value(&w.mirror_key())).collect();
            (link.to_string(), compose(value(&scope.mirror_key()), legacy, wider))
        })
        .collect())
}

/// A link's runtime state from its mirrors as read (`None`: never written): its own, its
/// legacy key's, and its wider scopes' in [`Scope::wider`] order. The one composition both
/// reads share.
fn compose(own: Option<String>, legacy: Option<String>, wider: Vec<Option<String>>) -> LinkRuntime {
    let read_legacy = |text: &str| serde_json::from_str::<Overrides>(text).unwrap_or_else(|_| Overrides::unreadable());
    let own = match (own, legacy) {
        // A worker from before scopes (after a rollback) writes only the legacy key: a disable
        // it made must hold for open sessions too, so the stricter of the two wins.
        (Some(text), legacy) => {
            let mut current = Mirror::read(&text);
            if let Some(old) = legacy {
                current.overrides = current.overrides.within(&read_legacy(&old));
            }
            current
        }
        // Written by an earlier version only: its shape, no epoch yet.
        (None, Some(text)) => Mirrored { overrides: read_legacy(&text), session_epoch: 0 },
        (None, None) => Mirrored::default(),
    };
    // A wider mirror this version cannot read closes the link (Mirror::read); one never
    // written is a scope never changed.
    let wider: Vec<Mirrored> = wider.into_iter().map(|w| w.map(|text| Mirror::read(&text)).unwrap_or_default()).collect();
    LinkRuntime {
        session_epoch: session_epoch(own.session_epoch, wider.iter().map(|w| w.session_epoch)),
        own: own.overrides,
        wider: wider.into_iter().map(|w| w.overrides).collect(),
    }
}
