//! Reading a time column: ISO dates and date-times, day-first or
//! month-first dates, plain numbers; used to check (or restore) the order of
//! the rows and to label the steps of a forecast.
//!
//! Recognised cells (the first data cell decides the column's kind, every
//! other cell must be of the same kind):
//! * numbers: `1`, `2001`, `20210131`, `1.5e9` (compared as numbers);
//! * year-first dates: `2021-01-31`, `2021/01/31`, `2021.01.31`, `2021-01`
//!   (month; read as its first day), optionally followed by a time
//!   (`T` or a space, then `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`) and an
//!   offset (`Z`, `UTC`, `+01:00`, `-0500`); cells with an offset are compared
//!   as instants (UTC), cells without one as written;
//! * day-first or month-first dates: `31.01.2021` (day first, the
//!   European convention), `01/31/2021` or `31/01/2021`: month first as in
//!   pandas unless a first field above 12 shows the column is day first (or,
//!   with no field above 12, a constant first field beside a changing second
//!   one: monthly data written day first, `01/02/2021, 01/03/2021, ...`);
//!   optionally followed by a time as above.
//!
//! A column whose first cell is none of these (`Jan 2021`, `2021-W05`,
//! `Q1`) is kept as text labels: no order check.
//!
//! ```
//! use lstmkit::data::time::{parse_time_column, TimeKey};
//! let cells: Vec<String> = ["2021-03-28 01:00:00+01:00", "2021-03-28 03:00:00+02:00"]
//!     .iter().map(|s| s.to_string()).collect();
//! let keys = parse_time_column(&cells).unwrap().unwrap();
//! // one hour apart across the daylight-saving change
//! assert_eq!(keys[1].0 - keys[0].0, 3_600_000_000_000);
//! let labels: Vec<String> = ["Jan 2021".to_string()].to_vec();
//! assert!(parse_time_column(&labels).unwrap().is_none());
//! ```

/// A comparable time value: nanoseconds since 1970-01-01 (dates), or the
/// number itself scaled by 1e9 (numeric time columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeKey(pub i128);

/// Numeric time values are kept below this magnitude (keys stay far from `i128`'s range).
const MAX_NUMBER: f64 = 1e18;

/// The family of a time cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Number,
    YearFirst(u8),
    /// Day first with dots, or `/`/`-` dates with the year last.
    YearLast(u8),
}

/// How a column's cells are written (kept to format forecast labels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeFormat {
    family: Family,
    day_first: bool,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `HH:MM[:SS[.fff]]` then an optional offset; returns (nanoseconds into the day, offset seconds).
fn parse_clock(s: &str) -> Option<(i128, i64)> {
    let s = s.trim();
    // split off the offset
    let (clock, offset) = if let Some(c) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        (c.trim_end(), 0)
    } else if let Some(c) = s.strip_suffix("UTC").or_else(|| s.strip_suffix("GMT")) {
        (c.trim_end(), 0)
    } else if let Some(p) = s.rfind(['+', '-']) {
        let (c, o) = s.split_at(p);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let o = o[1..].replace(':', "");
        if !all_digits(&o) || !(o.len() == 2 || o.len() == 4) {
            return None;
        }
        let h: i64 = o[..2].parse().ok()?;
        let m: i64 = if o.len() == 4 {
            o[2..].parse().ok()?
        } else {
            0
        };
        if h > 18 || m > 59 {
            return None;
        }
        (c.trim_end(), sign * (h * 3600 + m * 60))
    } else {
        (s, 0)
    };
    let mut parts = clock.split(':');
    let h = parts.next()?;
    // an hour alone (`2020-01-01T07`) is ISO 8601's reduced precision
    let m = if clock.contains(':') {
        parts.next()?
    } else {
        "00"
    };
    let sec = parts.next();
    if parts.next().is_some() || !all_digits(h) || !all_digits(m) || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i128, i128) = (h.parse().ok()?, m.parse().ok()?);
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return None;
    }
    let mut ns = (h * 3600 + m * 60) * 1_000_000_000;
    if let Some(sec) = sec {
        let (whole, frac) = match sec.split_once(['.', ',']) {
            Some((w, f)) => (w, f),
            None => (sec, ""),
        };
        if !all_digits(whole) || whole.len() != 2 || !(frac.is_empty() || all_digits(frac)) {
            return None;
        }
        let s: i128 = whole.parse().ok()?;
        if s > 60 {
            return None;
        }
        ns += s * 1_000_000_000;
        if !frac.is_empty() {
            let digits = &frac[..frac.len().min(9)];
            let f: i128 = digits.parse().ok()?;
            ns += f * 10i128.pow(9 - digits.len() as u32);
        }
    }
    Some((ns, offset))
}

/// Splits a cell into its date part and its clock part (`T` or spaces between).
fn split_date_clock(s: &str) -> (&str, Option<&str>) {
    if let Some(p) = s.find(['T', ' ']) {
        let (d, c) = s.split_at(p);
        (d, Some(c[1..].trim_start()))
    } else {
        (s, None)
    }
}

fn instant(y: i64, m: u32, d: u32, clock: Option<&str>) -> Option<TimeKey> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let (ns, off) = match clock {
        Some(c) => parse_clock(c)?,
        None => (0, 0),
    };
    let days = days_from_civil(y, m, d) as i128;
    Some(TimeKey(
        days * 86_400 * 1_000_000_000 + ns - off as i128 * 1_000_000_000,
    ))
}

/// The date fields of `s` split on `sep` (2 or 3 numeric fields).
fn fields(date: &str, sep: u8) -> Option<Vec<&str>> {
    let f: Vec<&str> = date.split(sep as char).collect();
    if (f.len() == 2 || f.len() == 3) && f.iter().all(|x| all_digits(x)) {
        Some(f)
    } else {
        None
    }
}

fn family_of(s: &str) -> Option<Family> {
    let (date, _) = split_date_clock(s);
    for sep in [b'-', b'/', b'.'] {
        if let Some(f) = fields(date, sep) {
            let year_first = f[0].len() == 4
                && f[1].len() <= 2
                && match f.get(2) {
                    Some(d) => d.len() <= 2,
                    None => sep != b'.',
                };
            if year_first {
                return Some(Family::YearFirst(sep));
            }
            if f.len() == 3 && f[2].len() == 4 && f[0].len() <= 2 && f[1].len() <= 2 {
                return Some(Family::YearLast(sep));
            }
        }
    }
    match s.parse::<f64>() {
        Ok(v) if v.abs() < MAX_NUMBER => Some(Family::Number),
        _ => None,
    }
}

fn parse_with(s: &str, fam: Family, day_first: bool) -> Option<TimeKey> {
    match fam {
        Family::Number => {
            let v: f64 = s.parse().ok().filter(|v: &f64| v.abs() < MAX_NUMBER)?;
            Some(TimeKey((v * 1e9).round() as i128))
        }
        Family::YearFirst(sep) => {
            let (date, clock) = split_date_clock(s);
            let f = fields(date, sep)?;
            if f[0].len() != 4 || (f.len() == 2 && sep == b'.') {
                return None;
            }
            let d = match f.get(2) {
                Some(d) => d.parse().ok()?,
                None if clock.is_none() => 1,
                None => return None,
            };
            instant(f[0].parse().ok()?, f[1].parse().ok()?, d, clock)
        }
        Family::YearLast(sep) => {
            let (date, clock) = split_date_clock(s);
            let f = fields(date, sep)?;
            if f.len() != 3 || f[2].len() != 4 {
                return None;
            }
            let (a, b): (u32, u32) = (f[0].parse().ok()?, f[1].parse().ok()?);
            let (d, m) = if day_first { (a, b) } else { (b, a) };
            instant(f[2].parse().ok()?, m, d, clock)
        }
    }
}

/// Reads a whole time column. `Ok(None)`: the first cell is not a time
/// this module knows (the column is text labels); `Err(i)`: cell `i` is not
/// of the first cell's kind (or not a valid date).
pub fn parse_time_column(cells: &[String]) -> std::result::Result<Option<Vec<TimeKey>>, usize> {
    Ok(column_format(cells)?.map(|(keys, _)| keys))
}

/// [`parse_time_column`] with the column's format.
pub(crate) fn column_format(
    cells: &[String],
) -> std::result::Result<Option<(Vec<TimeKey>, TimeFormat)>, usize> {
    let Some(first) = cells.first() else {
        return Ok(None);
    };
    let Some(family) = family_of(first) else {
        return Ok(None);
    };
    // `.` with the year last is day first (31.01.2021); `/` and `-` are month
    // first (pandas' default) unless a first field above 12 says otherwise.
    let day_first = match family {
        Family::YearLast(b'.') => true,
        Family::YearLast(sep) => {
            let pairs: Vec<(u32, u32)> = cells
                .iter()
                .filter_map(|c| {
                    let f = fields(split_date_clock(c).0, sep)?;
                    Some((f[0].parse().ok()?, f.get(1)?.parse().ok()?))
                })
                .collect();
            let over = |k: usize| {
                pairs
                    .iter()
                    .any(|p| if k == 0 { p.0 > 12 } else { p.1 > 12 })
            };
            let constant = |k: usize| {
                pairs.iter().all(|p| {
                    if k == 0 {
                        p.0 == pairs[0].0
                    } else {
                        p.1 == pairs[0].1
                    }
                })
            };
            // a first field above 12 is a day; with none on either side, a
            // constant first field beside a changing second one is the day of
            // monthly data (01/02/2021, 01/03/2021: 1 February, 1 March)
            over(0) || (!over(1) && pairs.len() > 2 && constant(0) && !constant(1))
        }
        _ => false,
    };
    if parse_with(first, family, day_first).is_none() {
        // looks like a date but is none this module reads: labels
        return Ok(None);
    }
    let mut keys = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        keys.push(parse_with(c, family, day_first).ok_or(i)?);
    }
    Ok(Some((keys, TimeFormat { family, day_first })))
}

/// What a cell of this column looks like, for messages.
pub(crate) fn describe(cells: &[String]) -> String {
    match cells.first().and_then(|c| family_of(c)) {
        Some(Family::Number) => "a number".into(),
        Some(Family::YearFirst(_)) => "a date like the first row's".into(),
        Some(Family::YearLast(_)) => "a date like the first row's".into(),
        None => "a time".into(),
    }
}

/// Labels for `steps` rows after the last one of a regular time column:
/// the last step between rows (the last two cells) repeated, written like
/// the last cell. Months are stepped as months when consecutive cells fall
/// on the same day of the month. `None` when the column is not a time
/// column, irregular at its end, or the format cannot be reproduced.
pub fn future_labels(cells: &[String], steps: usize) -> Option<Vec<String>> {
    let (keys, fmt) = column_format(cells).ok()??;
    let n = keys.len();
    if n < 3 {
        return None;
    }
    let step = keys[n - 1].0 - keys[n - 2].0;
    let regular = step > 0 && keys[n - 2].0 - keys[n - 3].0 == step;
    let last = cells[n - 1].as_str();
    match fmt.family {
        Family::Number => {
            if !regular || last.contains(['e', 'E']) {
                return None;
            }
            let decimals = last.split_once('.').map(|(_, f)| f.len());
            let v: f64 = last.parse().ok()?;
            let d = v - cells[n - 2].parse::<f64>().ok()?;
            Some(
                (1..=steps)
                    .map(|k| {
                        let x = v + d * k as f64;
                        match decimals {
                            Some(p) => format!("{x:.p$}"),
                            None => format!("{}", x.round() as i64),
                        }
                    })
                    .collect(),
            )
        }
        Family::YearFirst(sep) | Family::YearLast(sep) => {
            date_labels(&keys, last, fmt, sep, step, regular, steps)
        }
    }
}

const DAY_NS: i128 = 86_400 * 1_000_000_000;

fn ymd_of(k: TimeKey) -> (i64, u32, u32) {
    civil_from_days(k.0.div_euclid(DAY_NS) as i64)
}

fn date_labels(
    keys: &[TimeKey],
    last: &str,
    fmt: TimeFormat,
    sep: u8,
    step: i128,
    regular: bool,
    steps: usize,
) -> Option<Vec<String>> {
    let n = keys.len();
    let (date, clock) = split_date_clock(last);
    let f = fields(date, sep)?;
    let sep = sep as char;
    let write_date = |y: i64, m: u32, d: u32| -> String {
        match fmt.family {
            Family::YearFirst(_) if f.len() == 2 => format!("{y:04}{sep}{m:02}"),
            Family::YearFirst(_) => format!("{y:04}{sep}{m:02}{sep}{d:02}"),
            _ => {
                let w = f[0].len().max(f[1].len());
                let (a, b) = if fmt.day_first { (d, m) } else { (m, d) };
                format!("{a:0w$}{sep}{b:0w$}{sep}{y:04}")
            }
        }
    };
    if clock.is_none() {
        // monthly (quarterly, yearly) columns: the same day of the month, or month ends
        let d3: Vec<(i64, u32, u32)> = keys[n - 3..].iter().map(|&k| ymd_of(k)).collect();
        let months =
            |a: (i64, u32, u32), b: (i64, u32, u32)| (b.0 - a.0) * 12 + b.1 as i64 - a.1 as i64;
        let ms = months(d3[0], d3[1]);
        let ends = d3.iter().all(|&(y, m, d)| d == days_in_month(y, m));
        let same_day = d3.iter().all(|x| x.2 == d3[0].2);
        if ms > 0 && ms == months(d3[1], d3[2]) && (same_day || (ends && d3[0].2 >= 28)) {
            let (y, m, d) = d3[2];
            return Some(
                (1..=steps as i64)
                    .map(|k| {
                        let t = y * 12 + (m as i64 - 1) + ms * k;
                        let (yy, mm) = (t.div_euclid(12), (t.rem_euclid(12) + 1) as u32);
                        let dd = if ends && !same_day {
                            days_in_month(yy, mm)
                        } else {
                            d.min(days_in_month(yy, mm))
                        };
                        write_date(yy, mm, dd)
                    })
                    .collect(),
            );
        }
        if !regular || step % DAY_NS != 0 {
            return None;
        }
        return Some(
            (1..=steps as i128)
                .map(|k| {
                    let (y, m, d) = ymd_of(TimeKey(keys[n - 1].0 + step * k));
                    write_date(y, m, d)
                })
                .collect(),
        );
    }
    let full = clock?.trim_end();
    // the clock, then an offset written after it (kept as written: the
    // future is labelled in the last row's offset)
    let core = full
        .find(|ch: char| !(ch.is_ascii_digit() || ch == ':' || ch == '.'))
        .unwrap_or(full.len());
    let (c, suffix) = full.split_at(core);
    let offset_ns = if suffix.is_empty() {
        0
    } else {
        parse_clock(&format!("00:00{suffix}"))?.1 as i128 * 1_000_000_000
    };
    if !regular {
        return None;
    }
    let parts: Vec<&str> = c.split(':').collect();
    let frac = parts
        .get(2)
        .and_then(|s| s.split_once('.'))
        .map(|(_, f)| f.len());
    let tsep = last.get(date.len()..last.len() - full.len())?;
    // the precision written must hold the step
    let written = match (parts.len(), frac) {
        (1, _) => 3_600_000_000_000,
        (2, _) => 60_000_000_000,
        (_, None) => 1_000_000_000,
        (_, Some(p)) => 10i128.pow(9 - p.min(9) as u32),
    };
    if step % written != 0 || (keys[n - 1].0 + offset_ns) % written != 0 {
        return None;
    }
    Some(
        (1..=steps as i128)
            .map(|k| {
                let ns = keys[n - 1].0 + offset_ns + step * k;
                let (y, m, d) = ymd_of(TimeKey(ns));
                let in_day = ns.rem_euclid(DAY_NS);
                let secs = in_day / 1_000_000_000;
                let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
                let mut s = format!("{}{tsep}{hh:02}", write_date(y, m, d));
                if parts.len() > 1 {
                    s.push_str(&format!(":{mm:02}"));
                }
                if parts.len() > 2 {
                    s.push_str(&format!(":{ss:02}"));
                }
                if let Some(p) = frac {
                    let digits = format!("{:09}", in_day % 1_000_000_000);
                    s.push('.');
                    s.push_str(&digits[..p.min(9)]);
                }
                s.push_str(suffix);
                s
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000, -1, 0, 1, 59, 365, 18_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn kinds_of_time_columns() {
        let k = |c: &[&str]| parse_time_column(&col(c));
        let day = 86_400i128 * 1_000_000_000;
        let v = k(&["2021-01-31", "2021-02-01"]).unwrap().unwrap();
        assert_eq!(v[1].0 - v[0].0, day);
        let v = k(&["2021-01-31T23:00", "2021-02-01 00:00:00.5"])
            .unwrap()
            .unwrap();
        assert_eq!(v[1].0 - v[0].0, 3_600_500_000_000);
        let v = k(&["2021-01", "2021-02"]).unwrap().unwrap();
        assert_eq!(v[1].0 - v[0].0, 31 * day);
        let v = k(&["31.01.2021", "01.02.2021"]).unwrap().unwrap();
        assert_eq!(v[1].0 - v[0].0, day);
        // month first unless a first field is above 12
        let v = k(&["01/02/2021", "01/03/2021"]).unwrap().unwrap();
        assert_eq!(v[1].0 - v[0].0, day);
        let v = k(&["01/11/2021", "01/12/2021", "01/01/2022"])
            .unwrap()
            .unwrap();
        assert_eq!(v[2].0 - v[1].0, 31 * day, "monthly, day first");
        let v = k(&["11/01/2021", "12/01/2021", "01/01/2022"])
            .unwrap()
            .unwrap();
        assert_eq!(v[2].0 - v[1].0, 31 * day, "monthly, month first");
        let v = k(&["01/02/2021", "13/02/2021"]).unwrap().unwrap();
        assert_eq!(v[1].0 - v[0].0, 12 * day);
        let v = k(&["2021-01-01T00:00:00Z", "2021-01-01T00:30:00+01:00"])
            .unwrap()
            .unwrap();
        assert_eq!(v[1].0 - v[0].0, -30 * 60 * 1_000_000_000);
        let v = k(&["1", "2", "10"]).unwrap().unwrap();
        assert!(v[2] > v[1]);
        assert_eq!(k(&["Jan 2021", "Feb 2021"]), Ok(None));
        assert_eq!(k(&["2021-01-01 noon", "2021-01-02 noon"]), Ok(None));
        let v = k(&["2020-01-01T07", "2020-01-01T08"]).unwrap().unwrap();
        assert_eq!(v[1].0 - v[0].0, 3_600_000_000_000);
        // a cell of another kind, or an impossible date
        assert_eq!(k(&["2021-01-01", "x"]), Err(1));
        assert_eq!(k(&["2021-01-01", "2021-02-30"]), Err(1));
        assert_eq!(k(&["2021-01-01", "2021-01-01 25:00"]), Err(1));
        assert_eq!(k(&["1", "2021-01-01"]), Err(1));
        assert_eq!(k(&["1", "1e300"]), Err(1));
        assert_eq!(k(&["-1e300", "1"]), Ok(None));
    }

    #[test]
    fn future_labels_continue_the_column() {
        let f = |c: &[&str], n| future_labels(&col(c), n);
        assert_eq!(
            f(&["2021-01-30", "2021-01-31", "2021-02-01"], 2),
            Some(col(&["2021-02-02", "2021-02-03"]))
        );
        assert_eq!(
            f(
                &[
                    "2021-12-31 22:00:00",
                    "2021-12-31 23:00:00",
                    "2022-01-01 00:00:00"
                ],
                2
            ),
            Some(col(&["2022-01-01 01:00:00", "2022-01-01 02:00:00"]))
        );
        assert_eq!(
            f(
                &["2021-01-01T00:00", "2021-01-01T00:15", "2021-01-01T00:30"],
                1
            ),
            Some(col(&["2021-01-01T00:45"]))
        );
        assert_eq!(
            f(&["2020-11-30", "2020-12-31", "2021-01-31"], 2),
            Some(col(&["2021-02-28", "2021-03-31"]))
        );
        assert_eq!(
            f(&["2020-11-01", "2020-12-01", "2021-01-01"], 2),
            Some(col(&["2021-02-01", "2021-03-01"]))
        );
        assert_eq!(
            f(&["2020-11", "2020-12", "2021-01"], 1),
            Some(col(&["2021-02"]))
        );
        assert_eq!(
            f(
                &[
                    "2021-01-01 22:00:00+01:00",
                    "2021-01-01 23:00:00+01:00",
                    "2021-01-02 00:00:00+01:00"
                ],
                2
            ),
            Some(col(&[
                "2021-01-02 01:00:00+01:00",
                "2021-01-02 02:00:00+01:00"
            ]))
        );
        assert_eq!(
            f(
                &[
                    "2021-01-01T23:30Z",
                    "2021-01-01T23:45Z",
                    "2021-01-02T00:00Z"
                ],
                1
            ),
            Some(col(&["2021-01-02T00:15Z"]))
        );
        assert_eq!(
            f(&["2020-01-01T22", "2020-01-01T23", "2020-01-02T00"], 1),
            Some(col(&["2020-01-02T01"]))
        );
        assert_eq!(
            f(&["01/10/2021", "01/11/2021", "01/12/2021"], 1),
            Some(col(&["01/01/2022"]))
        );
        assert_eq!(
            f(&["29.12.2021", "30.12.2021", "31.12.2021"], 1),
            Some(col(&["01.01.2022"]))
        );
        assert_eq!(
            f(&["1998", "1999", "2000"], 2),
            Some(col(&["2001", "2002"]))
        );
        assert_eq!(f(&["0.5", "1.0", "1.5"], 1), Some(col(&["2.0"])));
        // irregular end, text labels, too short
        assert_eq!(f(&["1", "2", "4"], 1), None);
        assert_eq!(f(&["a", "b", "c"], 1), None);
        assert_eq!(f(&["1", "2"], 1), None);
    }
}
