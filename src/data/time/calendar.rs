//! The calendar, on chrono: a cell's pieces ([`super::detect`]) read as a
//! value, the step between values, values advanced by whole steps, and
//! values written back in the column's format.

use std::fmt::Write as _;

use chrono::format::{parse, Parsed, StrftimeItems};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

use super::detect::{
    clock_pattern, fields, literal, pieces, quarter_sep, Kind, MAX_INTEGER, MAX_NUMBER,
};
use super::{TimeFormat, TimeKey};

const SEC: i128 = 1_000_000_000;

/// One cell of a time column, read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeValue {
    /// A whole number (`1998`, `20210131`).
    Integer(i64),
    /// Any other number (`0.5`, `1.5e9`).
    Number(f64),
    /// A day; a month (`2021-01`) is its first day, a quarter (`1998Q1`) its first day.
    Date(NaiveDate),
    /// A date-time as written, and the offset written with it (seconds east
    /// of UTC; 0 when none is written: such cells are compared as written).
    DateTime { local: NaiveDateTime, offset: i32 },
}

impl TimeValue {
    /// The comparable key: nanoseconds since 1970-01-01 (UTC for cells with
    /// an offset), or the number scaled by 1e9.
    pub fn key(&self) -> TimeKey {
        let ns = |t: NaiveDateTime| {
            let u = t.and_utc();
            u.timestamp() as i128 * SEC + u.timestamp_subsec_nanos() as i128
        };
        TimeKey(match *self {
            TimeValue::Integer(v) => v as i128 * SEC,
            TimeValue::Number(v) => (v * 1e9).round() as i128,
            TimeValue::Date(d) => ns(d.and_time(NaiveTime::MIN)),
            TimeValue::DateTime { local, offset } => ns(local) - offset as i128 * SEC,
        })
    }
}

/// The step between the rows of a regular column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Whole numbers this far apart.
    Integer(i64),
    /// Numbers this far apart.
    Number(f64),
    /// Days (7: weeks).
    Days(i64),
    /// Months, on the same day of the month (the last day of shorter months).
    Months(i32),
    /// Months, on the last day of the month.
    MonthEnds(i32),
    /// Quarters (`1998Q1`, `1998Q2`).
    Quarters(i32),
    /// A fixed time, in nanoseconds: hours, minutes, seconds.
    Clock(i128),
}

/// The number of seconds an offset suffix stands for (`Z`, ` UTC`, `+01:00`, `-0500`, `+01`).
fn offset_seconds(suffix: &str) -> Option<i32> {
    let s = suffix.trim();
    if s.is_empty() || ["Z", "z", "UTC", "GMT"].contains(&s) {
        return Some(0);
    }
    let mut p = Parsed::new();
    parse(&mut p, s, StrftimeItems::new("%#z")).ok()?;
    p.offset().filter(|o| o.abs() <= 18 * 3600)
}

impl TimeFormat {
    /// A cell of this column read, or `None` when it is not one.
    pub fn parse(&self, cell: &str) -> Option<TimeValue> {
        let s = cell.trim();
        let (sep, year_first) = match self.kind {
            Kind::Number => {
                if let Ok(i) = s.parse::<i64>() {
                    return (i.unsigned_abs() < MAX_INTEGER).then_some(TimeValue::Integer(i));
                }
                let v: f64 = s.parse().ok()?;
                return (v.abs() < MAX_NUMBER).then_some(TimeValue::Number(v));
            }
            Kind::Quarter(_) => {
                quarter_sep(s)?;
                let mut p = Parsed::new();
                parse(&mut p, s, StrftimeItems::new(&self.date_pattern(3))).ok()?;
                let q = p.quarter()?;
                p.set_month(i64::from(3 * q - 2)).ok()?;
                p.set_day(1).ok()?;
                return p.to_naive_date().ok().map(TimeValue::Date);
            }
            Kind::YearFirst(sep) => (sep, true),
            Kind::YearLast(sep) => (sep, false),
        };
        let pc = pieces(s, sep)?;
        let f = fields(pc.date, sep)?;
        let shape = if year_first {
            f[0].len() == 4
                && f[1].len() <= 2
                && match f.get(2) {
                    Some(d) => d.len() <= 2,
                    // a month: not `2021.01` (a number), and no clock
                    None => sep != '.' && pc.clock.is_none(),
                }
        } else {
            f.len() == 3 && f[2].len() == 4 && f[0].len() <= 2 && f[1].len() <= 2
        };
        if !shape {
            return None;
        }
        let mut p = Parsed::new();
        parse(
            &mut p,
            pc.date,
            StrftimeItems::new(&self.date_pattern(pc.fields)),
        )
        .ok()?;
        if pc.fields == 2 {
            p.set_day(1).ok()?;
        }
        let Some(clock) = pc.clock else {
            return p.to_naive_date().ok().map(TimeValue::Date);
        };
        // 24:00 ends the day: the next day's 00:00
        let (text, next_day) = match clock.text.strip_prefix("24") {
            Some(rest) if rest.bytes().all(|b| b"0:.,".contains(&b)) => (format!("00{rest}"), true),
            _ => (clock.text.to_string(), false),
        };
        let mut pattern = clock_pattern(clock.parts).to_string();
        if clock.frac.is_some() {
            pattern.push_str("%.f");
        }
        parse(
            &mut p,
            &text.replace(',', "."),
            StrftimeItems::new(&pattern),
        )
        .ok()?;
        if clock.parts == 1 {
            p.set_minute(0).ok()?;
        }
        let mut local = p.to_naive_datetime_with_offset(0).ok()?;
        if next_day {
            local = local.checked_add_signed(TimeDelta::days(1))?;
        }
        let offset = offset_seconds(pc.suffix)?;
        Some(TimeValue::DateTime { local, offset })
    }

    /// The step of regularly spaced values: every interval the same and not
    /// zero. Dates a whole number of months apart on the same day of the
    /// month (or all on month ends) step by months, quarters by quarters.
    pub fn step(&self, values: &[TimeValue]) -> Option<Step> {
        use TimeValue as V;
        if values.len() < 2 {
            return None;
        }
        let common = |d: Vec<i128>| (d[0] != 0 && d.iter().all(|&x| x == d[0])).then_some(d[0]);
        let diffs = |f: &dyn Fn(&TimeValue) -> Option<i128>| -> Option<Vec<i128>> {
            let v: Vec<i128> = values.iter().map(f).collect::<Option<_>>()?;
            Some(v.windows(2).map(|w| w[1] - w[0]).collect())
        };
        match values[0] {
            V::Integer(_) | V::Number(_) => {
                if let Some(d) = diffs(&|v| match v {
                    V::Integer(i) => Some(*i as i128),
                    _ => None,
                }) {
                    return Some(Step::Integer(i64::try_from(common(d)?).ok()?));
                }
                let keys =
                    diffs(&|v| matches!(v, V::Integer(_) | V::Number(_)).then(|| v.key().0))?;
                common(keys)?;
                let n = |v: &TimeValue| match *v {
                    V::Integer(i) => i as f64,
                    V::Number(x) => x,
                    _ => 0.0,
                };
                let k = values.len();
                Some(Step::Number(n(&values[k - 1]) - n(&values[k - 2])))
            }
            V::Date(_) => {
                let dates: Vec<NaiveDate> = values
                    .iter()
                    .map(|v| match v {
                        V::Date(d) => Some(*d),
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                let month = |d: &NaiveDate| d.year() as i128 * 12 + d.month0() as i128;
                let months: Vec<i128> = dates
                    .windows(2)
                    .map(|w| month(&w[1]) - month(&w[0]))
                    .collect();
                if let Some(m) = common(months) {
                    let m = i32::try_from(m).ok()?;
                    let end = |d: &NaiveDate| u32::from(d.num_days_in_month()) == d.day();
                    if let Kind::Quarter(_) = self.kind {
                        return (m % 3 == 0).then_some(Step::Quarters(m / 3));
                    }
                    if dates.iter().all(end) {
                        return Some(Step::MonthEnds(m));
                    }
                    if dates.iter().all(|d| d.day() == dates[0].day()) {
                        return Some(Step::Months(m));
                    }
                }
                let days = dates
                    .windows(2)
                    .map(|w| (w[1] - w[0]).num_days() as i128)
                    .collect();
                Some(Step::Days(common(days)? as i64))
            }
            V::DateTime { .. } => {
                let d = diffs(&|v| matches!(v, V::DateTime { .. }).then(|| v.key().0))?;
                Some(Step::Clock(common(d)?))
            }
        }
    }

    /// `v` written like the cell `like` of this column: the same fields,
    /// separators, precision and offset (kept as written). `None` when the
    /// value does not fit that format.
    pub fn write(&self, like: &str, v: &TimeValue) -> Option<String> {
        let like = like.trim();
        let chrono_fmt = |f: &dyn std::fmt::Display| {
            let mut s = String::new();
            write!(s, "{f}").ok().map(|_| s)
        };
        match (*v, self.kind) {
            (TimeValue::Integer(x), Kind::Number) => {
                // keep leading zeros (`007`)
                let width = if like.trim_start_matches('-').starts_with('0') {
                    like.len()
                } else {
                    0
                };
                Some(format!("{x:0width$}"))
            }
            (TimeValue::Number(x), Kind::Number) => {
                if like.contains(['e', 'E']) {
                    return None;
                }
                Some(match like.split_once('.') {
                    Some((_, f)) => format!("{x:.p$}", p = f.len()),
                    None => format!("{}", x.round() as i64),
                })
            }
            (TimeValue::Date(d), Kind::Quarter(_)) => chrono_fmt(&d.format(&self.date_pattern(3))),
            (TimeValue::Date(d), Kind::YearFirst(sep) | Kind::YearLast(sep)) => {
                let pc = pieces(like, sep)?;
                if pc.clock.is_some() || (pc.fields == 2 && d.day() != 1) {
                    return None;
                }
                chrono_fmt(&d.format(&self.date_pattern(pc.fields)))
            }
            (TimeValue::DateTime { local, .. }, Kind::YearFirst(sep) | Kind::YearLast(sep)) => {
                let pc = pieces(like, sep)?;
                let clock = pc.clock?;
                let pattern = format!(
                    "{}{}{}",
                    self.date_pattern(pc.fields),
                    literal(pc.tsep),
                    clock_pattern(clock.parts)
                );
                let mut s = chrono_fmt(&local.format(&pattern))?;
                if let Some(p) = clock.frac {
                    let digits = format!("{:09}", local.nanosecond() % 1_000_000_000);
                    s.push(if clock.text.contains(',') { ',' } else { '.' });
                    s.push_str(&digits[..p.min(9)]);
                }
                s.push_str(pc.suffix);
                Some(s)
            }
            _ => None,
        }
    }

    /// The smallest time a cell written like `like` can show, in nanoseconds
    /// (`None` for cells without a clock).
    pub(super) fn resolution(&self, like: &str) -> Option<i128> {
        let (Kind::YearFirst(sep) | Kind::YearLast(sep)) = self.kind else {
            return None;
        };
        let clock = pieces(like.trim(), sep)?.clock?;
        Some(match (clock.parts, clock.frac) {
            (1, _) => 3600 * SEC,
            (2, _) => 60 * SEC,
            (_, None) => SEC,
            (_, Some(p)) => 10i128.pow(9 - p.min(9) as u32),
        })
    }
}

impl Step {
    /// `v` moved on by `n` steps; `None` when the step does not apply to the
    /// value or the result leaves the calendar.
    pub fn advance(&self, v: &TimeValue, n: i64) -> Option<TimeValue> {
        let add_months = |d: NaiveDate, m: i32| -> Option<NaiveDate> {
            let total = i64::from(m).checked_mul(n)?;
            let k = Months::new(u32::try_from(total.unsigned_abs()).ok()?);
            if total >= 0 {
                d.checked_add_months(k)
            } else {
                d.checked_sub_months(k)
            }
        };
        Some(match (*self, *v) {
            (Step::Integer(d), TimeValue::Integer(x)) => {
                TimeValue::Integer(x.checked_add(d.checked_mul(n)?)?)
            }
            (Step::Number(d), TimeValue::Number(x)) => TimeValue::Number(x + d * n as f64),
            (Step::Number(d), TimeValue::Integer(x)) => TimeValue::Number(x as f64 + d * n as f64),
            (Step::Days(k), TimeValue::Date(d)) => {
                TimeValue::Date(d.checked_add_signed(TimeDelta::try_days(k.checked_mul(n)?)?)?)
            }
            // chrono keeps the day, or takes the month's last day when it has fewer
            (Step::Months(m), TimeValue::Date(d)) => TimeValue::Date(add_months(d, m)?),
            (Step::Quarters(q), TimeValue::Date(d)) => {
                TimeValue::Date(add_months(d, q.checked_mul(3)?)?)
            }
            (Step::MonthEnds(m), TimeValue::Date(d)) => {
                let first = add_months(d.with_day(1)?, m)?;
                TimeValue::Date(first.with_day(u32::from(first.num_days_in_month()))?)
            }
            (Step::Clock(ns), TimeValue::DateTime { local, offset }) => {
                let t = ns.checked_mul(n as i128)?;
                let secs = i64::try_from(t.div_euclid(SEC)).ok()?;
                let delta = TimeDelta::new(secs, t.rem_euclid(SEC) as u32)?;
                TimeValue::DateTime {
                    local: local.checked_add_signed(delta)?,
                    offset,
                }
            }
            _ => return None,
        })
    }
}
