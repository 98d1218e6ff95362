//! Calendar features of a time column, known ahead (no column needed): the
//! month, day of the week, hour, day of the year, quarter and year of each
//! row, read from its [`TimeValue`] by chrono, and encoded for a model.
//!
//! Encodings ([`CalendarEncoding`]):
//! * `onehot`: one 0/1 channel per value (month 12, dayofweek 7 from Monday,
//!   hour 24, dayofyear 366, quarter 4);
//! * `cyclic`: `sin` and `cos` of `2π · v / period` (month 12, dayofweek 7,
//!   hour 24 with the minutes and seconds as a fraction, so half-hours differ,
//!   dayofyear the year's length, quarter 4);
//! * `ordinal`: `v / (period - 1)` in `[0, 1]` (hour as a fraction of the day).
//!
//! `year` is one channel in every encoding: the year (with the fraction of
//! the year gone) scaled to `[0, 1]` over the training rows' range
//! ([`YearRange`]).
//!
//! ```
//! use lstmkit::data::time::{CalendarEncoding, CalendarFeature, TimeColumn};
//! let cells: Vec<String> = ["1998Q1", "1998Q2"].iter().map(|s| s.to_string()).collect();
//! let col = TimeColumn::read(&cells).unwrap().unwrap();
//! let v = CalendarFeature::Quarter.encode(&col.values[1], CalendarEncoding::Onehot, None).unwrap();
//! assert_eq!(v, vec![0.0, 1.0, 0.0, 0.0]);
//! ```

use std::f64::consts::TAU;

use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use super::TimeValue;

/// A calendar feature (`calendar = [...]` in `[data]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalendarFeature {
    /// Month of the year (1..12).
    Month,
    /// Day of the week (Monday first).
    Dayofweek,
    /// Hour of the day.
    Hour,
    /// Day of the year (1..366).
    Dayofyear,
    /// Quarter (1..4).
    Quarter,
    /// The year, scaled over the training range.
    Year,
}

/// How calendar features are encoded (`calendar_encoding`, default `cyclic`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalendarEncoding {
    /// One channel per value.
    Onehot,
    /// `sin`/`cos` pairs.
    #[default]
    Cyclic,
    /// One channel in `[0, 1]`.
    Ordinal,
}

impl CalendarEncoding {
    /// True for the default (kept out of saved files).
    pub fn is_default(&self) -> bool {
        *self == CalendarEncoding::default()
    }
}

/// The training rows' year range (`year` feature): `(min, max)`.
pub type YearRange = (f64, f64);

/// The date-time of a value (midnight for dates); `None` for numbers.
fn datetime(v: &TimeValue) -> Option<NaiveDateTime> {
    match *v {
        TimeValue::Date(d) => Some(d.and_time(NaiveTime::MIN)),
        TimeValue::DateTime { local, .. } => Some(local),
        TimeValue::Integer(_) | TimeValue::Number(_) => None,
    }
}

/// The year with the part of it gone (`2021.5` in early July).
pub fn fractional_year(v: &TimeValue) -> Option<f64> {
    let t = datetime(v)?;
    let days = if t.date().leap_year() { 366.0 } else { 365.0 };
    let day = t.ordinal0() as f64 + t.num_seconds_from_midnight() as f64 / 86_400.0;
    Some(t.year() as f64 + day / days)
}

impl CalendarFeature {
    /// Its name in a config file.
    pub fn name(&self) -> &'static str {
        match self {
            CalendarFeature::Month => "month",
            CalendarFeature::Dayofweek => "dayofweek",
            CalendarFeature::Hour => "hour",
            CalendarFeature::Dayofyear => "dayofyear",
            CalendarFeature::Quarter => "quarter",
            CalendarFeature::Year => "year",
        }
    }

    /// Number of channels in `enc`.
    pub fn width(&self, enc: CalendarEncoding) -> usize {
        match (self, enc) {
            (CalendarFeature::Year, _) | (_, CalendarEncoding::Ordinal) => 1,
            (_, CalendarEncoding::Cyclic) => 2,
            (CalendarFeature::Month, CalendarEncoding::Onehot) => 12,
            (CalendarFeature::Dayofweek, CalendarEncoding::Onehot) => 7,
            (CalendarFeature::Hour, CalendarEncoding::Onehot) => 24,
            (CalendarFeature::Dayofyear, CalendarEncoding::Onehot) => 366,
            (CalendarFeature::Quarter, CalendarEncoding::Onehot) => 4,
        }
    }

    /// Channel names (`month=3`, `month_sin`, `dayofweek`).
    pub fn channel_names(&self, enc: CalendarEncoding) -> Vec<String> {
        let n = self.name();
        match (self, enc) {
            (CalendarFeature::Year, _) | (_, CalendarEncoding::Ordinal) => vec![n.to_string()],
            (_, CalendarEncoding::Cyclic) => vec![format!("{n}_sin"), format!("{n}_cos")],
            (_, CalendarEncoding::Onehot) => (0..self.width(enc))
                .map(|i| format!("{n}={}", i + self.first()))
                .collect(),
        }
    }

    /// The number of values (the period) of the year `year` (dayofyear: its length).
    fn period_of(&self, year: i32) -> f64 {
        match self {
            CalendarFeature::Month => 12.0,
            CalendarFeature::Dayofweek => 7.0,
            CalendarFeature::Hour => 24.0,
            CalendarFeature::Dayofyear => {
                if chrono::NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
                    366.0
                } else {
                    365.0
                }
            }
            CalendarFeature::Quarter => 4.0,
            CalendarFeature::Year => 1.0,
        }
    }

    /// The first value as written in channel names (month 1, dayofweek 0 = Monday).
    fn first(&self) -> usize {
        match self {
            CalendarFeature::Month | CalendarFeature::Dayofyear | CalendarFeature::Quarter => 1,
            _ => 0,
        }
    }

    /// The channels of `v`; `None` when `v` is not a date (a numeric time
    /// column), or for `year` without a range.
    pub fn encode(
        &self,
        v: &TimeValue,
        enc: CalendarEncoding,
        years: Option<YearRange>,
    ) -> Option<Vec<f64>> {
        let t = datetime(v)?;
        if *self == CalendarFeature::Year {
            let (lo, hi) = years?;
            let range = if hi - lo > 0.0 { hi - lo } else { 1.0 };
            return Some(vec![(fractional_year(v)? - lo) / range]);
        }
        // the value from 0, whole for one-hot, with the part of the hour for cyclic/ordinal hours
        let (whole, frac) = match self {
            CalendarFeature::Month => (t.month0() as f64, 0.0),
            CalendarFeature::Dayofweek => (t.weekday().num_days_from_monday() as f64, 0.0),
            CalendarFeature::Hour => (
                t.hour() as f64,
                (t.minute() as f64 * 60.0 + t.second() as f64) / 3600.0,
            ),
            CalendarFeature::Dayofyear => (t.ordinal0() as f64, 0.0),
            CalendarFeature::Quarter => (t.month0() as f64 / 3.0, 0.0),
            CalendarFeature::Year => (0.0, 0.0),
        };
        let whole = whole.floor();
        let period = self.period_of(t.year());
        Some(match enc {
            CalendarEncoding::Onehot => {
                let mut out = vec![0.0; self.width(enc)];
                out[whole as usize] = 1.0;
                out
            }
            CalendarEncoding::Cyclic => {
                let a = TAU * (whole + frac) / period;
                vec![a.sin(), a.cos()]
            }
            CalendarEncoding::Ordinal => vec![(whole + frac) / (period - 1.0)],
        })
    }
}

/// The channels of every feature of `features` for `v`, in order; `None` as
/// in [`CalendarFeature::encode`].
pub fn encode_all(
    features: &[CalendarFeature],
    v: &TimeValue,
    enc: CalendarEncoding,
    years: Option<YearRange>,
) -> Option<Vec<f64>> {
    let mut out = Vec::new();
    for f in features {
        out.extend(f.encode(v, enc, years)?);
    }
    Some(out)
}
