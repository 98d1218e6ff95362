//! Time columns: one calendar for reading a CSV's time column (to check, or
//! restore, the order of its rows) and for labelling the rows of a forecast
//! in the same format. Which format a column uses is ours (`detect.rs`); the
//! dates themselves (validity, leap years, month lengths, arithmetic,
//! formatting) are chrono's (`calendar.rs`).
//!
//! Recognised cells (the first data cell decides the column's kind, every
//! other cell must be of the same kind):
//! * numbers: `1`, `2001`, `20210131`, `1.5e9` (compared as numbers);
//! * year-first dates: `2021-01-31`, `2021/01/31`, `2021.01.31`, `2021-01`
//!   (month; read as its first day), optionally followed by a time
//!   (`T` or a space, then `HH`, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`; `24:00`
//!   is the next day's `00:00`) and an offset (`Z`, `UTC`, `+01:00`, `-0500`);
//!   cells with an offset are compared as instants (UTC), cells without one
//!   as written;
//! * day-first or month-first dates: `31.01.2021` (day first, the
//!   European convention), `01/31/2021` or `31/01/2021`: month first as in
//!   pandas unless a first field above 12 shows the column is day first (or,
//!   with no field above 12, a constant first field beside a changing second
//!   one: monthly data written day first, `01/02/2021, 01/03/2021, ...`);
//!   optionally followed by a time as above;
//! * quarters: `1998Q1`, `1998 Q1`, `1998-Q1` (read as the quarter's first day).
//!
//! A column whose first cell is none of these (`Jan 2021`, `2021-W05`,
//! `Q1`) is kept as text labels: no order check.
//!
//! Forecast labels ([`future_labels`]) continue the step between the last
//! rows: whole numbers, days and weeks, months (on the same day, or on month
//! ends), quarters, and fixed date-time steps (hours, minutes, seconds),
//! written like the last row.
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

mod calendar;
mod detect;
mod features;
#[cfg(test)]
mod tests;

pub use calendar::{Step, TimeValue};
pub use detect::TimeFormat;
pub use features::{encode_all, fractional_year, CalendarEncoding, CalendarFeature, YearRange};

/// A comparable time value: nanoseconds since 1970-01-01 (dates), or the
/// number itself scaled by 1e9 (numeric time columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeKey(pub i128);

/// A cell that is not of its column's kind (or not a valid date).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCell {
    /// Its row among the column's cells (0-based).
    pub row: usize,
    /// The cell as written.
    pub value: String,
    /// What the column's cells look like (`a date like the first row's`).
    pub expected: &'static str,
}

impl std::fmt::Display for BadCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}: '{}' is not {}",
            self.row + 1,
            self.value,
            self.expected
        )
    }
}

/// A time column read: its format and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeColumn {
    pub format: TimeFormat,
    pub values: Vec<TimeValue>,
}

impl TimeColumn {
    /// Reads a whole column. `Ok(None)`: the first cell is not a time this
    /// module knows (the column is text labels); `Err`: a cell is not of the
    /// first cell's kind, or not a valid date.
    pub fn read(cells: &[String]) -> std::result::Result<Option<TimeColumn>, BadCell> {
        let Some(format) = TimeFormat::detect(cells) else {
            return Ok(None);
        };
        if format.parse(&cells[0]).is_none() {
            // looks like a date but is none this module reads: labels
            return Ok(None);
        }
        let values = cells
            .iter()
            .enumerate()
            .map(|(row, c)| {
                format.parse(c).ok_or_else(|| BadCell {
                    row,
                    value: c.clone(),
                    expected: format.describe(),
                })
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(Some(TimeColumn { format, values }))
    }

    /// The comparable keys of the values.
    pub fn keys(&self) -> Vec<TimeKey> {
        self.values.iter().map(TimeValue::key).collect()
    }
}

/// Reads a whole time column as keys ([`TimeColumn::read`]); `Err(i)`: cell `i` is bad.
pub fn parse_time_column(cells: &[String]) -> std::result::Result<Option<Vec<TimeKey>>, usize> {
    match TimeColumn::read(cells) {
        Ok(c) => Ok(c.map(|c| c.keys())),
        Err(bad) => Err(bad.row),
    }
}

/// What a cell of this column looks like, for messages.
pub(crate) fn describe(cells: &[String]) -> String {
    TimeFormat::detect(cells)
        .map_or("a time", |f| f.describe())
        .into()
}

/// Labels for `steps` rows after the last one of a regular time column, as
/// pandas' `date_range(freq=inferred)` would give them: the step between the
/// last rows (the last two intervals must agree; with only two rows, their
/// one interval, unless the day/month order is only a guess) repeated, and
/// written like the last cell. `None` when the column is not a time column,
/// irregular at its end, or its last cell cannot show the step (minutes
/// stepped by seconds).
///
/// ```
/// use lstmkit::data::time::future_labels;
/// let h = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
/// let ends = h(&["2024-01-31", "2024-02-29", "2024-03-31"]);
/// assert_eq!(future_labels(&ends, 2).unwrap(), ["2024-04-30", "2024-05-31"]);
/// assert_eq!(future_labels(&h(&["2024-12-23", "2024-12-30"]), 1).unwrap(), ["2025-01-06"]);
/// assert_eq!(future_labels(&h(&["1998 Q3", "1998 Q4"]), 2).unwrap(), ["1999 Q1", "1999 Q2"]);
/// ```
pub fn future_labels(cells: &[String], steps: usize) -> Option<Vec<String>> {
    let n = cells.len();
    let format = TimeFormat::detect(cells)?;
    if n < 2 || (n == 2 && format.guessed) {
        return None;
    }
    let tail = &cells[n - n.min(3)..];
    let values: Vec<TimeValue> = tail
        .iter()
        .map(|c| format.parse(c))
        .collect::<Option<_>>()?;
    let step = format.step(&values)?;
    let (last, like) = (values[values.len() - 1], &tail[tail.len() - 1]);
    if let (Step::Clock(ns), Some(res)) = (step, format.resolution(like)) {
        // the precision written must hold the step, and the last time
        let TimeValue::DateTime { local, .. } = last else {
            return None;
        };
        let at = TimeValue::DateTime { local, offset: 0 }.key().0;
        if ns % res != 0 || at % res != 0 {
            return None;
        }
    }
    (1..=steps as i64)
        .map(|k| format.write(like, &step.advance(&last, k)?))
        .collect()
}
