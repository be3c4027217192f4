//! What a link lets its visitors download: the sizes, as YAML's `download:` declares them.

use serde::{Deserialize, Serialize};

/// The download sizes a link offers (`download:` in YAML: `false`, `true`/`original`, `web`,
/// or a list of both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Downloads {
    /// The metadata-stripped original, and "download all" as one ZIP of originals.
    pub original: bool,
    /// The widest display JPEG (metadata stripped): for slides and chat.
    pub web: bool,
}

impl Downloads {
    pub const NONE: Downloads = Downloads { original: false, web: false };
    pub const ORIGINAL: Downloads = Downloads { original: true, web: false };
    pub const WEB: Downloads = Downloads { original: false, web: true };
    pub const BOTH: Downloads = Downloads { original: true, web: true };

    /// Whether anything may be downloaded.
    pub fn any(self) -> bool {
        self.original || self.web
    }

    /// Whether `size` is offered.
    pub fn allows(self, size: DownloadSize) -> bool {
        match size {
            DownloadSize::Original => self.original,
            DownloadSize::Web => self.web,
        }
    }
}

/// One download size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadSize {
    Original,
    Web,
}
