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

/// How missing numeric cells are handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fill {
    /// A missing cell is an error (the default).
    #[default]
    None,
    /// Linear interpolation between neighbours; trailing gaps repeat the last
    /// value, leading gaps are back-filled with the first value.
    Interpolate,
    /// Forward fill (repeat the last value); leading gaps are back-filled with
    /// the first value.
    Ffill,
}

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

/// The last rows of a file whose cells in some columns may be missing: the
/// forecast period of `lstmkit forecast --exog known`, where the targets are
/// what is being forecast. Missing cells there are read as NaN and not filled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenTail {
    /// Number of rows at the end (after ordering).
    pub rows: usize,
    /// Columns whose cells may be missing there.
    pub columns: Vec<String>,
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
    /// Trailing rows where some columns may be missing (forecast periods).
    pub open_tail: Option<OpenTail>,
}

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
        })
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

/// True for the spellings of a missing value that [`Fill`] may fill:
/// pandas' default `na_values`, plus `?` (UCI files), `-` / `--` (ENTSO-E,
/// spreadsheets) and `.` (FRED's CSV downloads).
fn is_missing_marker(s: &str) -> bool {
    matches!(
        s,
        "" | "NA"
            | "N/A"
            | "n/a"
            | "na"
            | "NaN"
            | "nan"
            | "NAN"
            | "-NaN"
            | "-nan"
            | "<NA>"
            | "#N/A"
            | "#N/A N/A"
            | "#NA"
            | "-1.#IND"
            | "-1.#QNAN"
            | "1.#IND"
            | "1.#QNAN"
            | "null"
            | "NULL"
            | "None"
            | "?"
            | "-"
            | "--"
            | "."
    )
}

/// The delimiter of a CSV text: the most frequent of `,` `;` tab `|` outside
/// quotes on its first non-empty line (`,` on ties). With none of them: `' '`
/// when the header and the first data line split into the same number (> 1)
/// of words (space-aligned columns, read with runs of spaces as one
/// separator), else the file has one column and `;` is returned so that
/// `1,5` reads as 1.5.
pub fn detect_delimiter(text: &str) -> char {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [0usize; 4];
    let cands = [',', ';', '\t', '|'];
    let mut quoted = false;
    for ch in header.chars() {
        if ch == '"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = cands.iter().position(|&c| c == ch) {
                counts[i] += 1;
            }
        }
    }
    if counts.iter().all(|&c| c == 0) {
        // Columns aligned with spaces (`year  value`): the header and the
        // first data line split into the same number (> 1) of words.
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let words = |l: Option<&str>| l.map_or(0, |l| l.split_whitespace().count());
        let (h, d) = (words(lines.next()), words(lines.next()));
        if h > 1 && h == d {
            return ' ';
        }
        // One column: no delimiter splits the rows; `;` lets a decimal
        // comma through (`value\n1,5`) unless the text uses `;`.
        return if text.contains(';') { ',' } else { ';' };
    }
    let mut best = 0;
    for i in 1..cands.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    cands[best]
}

/// Excel's `sep=;` first line: the delimiter and the text after that line.
fn excel_sep_line(text: &str) -> Option<(char, &str)> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let d = first.trim_end_matches('\r').strip_prefix("sep=")?;
    let mut chars = d.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some((c, rest)),
        _ => None,
    }
}

/// Line numbers from byte offsets (the CSV reader's own count misses the
/// blank lines before a record, and counts CRLF line ends late): line breaks
/// are `\n`, `\r\n` or a lone `\r`.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The 1-based line of byte `pos` (positions must not decrease).
    fn line_of(&mut self, pos: usize) -> u64 {
        // the reader's position is where it started reading the record:
        // before the blank lines it skipped (and the `\n` of a `\r\n`)
        let mut end = pos.min(self.bytes.len());
        while end < self.bytes.len() && matches!(self.bytes[end], b'\n' | b'\r') {
            end += 1;
        }
        while self.at < end {
            match self.bytes[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

/// A numeric cell: `Ok(Some(v))`, `Ok(None)` for a missing marker, `Err(())` for other text.
fn parse_cell(cell: &str, comma: bool, dot: bool) -> std::result::Result<Option<f64>, ()> {
    let v = if dot { cell.parse::<f64>().ok() } else { None };
    let v = match v {
        Some(v) => Some(v),
        None if comma && cell.matches(',').count() == 1 && !cell.contains('.') => {
            cell.replacen(',', ".", 1).parse::<f64>().ok()
        }
        None if !dot && !cell.contains([',', '.']) => cell.parse::<f64>().ok(),
        None => None,
    };
    let v = v.or(match cell {
        // pandas writes boolean columns as True / False; numpy reads them as 1 / 0
        "True" | "TRUE" | "true" => Some(1.0),
        "False" | "FALSE" | "false" => Some(0.0),
        _ => None,
    });
    match v {
        Some(v) if v.is_finite() => Ok(Some(v)),
        _ if is_missing_marker(cell) => Ok(None),
        _ => Err(()),
    }
}

/// A field that was quoted after a space (`a; "b"`): the CSV reader keeps
/// its quotes (quoting starts at a field's first byte); they are removed here,
/// with `""` read as `"`, then the inside is trimmed.
fn unquote(field: &str) -> std::borrow::Cow<'_, str> {
    let f = field.trim();
    if f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
        std::borrow::Cow::Owned(f[1..f.len() - 1].replace("\"\"", "\"").trim().to_string())
    } else {
        std::borrow::Cow::Borrowed(f)
    }
}

/// Parses CSV `text`; `source` names it in error messages (a path, or e.g. `bundled:co2`).
pub fn parse_csv(text: &str, source: &str, opts: &CsvOptions) -> Result<Frame> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::Data(format!(
            "{source}: the file is empty (a header line naming the columns is required)"
        )));
    }
    // Excel's `sep=;` line names the delimiter; line numbers still count it
    let (text, line_offset, excel_sep) = match excel_sep_line(text) {
        Some((c, rest)) => (rest, 1u64, Some(c)),
        None => (text, 0u64, None),
    };
    let delimiter = opts
        .delimiter
        .or(excel_sep)
        .unwrap_or_else(|| detect_delimiter(text));
    if !delimiter.is_ascii() || delimiter == '"' || delimiter == '\n' || delimiter == '\r' {
        return Err(Error::Config(format!(
            "data.delimiter: {delimiter:?} cannot separate fields (use one ASCII character such as ',', ';' or '\\t')"
        )));
    }
    let (comma, dot) =
        match opts.decimal {
            None => (delimiter != ',', true),
            Some('.') => (false, true),
            Some(',') if delimiter == ',' => return Err(Error::Config(
                "data.decimal = \",\" needs another delimiter than ',' (e.g. delimiter = \";\")"
                    .into(),
            )),
            Some(',') => (true, false),
            Some(c) => {
                return Err(Error::Config(format!(
                    "data.decimal must be \".\" or \",\", got {c:?}"
                )))
            }
        };
    // space-separated columns: runs of spaces and tabs are one separator,
    // spaces at either end of a line none (line breaks, and so line numbers, kept)
    let collapsed;
    let text = if delimiter == ' ' {
        let mut t = String::with_capacity(text.len());
        for piece in text.split_inclusive('\n') {
            let (body, end) = match piece.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (piece, ""),
            };
            let (body, cr) = match body.strip_suffix('\r') {
                Some(b) => (b, "\r"),
                None => (body, ""),
            };
            for (i, w) in body.split_whitespace().enumerate() {
                if i > 0 {
                    t.push(' ');
                }
                t.push_str(w);
            }
            t.push_str(cr);
            t.push_str(end);
        }
        collapsed = t;
        collapsed.as_str()
    } else {
        text
    };
    let reader = |has_headers: bool| {
        csv::ReaderBuilder::new()
            .has_headers(has_headers)
            .flexible(true)
            .delimiter(delimiter as u8)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes())
    };
    let mut rdr = reader(true);
    let mut header: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Data(format!("{source}: line {} (header): {e}", 1 + line_offset)))?
        .iter()
        .map(|s| unquote(s).into_owned())
        .collect();
    let mut notes = Vec::new();
    // A first line of numbers only is data (`numpy.savetxt` writes no
    // header): the columns are named 0, 1, ... as pandas' `header=None` does.
    let headerless = header
        .iter()
        .all(|h| matches!(parse_cell(h, delimiter != ',', true), Ok(Some(_))));
    if headerless {
        rdr = reader(false);
        header = (0..header.len()).map(|i| i.to_string()).collect();
        notes.push(format!(
            "{source}: the first line holds numbers only, so the file has no header line: \
             its columns are named {} (as pandas' header=None names them)",
            header.join(", ")
        ));
    }
    let delim_name = match delimiter {
        '\t' => "tab".to_string(),
        ' ' => "spaces".to_string(),
        c => format!("'{c}'"),
    };
    let find = |name: &str, what: &str| -> Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            let close = header
                .iter()
                .find(|h| h.trim().eq_ignore_ascii_case(name.trim()))
                .map(|h| format!("; did you mean '{h}'?"))
                .unwrap_or_default();
            let hint = if headerless {
                " (the file has no header line: its first line holds numbers only, so its \
                 columns are named by position from 0)"
                    .to_string()
            } else if header.len() == 1 {
                format!(
                    " (the header has a single field when split on {delim_name}; set data.delimiter if the file uses another one)"
                )
            } else {
                String::new()
            };
            Error::Data(format!(
                "{source}: no {what} '{name}' in the header (available columns: {}){close}{hint}",
                header.join(", ")
            ))
        })
    };
    let time_idx = match &opts.time_column {
        Some(t) => Some(find(t, "time column")?),
        None => None,
    };
    let names: Vec<String> = if opts.columns.is_empty() {
        header
            .iter()
            .enumerate()
            .filter(|(i, h)| Some(*i) != time_idx && !(*i == 0 && h.is_empty()))
            .map(|(_, h)| h.clone())
            .collect()
    } else {
        opts.columns.clone()
    };
    if names.is_empty() {
        return Err(Error::Data(format!(
            "{source}: no numeric column to read (header: {})",
            header.join(", ")
        )));
    }
    let mut idx = Vec::with_capacity(names.len());
    for name in &names {
        let i = find(name, "column")?;
        if header.iter().filter(|h| *h == name).count() > 1 {
            return Err(Error::Data(format!(
                "{source}: column '{name}' appears more than once in the header"
            )));
        }
        idx.push(i);
    }

    let mut data: Vec<Vec<Option<f64>>> = vec![Vec::new(); names.len()];
    // (row, column, text) of every missing cell, in file order
    let mut missing: Vec<(usize, usize, String)> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut time: Vec<String> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut blank_rows: Vec<u64> = Vec::new();
    let mut counter = LineCounter {
        bytes: text.as_bytes(),
        at: 0,
        line: 1 + line_offset,
    };
    loop {
        let more = match rdr.read_record(&mut record) {
            Ok(m) => m,
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| counter.line_of(p.byte() as usize))
                    .unwrap_or(0);
                return Err(Error::Data(format!("{source}: line {line}: {e}")));
            }
        };
        if !more {
            break;
        }
        let line = record
            .position()
            .map(|p| counter.line_of(p.byte() as usize))
            .unwrap_or(0);
        // A line of empty fields only (",,,") at the end of the file is a
        // trailing blank line (spreadsheet exports); before a data row it is
        // a row of missing cells.
        if record.iter().all(|f| f.is_empty()) {
            // a line of spaces is a blank line too
            if record.len() > 1 {
                blank_rows.push(line);
            }
            continue;
        }
        for blank in blank_rows.drain(..) {
            if time_idx.is_some() {
                time.push(String::new());
            }
            let row = lines.len();
            for (c, col) in data.iter_mut().enumerate() {
                missing.push((row, c, String::new()));
                col.push(None);
            }
            lines.push(blank);
        }
        // a delimiter after the last field of the data rows only: an empty extra field
        let trailing = record.len() == header.len() + 1 && record.get(header.len()) == Some("");
        if record.len() != header.len() && !trailing {
            return Err(Error::Data(format!(
                "{source}: line {line}: {} fields, but the header has {} (fields split on {delim_name})",
                record.len(),
                header.len()
            )));
        }
        if let Some(t) = time_idx {
            time.push(unquote(&record[t]).into_owned());
        }
        let row = lines.len();
        for (c, &i) in idx.iter().enumerate() {
            let cell = unquote(&record[i]);
            let cell = cell.as_ref();
            let value = match parse_cell(cell, comma, dot) {
                Ok(v) => v,
                Err(()) => {
                    let hint = if cell.contains(',') && !comma {
                        " (thousands separators are not read; a decimal comma needs delimiter \";\" or decimal = \",\")"
                    } else if cell.contains('.') && !dot {
                        " (decimal = \",\": '.' is not a decimal mark here; thousands separators are not read)"
                    } else {
                        ""
                    };
                    let header_like = lines.len() < 3
                        && idx
                            .iter()
                            .all(|&i| !record[i].bytes().any(|b| b.is_ascii_digit()));
                    let hint = if header_like {
                        " (this row looks like a second header line, as pandas writes for \
                         multi-level columns and yfinance for its 'Ticker' and 'Date' rows; \
                         remove such lines)"
                    } else {
                        hint
                    };
                    return Err(Error::Data(format!(
                        "{source}: line {line}, column '{}': '{cell}' is not a finite number{hint}",
                        names[c]
                    )));
                }
            };
            if value.is_none() {
                missing.push((row, c, cell.to_string()));
            }
            data[c].push(value);
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(Error::Data(format!(
            "{source}: the file has a header ({}) but no data rows",
            header.join(", ")
        )));
    }
    let n = lines.len();

    // row order: `order[k]` is the file row that becomes row k
    let order: Option<Vec<usize>> = match (time_idx, opts.time_order) {
        (Some(_), TimeOrder::Auto | TimeOrder::Sort) => {
            let tname = opts.time_column.as_deref().unwrap_or_default();
            time_order(&time, &lines, source, tname, opts.time_order, &mut notes)?
        }
        _ => None,
    };

    // the open tail (rows after ordering), as file rows
    let mut open = vec![false; names.len()];
    let mut tail_start = n;
    if let Some(t) = &opts.open_tail {
        if t.rows >= n {
            return Err(Error::Data(format!(
                "{source}: {n} data rows, but the last {} are to be the forecast period (future \
                 inputs known, targets not): no history row is left",
                t.rows
            )));
        }
        tail_start = n - t.rows;
        for (c, name) in names.iter().enumerate() {
            open[c] = t.columns.contains(name);
        }
    }
    let mut position = vec![0usize; n];
    if let Some(o) = &order {
        for (k, &r) in o.iter().enumerate() {
            position[r] = k;
        }
    } else {
        position.iter_mut().enumerate().for_each(|(k, p)| *p = k);
    }
    let in_tail = |row: usize, c: usize| open[c] && position[row] >= tail_start;
    if opts.fill == Fill::None {
        if let Some((row, c, cell)) = missing.iter().find(|(r, c, _)| !in_tail(*r, *c)) {
            let what = if cell.is_empty() {
                "missing value".to_string()
            } else {
                format!("missing value '{cell}'")
            };
            return Err(Error::Data(format!(
                "{source}: line {}, column '{}': {what} (set fill = \"interpolate\" or \"ffill\" to fill gaps)",
                lines[*row], names[*c]
            )));
        }
    }

    let reorder = |v: Vec<Option<f64>>| -> Vec<Option<f64>> {
        match &order {
            Some(o) => o.iter().map(|&r| v[r]).collect(),
            None => v,
        }
    };
    let time = time_idx.map(|_| match &order {
        Some(o) => o.iter().map(|&r| std::mem::take(&mut time[r])).collect(),
        None => std::mem::take(&mut time),
    });
    let lines: Vec<u64> = match &order {
        Some(o) => o.iter().map(|&r| lines[r]).collect(),
        None => lines,
    };
    let mut out = Vec::with_capacity(names.len());
    let mut filled = Vec::with_capacity(names.len());
    for (c, col) in data.into_iter().enumerate() {
        let col = reorder(col);
        let end = if open[c] { tail_start } else { n };
        let (body, tail) = col.split_at(end);
        let n_missing = body.iter().filter(|v| v.is_none()).count();
        if n_missing == body.len() {
            return Err(Error::Data(format!(
                "{source}: column '{}' has no value at all (lines {}..{})",
                names[c],
                lines.iter().min().copied().unwrap_or(0),
                lines.iter().max().copied().unwrap_or(0)
            )));
        }
        filled.push(n_missing);
        let mut v = fill_column(body, opts.fill);
        v.extend(tail.iter().map(|x| x.unwrap_or(f64::NAN)));
        out.push(v);
    }
    Ok(Frame {
        source: source.to_string(),
        time_column: opts.time_column.clone(),
        time,
        columns: names,
        data: out,
        filled,
        notes,
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

/// Fills the `None` cells of a column that has at least one value.
fn fill_column(col: &[Option<f64>], fill: Fill) -> Vec<f64> {
    let first = col.iter().position(|v| v.is_some()).unwrap_or(0);
    let first_value = col[first].unwrap_or(0.0);
    let mut out = vec![first_value; col.len()];
    let mut last_idx = first;
    let mut last = first_value;
    let mut i = first;
    while i < col.len() {
        match col[i] {
            Some(v) => {
                out[i] = v;
                last = v;
                last_idx = i;
                i += 1;
            }
            None => {
                // A gap [i, j): the next value is at j (if any).
                let mut j = i;
                while j < col.len() && col[j].is_none() {
                    j += 1;
                }
                for k in i..j {
                    out[k] = match (fill, col.get(j).copied().flatten()) {
                        (Fill::Interpolate, Some(next)) => {
                            let t = (k - last_idx) as f64 / (j - last_idx) as f64;
                            last + (next - last) * t
                        }
                        _ => last,
                    };
                }
                i = j;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(cols: &[&str], fill: Fill) -> CsvOptions {
        CsvOptions {
            time_column: Some("t".into()),
            columns: cols.iter().map(|s| s.to_string()).collect(),
            fill,
            ..Default::default()
        }
    }

    #[test]
    fn reads_selected_columns_and_time() {
        let f = parse_csv(
            "t,a,b\nx,1,2\ny,3,4\n",
            "f.csv",
            &opts(&["b", "a"], Fill::None),
        )
        .unwrap();
        assert_eq!(f.columns, vec!["b", "a"]);
        assert_eq!(f.data, vec![vec![2.0, 4.0], vec![1.0, 3.0]]);
        assert_eq!(f.time, Some(vec!["x".to_string(), "y".to_string()]));
        assert_eq!(f.n_rows(), 2);
        // Empty column list: every column but the time column.
        let f = parse_csv("t,a,b\nx,1,2\n", "f.csv", &opts(&[], Fill::None)).unwrap();
        assert_eq!(f.columns, vec!["a", "b"]);
    }

    #[test]
    fn missing_cell_error_names_file_line_column() {
        let e = parse_csv(
            "t,a,b\nx,1,2\ny,,4\n",
            "f.csv",
            &opts(&["a", "b"], Fill::None),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.csv"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("column 'a'"), "{e}");
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn non_numeric_and_non_finite_errors() {
        for (cell, what) in [("abc", "'abc'"), ("inf", "'inf'"), ("NaN", "'NaN'")] {
            let text = format!("t,a\nx,1\ny,2\nz,{cell}\n");
            let e = parse_csv(&text, "data/f.csv", &opts(&["a"], Fill::None))
                .unwrap_err()
                .to_string();
            assert!(e.contains("data/f.csv: line 4, column 'a'"), "{e}");
            assert!(e.contains(what), "{e}");
        }
        // Text that is not a gap stays an error with a fill method.
        let e = parse_csv("t,a\nx,1\ny,abc\n", "f.csv", &opts(&["a"], Fill::Ffill))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 'a'"), "{e}");
        let e = parse_csv(
            "t,a\nx,1\ny,-inf\n",
            "f.csv",
            &opts(&["a"], Fill::Interpolate),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3, column 'a'"), "{e}");
    }

    #[test]
    fn line_numbers_count_skipped_blank_lines() {
        let e = parse_csv(
            "t,a\nx,1\n\ny,2\nz,oops\n",
            "f.csv",
            &opts(&["a"], Fill::None),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 5"), "{e}");
    }

    #[test]
    fn unknown_column_lists_available() {
        let e = parse_csv("t,a,b\nx,1,2\n", "f.csv", &opts(&["c"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.csv"), "{e}");
        assert!(e.contains("'c'"), "{e}");
        assert!(e.contains("available columns: t, a, b"), "{e}");
        let mut o = opts(&["a"], Fill::None);
        o.time_column = Some("date".into());
        let e = parse_csv("t,a,b\nx,1,2\n", "f.csv", &o)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'date'") && e.contains("available columns"),
            "{e}"
        );
    }

    #[test]
    fn empty_file_and_header_only() {
        let e = parse_csv("", "f.csv", &opts(&[], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.csv") && e.contains("empty"), "{e}");
        let e = parse_csv("t,a\n", "f.csv", &opts(&["a"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.csv") && e.contains("no data rows"), "{e}");
    }

    #[test]
    fn a_file_without_header_names_columns_by_position() {
        let f = all("1.5,10\n2.5,20\n3.5,x\n", cols(&["1"]))
            .unwrap_err()
            .to_string();
        assert!(f.contains("line 3, column '1': 'x'"), "{f}");
        let f = all("1.5,10\n2.5,20\n", cols(&["1", "0"])).unwrap();
        assert_eq!(f.data, vec![vec![10.0, 20.0], vec![1.5, 2.5]]);
        assert!(f.notes[0].contains("no header line"), "{:?}", f.notes);
        let f = all("5\n6\n", CsvOptions::default()).unwrap();
        assert_eq!(
            (f.columns.clone(), f.data[0].clone()),
            (vec!["0".to_string()], vec![5.0, 6.0])
        );
        let e = all("1,2\n3,4\n", cols(&["y"])).unwrap_err().to_string();
        assert!(
            e.contains("available columns: 0, 1") && e.contains("no header line"),
            "{e}"
        );
        // a header of names is a header
        assert!(all("a,b\n1,2\n", cols(&["a"])).unwrap().notes.is_empty());
    }

    #[test]
    fn space_aligned_columns() {
        assert_eq!(detect_delimiter("year   value\n1749   58.0\n"), ' ');
        assert_eq!(detect_delimiter("load MW\n1000.5\n"), ';');
        let text = "  year   spots \r\n 1749   58.0\r\n\r\n 1750\t 62.6 \r\n1751 x\r\n";
        let e = all(text, cols(&["spots"]).with_time("year"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 5, column 'spots': 'x'"), "{e}");
        let f = all(
            &text.replace("1751 x", "1751 70"),
            cols(&["spots"]).with_time("year"),
        )
        .unwrap();
        assert_eq!(f.data[0], vec![58.0, 62.6, 70.0]);
        let mut o = cols(&["b"]);
        o.delimiter = Some(' ');
        assert_eq!(all("a b\n1  2\n", o).unwrap().data[0], vec![2.0]);
    }

    #[test]
    fn a_trailing_delimiter_on_data_rows_is_accepted() {
        let f = all("t,a\n1,5,\n2,6,\n", cols(&["a"])).unwrap();
        assert_eq!(f.data[0], vec![5.0, 6.0]);
        let e = all("t,a\n1,5,7\n", cols(&["a"])).unwrap_err().to_string();
        assert!(e.contains("line 2: 3 fields"), "{e}");
    }

    #[test]
    fn ragged_row_is_an_error() {
        let e = parse_csv("t,a,b\nx,1,2\ny,3\n", "f.csv", &opts(&["a"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("2 fields"), "{e}");
    }

    #[test]
    fn interpolate_and_ffill() {
        let text = "t,a\n1,\n2,NA\n3,1\n4,\n5,\n6,4\n7,nan\n";
        let f = parse_csv(text, "f.csv", &opts(&["a"], Fill::Interpolate)).unwrap();
        assert_eq!(f.data[0], vec![1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
        assert_eq!(f.filled, vec![5]);
        let f = parse_csv(text, "f.csv", &opts(&["a"], Fill::Ffill)).unwrap();
        assert_eq!(f.data[0], vec![1.0, 1.0, 1.0, 1.0, 1.0, 4.0, 4.0]);
        let e = parse_csv("t,a\n1,\n2,\n", "f.csv", &opts(&["a"], Fill::Ffill))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no value at all"), "{e}");
    }

    #[test]
    fn bom_and_whitespace() {
        let f = parse_csv(
            "\u{feff}t, a\nx, 1.5 \n",
            "f.csv",
            &opts(&["a"], Fill::None),
        )
        .unwrap();
        assert_eq!(f.data[0], vec![1.5]);
    }

    #[test]
    fn load_csv_reports_missing_file() {
        let e = load_csv("/nonexistent/x.csv", &opts(&["a"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/x.csv"), "{e}");
    }

    fn all(text: &str, o: CsvOptions) -> Result<Frame> {
        parse_csv(text, "f.csv", &o)
    }

    fn cols(cols: &[&str]) -> CsvOptions {
        CsvOptions {
            columns: cols.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn delimiters_are_detected_or_given() {
        assert_eq!(detect_delimiter("a;b;c\n1;2;3\n"), ';');
        assert_eq!(detect_delimiter("a\tb\n"), '\t');
        assert_eq!(detect_delimiter("a|b\n"), '|');
        assert_eq!(detect_delimiter("\"x,y\";b\n"), ';');
        assert_eq!(detect_delimiter("value\n1\n"), ';');
        assert_eq!(detect_delimiter("value\n1;\n"), ',');
        for text in [
            "t;a;b\nx;1;2\ny;3;4\n",
            "t\ta\tb\nx\t1\t2\ny\t3\t4\n",
            "t|a|b\nx|1|2\ny|3|4\n",
        ] {
            let f = parse_csv(text, "f.csv", &opts(&["a", "b"], Fill::None)).unwrap();
            assert_eq!(f.data, vec![vec![1.0, 3.0], vec![2.0, 4.0]], "{text:?}");
        }
        // an explicit delimiter wins over detection
        let mut o = opts(&["a;b"], Fill::None);
        o.delimiter = Some(',');
        let f = parse_csv("t,a;b\nx,1\n", "f.csv", &o).unwrap();
        assert_eq!(f.data[0], vec![1.0]);
        // a wrong delimiter says what the header looked like
        let mut o = opts(&["a"], Fill::None);
        o.delimiter = Some(',');
        let e = parse_csv("t;a\nx;1\n", "f.csv", &o)
            .unwrap_err()
            .to_string();
        assert!(e.contains("single field") && e.contains("delimiter"), "{e}");
    }

    #[test]
    fn excel_sep_line_one_column_and_booleans() {
        let e = parse_csv(
            "sep=;\r\nt;a\r\n1;1,5\r\n2;x\r\n",
            "f.csv",
            &opts(&["a"], Fill::None),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 4, column 'a'"), "{e}");
        let e = all("t,a\r\n1,1\r\n2,x\r\n", cols(&["a"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 'a'"), "CRLF: {e}");
        let e = all("t,a\n1,1\n\n   \n2,x\n", cols(&["a"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 5, column 'a'"), "blank lines: {e}");
        let e = all("t,a\r\n1,1\r\n\r\n\r\n2,x\r\n", cols(&["a"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 5, column 'a'"),
            "CRLF and blank lines: {e}"
        );
        let e = all("t,a\r1,1\r2,x\r", cols(&["a"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 'a'"), "CR: {e}");
        let e = all("t,a\r\n1,1\r\n2,1,2\r\n", cols(&["a"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3: 3 fields"), "CRLF ragged: {e}");
        let f = parse_csv("sep=;\nt;a\n1;1,5\n", "f.csv", &opts(&["a"], Fill::None)).unwrap();
        assert_eq!(f.data[0], vec![1.5]);
        let f = all("value\n1,5\n2\n", cols(&["value"])).unwrap();
        assert_eq!(f.data[0], vec![1.5, 2.0]);
        let f = all("a,flag\n1,True\n2,False\n", cols(&["flag"])).unwrap();
        assert_eq!(f.data[0], vec![1.0, 0.0]);
    }

    #[test]
    fn decimal_comma_with_semicolons() {
        let f = parse_csv(
            "t;a\nx;1,5\ny;-2,25e1\nz;3\n",
            "f.csv",
            &opts(&["a"], Fill::None),
        )
        .unwrap();
        assert_eq!(f.data[0], vec![1.5, -22.5, 3.0]);
        // explicit decimal = "," refuses dots (thousands separators)
        let mut o = opts(&["a"], Fill::None);
        o.decimal = Some(',');
        let e = parse_csv("t;a\nx;1,5\ny;1.234,5\n", "f.csv", &o)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3, column 'a'") && e.contains("'1.234,5'"),
            "{e}"
        );
        o.delimiter = Some(',');
        assert!(parse_csv("t,a\nx,1\n", "f.csv", &o).is_err());
        // a quoted thousands separator in a comma file is an error with a hint
        let e = parse_csv("t,a\nx,\"1,234.5\"\n", "f.csv", &opts(&["a"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2, column 'a'") && e.contains("thousands"),
            "{e}"
        );
    }

    #[test]
    fn quotes_spaces_crlf_and_number_spellings() {
        let text = "\u{feff}\"t\" ; \"Price \"\"USD\"\"\" ; \"n\"\r\n 1 ; \" 1.5e3 \" ; 1\r\n2;+2;\"2\"\r\n3 ; .5 ; 3\r\n\r\n";
        let f = parse_csv(text, "f.csv", &opts(&["Price \"USD\"", "n"], Fill::None)).unwrap();
        assert_eq!(f.data[0], vec![1500.0, 2.0, 0.5]);
        assert_eq!(f.data[1], vec![1.0, 2.0, 3.0]);
        assert_eq!(f.time.unwrap(), vec!["1", "2", "3"]);
        // a name differing in case is suggested
        let e = parse_csv("t,Close\n1,2\n", "f.csv", &opts(&["close"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean 'Close'"), "{e}");
    }

    #[test]
    fn pandas_missing_markers_and_index_column() {
        for m in [
            "", "NA", "NaN", "nan", "<NA>", "#N/A", "null", "None", "-nan", "-", ".",
        ] {
            let text = format!("t,a\n1,1\n2,{m}\n3,3\n");
            let e = parse_csv(&text, "f.csv", &opts(&["a"], Fill::None))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("line 3, column 'a'") && e.contains("missing value"),
                "{m:?}: {e}"
            );
            let f = parse_csv(&text, "f.csv", &opts(&["a"], Fill::Interpolate)).unwrap();
            assert_eq!(f.data[0], vec![1.0, 2.0, 3.0], "{m:?}");
        }
        // pandas' to_csv index column (empty name) is not a data column
        let f = all(
            ",t,a\n0,1,5\n1,2,6\n",
            CsvOptions {
                time_column: Some("t".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(f.columns, vec!["a"]);
    }

    #[test]
    fn second_header_line_gets_a_hint() {
        let text = "Price,Close,Volume\nTicker,AAPL,AAPL\nDate,,\n2020-01-02,72.7,135480400\n";
        let o = cols(&["Close", "Volume"]).with_time("Price");
        let e = all(text, o).unwrap_err().to_string();
        assert!(
            e.contains("line 2, column 'Close': 'AAPL'") && e.contains("second header"),
            "{e}"
        );
        // a typo further down is just a typo
        let e = all("a,b\n1,2\n3,4\n5,x\n", cols(&["a", "b"]))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("second header"), "{e}");
    }

    #[test]
    fn trailing_empty_field_rows_are_blank_lines() {
        let f = all("t,a,b\n1,1,2\n2,3,4\n,,\n, ,\n", cols(&["a", "b"])).unwrap();
        assert_eq!(f.n_rows(), 2);
        // between data rows they are rows of missing cells
        let e = all("t,a\n1,1\n,\n3,3\n", cols(&["a"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3, column 'a'") && e.contains("missing"),
            "{e}"
        );
        let mut o = cols(&["a"]);
        o.fill = Fill::Interpolate;
        assert_eq!(
            all("t,a\n1,1\n,\n3,3\n", o).unwrap().data[0],
            vec![1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn time_order_newest_first_is_reversed() {
        let text = "date,a\n2021-01-03,3\n2021-01-02,\n2021-01-01,1\n";
        let f = parse_csv(text, "f.csv", &opts(&["a"], Fill::Ffill).with_time("date")).unwrap();
        assert_eq!(f.data[0], vec![1.0, 1.0, 3.0], "filled after reversing");
        assert_eq!(f.time.as_ref().unwrap()[0], "2021-01-01");
        assert_eq!(f.notes.len(), 1);
        assert!(f.notes[0].contains("newest first"), "{:?}", f.notes);
        // in order: nothing to say
        let f = parse_csv(
            "date,a\n2021-01-01,1\n2021-01-02,2\n",
            "f.csv",
            &opts(&["a"], Fill::None).with_time("date"),
        )
        .unwrap();
        assert!(f.notes.is_empty());
    }

    #[test]
    fn time_order_errors_name_lines() {
        let o = opts(&["a"], Fill::None).with_time("date");
        let e = parse_csv(
            "date,a\n2021-01-01,1\n2021-01-03,3\n2021-01-02,2\n2021-01-04,4\n",
            "f.csv",
            &o,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.csv: line 4, column 'date'") && e.contains("line 3's '2021-01-03'"),
            "{e}"
        );
        assert!(e.contains("time_order = \"sort\""), "{e}");
        // repeated times are kept, with a note naming the lines
        let f = parse_csv("date,a\n1,1\n2,2\n2,3\n3,4\n", "f.csv", &o).unwrap();
        assert_eq!(f.data[0], vec![1.0, 2.0, 3.0, 4.0]);
        assert!(
            f.notes.len() == 1 && f.notes[0].contains("line 4 repeats line 3's '2'"),
            "{:?}",
            f.notes
        );
        // a cell that is not a date: the order is not checked, a note names it
        let f = parse_csv(
            "date,a\n2021-01-02,1\n2021-01-32,2\n2021-01-01,3\n",
            "f.csv",
            &o,
        )
        .unwrap();
        assert_eq!(f.data[0], vec![1.0, 2.0, 3.0]);
        assert!(
            f.notes.len() == 1 && f.notes[0].contains("line 3, column 'date': '2021-01-32'"),
            "{:?}",
            f.notes
        );
        // sort: stable sort by time; file: rows as they are
        let text = "date,a\n2021-01-01,1\n2021-01-03,3\n2021-01-02,2\n";
        let mut s = o.clone();
        s.time_order = TimeOrder::Sort;
        let f = parse_csv(text, "f.csv", &s).unwrap();
        assert_eq!(f.data[0], vec![1.0, 2.0, 3.0]);
        assert_eq!(f.notes.len(), 1);
        s.time_order = TimeOrder::File;
        let f = parse_csv(text, "f.csv", &s).unwrap();
        assert_eq!(f.data[0], vec![1.0, 3.0, 2.0]);
        // text labels are not checked
        let f = parse_csv("date,a\nb,1\na,2\n", "f.csv", &o).unwrap();
        assert_eq!(f.data[0], vec![1.0, 2.0]);
        // offsets: the same wall time in two offsets is not a repeat
        let f = parse_csv(
            "date,a\n2021-10-31T02:30:00+02:00,1\n2021-10-31T02:30:00+01:00,2\n",
            "f.csv",
            &o,
        )
        .unwrap();
        assert_eq!(f.n_rows(), 2);
    }

    #[test]
    fn open_tail_allows_missing_future_targets() {
        let text = "t,y,x\n1,1,10\n2,2,20\n3,3,30\n4,,40\n5,,50\n";
        let mut o = opts(&["y", "x"], Fill::None);
        assert!(parse_csv(text, "f.csv", &o).is_err());
        o.open_tail = Some(OpenTail {
            rows: 2,
            columns: vec!["y".into()],
        });
        let f = parse_csv(text, "f.csv", &o).unwrap();
        assert_eq!(&f.data[0][..3], &[1.0, 2.0, 3.0]);
        assert!(f.data[0][3].is_nan() && f.data[0][4].is_nan());
        assert_eq!(f.data[1], vec![10.0, 20.0, 30.0, 40.0, 50.0]);
        // only the tail: a gap before it is still an error
        o.open_tail = Some(OpenTail {
            rows: 1,
            columns: vec!["y".into()],
        });
        let e = parse_csv(text, "f.csv", &o).unwrap_err().to_string();
        assert!(e.contains("line 5, column 'y'"), "{e}");
        // a tail as long as the file leaves no history
        o.open_tail = Some(OpenTail {
            rows: 5,
            columns: vec!["y".into()],
        });
        let e = parse_csv(text, "f.csv", &o).unwrap_err().to_string();
        assert!(e.contains("5 data rows, but the last 5"), "{e}");
        // exogenous columns are not open
        let e = parse_csv(
            "t,y,x\n1,1,10\n2,2,\n",
            "f.csv",
            &CsvOptions {
                open_tail: Some(OpenTail {
                    rows: 1,
                    columns: vec!["y".into()],
                }),
                ..opts(&["y", "x"], Fill::None)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3, column 'x'"), "{e}");
    }

    #[test]
    fn not_utf8_names_the_line() {
        let dir = std::env::temp_dir().join(format!("lstmkit-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("latin1.csv");
        std::fs::write(&p, b"t,a\n1,2\n2,caf\xe9\n").unwrap();
        let e = load_csv(&p, &opts(&["a"], Fill::None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("UTF-8"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    impl CsvOptions {
        fn with_time(mut self, t: &str) -> Self {
            self.time_column = Some(t.into());
            self
        }
    }
}
