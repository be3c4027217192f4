//! Link expiry as the owner wrote it, and the one conversion of it to an instant.
//!
//! Owners write a date ("the link works through that whole day in the site timezone"), a wall
//! clock time in the site timezone, or an exact RFC 3339 moment. That written form is kept as
//! data all the way to the worker, so every reader shows what the owner meant ("end of
//! 2026-12-05", never "2026-12-06 00:00") without guessing it back from the instant.
//!
//! The instant is computed here only, from the site timezone's UTC-offset table that the
//! manifest carries ([`crate::manifest::Site::utc_offsets`]): the generator and the worker (which
//! has no timezone database) convert with the same code and get the same answer.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A timezone as `(from unix seconds, UTC offset seconds)` pairs, ascending; the first offset
/// also applies before its `from`.
pub type UtcOffsets = [(i64, i32)];

/// When a link stops working, as the owner wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `2026-12-05`: the link works through that whole day in the site timezone.
    EndOfDay(NaiveDate),
    /// `2026-12-05 18:00`: a wall-clock time in the site timezone.
    LocalTime(NaiveDateTime),
    /// `2026-12-05T18:00:00+08:00`: an exact moment.
    Moment(DateTime<FixedOffset>),
}

/// Why an owner's expiry cannot be used. The messages name the input; the fix is the caller's
/// (it knows whether the owner wrote YAML or used the admin page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpiryError {
    /// Shaped like a date, but no such day (`2026-02-30`).
    NoSuchDay(String),
    /// Neither a date nor a date-time.
    NotADate(String),
    /// A date too far out for calendar arithmetic.
    OutOfRange(String),
    /// A wall-clock time the site timezone skips (daylight-saving change).
    SkippedTime(String),
}

impl fmt::Display for ExpiryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpiryError::NoSuchDay(s) => write!(f, "`{s}` is not a calendar date (no such day)"),
            ExpiryError::NotADate(s) => write!(f, "`{s}` is not a date or date-time"),
            ExpiryError::OutOfRange(s) => write!(f, "`{s}` is out of range"),
            ExpiryError::SkippedTime(s) => {
                write!(f, "`{s}` does not exist in the site timezone (skipped by a daylight-saving change)")
            }
        }
    }
}

impl std::error::Error for ExpiryError {}

const DATE: &str = "%Y-%m-%d";
/// Wall-clock forms accepted without an offset; the first is how one is written back.
const LOCAL_FORMATS: [&str; 4] = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

impl Expiry {
    /// Reads an owner's expiry: `2026-12-31`, `2026-12-31 18:00` (site timezone) or RFC 3339.
    pub fn parse(input: &str) -> Result<Expiry, ExpiryError> {
        let s = input.trim();
        if looks_like_date(s) {
            let date = NaiveDate::parse_from_str(s, DATE).map_err(|_| ExpiryError::NoSuchDay(s.into()))?;
            // The day after must exist too: the link ends at its first instant.
            date.succ_opt().ok_or_else(|| ExpiryError::OutOfRange(s.into()))?;
            return Ok(Expiry::EndOfDay(date));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Expiry::Moment(t));
        }
        LOCAL_FORMATS
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(s, format).ok())
            .map(Expiry::LocalTime)
            .ok_or_else(|| ExpiryError::NotADate(s.into()))
    }

    /// The instant the link answers "expired" from, in the timezone given by `offsets`.
    ///
    /// A date ends at the first instant of the next local day (where a daylight-saving change
    /// skips that midnight, at the first local time that exists); a wall-clock time the
    /// timezone skips is refused, and one it repeats means the earlier instant.
    pub fn instant(&self, offsets: &UtcOffsets) -> Result<i64, ExpiryError> {
        match self {
            Expiry::EndOfDay(date) => {
                let next = date.succ_opt().ok_or_else(|| ExpiryError::OutOfRange(self.to_string()))?;
                let midnight = next.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp();
                Ok(local_to_instant(midnight, offsets).unwrap_or_else(|gap_end| gap_end))
            }
            Expiry::LocalTime(local) => {
                local_to_instant(local.and_utc().timestamp(), offsets).map_err(|_| ExpiryError::SkippedTime(self.to_string()))
            }
            Expiry::Moment(t) => Ok(t.timestamp()),
        }
    }

    /// The expiry with its instant, as published in a link policy.
    pub fn resolve(self, offsets: &UtcOffsets) -> Result<ResolvedExpiry, ExpiryError> {
        Ok(ResolvedExpiry { at: self.instant(offsets)?, written: self })
    }

    /// The same forms read as an opening (`opens_at:`): a date opens at the first instant of
    /// that day in the site timezone (where a daylight-saving change skips that midnight, at
    /// the first local time that exists); a time or a moment as for an expiry.
    pub fn resolve_opening(self, offsets: &UtcOffsets) -> Result<ResolvedExpiry, ExpiryError> {
        let at = match self {
            Expiry::EndOfDay(date) => {
                let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp();
                local_to_instant(midnight, offsets).unwrap_or_else(|gap_end| gap_end)
            }
            other => other.instant(offsets)?,
        };
        Ok(ResolvedExpiry { at, written: self })
    }
}

/// What the worker's admin API calls with an owner's input (`2026-12-31` or RFC 3339, also a
/// site-local `2026-12-31 18:00`) and the manifest's `site.utc_offsets`.
pub fn parse_owner_expiry(input: &str, offsets: &UtcOffsets) -> Result<ResolvedExpiry, ExpiryError> {
    Expiry::parse(input)?.resolve(offsets)
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expiry::EndOfDay(date) => write!(f, "{}", date.format(DATE)),
            Expiry::LocalTime(local) => write!(f, "{}", local.format(LOCAL_FORMATS[0])),
            Expiry::Moment(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Expiry, D::Error> {
        let s = String::deserialize(d)?;
        Expiry::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An expiry as written together with the instant it was resolved to when it was set, so a
/// reader needs neither the timezone nor a second conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolvedExpiry {
    pub written: Expiry,
    /// Unix seconds; the link answers "expired" from this instant on.
    pub at: i64,
}

impl ResolvedExpiry {
    /// An exact moment (UTC), for expiries that come as an instant rather than from an owner.
    pub fn at_instant(at: i64) -> ResolvedExpiry {
        let moment = DateTime::from_timestamp(at, 0).unwrap_or_default().fixed_offset();
        ResolvedExpiry { written: Expiry::Moment(moment), at }
    }

    /// In owners' words, in the site timezone named `timezone`: `end of 2026-12-05
    /// (Asia/Shanghai)` for a date, `2026-12-21 01:00 (Asia/Shanghai)` otherwise.
    pub fn describe(&self, timezone: &str, offsets: &UtcOffsets) -> String {
        match self.written {
            Expiry::EndOfDay(date) => format!("end of {} ({timezone})", date.format(DATE)),
            Expiry::LocalTime(_) | Expiry::Moment(_) => {
                let local = self.at + i64::from(utc_offset_at(offsets, self.at));
                match DateTime::from_timestamp(local, 0) {
                    Some(t) => format!("{} ({timezone})", t.naive_utc().format("%Y-%m-%d %H:%M")),
                    None => self.at.to_string(),
                }
            }
        }
    }
}

/// UTC offset in seconds at `unix` seconds.
pub fn utc_offset_at(offsets: &UtcOffsets, unix: i64) -> i32 {
    let i = offsets.partition_point(|(from, _)| *from <= unix);
    if i == 0 { offsets.first().map_or(0, |(_, o)| *o) } else { offsets[i - 1].1 }
}

/// `days` calendar days after `at` in the timezone of `offsets`: the same wall-clock time that
/// many local days later (where a daylight-saving change skips that time, the first that
/// exists; where it repeats, the earlier instant). Across a change such a day has 23 or 25
/// hours, not 86,400 seconds, so "extend by one day" from the end of a date is the end of the
/// next date.
pub fn add_local_days(at: i64, days: u32, offsets: &UtcOffsets) -> i64 {
    let local = at.saturating_add(i64::from(utc_offset_at(offsets, at)));
    local_to_instant(local.saturating_add(i64::from(days) * 86_400), offsets).unwrap_or_else(|gap_end| gap_end)
}

/// The earliest instant whose local time is `local` (local seconds since the epoch), or, when
/// the timezone skips that local time, `Err` with the instant the gap ends at.
fn local_to_instant(local: i64, offsets: &UtcOffsets) -> Result<i64, i64> {
    if offsets.is_empty() {
        return Ok(local);
    }
    let valid = offsets.iter().enumerate().filter_map(|(i, &(from, offset))| {
        let t = local - i64::from(offset);
        let after_start = i == 0 || t >= from;
        let before_end = offsets.get(i + 1).is_none_or(|&(next, _)| t < next);
        (after_start && before_end).then_some(t)
    });
    if let Some(t) = valid.min() {
        return Ok(t);
    }
    // In a gap: the first local time that exists is the one at the change that skipped it.
    let gap_end = offsets
        .windows(2)
        .map(|w| (w[1].0, i64::from(w[0].1), i64::from(w[1].1)))
        .find(|&(change, before, after)| change + before <= local && local < change + after)
        .map_or(local - i64::from(offsets[offsets.len() - 1].1), |(change, _, _)| change);
    Err(gap_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: &UtcOffsets = &[(i64::MIN / 2, 8 * 3600)];
    const UTC: &UtcOffsets = &[(i64::MIN / 2, 0)];
    /// Santiago 2026: UTC−4 until clocks spring forward at local midnight on 6 September
    /// (04:00 UTC), UTC−3 after.
    const SANTIAGO: &UtcOffsets = &[(i64::MIN / 2, -4 * 3600), (1_788_667_200, -3 * 3600)];
    /// Berlin 2026: CEST until clocks fall back on 25 October at 01:00 UTC.
    const BERLIN: &UtcOffsets = &[(i64::MIN / 2, 2 * 3600), (1_792_890_000, 3600)];

    fn resolve(s: &str, offsets: &UtcOffsets) -> i64 {
        parse_owner_expiry(s, offsets).unwrap().at
    }

    #[test]
    fn an_opening_date_means_the_start_of_that_day_and_times_mean_themselves() {
        let open = |s: &str| Expiry::parse(s).unwrap().resolve_opening(SHANGHAI).unwrap().at;
        // 2026-12-05T00:00:00+08:00
        assert_eq!(open("2026-12-05"), 1_796_486_400 - 86_400);
        assert_eq!(open("2026-12-05 18:00"), resolve("2026-12-05 18:00", SHANGHAI));
        // Santiago skips 2026-09-06 00:00: that day opens at 01:00 local.
        assert_eq!(Expiry::parse("2026-09-06").unwrap().resolve_opening(SANTIAGO).unwrap().at, 1_788_667_200);
    }

    #[test]
    fn a_date_means_the_end_of_that_day_in_the_site_timezone() {
        // 2026-12-06T00:00:00+08:00
        assert_eq!(resolve("2026-12-05", SHANGHAI), 1_796_486_400);
        assert_eq!(resolve("2026-12-05", UTC), 1_796_515_200);
    }

    #[test]
    fn exact_date_times_keep_their_offset_or_use_the_site_timezone() {
        assert_eq!(resolve("2026-12-05T18:00:00+08:00", UTC), 1_796_464_800);
        assert_eq!(resolve("2026-12-05 18:00", SHANGHAI), 1_796_464_800);
    }

    #[test]
    fn impossible_and_vague_dates_are_refused() {
        assert!(Expiry::parse("2026-02-30").unwrap_err().to_string().contains("not a calendar date"));
        assert!(Expiry::parse("next tuesday").unwrap_err().to_string().contains("not a date"));
        assert!(Expiry::parse("2026-13-01").is_err());
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_ends_at_the_first_real_time() {
        // 2026-09-06 00:00 does not exist in Santiago: the 5th ends at 01:00 local (04:00 UTC).
        assert_eq!(resolve("2026-09-05", SANTIAGO), 1_788_667_200);
        assert_eq!(
            Expiry::parse("2026-09-06 00:30").unwrap().instant(SANTIAGO),
            Err(ExpiryError::SkippedTime("2026-09-06T00:30:00".into()))
        );
    }

    #[test]
    fn a_repeated_wall_clock_time_means_the_earlier_instant() {
        // 02:30 happens twice in Berlin on 2026-10-25; the first is 00:30 UTC.
        assert_eq!(resolve("2026-10-25 02:30", BERLIN), 1_792_888_200);
    }

    #[test]
    fn the_written_form_survives_the_manifest() {
        for written in ["2026-12-05", "2026-12-05T18:00:00", "2026-12-05T18:00:00+08:00", "2026-12-05T10:00:00Z"] {
            let expiry = parse_owner_expiry(written, SHANGHAI).unwrap();
            assert_eq!(expiry.written.to_string(), written);
            let json = serde_json::to_string(&expiry).unwrap();
            assert_eq!(serde_json::from_str::<ResolvedExpiry>(&json).unwrap(), expiry, "{json}");
        }
    }

    #[test]
    fn owners_read_dates_as_written_and_moments_in_the_site_timezone() {
        assert_eq!(parse_owner_expiry("2026-12-05", SHANGHAI).unwrap().describe("Asia/Shanghai", SHANGHAI), "end of 2026-12-05 (Asia/Shanghai)");
        // Local midnight written as a moment is a moment, not "end of the day before".
        let midnight = parse_owner_expiry("2026-12-06T00:00:00+08:00", SHANGHAI).unwrap();
        assert_eq!(midnight.describe("Asia/Shanghai", SHANGHAI), "2026-12-06 00:00 (Asia/Shanghai)");
        assert_eq!(ResolvedExpiry::at_instant(1_796_464_800).describe("Asia/Shanghai", SHANGHAI), "2026-12-05 18:00 (Asia/Shanghai)");
    }

    /// Berlin 2027: CET until clocks spring forward on 28 March at 01:00 UTC.
    const BERLIN_2027: &UtcOffsets = &[(i64::MIN / 2, 3600), (1_806_195_600, 2 * 3600)];

    #[test]
    fn a_day_added_across_a_daylight_saving_change_is_a_calendar_day() {
        let end_of_27th = resolve("2027-03-27", BERLIN_2027);
        // Midnight into 2027-03-29, CEST: 23 hours later, not 24.
        assert_eq!(add_local_days(end_of_27th, 1, BERLIN_2027), 1_806_271_200);
        assert_eq!(add_local_days(end_of_27th, 1, BERLIN_2027), resolve("2027-03-28", BERLIN_2027));
        assert_eq!(add_local_days(end_of_27th, 1, BERLIN_2027) - end_of_27th, 23 * 3600);
        // Autumn: the day the clocks fall back has 25 hours.
        assert_eq!(add_local_days(resolve("2026-10-24", BERLIN), 1, BERLIN), resolve("2026-10-25", BERLIN));
        assert_eq!(add_local_days(resolve("2026-10-24", BERLIN), 1, BERLIN) - resolve("2026-10-24", BERLIN), 25 * 3600);
        // A fixed offset: days of 86,400 s; a wall-clock time keeps its hour.
        assert_eq!(add_local_days(resolve("2026-12-05 18:00", SHANGHAI), 3, SHANGHAI), resolve("2026-12-08 18:00", SHANGHAI));
        assert_eq!(add_local_days(1_000, 2, &[]), 1_000 + 2 * 86_400);
    }

    #[test]
    fn offsets_follow_transitions() {
        let offsets = [(0, 3600), (1000, 7200)];
        assert_eq!(utc_offset_at(&offsets, -5), 3600);
        assert_eq!(utc_offset_at(&offsets, 999), 3600);
        assert_eq!(utc_offset_at(&offsets, 1000), 7200);
    }
}
