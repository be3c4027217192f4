//! Instants as the site's clock shows them: the one conversion from a Unix instant to the site
//! timezone's local day and wall time, and the forms owners read it in.
//!
//! The offset comes from a [`Clock`] (the manifest's `Site` and its UTC-offset table): the worker
//! has no timezone database. Dates are counted in plain integers (days since 1970-01-01 on the
//! site's calendar, proleptic Gregorian), so nothing here can fail or needs a date library.
//! The other direction, from a date or time as owners write it to an instant, is
//! [`crate::expiry`]'s.

/// The site's clock as this module needs it: its UTC offset at an instant and its timezone's
/// name (the manifest's `Site` is one). A trait so this module needs nothing from the
/// manifest, which itself names notification channels whose messages use time.
pub trait Clock {
    /// UTC offset in seconds east at `unix` seconds.
    fn utc_offset_at(&self, unix: i64) -> i32;
    /// The IANA name owners read beside a time, e.g. `Asia/Shanghai`.
    fn timezone(&self) -> &str;
}

/// Seconds in a day of the local calendar's arithmetic (days are counted on the local clock).
pub const DAY: i64 = 86_400;

/// An instant on the site's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallTime {
    /// Seconds since 1970-01-01 00:00 on the site's clock.
    pub local: i64,
    /// The UTC offset in force at the instant (seconds east of UTC).
    pub offset: i32,
}

impl WallTime {
    /// `unix` (seconds) on the site's clock, with the offset in force at that instant.
    pub fn at(site: &(impl Clock + ?Sized), unix: i64) -> WallTime {
        WallTime::with_offset(unix, site.utc_offset_at(unix))
    }

    /// `unix` (seconds) on a clock `offset` seconds east of UTC.
    pub fn with_offset(unix: i64, offset: i32) -> WallTime {
        WallTime { local: unix.saturating_add(i64::from(offset)), offset }
    }

    /// The local day: days since 1970-01-01 on the site's calendar.
    pub fn day(self) -> i64 {
        self.local.div_euclid(DAY)
    }

    /// The hour of the local day, 0 to 23.
    pub fn hour(self) -> u8 {
        // 0..=23 by construction.
        (self.local.rem_euclid(DAY) / 3600) as u8
    }

    /// `2026-03-02`.
    pub fn date(self) -> String {
        date_of_day(self.day())
    }

    /// `2026-03-02 01:30`.
    pub fn minute(self) -> String {
        let sod = self.local.rem_euclid(DAY);
        format!("{} {:02}:{:02}", self.date(), sod / 3600, sod % 3600 / 60)
    }

    /// `2026-03-02 01:30:00 +08:00`: a timestamp that says its offset (exports).
    pub fn stamp(self) -> String {
        let sod = self.local.rem_euclid(DAY);
        let sign = if self.offset < 0 { '-' } else { '+' };
        let abs = self.offset.unsigned_abs();
        format!("{} {:02}:{:02}:{:02} {sign}{:02}:{:02}", self.date(), sod / 3600, sod % 3600 / 60, sod % 60, abs / 3600, abs % 3600 / 60)
    }
}

/// `2026-03-02 01:30 (Asia/Shanghai)`: an instant in a message to owners (admin API answers,
/// notifications).
pub fn for_owner(site: &(impl Clock + ?Sized), unix: i64) -> String {
    format!("{} ({})", WallTime::at(site, unix).minute(), site.timezone())
}

/// "Opens on 2026-12-05 10:00 (Asia/Shanghai)" in `locale`, for the visitor's `not_yet_open`
/// page, QR cards, share kits and notifications: seconds shown only when the moment has some,
/// so a visitor never reads a minute that is already past while the link is still closed.
pub fn opens_on(site: &(impl Clock + ?Sized), unix: i64, locale: crate::Locale) -> String {
    let wall = WallTime::at(site, unix);
    let seconds = wall.local.rem_euclid(60);
    let when = if seconds == 0 { wall.minute() } else { format!("{}:{seconds:02}", wall.minute()) };
    match locale {
        crate::Locale::ZhCn => format!("开放时间：{when}（{}）", site.timezone()),
        _ => format!("Opens on {when} ({})", site.timezone()),
    }
}

/// `YYYY-MM-DD` of a local day number (days since 1970-01-01; Howard Hinnant's
/// civil-from-days).
pub fn date_of_day(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A whole local day: its date and its bounds as instants (Unix seconds, `[from, to)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDay {
    pub date: String,
    pub from: i64,
    pub to: i64,
}

/// The local day before the one `unix` falls in (a daily report's day), its bounds taken at
/// the offset in force at `unix`.
pub fn day_before(site: &(impl Clock + ?Sized), unix: i64) -> LocalDay {
    let now = WallTime::at(site, unix);
    let midnight = now.day() * DAY - i64::from(now.offset);
    LocalDay { date: date_of_day(now.day() - 1), from: midnight - DAY, to: midnight }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Site;
    use crate::manifest::IpLogging;

    fn site(offsets: Vec<(i64, i32)>) -> Site {
        Site {
            title: "t".into(),
            base_url: String::new(),
            default_locale: crate::Locale::En,
            timezone: "Asia/Shanghai".into(),
            ip_logging: IpLogging::Truncated,
            utc_offsets: offsets,
            dev_key: false,
            key_fingerprint: String::new(),
            analytics: Default::default(),
            digest_hour: crate::notify::DEFAULT_DIGEST_HOUR,
        }
    }

    /// 2026-03-01 17:30:00 UTC.
    const AT: i64 = 1_772_386_200;

    #[test]
    fn civil_dates_match_the_calendar() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(-1), "1969-12-31");
        assert_eq!(date_of_day(20_513), "2026-03-01");
        assert_eq!(date_of_day(19_782), "2024-02-29");
    }

    #[test]
    fn an_evening_in_utc_is_the_next_morning_in_shanghai() {
        let w = WallTime::at(&site(vec![(i64::MIN, 8 * 3600)]), AT);
        assert_eq!((w.day(), w.hour()), (20_514, 1));
        assert_eq!(w.date(), "2026-03-02");
        assert_eq!(w.minute(), "2026-03-02 01:30");
        assert_eq!(for_owner(&site(vec![(i64::MIN, 8 * 3600)]), AT), "2026-03-02 01:30 (Asia/Shanghai)");
    }

    #[test]
    fn local_times_use_the_site_offset_including_half_hours() {
        assert_eq!(WallTime::at(&site(vec![(0, 5 * 3600 + 1800)]), AT).stamp(), "2026-03-01 23:00:00 +05:30");
        assert_eq!(WallTime::at(&site(vec![(0, -5 * 3600)]), AT).stamp(), "2026-03-01 12:30:00 -05:00");
    }

    #[test]
    fn the_offset_is_the_one_in_force_at_the_instant() {
        // Clocks go from +1 to +2 at AT: a second before reads an hour earlier than the change.
        let s = site(vec![(i64::MIN, 3600), (AT, 7200)]);
        assert_eq!(WallTime::at(&s, AT - 1).minute(), "2026-03-01 18:29");
        assert_eq!(WallTime::at(&s, AT).minute(), "2026-03-01 19:30");
    }

    #[test]
    fn the_day_before_is_the_local_one_with_its_bounds() {
        // 2026-12-02T01:00Z is 09:00 in Shanghai (UTC+8).
        let d = day_before(&site(vec![(i64::MIN, 8 * 3600)]), 1_796_173_200);
        assert_eq!(d.date, "2026-12-01");
        assert_eq!(d.to, 1_796_140_800, "2026-12-01T16:00Z, Shanghai midnight");
        assert_eq!(d.to - d.from, DAY);
        assert_eq!(day_before(&site(vec![(i64::MIN, 0)]), 1_796_173_200).date, "2026-12-01");
    }

    #[test]
    fn no_instant_fails_to_convert() {
        for unix in [i64::MIN, -1, 0, i64::MAX] {
            let w = WallTime::at(&site(vec![(i64::MIN, 8 * 3600)]), unix);
            assert!(w.minute().len() >= 16 && w.hour() < 24, "{unix}");
        }
    }
}
