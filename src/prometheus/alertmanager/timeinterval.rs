//! Alertmanager 0.25's time interval specifications (`timeinterval/`):
//! parsing of `times`, `weekdays`, `days_of_month`, `months`, `years` and
//! `location` with Go's messages, `ContainsTime`, and the canonical text of
//! each range (what the compiler writes back).
//!
//! Invariants:
//! - Every parse function accepts exactly the strings Go's `UnmarshalYAML`
//!   of the same field accepts (ranges `a:b`, case-insensitive names, Go's
//!   bounds) and returns its message otherwise.
//! - A field that is absent is `None` (no constraint); a present empty list
//!   is `Some(vec![])`, which, as in Go, matches no time at all.
//! - A `location` is a name of the IANA time zone database compiled into
//!   the binary (chrono-tz), plus Go's `UTC`, `Local` and empty name: Go's
//!   `time.LoadLocation` refuses any other, and so does [`check_location`].
//! - [`TimeIntervalSpec::contains`] converts to the interval's zone, DST
//!   included, as Go's `t.In(location)` does; it answers `None` only for
//!   `Local`, the zone of whichever host runs Alertmanager.
//! - Every `format_*` text parses back to the same range.

/// One entry of a named interval's `time_intervals` list.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TimeIntervalSpec {
    /// Minutes of the day, `[start, end)`.
    pub times: Option<Vec<(u32, u32)>>,
    /// Inclusive day ranges, 0 = Sunday.
    pub weekdays: Option<Vec<(i64, i64)>>,
    /// Inclusive, negative counts from the end of the month.
    pub days_of_month: Option<Vec<(i64, i64)>>,
    /// Inclusive, 1 = January.
    pub months: Option<Vec<(i64, i64)>>,
    pub years: Option<Vec<(i64, i64)>>,
    /// The time zone name as written, if any.
    pub location: Option<String>,
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `WeekdayRange.UnmarshalYAML`.
pub fn parse_weekday_range(text: &str) -> Result<(i64, i64), String> {
    let member = |name: &str| {
        WEEKDAYS
            .iter()
            .position(|day| *day == name)
            .map(|index| index as i64)
            .ok_or_else(|| format!("{name} is not a valid weekday"))
    };
    let (begin, end) = range_from_string(text, member)?;
    if begin > end {
        return Err("start day cannot be before end day".to_string());
    }
    if !(0..=6).contains(&begin) || !(0..=6).contains(&end) {
        return Err(format!(
            "{text} is not a valid day of the week: out of range"
        ));
    }
    Ok((begin, end))
}

/// `DayOfMonthRange.UnmarshalYAML`.
pub fn parse_day_of_month_range(text: &str) -> Result<(i64, i64), String> {
    let (begin, end) = range_from_string(text, go_atoi)?;
    for day in [begin, end] {
        if day == 0 || !(-31..=31).contains(&day) {
            return Err(format!(
                "{day} is not a valid day of the month: out of range"
            ));
        }
    }
    if begin < 0 && end > 0 {
        return Err("end day must be negative if start day is negative".to_string());
    }
    let check_begin = if begin < 0 { 28 + begin } else { begin };
    let check_end = if end < 0 { 28 + end } else { end };
    if check_begin > check_end {
        return Err(format!("end day {end} is always before start day {begin}"));
    }
    Ok((begin, end))
}

/// `MonthRange.UnmarshalYAML` (names or numbers; numbers are not bounded in 0.25).
pub fn parse_month_range(text: &str) -> Result<(i64, i64), String> {
    let member = |name: &str| match MONTHS.iter().position(|month| *month == name) {
        Some(index) => Ok(index as i64 + 1),
        None => go_atoi(name).map_err(|_| format!("{name} is not a valid month")),
    };
    let (begin, end) = range_from_string(text, member)?;
    if begin > end {
        let name = |number: i64| {
            usize::try_from(number - 1)
                .ok()
                .and_then(|index| MONTHS.get(index))
                .copied()
                .unwrap_or("")
        };
        return Err(format!(
            "end month {} is before start month {}",
            name(end),
            name(begin)
        ));
    }
    Ok((begin, end))
}

/// `YearRange.UnmarshalYAML`.
pub fn parse_year_range(text: &str) -> Result<(i64, i64), String> {
    let (begin, end) = range_from_string(text, go_atoi)?;
    if begin > end {
        return Err(format!("end year {end} is before start year {begin}"));
    }
    Ok((begin, end))
}

/// `Location.UnmarshalYAML`: `time.LoadLocation`'s refusal of a zone name it
/// cannot load, in Go's words.
pub fn check_location(name: &str) -> Result<(), String> {
    match zone(name) {
        Some(_) => Ok(()),
        None => Err(format!("unknown time zone {name}")),
    }
}

/// `monday` or `monday:friday`.
pub fn format_weekday_range((begin, end): (i64, i64)) -> String {
    format_range((begin, end), |day| {
        usize::try_from(day)
            .ok()
            .and_then(|index| WEEKDAYS.get(index))
            .map_or_else(|| day.to_string(), |name| (*name).to_string())
    })
}

/// `january:march`; a month number outside 1 to 12 stays a number.
pub fn format_month_range((begin, end): (i64, i64)) -> String {
    format_range((begin, end), |month| {
        usize::try_from(month - 1)
            .ok()
            .and_then(|index| MONTHS.get(index))
            .map_or_else(|| month.to_string(), |name| (*name).to_string())
    })
}

/// `1`, `1:7`, `-3:-1`: days of the month and years.
pub fn format_number_range((begin, end): (i64, i64)) -> String {
    format_range((begin, end), |number| number.to_string())
}

/// `HH:MM`, as `times` writes `start_time` and `end_time`.
pub fn format_minutes(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `TimeRange.UnmarshalYAML` after its two strings were read.
pub fn parse_time_range(start_time: &str, end_time: &str) -> Result<(u32, u32), String> {
    if start_time.is_empty() || end_time.is_empty() {
        return Err("both start and end times must be provided".to_string());
    }
    let start = parse_minutes(start_time)?;
    let end = parse_minutes(end_time)?;
    if start >= end {
        return Err("start time cannot be equal or greater than end time".to_string());
    }
    Ok((start, end))
}

impl TimeIntervalSpec {
    /// Go's `TimeInterval.ContainsTime` at a Unix time, in the interval's
    /// zone; `None` for `Local` (and a zone no check let through).
    pub fn contains(&self, unix_milliseconds: i64) -> Option<bool> {
        let offset_seconds = match self.location.as_deref() {
            None => 0,
            Some(name) => match zone(name)? {
                Zone::Utc => 0,
                Zone::Local => return None,
                Zone::Named(zone) => {
                    use chrono::{Offset, TimeZone};
                    let instant = chrono::DateTime::from_timestamp_millis(unix_milliseconds)?;
                    i64::from(
                        zone.offset_from_utc_datetime(&instant.naive_utc())
                            .fix()
                            .local_minus_utc(),
                    )
                }
            },
        };
        let seconds = unix_milliseconds.div_euclid(1000) + offset_seconds;
        let days = seconds.div_euclid(86_400);
        let minute_of_day = (seconds.rem_euclid(86_400) / 60) as u32;
        let (year, month, day) = crate::base::calendar::civil_from_days(days);
        // 1970-01-01 was a Thursday.
        let weekday = (days + 4).rem_euclid(7);
        let within = |ranges: &Option<Vec<(i64, i64)>>, value: i64| {
            ranges.as_ref().is_none_or(|ranges| {
                ranges
                    .iter()
                    .any(|(begin, end)| value >= *begin && value <= *end)
            })
        };
        if let Some(times) = &self.times {
            if !times
                .iter()
                .any(|(start, end)| minute_of_day >= *start && minute_of_day < *end)
            {
                return Some(false);
            }
        }
        if let Some(days_of_month) = &self.days_of_month {
            let days_in_month = crate::base::calendar::days_in_month(year, month);
            let in_range = days_of_month.iter().any(|(begin, end)| {
                let begin = if *begin < 0 {
                    days_in_month + begin + 1
                } else {
                    *begin
                };
                let end = if *end < 0 {
                    days_in_month + end + 1
                } else {
                    *end
                };
                if begin > days_in_month {
                    return false;
                }
                let begin = begin.clamp(-days_in_month, days_in_month);
                let end = end.clamp(-days_in_month, days_in_month);
                day >= begin && day <= end
            });
            if !in_range {
                return Some(false);
            }
        }
        Some(
            within(&self.months, month)
                && within(&self.weekdays, weekday)
                && within(&self.years, year),
        )
    }
}

/// Where a `location` name leads, as `time.LoadLocation` reads it.
enum Zone {
    Utc,
    Local,
    Named(chrono_tz::Tz),
}

fn zone(name: &str) -> Option<Zone> {
    match name {
        "" | "UTC" => Some(Zone::Utc),
        "Local" => Some(Zone::Local),
        _ => name.parse::<chrono_tz::Tz>().ok().map(Zone::Named),
    }
}

fn format_range((begin, end): (i64, i64), text: impl Fn(i64) -> String) -> String {
    if begin == end {
        text(begin)
    } else {
        format!("{}:{}", text(begin), text(end))
    }
}

/// `stringableRangeFromString`: lowercased, `a` or `a:b`.
fn range_from_string(
    text: &str,
    member: impl Fn(&str) -> Result<i64, String>,
) -> Result<(i64, i64), String> {
    let lowered = text.to_lowercase();
    if lowered.contains(':') {
        let components: Vec<&str> = lowered.split(':').collect();
        if components.len() != 2 {
            return Err(format!("couldn't parse range {lowered}, invalid format"));
        }
        return Ok((member(components[0])?, member(components[1])?));
    }
    let value = member(&lowered)?;
    Ok((value, value))
}

/// Go's `strconv.Atoi`, with its error text.
fn go_atoi(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {text:?}: invalid syntax"));
    }
    text.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {text:?}: value out of range"))
}

/// `parseTime`: `HH:MM` from 00:00 to 24:00.
fn parse_minutes(text: &str) -> Result<u32, String> {
    let bytes = text.as_bytes();
    let valid = text == "24:00"
        || (bytes.len() == 5
            && bytes[2] == b':'
            && bytes
                .iter()
                .enumerate()
                .all(|(index, byte)| index == 2 || byte.is_ascii_digit())
            && (bytes[0] <= b'1' || (bytes[0] == b'2' && bytes[1] <= b'3'))
            && bytes[3] <= b'5');
    if !valid {
        return Err(format!("couldn't parse timestamp {text}, invalid format"));
    }
    let hours: u32 = text[..2].parse().unwrap_or(0);
    let minutes: u32 = text[3..].parse().unwrap_or(0);
    Ok(hours * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_with_go_messages() {
        assert_eq!(parse_weekday_range("Monday:Friday"), Ok((1, 5)));
        assert_eq!(parse_weekday_range("saturday"), Ok((6, 6)));
        assert_eq!(
            parse_weekday_range("funday").unwrap_err(),
            "funday is not a valid weekday"
        );
        assert_eq!(
            parse_weekday_range("friday:monday").unwrap_err(),
            "start day cannot be before end day"
        );
        assert_eq!(parse_day_of_month_range("-3:-1"), Ok((-3, -1)));
        assert_eq!(
            parse_day_of_month_range("0").unwrap_err(),
            "0 is not a valid day of the month: out of range"
        );
        assert_eq!(
            parse_day_of_month_range("x").unwrap_err(),
            "strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(parse_month_range("march:5"), Ok((3, 5)));
        assert_eq!(
            parse_month_range("may:march").unwrap_err(),
            "end month march is before start month may"
        );
        assert_eq!(
            parse_year_range("2020:2019").unwrap_err(),
            "end year 2019 is before start year 2020"
        );
        assert_eq!(parse_time_range("09:00", "24:00"), Ok((540, 1440)));
        assert_eq!(
            parse_time_range("9:00", "10:00").unwrap_err(),
            "couldn't parse timestamp 9:00, invalid format"
        );
        assert_eq!(
            parse_time_range("10:00", "10:00").unwrap_err(),
            "start time cannot be equal or greater than end time"
        );
        assert_eq!(
            parse_weekday_range("a:b:c").unwrap_err(),
            "couldn't parse range a:b:c, invalid format"
        );
    }

    #[test]
    fn contains_follows_go_for_utc_intervals() {
        // 2024-02-29T10:30:00Z, a Thursday.
        let time = 1_709_202_600_000;
        let office = TimeIntervalSpec {
            times: Some(vec![(9 * 60, 18 * 60)]),
            weekdays: Some(vec![(1, 5)]),
            ..TimeIntervalSpec::default()
        };
        assert_eq!(office.contains(time), Some(true));
        let weekend = TimeIntervalSpec {
            weekdays: Some(vec![(0, 0), (6, 6)]),
            ..TimeIntervalSpec::default()
        };
        assert_eq!(weekend.contains(time), Some(false));
        let last_day = TimeIntervalSpec {
            days_of_month: Some(vec![(-1, -1)]),
            months: Some(vec![(2, 2)]),
            years: Some(vec![(2024, 2024)]),
            ..TimeIntervalSpec::default()
        };
        assert_eq!(last_day.contains(time), Some(true));
        let empty_times = TimeIntervalSpec {
            times: Some(vec![]),
            ..TimeIntervalSpec::default()
        };
        assert_eq!(empty_times.contains(time), Some(false));
        let local = TimeIntervalSpec {
            location: Some("Local".to_string()),
            ..TimeIntervalSpec::default()
        };
        assert_eq!(local.contains(time), None);
    }

    #[test]
    fn contains_reads_the_clock_of_the_location_with_its_daylight_saving_time() {
        let berlin_morning = |location: &str| TimeIntervalSpec {
            times: Some(vec![(9 * 60, 10 * 60)]),
            location: Some(location.to_string()),
            ..TimeIntervalSpec::default()
        };
        // 2024-02-29T08:30:00Z is 09:30 in Berlin (CET, UTC+1).
        assert_eq!(
            berlin_morning("Europe/Berlin").contains(1_709_195_400_000),
            Some(true)
        );
        assert_eq!(
            berlin_morning("UTC").contains(1_709_195_400_000),
            Some(false)
        );
        // 2024-07-01T07:30:00Z is 09:30 in Berlin (CEST, UTC+2).
        assert_eq!(
            berlin_morning("Europe/Berlin").contains(1_719_819_000_000),
            Some(true)
        );
        // 2024-03-01T00:30:00+01:00 in Berlin is still February in UTC.
        let berlin_march = TimeIntervalSpec {
            months: Some(vec![(3, 3)]),
            location: Some("Europe/Berlin".to_string()),
            ..TimeIntervalSpec::default()
        };
        assert_eq!(berlin_march.contains(1_709_249_400_000), Some(true));
    }

    #[test]
    fn locations_are_the_zones_go_loads() {
        for name in [
            "",
            "UTC",
            "Local",
            "Europe/Berlin",
            "America/New_York",
            "Etc/GMT+5",
        ] {
            assert_eq!(check_location(name), Ok(()), "{name}");
        }
        assert_eq!(
            check_location("Europe/Brelin").unwrap_err(),
            "unknown time zone Europe/Brelin"
        );
    }

    #[test]
    fn formatted_ranges_parse_back() {
        assert_eq!(format_weekday_range((1, 5)), "monday:friday");
        assert_eq!(
            parse_weekday_range(&format_weekday_range((1, 5))),
            Ok((1, 5))
        );
        assert_eq!(format_month_range((12, 12)), "december");
        assert_eq!(format_month_range((3, 14)), "march:14");
        assert_eq!(parse_month_range(&format_month_range((3, 14))), Ok((3, 14)));
        assert_eq!(format_number_range((-3, -1)), "-3:-1");
        assert_eq!(parse_day_of_month_range("-3:-1"), Ok((-3, -1)));
        assert_eq!(format_minutes(0), "00:00");
        assert_eq!(format_minutes(1440), "24:00");
    }
}
