//! The KV mirror of a `LinkGate` object's state (`runtime/<object name>` in `LINK_STATE`), which
//! the in-session checks read (see [`super::runtime`]): written after every change, read failing
//! closed.

use super::wider::COPY_SECONDS;
use super::{LinkGate, Scope};
use gatefold_contract::Overrides;
use serde::{Deserialize, Serialize};
use worker::Result;

/// How often a KV mirror write is tried before the failure is reported to the owner.
const MIRROR_ATTEMPTS: u32 = 3;

/// Version of the KV mirror's shape; a value this version does not know reads as disabled.
const MIRROR_SHAPE: u32 = 1;

/// How long an in-session check may use a mirrored state (edge cache): with KV's own
/// propagation this bounds how long an open session keeps its images after a disable.
pub(super) const MIRROR_CACHE_SECONDS: u64 = 30;

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

impl LinkGate {
    /// Writes the current state to KV, retrying, then pushes it to the links holding a copy; a
    /// write or push that still fails is recorded and shown to the owner in every status until a
    /// later change succeeds. Concurrent changes may finish their writes out of order, so a
    /// write that finds a newer revision writes again.
    pub(super) async fn mirror(&self, scope: &Scope) -> Result<()> {
        let kv = self.env.kv("LINK_STATE")?;
        let mut failure = None;
        let mut written = -1;
        for attempt in 1..=MIRROR_ATTEMPTS + 1 {
            let loaded = self.load()?;
            if !loaded.readable || loaded.revision == written {
                break;
            }
            let status = &loaded.status;
            let mirror = serde_json::to_string(&Mirror { shape: MIRROR_SHAPE, overrides: status.overrides.clone(), session_epoch: status.session_epoch })?;
            match kv.put(&scope.mirror_key(), mirror)?.execute().await {
                Ok(()) => {
                    written = loaded.revision;
                    failure = None;
                }
                Err(e) => {
                    worker::console_error!("LinkGate {}: mirroring to KV failed (attempt {attempt}): {e}", scope.object_name());
                    failure = Some(e.to_string());
                    if attempt < MIRROR_ATTEMPTS {
                        worker::Delay::from(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                }
            }
        }
        let mut notices: Vec<String> = failure
            .map(|e| {
                format!(
                    "the change is stored, but copying it to KV failed {MIRROR_ATTEMPTS} times ({e}): open sessions keep their images \
                     until a later change copies it; repeat the action"
                )
            })
            .into_iter()
            .collect();
        let unreached = self.push(scope).await?;
        if unreached > 0 {
            notices.push(format!(
                "the change is stored, but {unreached} links holding a copy of this scope's state could not be told: they may decide \
                 from the old state for up to {COPY_SECONDS} s; repeat the action"
            ));
        }
        self.store_mirror_error((!notices.is_empty()).then(|| notices.join("; ")))
    }
}
