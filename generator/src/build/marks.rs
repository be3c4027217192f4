//! What a gallery's `mark:` settings make of its links and images: each marked link's
//! [`LinkMark`] in the manifest, and the [`JobMark`] its images are planned with. One place
//! derives both, so the bands a link's record names are the bands the image step makes.

use crate::config::{GalleryConfig, LinkConfig};
use crate::images::{JobMark, JobStamp, stamp_id};
use gatefold_contract::SigningKey;
use gatefold_contract::manifest::LinkMark;

/// The link's mark as published, or `None` for an unmarked link.
pub fn link_mark(gallery: &str, link: &LinkConfig, key: &SigningKey) -> Option<LinkMark> {
    let mark = link.mark.as_ref()?;
    let key = key.mark_key();
    Some(LinkMark {
        key_id: key.id().to_string(),
        stamp: mark.stamp.as_ref().map(|(text, position)| stamp_id(key, gallery, &link.name, text, *position)),
        originals: mark.originals,
    })
}

/// What the gallery's images must carry for its marked links; `None` when none is marked.
pub fn job_mark(gallery: &GalleryConfig, key: &SigningKey) -> Option<JobMark> {
    let marked: Vec<&LinkConfig> = gallery.links.iter().filter(|l| l.mark.is_some()).collect();
    if marked.is_empty() {
        return None;
    }
    let key = key.mark_key();
    let stamps = marked
        .iter()
        .filter_map(|l| {
            let mark = l.mark.as_ref()?;
            let (text, position) = mark.stamp.as_ref()?;
            Some(JobStamp { link: l.name.clone(), id: stamp_id(key, &gallery.id, &l.name, text, *position), text: text.clone(), position: *position, originals: mark.originals })
        })
        .collect();
    Some(JobMark { key: key.clone(), originals: marked.iter().any(|l| l.mark.as_ref().is_some_and(|m| m.originals)), stamps })
}
