//! Dates and times typed for the reports, and time-zone offsets.
//!
//! A date alone means midnight; a time may carry an offset (`+05:00`, `Z`).
//! What a time without an offset means is the caller's choice (UTC for the
//! status log, `--tz-offset` for the call log), so parsing keeps the two
//! apart. Only what chrono parses strictly is accepted: no guessing of
//! day-month order, no words such as "yesterday".

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// The forms a time may take, without its offset.
const TIME_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
];

/// The widest offsets in use: UTC-12:00 to UTC+14:00, in minutes.
const OFFSET_MINUTES: std::ops::RangeInclusive<i32> = -720..=840;

/// A date or time that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DateError {
    #[error(
        "`{0}` is not a date: write 2024-01-31, 2024-01-31T08:00, 2024-01-31T08:00:00 \
         or 2024-01-31T08:00:00+05:00"
    )]
    Date(String),
    #[error(
        "`{0}` is not a time-zone offset: write minutes east of UTC from -720 to +840 \
         (+300, -180) or hours as +05:00"
    )]
    Offset(String),
}

/// A time as typed: the wall-clock part, and the offset if one was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

impl When {
    /// The same instant in UTC; a time without an offset is taken as UTC.
    pub fn utc(&self) -> NaiveDateTime {
        match self.offset {
            Some(offset) => self.local - offset,
            None => self.local,
        }
    }

    /// The time with its own offset, or `default` if it has none.
    pub fn with_offset_or(&self, default: FixedOffset) -> chrono::DateTime<FixedOffset> {
        let offset = self.offset.unwrap_or(default);
        chrono::DateTime::from_naive_utc_and_offset(self.local - offset, offset)
    }

    /// The time as part of a file name: `2024-01-31`, or `2024-01-31T0800`
    /// when it is not midnight (no `:`, which Windows forbids in names).
    pub fn file_stamp(&self) -> String {
        if self.local.time() == NaiveTime::MIN {
            self.local.format("%Y-%m-%d").to_string()
        } else if self.local.second() == 0 {
            self.local.format("%Y-%m-%dT%H%M").to_string()
        } else {
            self.local.format("%Y-%m-%dT%H%M%S").to_string()
        }
    }
}

/// Parses a date (midnight) or a date and time, with an optional offset.
pub fn parse(text: &str) -> Result<When, DateError> {
    let bad = || DateError::Date(text.to_string());
    let trimmed = text.trim();
    let (local, offset) = split_offset(trimmed).ok_or_else(bad)?;
    let local = TIME_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(local, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(local, "%Y-%m-%d")
                .ok()
                .map(|date| date.and_time(NaiveTime::MIN))
        })
        .ok_or_else(bad)?;
    Ok(When { local, offset })
}

/// Splits a trailing `Z` or `±HH:MM` (`±HHMM`, `±HH`) off a time. `None`
/// when the offset is malformed. The search starts after the date, whose
/// dashes are not signs.
fn split_offset(text: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Some((local, FixedOffset::east_opt(0)));
    }
    let Some(sign) = text.get(10..).and_then(|tail| tail.rfind(['+', '-'])) else {
        return Some((text, None));
    };
    let (local, offset) = text.split_at(10 + sign);
    Some((local, Some(hours_offset(offset)?)))
}

/// `+05:00`, `-0330`, `+05` as an offset.
fn hours_offset(text: &str) -> Option<FixedOffset> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits = digits.replacen(':', "", 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    if minutes >= 60 {
        return None;
    }
    let total = sign * (hours * 60 + minutes);
    OFFSET_MINUTES
        .contains(&total)
        .then(|| FixedOffset::east_opt(total * 60))
        .flatten()
}

/// Parses `--tz-offset`: minutes east of UTC as the API takes them (`+300`,
/// `-180`, `0`), or hours and minutes (`+05:00`).
pub fn parse_offset(text: &str) -> Result<FixedOffset, DateError> {
    let trimmed = text.trim();
    let offset = if trimmed.contains(':') {
        hours_offset(trimmed)
    } else {
        trimmed
            .parse::<i32>()
            .ok()
            .filter(|minutes| OFFSET_MINUTES.contains(minutes))
            .and_then(|minutes| FixedOffset::east_opt(minutes * 60))
    };
    offset.ok_or_else(|| DateError::Offset(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn east(minutes: i32) -> FixedOffset {
        FixedOffset::east_opt(minutes * 60).unwrap()
    }

    #[test]
    fn a_date_alone_is_midnight_without_an_offset() {
        let when = parse("2024-01-31").unwrap();
        assert_eq!(when.local.to_string(), "2024-01-31 00:00:00");
        assert_eq!(when.offset, None);
        assert_eq!(when.file_stamp(), "2024-01-31");
    }

    #[test]
    fn times_take_several_forms() {
        for text in [
            "2024-01-31T08:30",
            "2024-01-31 08:30:00",
            " 2024-01-31T08:30:00 ",
        ] {
            assert_eq!(
                parse(text).unwrap().local.to_string(),
                "2024-01-31 08:30:00",
                "{text}"
            );
        }
        assert_eq!(
            parse("2024-01-31T08:30").unwrap().file_stamp(),
            "2024-01-31T0830"
        );
        assert_eq!(
            parse("2024-01-31T08:30:15").unwrap().file_stamp(),
            "2024-01-31T083015"
        );
    }

    #[test]
    fn offsets_are_kept_and_converted() {
        let when = parse("2021-10-13T00:00:00+05:00").unwrap();
        assert_eq!(when.offset, Some(east(300)));
        assert_eq!(when.utc().to_string(), "2021-10-12 19:00:00");
        assert_eq!(
            when.with_offset_or(east(0)).to_rfc3339(),
            "2021-10-13T00:00:00+05:00"
        );
        assert_eq!(
            parse("2021-10-13T00:00-0330").unwrap().offset,
            Some(east(-210))
        );
        assert_eq!(parse("2021-10-13T00:00:00Z").unwrap().offset, Some(east(0)));
        assert_eq!(parse("2021-10-13+05").unwrap().offset, Some(east(300)));
        let bare = parse("2021-10-13T00:00:00").unwrap();
        assert_eq!(
            bare.with_offset_or(east(-180)).to_rfc3339(),
            "2021-10-13T00:00:00-03:00"
        );
    }

    #[test]
    fn nonsense_is_refused_with_the_forms_that_work() {
        for text in [
            "31.01.2024",
            "2024-13-01",
            "2024-01-31T25:00",
            "2024-01-31T08:00+5:00",
            "",
            "yesterday",
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error, DateError::Date(text.to_string()));
        }
        assert!(parse("2024-01-31T08:00+15:00").is_err(), "beyond +14:00");
        assert!(
            DateError::Date("x".into())
                .to_string()
                .contains("2024-01-31T08:00:00+05:00")
        );
    }

    #[test]
    fn tz_offsets_are_minutes_or_hours() {
        assert_eq!(parse_offset("+300"), Ok(east(300)));
        assert_eq!(parse_offset("-180"), Ok(east(-180)));
        assert_eq!(parse_offset("0"), Ok(east(0)));
        assert_eq!(parse_offset("+05:30"), Ok(east(330)));
        assert_eq!(parse_offset("-03:00"), Ok(east(-180)));
        for bad in ["+900", "-721", "5h", "+5:00", ""] {
            assert_eq!(
                parse_offset(bad),
                Err(DateError::Offset(bad.to_string())),
                "{bad}"
            );
        }
    }
}
