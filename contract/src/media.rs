//! The image media types Gatefold writes and serves, as one typed list.
//!
//! They travel in the manifest as their MIME strings (`image/webp`), so the JSON stays readable
//! and a type this version does not know is refused when the manifest is read.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MediaType {
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/gif")]
    Gif,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "image/avif")]
    Avif,
}

impl MediaType {
    pub const ALL: [MediaType; 5] = [MediaType::Png, MediaType::Jpeg, MediaType::Gif, MediaType::Webp, MediaType::Avif];

    /// The MIME string, as sent in `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Gif => "image/gif",
            MediaType::Webp => "image/webp",
            MediaType::Avif => "image/avif",
        }
    }

    /// The file extension Gatefold gives files of this type.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Png => "png",
            MediaType::Jpeg => "jpg",
            MediaType::Gif => "gif",
            MediaType::Webp => "webp",
            MediaType::Avif => "avif",
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaType {
    type Err = String;
    fn from_str(s: &str) -> Result<MediaType, String> {
        MediaType::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| format!("`{s}` is not an image type Gatefold serves"))
    }
}

impl PartialEq<str> for MediaType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MediaType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_its_mime_string_and_back() {
        for t in MediaType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<MediaType>(&json).unwrap(), t);
            assert_eq!(t.as_str().parse::<MediaType>(), Ok(t));
        }
        assert!(serde_json::from_str::<MediaType>("\"image/heic\"").is_err());
    }
}
