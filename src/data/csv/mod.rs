//! Reading a CSV file into a [`Frame`]: a header line, an optional time
//! column kept as text, and selected numeric columns as `f64`.
//!
//! Rules:
//! * the first line is the header (a first line of numbers only is data, and
//!   the columns are named `0`, `1`, ... as pandas' `header=None`); empty lines, and lines of empty
//!   fields only (`,,,`) at the end of the file, are skipped; fields are
//!   trimmed, quoted fields may follow a space (`a; "b"`); CRLF, LF or CR line
//!   ends; a UTF-8 byte-order mark is ignored;
//! * the delimiter is detected from the header line (the most frequent of
//!   `,` `;` tab `|` outside quotes; space-aligned columns, runs of spaces
//!   being one separator, when there is none of them) unless
//!   [`CsvOptions::delimiter`] names it; with a delimiter other than `,`, a decimal comma (`1,5`) is read too
//!   ([`CsvOptions::decimal`] fixes the mark). Thousands separators are not
//!   read (an error says so). Excel's `sep=;` first line is understood;
//! * a selected numeric cell must parse as a finite number (`1`, `-2.5`,
//!   `+.5`, `1e6`; `True` / `False`, as pandas writes booleans, read as 1 / 0). A cell that is *missing* — empty, or one of pandas'
//!   missing markers (`NA`, `N/A`, `NaN`, `nan`, `<NA>`, `#N/A`, `null`,
//!   `None`, ...) or `?` — is an [`Error::Data`] naming the file, the line
//!   (1-based, as an editor counts them: the header is line 1) and the
//!   column, unless [`Fill`] asks for it to be filled. Any other text (`abc`,
//!   `inf`, `1.2.3`) is always an error, even with a fill method: filling is
//!   for gaps, not for typos;
//! * with a time column ([`TimeOrder::Auto`], the default), the rows must be
//!   in time order when the column holds dates, date-times or numbers (see
//!   [`super::time`]): a file written newest first is reversed, and rows out
//!   of order are an error naming both lines (`time_order = "sort"` sorts
//!   them, `"file"` takes the rows as they are). Repeated times are kept in
//!   file order (a daylight-saving hour written twice in local time is two
//!   measurements). What was done, and a time cell that is no date like the
//!   others (the order is then not checked), is said in [`Frame::notes`]. A
//!   time column of other text is labels only. The order is settled before
//!   gaps are filled;
//! * [`Fill::Interpolate`] fills a gap linearly between its neighbours (by
//!   row position, like `pandas.Series.interpolate(method="linear")`), a
//!   trailing gap with the last value; [`Fill::Ffill`] repeats the last value.
//!   With both, a **leading** gap (before the first value of a column) is
//!   back-filled with the column's first value. A column with no value at all
//!   is an error;
//! * a row with more or fewer fields than the header is an error naming its
//!   line (one empty field more, a delimiter ending the line, is accepted);
//! * with no column list, every column but the time column is read, except a
//!   first column with an empty name (the index pandas' `to_csv` writes).
//!
//! ```
//! use lstmkit::data::{parse_csv, CsvOptions, Fill};
//! let text = "date,co2,other\n2000-01-01,1.0,x\n2000-01-08,,y\n2000-01-15,3.0,z\n";
//! let opts = CsvOptions {
//!     time_column: Some("date".into()),
//!     columns: vec!["co2".into()],
//!     fill: Fill::Interpolate,
//!     ..Default::default()
//! };
//! let frame = parse_csv(text, "inline.csv", &opts).unwrap();
//! assert_eq!(frame.column("co2").unwrap(), &[1.0, 2.0, 3.0]);
//! assert_eq!(frame.filled, vec![1]);
//! assert_eq!(frame.time.as_ref().unwrap()[1], "2000-01-08");
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod dialect;
mod missing;
mod panel;
mod records;
#[cfg(test)]
mod tests;

pub use dialect::detect_delimiter;
pub use missing::{Fill, OpenTail};

use dialect::{Dialect, Header};
use missing::Tail;
use records::reorder;

/// What is done with the order of the rows when a time column is read
/// (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeOrder {
    /// Rows must be in time order; a file written newest first is reversed
    /// (with a note); rows out of order are an error naming the lines;
    /// repeated times are kept (with a note). Time columns that are text
    /// labels are not checked.
    #[default]
    Auto,
    /// Rows are sorted by time (stable: repeated times keep their file order).
    Sort,
    /// Rows are used in file order, unchecked (the time column is labels only).
    File,
}

impl TimeOrder {
    /// True for the default (used to keep saved files unchanged).
    pub fn is_auto(&self) -> bool {
        *self == TimeOrder::Auto
    }
}

/// What [`load_csv`] reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CsvOptions {
    /// Name of a column kept as text (dates for plots). `None`: no time column.
    pub time_column: Option<String>,
    /// Numeric columns to read, in this order. Empty: every column except the
    /// time column (and a first column with an empty name, pandas' index).
    pub columns: Vec<String>,
    /// Missing-cell policy.
    pub fill: Fill,
    /// Field delimiter; `None`: detected from the header line (the most
    /// frequent of `,` `;` tab `|` outside quotes; `,` when none appears).
    pub delimiter: Option<char>,
    /// Decimal mark of numeric cells; `None`: `.`, and also `,` when the
    /// delimiter is not a comma (`1,5;2,25` files).
    pub decimal: Option<char>,
    /// Row-order policy for the time column.
    pub time_order: TimeOrder,
    /// Trailing rows where some columns may be missing (forecast periods; in a
    /// panel, the last rows of every series).
    pub open_tail: Option<OpenTail>,
    /// Name of a text column naming the series of each row (long-format
    /// panels). The rows are grouped by it (series in order of first
    /// appearance), and the time order is checked within each series.
    pub id_column: Option<String>,
}

/// The series of a long-format frame: `(id, rows)`, in row order.
pub type SeriesRanges = Vec<(String, std::ops::Range<usize>)>;

/// A table of numeric columns read from a CSV file, stored column by column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// Where it came from (a path or a name such as `bundled:co2`); used in messages.
    pub source: String,
    /// Name of the time column, when one was read.
    pub time_column: Option<String>,
    /// The time column's cells, as written in the file (one per row).
    pub time: Option<Vec<String>>,
    /// Names of the numeric columns.
    pub columns: Vec<String>,
    /// Numeric data: `data[column][row]`.
    pub data: Vec<Vec<f64>>,
    /// Number of cells filled per column (all zero without a fill method).
    pub filled: Vec<usize>,
    /// What was done to the rows that a user should hear about (rows
    /// reversed or sorted by time); the command line prints them.
    pub notes: Vec<String>,
    /// Name of the id column, when one was read.
    pub id_column: Option<String>,
    /// The series of a long-format file: `(id, rows)`, contiguous, in row
    /// order. Empty: the whole frame is one series.
    pub series: Vec<(String, std::ops::Range<usize>)>,
}

impl Frame {
    /// A frame from named columns of equal length (no time column).
    pub fn from_columns(source: &str, columns: Vec<(String, Vec<f64>)>) -> Result<Frame> {
        let n = columns.first().map(|c| c.1.len()).unwrap_or(0);
        let mut names = Vec::with_capacity(columns.len());
        let mut data = Vec::with_capacity(columns.len());
        for (name, col) in columns {
            if col.len() != n {
                return Err(Error::Data(format!(
                    "{source}: column '{name}' has {} rows, the first column has {n}",
                    col.len()
                )));
            }
            if let Some(r) = col.iter().position(|v| !v.is_finite()) {
                return Err(Error::Data(format!(
                    "{source}: column '{name}', row {r}: value {} is not finite",
                    col[r]
                )));
            }
            names.push(name);
            data.push(col);
        }
        let filled = vec![0; names.len()];
        Ok(Frame {
            source: source.to_string(),
            time_column: None,
            time: None,
            columns: names,
            data,
            filled,
            notes: Vec::new(),
            id_column: None,
            series: Vec::new(),
        })
    }

    /// The same frame cut into series (a panel): `series` are `(id, rows)`,
    /// contiguous and covering every row in order, ids distinct.
    pub fn with_series(
        mut self,
        id_column: &str,
        series: Vec<(String, std::ops::Range<usize>)>,
    ) -> Result<Frame> {
        let mut at = 0;
        let mut seen = std::collections::HashSet::new();
        for (id, r) in &series {
            if r.start != at || r.is_empty() || !seen.insert(id.as_str()) {
                return Err(Error::Data(format!(
                    "{}: series '{id}' (rows {}..{}): series must be distinct, non-empty and \
                     cover the rows in order",
                    self.source, r.start, r.end
                )));
            }
            at = r.end;
        }
        if at != self.n_rows() {
            return Err(Error::Data(format!(
                "{}: the series cover {at} of {} rows",
                self.source,
                self.n_rows()
            )));
        }
        self.id_column = Some(id_column.to_string());
        self.series = series;
        Ok(self)
    }

    /// The series `(id, rows)`: those of a panel, or one unnamed series of every row.
    pub fn series_ranges(&self) -> Vec<(String, std::ops::Range<usize>)> {
        if self.series.is_empty() {
            vec![(String::new(), 0..self.n_rows())]
        } else {
            self.series.clone()
        }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.data
            .first()
            .map(|c| c.len())
            .unwrap_or_else(|| self.time.as_ref().map(|t| t.len()).unwrap_or(0))
    }

    /// Index of a numeric column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A numeric column by name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.column_index(name).map(|i| self.data[i].as_slice())
    }

    /// A numeric column by name, or an error listing the available columns.
    pub fn require(&self, name: &str) -> Result<&[f64]> {
        self.column(name).ok_or_else(|| {
            Error::Data(format!(
                "{}: no numeric column '{name}' (loaded columns: {})",
                self.source,
                self.columns.join(", ")
            ))
        })
    }
}

/// Reads `path` (see the module documentation for the rules).
pub fn load_csv(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Frame> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::Data(format!(
            "{}: line {line}: not UTF-8 text (invalid byte at offset {at}; save the file as UTF-8)",
            path.display(),
        ))
    })?;
    parse_csv(&text, &path.display().to_string(), opts)
}

/// Parses CSV `text`; `source` names it in error messages (a path, or e.g. `bundled:co2`).
pub fn parse_csv(text: &str, source: &str, opts: &CsvOptions) -> Result<Frame> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::Data(format!(
            "{source}: the file is empty (a header line naming the columns is required)"
        )));
    }
    let (d, text) = Dialect::of(text, opts)?;
    let mut notes = Vec::new();
    let (mut rdr, header) = dialect::read_header(&d, &text, source, &mut notes)?;
    let cols = Columns::select(&header, &d, opts, source)?;
    let recs = records::read_records(&mut rdr, &text, &d, header.names.len(), &cols, source)?;
    if recs.lines.is_empty() {
        return Err(Error::Data(format!(
            "{source}: the file has a header ({}) but no data rows",
            header.names.join(", ")
        )));
    }
    let n = recs.lines.len();

    // row order: `order[k]` is the file row that becomes row k
    let tname = opts.time_column.as_deref().unwrap_or_default();
    let (order, series): (Option<Vec<usize>>, SeriesRanges) = if cols.id.is_some() {
        let (o, s) = panel::group(&recs, cols.time.is_some(), source, tname, opts, &mut notes)?;
        (Some(o), s)
    } else {
        let o = match (cols.time, opts.time_order) {
            (Some(_), TimeOrder::Auto | TimeOrder::Sort) => time_order(
                &recs.time,
                &recs.lines,
                source,
                tname,
                opts.time_order,
                &mut notes,
            )?,
            _ => None,
        };
        (o, Vec::new())
    };
    let order = order.as_deref();
    let segments = if series.is_empty() {
        vec![(String::new(), 0..n)]
    } else {
        series.clone()
    };
    let tail = Tail::new(opts.open_tail.as_ref(), &cols.names, &segments, source)?;
    if opts.fill == Fill::None {
        missing::check_gaps(
            &recs.missing,
            order,
            &tail,
            &recs.lines,
            &cols.names,
            source,
        )?;
    }
    let time = cols.time.map(|_| reorder(recs.time, order));
    let lines = reorder(recs.lines, order);
    let data = recs.data.into_iter().map(|c| reorder(c, order)).collect();
    let (data, filled) =
        missing::fill_columns(data, &tail, opts.fill, &lines, &cols.names, source)?;
    Ok(Frame {
        source: source.to_string(),
        time_column: opts.time_column.clone(),
        time,
        columns: cols.names,
        data,
        filled,
        notes,
        id_column: opts.id_column.clone(),
        series,
    })
}

/// The columns read: the time column and the numeric ones, by index in the header.
struct Columns {
    /// Index of the time column.
    time: Option<usize>,
    /// Index of the id column.
    id: Option<usize>,
    /// Names of the numeric columns, in the order asked for.
    names: Vec<String>,
    /// Their indices in the header.
    idx: Vec<usize>,
}

impl Columns {
    /// The columns of `opts` in `header`: with no column list, every column
    /// but the time column and a first column with an empty name (pandas'
    /// index). Each must be in the header once.
    fn select(header: &Header, d: &Dialect, opts: &CsvOptions, source: &str) -> Result<Columns> {
        let h = &header.names;
        let time = match &opts.time_column {
            Some(t) => Some(find(header, d, t, "time column", source)?),
            None => None,
        };
        let id = match &opts.id_column {
            Some(t) => Some(find(header, d, t, "id column", source)?),
            None => None,
        };
        let names: Vec<String> = if opts.columns.is_empty() {
            h.iter()
                .enumerate()
                .filter(|(i, n)| Some(*i) != time && Some(*i) != id && !(*i == 0 && n.is_empty()))
                .map(|(_, n)| n.clone())
                .collect()
        } else {
            opts.columns.clone()
        };
        if names.is_empty() {
            return Err(Error::Data(format!(
                "{source}: no numeric column to read (header: {})",
                h.join(", ")
            )));
        }
        let mut idx = Vec::with_capacity(names.len());
        for name in &names {
            let i = find(header, d, name, "column", source)?;
            if h.iter().filter(|n| *n == name).count() > 1 {
                return Err(Error::Data(format!(
                    "{source}: column '{name}' appears more than once in the header"
                )));
            }
            idx.push(i);
        }
        Ok(Columns {
            time,
            id,
            names,
            idx,
        })
    }
}

/// The index of column `name` in the header, or an error listing the columns,
/// suggesting a name that differs in case, and saying why the header may be
/// read wrong (no header line; a single field under the delimiter).
fn find(header: &Header, d: &Dialect, name: &str, what: &str, source: &str) -> Result<usize> {
    let h = &header.names;
    h.iter().position(|n| n == name).ok_or_else(|| {
        let close = h
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(name.trim()))
            .map(|n| format!("; did you mean '{n}'?"))
            .unwrap_or_default();
        let hint = if header.headerless {
            " (the file has no header line: its first line holds numbers only, so its \
             columns are named by position from 0)"
                .to_string()
        } else if h.len() == 1 {
            format!(
                " (the header has a single field when split on {}; set data.delimiter if the file uses another one)",
                d.name()
            )
        } else {
            String::new()
        };
        Error::Data(format!(
            "{source}: no {what} '{name}' in the header (available columns: {}){close}{hint}",
            h.join(", ")
        ))
    })
}

/// Checks (or restores) the time order of the rows; returns the new order
/// (file rows) when it changes.
fn time_order(
    time: &[String],
    lines: &[u64],
    source: &str,
    tname: &str,
    policy: TimeOrder,
    notes: &mut Vec<String>,
) -> Result<Option<Vec<usize>>> {
    let keys = match super::time::parse_time_column(time) {
        Ok(Some(k)) => k,
        Ok(None) => return Ok(None),
        Err(i) => {
            notes.push(format!(
                "{source}: line {}, column '{tname}': '{}' is not {} ('{}'), so the rows' time \
                 order is not checked (the column labels plots only)",
                lines[i],
                time[i],
                super::time::describe(time),
                time[0]
            ));
            return Ok(None);
        }
    };
    let n = keys.len();
    if keys.windows(2).all(|w| w[0] < w[1]) {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..n).collect();
    let non_decreasing = keys.windows(2).all(|w| w[0] <= w[1]);
    let decreasing = keys.windows(2).all(|w| w[0] >= w[1]) && keys[0] > keys[n - 1];
    let order = if non_decreasing {
        None
    } else if policy == TimeOrder::Sort {
        order.sort_by_key(|&r| keys[r]);
        notes.push(format!(
            "{source}: rows sorted by '{tname}' (time_order = \"sort\")"
        ));
        Some(order)
    } else if decreasing {
        order.reverse();
        notes.push(format!(
            "{source}: the rows are newest first (by '{tname}'); they are read oldest first"
        ));
        Some(order)
    } else {
        let i = (1..n).find(|&i| keys[i] < keys[i - 1]).unwrap_or(1);
        return Err(Error::Data(format!(
            "{source}: line {}, column '{tname}': time '{}' comes before line {}'s '{}': the rows \
             are not in time order; sort the file, or set time_order = \"sort\" (sort the rows by \
             time) or \"file\" (use the rows as they are)",
            lines[i],
            time[i],
            lines[i - 1],
            time[i - 1]
        )));
    };
    // repeated times are kept (a daylight-saving hour written twice in local
    // time is two measurements), but said
    let at = |k: usize| order.as_ref().map_or(k, |o| o[k]);
    let repeats: Vec<usize> = (1..n).filter(|&k| keys[at(k)] == keys[at(k - 1)]).collect();
    if let Some(&k) = repeats.first() {
        let (a, b) = (at(k - 1).min(at(k)), at(k - 1).max(at(k)));
        notes.push(format!(
            "{source}: {} row(s) repeat the time of the row before them (first: line {} repeats \
             line {}'s '{}' in column '{tname}'); they are kept in file order (a date column beside \
             a time-of-day column, several series in one file, or a daylight-saving hour written \
             twice?)",
            repeats.len(),
            lines[b],
            lines[a],
            time[a]
        ));
    }
    Ok(order)
}
