//! How a CSV file is written: the delimiter (given, Excel's `sep=` line,
//! detected, or space-aligned columns), the decimal mark, quoting, the
//! spelling of numbers, and whether the first line is a header.

use std::borrow::Cow;

use super::missing::is_missing_marker;
use super::CsvOptions;
use crate::error::{Error, Result};

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

/// The delimiter and decimal marks of a file.
#[derive(Clone, Copy, Debug)]
pub(super) struct Dialect {
    /// Field delimiter (`' '`: runs of spaces, see [`collapse_spaces`]).
    pub delimiter: char,
    /// `,` is a decimal mark.
    pub comma: bool,
    /// `.` is a decimal mark.
    pub dot: bool,
    /// Lines before the CSV text (Excel's `sep=` line), counted in line numbers.
    pub line_offset: u64,
}

impl Dialect {
    /// The dialect of `text` under `opts`, and the text after an Excel `sep=`
    /// line; space-aligned columns come back with each run of spaces made one.
    pub fn of<'t>(text: &'t str, opts: &CsvOptions) -> Result<(Dialect, Cow<'t, str>)> {
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
        let (comma, dot) = decimal_marks(opts.decimal, delimiter)?;
        let text = if delimiter == ' ' {
            Cow::Owned(collapse_spaces(text))
        } else {
            Cow::Borrowed(text)
        };
        let d = Dialect {
            delimiter,
            comma,
            dot,
            line_offset,
        };
        Ok((d, text))
    }

    /// A reader of `text` (fields trimmed, rows of any width).
    pub fn reader<'t>(&self, text: &'t str, has_headers: bool) -> csv::Reader<&'t [u8]> {
        csv::ReaderBuilder::new()
            .has_headers(has_headers)
            .flexible(true)
            .delimiter(self.delimiter as u8)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes())
    }

    /// The delimiter as messages name it.
    pub fn name(&self) -> String {
        match self.delimiter {
            '\t' => "tab".to_string(),
            ' ' => "spaces".to_string(),
            c => format!("'{c}'"),
        }
    }

    /// A numeric cell in this dialect (see [`parse_cell`]).
    pub fn parse(&self, cell: &str) -> std::result::Result<Option<f64>, ()> {
        parse_cell(cell, self.comma, self.dot)
    }
}

/// Which decimal marks are read, `(comma, dot)`: `decimal` if given (checked
/// against the delimiter), else `.`, and `,` too when the delimiter is not `,`.
fn decimal_marks(decimal: Option<char>, delimiter: char) -> Result<(bool, bool)> {
    match decimal {
        None => Ok((delimiter != ',', true)),
        Some('.') => Ok((false, true)),
        Some(',') if delimiter == ',' => Err(Error::Config(
            "data.decimal = \",\" needs another delimiter than ',' (e.g. delimiter = \";\")".into(),
        )),
        Some(',') => Ok((true, false)),
        Some(c) => Err(Error::Config(format!(
            "data.decimal must be \".\" or \",\", got {c:?}"
        ))),
    }
}

/// Space-separated columns: runs of spaces and tabs become one space, spaces
/// at either end of a line none (line breaks, and so line numbers, kept).
fn collapse_spaces(text: &str) -> String {
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
    t
}

/// A numeric cell: `Ok(Some(v))`, `Ok(None)` for a missing marker, `Err(())` for other text.
pub(super) fn parse_cell(
    cell: &str,
    comma: bool,
    dot: bool,
) -> std::result::Result<Option<f64>, ()> {
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
pub(super) fn unquote(field: &str) -> Cow<'_, str> {
    let f = field.trim();
    if f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
        Cow::Owned(f[1..f.len() - 1].replace("\"\"", "\"").trim().to_string())
    } else {
        Cow::Borrowed(f)
    }
}

/// The column names of a file.
#[derive(Clone, Debug)]
pub(super) struct Header {
    /// The names (`0`, `1`, ... when the file has no header line).
    pub names: Vec<String>,
    /// The first line holds numbers only: it is data, not a header.
    pub headerless: bool,
}

/// Reads the header line of `text` and returns the reader positioned at the
/// first data row. A first line of numbers only is data (`numpy.savetxt`
/// writes no header): the columns are then named 0, 1, ... as pandas'
/// `header=None` does, and `notes` says so.
pub(super) fn read_header<'t>(
    d: &Dialect,
    text: &'t str,
    source: &str,
    notes: &mut Vec<String>,
) -> Result<(csv::Reader<&'t [u8]>, Header)> {
    let mut rdr = d.reader(text, true);
    let names: Vec<String> = rdr
        .headers()
        .map_err(|e| {
            Error::Data(format!(
                "{source}: line {} (header): {e}",
                1 + d.line_offset
            ))
        })?
        .iter()
        .map(|s| unquote(s).into_owned())
        .collect();
    let headerless = names
        .iter()
        .all(|h| matches!(parse_cell(h, d.delimiter != ',', true), Ok(Some(_))));
    if !headerless {
        return Ok((rdr, Header { names, headerless }));
    }
    let names: Vec<String> = (0..names.len()).map(|i| i.to_string()).collect();
    notes.push(format!(
        "{source}: the first line holds numbers only, so the file has no header line: \
         its columns are named {} (as pandas' header=None names them)",
        names.join(", ")
    ));
    Ok((d.reader(text, false), Header { names, headerless }))
}
