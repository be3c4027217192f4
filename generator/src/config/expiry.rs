//! Link expiry as owners write it: a date (the link works through that whole day in the site
//! timezone) or an exact date-time.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// When a link stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// Unix seconds; the link answers "expired" from this instant on.
    pub at: i64,
    /// As written in YAML, for messages and the owner kit.
    pub written: String,
}

pub const EXPIRY_FIX: &str = "write a date like 2026-12-31 (the link works through that day in the site timezone) or a date-time like 2026-12-31T18:00:00+08:00";

/// The first instant of local day `date` in `tz`. Where a DST change skips midnight, the day
/// starts at the first local time that exists.
fn start_of_day(date: NaiveDate, tz: Tz) -> Option<i64> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    (0..=24 * 4).find_map(|quarter| {
        let local = midnight + chrono::Duration::minutes(15 * quarter);
        tz.from_local_datetime(&local).earliest().map(|t| t.timestamp())
    })
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Parses an expiry. The error is the message to show (without the fix, see [`EXPIRY_FIX`]).
pub fn parse(written: &str, tz: Tz) -> Result<Expiry, String> {
    let s = written.trim();
    let done = |at: i64| Ok(Expiry { at, written: s.to_string() });
    if looks_like_date(s) {
        let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") else {
            return Err(format!("`{s}` is not a calendar date (no such day)"));
        };
        // "expires: 2026-12-05" means the link still works on the 5th: it ends at the next midnight.
        let next = date.checked_add_days(Days::new(1)).ok_or_else(|| format!("`{s}` is out of range"))?;
        return start_of_day(next, tz).map_or_else(|| Err(format!("`{s}` has no midnight in {tz}")), done);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return done(t.timestamp());
    }
    // A date-time without an offset is read in the site timezone, as the owner most likely meant.
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(s, format) {
            return match tz.from_local_datetime(&local).earliest() {
                Some(t) => done(t.timestamp()),
                None => Err(format!("`{s}` does not exist in {tz} (skipped by a daylight-saving change)")),
            };
        }
    }
    Err(format!("`{s}` is not a date or date-time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_means_the_end_of_that_day_in_the_site_timezone() {
        // 2026-12-06T00:00:00+08:00
        assert_eq!(parse("2026-12-05", Tz::Asia__Shanghai).unwrap().at, 1_796_486_400);
        assert_eq!(parse("2026-12-05", Tz::UTC).unwrap().at, 1_796_515_200);
    }

    #[test]
    fn exact_date_times_keep_their_offset_or_use_the_site_timezone() {
        assert_eq!(parse("2026-12-05T18:00:00+08:00", Tz::UTC).unwrap().at, 1_796_464_800);
        assert_eq!(parse("2026-12-05 18:00", Tz::Asia__Shanghai).unwrap().at, 1_796_464_800);
    }

    #[test]
    fn impossible_and_vague_dates_are_refused() {
        assert!(parse("2026-02-30", Tz::UTC).unwrap_err().contains("not a calendar date"));
        assert!(parse("next tuesday", Tz::UTC).unwrap_err().contains("not a date"));
        assert!(parse("2026-13-01", Tz::UTC).is_err());
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_the_first_real_time() {
        // Chile springs forward at local midnight: 2026-09-06 00:00 does not exist in Santiago.
        let at = parse("2026-09-05", Tz::America__Santiago).unwrap().at;
        let local = Tz::America__Santiago.timestamp_opt(at, 0).unwrap();
        assert_eq!(local.format("%Y-%m-%d %H:%M").to_string(), "2026-09-06 01:00");
    }
}
