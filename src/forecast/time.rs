//! Time labels after the end of a series: the forecast rows get the times that
//! continue the history's regular spacing, written as the history writes them
//! (as pandas' `date_range(freq=inferred)` would): integer steps, daily /
//! weekly / any fixed number of days, calendar months (month-end kept as
//! month-end) and years, and fixed-interval date-times (`T` or space, with or
//! without seconds, optional `Z`). An irregular or unrecognised time column
//! gives `None`, and the forecast is labelled by step only.
//!
//! ```
//! use lstmkit::forecast::continue_times;
//! let h: Vec<String> = ["2024-01-31", "2024-02-29", "2024-03-31"].iter().map(|s| s.to_string()).collect();
//! assert_eq!(continue_times(&h, 2).unwrap(), ["2024-04-30", "2024-05-31"]);
//! let w: Vec<String> = ["2024-12-23", "2024-12-30"].iter().map(|s| s.to_string()).collect();
//! assert_eq!(continue_times(&w, 1).unwrap(), ["2025-01-06"]);
//! ```

/// How many trailing intervals must agree for the spacing to count as regular.
const CHECK: usize = 24;

/// The `steps` labels after `history`, or `None` when its spacing is not regular.
pub fn continue_times(history: &[String], steps: usize) -> Option<Vec<String>> {
    if history.len() < 2 {
        return None;
    }
    let tail = &history[history.len().saturating_sub(CHECK + 1)..];
    let tail: Vec<&str> = tail.iter().map(|s| s.trim()).collect();
    // calendar months before fixed days: Jul 15, Aug 15, Sep 15 are 31 days apart
    integers(&tail, steps)
        .or_else(|| months(&tail, steps))
        .or_else(|| dates(&tail, steps))
        .or_else(|| datetimes(&tail, steps))
}

/// One common difference of all consecutive values, if any (and not zero).
fn common_step(v: &[i64]) -> Option<i64> {
    let d = v[1] - v[0];
    (d != 0 && v.windows(2).all(|w| w[1] - w[0] == d)).then_some(d)
}

fn integers(h: &[&str], steps: usize) -> Option<Vec<String>> {
    let v: Vec<i64> = h.iter().map(|s| s.parse().ok()).collect::<Option<_>>()?;
    let d = common_step(&v)?;
    let last = *v.last()?;
    Some(
        (1..=steps as i64)
            .map(|k| (last + k * d).to_string())
            .collect(),
    )
}

/// `YYYY-MM-DD` → (year, month, day).
fn ymd(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (proleptic Gregorian; Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn fmt_date((y, m, d): (i64, u32, u32)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// Dates a fixed number of days apart.
fn dates(h: &[&str], steps: usize) -> Option<Vec<String>> {
    let v: Vec<(i64, u32, u32)> = h.iter().map(|s| ymd(s)).collect::<Option<_>>()?;
    let days: Vec<i64> = v
        .iter()
        .map(|&(y, m, d)| days_from_civil(y, m, d))
        .collect();
    let d = common_step(&days)?;
    let last = *days.last()?;
    Some(
        (1..=steps as i64)
            .map(|k| fmt_date(civil_from_days(last + k * d)))
            .collect(),
    )
}

/// Calendar months (`YYYY-MM-DD` on the same day, or on month ends, a fixed
/// number of months apart; or `YYYY-MM`).
fn months(h: &[&str], steps: usize) -> Option<Vec<String>> {
    let short = h.iter().all(|s| s.len() == 7);
    let v: Vec<(i64, u32, u32)> = if short {
        h.iter()
            .map(|s| ymd(&format!("{s}-01")))
            .collect::<Option<_>>()?
    } else {
        h.iter().map(|s| ymd(s)).collect::<Option<_>>()?
    };
    let index: Vec<i64> = v.iter().map(|&(y, m, _)| y * 12 + m as i64 - 1).collect();
    let d = common_step(&index)?;
    let month_end = !short && v.iter().all(|&(y, m, day)| day == days_in_month(y, m));
    let day = v[0].2;
    if !month_end && v.iter().any(|&(_, _, dd)| dd != day) {
        return None;
    }
    let last = *index.last()?;
    Some(
        (1..=steps as i64)
            .map(|k| {
                let i = last + k * d;
                let (y, m) = (i.div_euclid(12), (i.rem_euclid(12) + 1) as u32);
                if short {
                    format!("{y:04}-{m:02}")
                } else if month_end {
                    fmt_date((y, m, days_in_month(y, m)))
                } else {
                    fmt_date((y, m, day.min(days_in_month(y, m))))
                }
            })
            .collect(),
    )
}

/// How a date-time is written, to write the new ones alike.
#[derive(Clone, Copy, PartialEq)]
struct DtStyle {
    sep: u8,
    seconds: bool,
    zulu: bool,
}

/// `YYYY-MM-DD[T ]HH:MM[:SS][Z]` → seconds since the epoch and the style.
fn datetime(s: &str) -> Option<(i64, DtStyle)> {
    let (s, zulu) = match s.strip_suffix('Z') {
        Some(r) => (r, true),
        None => (s, false),
    };
    if s.len() < 16 {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let (y, m, d) = ymd(date)?;
    let sep = rest.as_bytes()[0];
    if sep != b'T' && sep != b' ' {
        return None;
    }
    let t = &rest[1..];
    let parts: Vec<&str> = t.split(':').collect();
    let (hh, mm, ss, seconds) = match parts.as_slice() {
        [h, m] => (h, m, &"0", false),
        [h, m, s] => (h, m, s, true),
        _ => return None,
    };
    if hh.len() != 2 || mm.len() != 2 || (seconds && ss.len() != 2) {
        return None;
    }
    let (hh, mm, ss): (i64, i64, i64) = (hh.parse().ok()?, mm.parse().ok()?, ss.parse().ok()?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    Some((secs, DtStyle { sep, seconds, zulu }))
}

/// Date-times a fixed number of seconds apart.
fn datetimes(h: &[&str], steps: usize) -> Option<Vec<String>> {
    let v: Vec<(i64, DtStyle)> = h.iter().map(|s| datetime(s)).collect::<Option<_>>()?;
    let style = v[0].1;
    if v.iter().any(|(_, s)| *s != style) {
        return None;
    }
    let secs: Vec<i64> = v.iter().map(|(t, _)| *t).collect();
    let d = common_step(&secs)?;
    let last = *secs.last()?;
    Some(
        (1..=steps as i64)
            .map(|k| {
                let t = last + k * d;
                let (days, sod) = (t.div_euclid(86_400), t.rem_euclid(86_400));
                let mut s = fmt_date(civil_from_days(days));
                s.push(style.sep as char);
                s.push_str(&format!("{:02}:{:02}", sod / 3600, sod % 3600 / 60));
                if style.seconds {
                    s.push_str(&format!(":{:02}", sod % 60));
                }
                if style.zulu {
                    s.push('Z');
                }
                s
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn civil_round_trip() {
        for z in -800_000..800_000 {
            if z % 997 == 0 {
                let (y, m, d) = civil_from_days(z);
                assert_eq!(days_from_civil(y, m, d), z);
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn regular_spacings_continue() {
        assert_eq!(
            continue_times(&v(&["3", "5", "7"]), 2).unwrap(),
            ["9", "11"]
        );
        assert_eq!(
            continue_times(&v(&["2024-02-27", "2024-02-28", "2024-02-29"]), 2).unwrap(),
            ["2024-03-01", "2024-03-02"]
        );
        assert_eq!(
            continue_times(&v(&["2023-11-15", "2023-12-15"]), 2).unwrap(),
            ["2024-01-15", "2024-02-15"]
        );
        assert_eq!(
            continue_times(&v(&["2023-10", "2024-01"]), 1).unwrap(),
            ["2024-04"]
        );
        assert_eq!(
            continue_times(&v(&["2023-12-31", "2024-12-31"]), 1).unwrap(),
            ["2025-12-31"]
        );
        assert_eq!(
            continue_times(&v(&["2024-07-15", "2024-08-15", "2024-09-15"]), 1).unwrap(),
            ["2024-10-15"]
        );
        assert_eq!(
            continue_times(&v(&["2024-12-23", "2024-12-30"]), 1).unwrap(),
            ["2025-01-06"]
        );
        assert_eq!(
            continue_times(&v(&["2024-03-10 22:00", "2024-03-10 23:00"]), 2).unwrap(),
            ["2024-03-11 00:00", "2024-03-11 01:00"]
        );
        assert_eq!(
            continue_times(&v(&["2024-01-01T00:00:00Z", "2024-01-01T00:15:00Z"]), 1).unwrap(),
            ["2024-01-01T00:30:00Z"]
        );
    }

    #[test]
    fn irregular_or_unknown_gives_none() {
        assert!(continue_times(&v(&["1", "2", "4"]), 1).is_none());
        assert!(continue_times(&v(&["2024-01-01", "2024-01-02", "2024-01-04"]), 1).is_none());
        assert!(continue_times(&v(&["a", "b"]), 1).is_none());
        assert!(continue_times(&v(&["2024-01-01"]), 1).is_none());
        assert!(continue_times(&v(&["5", "5"]), 1).is_none());
        assert!(continue_times(&v(&["01/02/2024", "01/03/2024"]), 1).is_none());
    }
}
