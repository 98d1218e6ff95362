//! Reading the data rows into columns: the line number of each row, blank
//! and ragged rows, cells that are not numbers.

use super::dialect::{unquote, Dialect};
use super::Columns;
use crate::error::{Error, Result};

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

    /// The line of a reader position (0 when the reader gives none).
    fn line_at(&mut self, pos: Option<&csv::Position>) -> u64 {
        pos.map(|p| self.line_of(p.byte() as usize)).unwrap_or(0)
    }
}

/// The data rows of a file, in file order.
#[derive(Debug, Default)]
pub(super) struct Records {
    /// `data[column][row]`; `None` for a missing cell.
    pub data: Vec<Vec<Option<f64>>>,
    /// (row, column, text) of every missing cell, in file order.
    pub missing: Vec<(usize, usize, String)>,
    /// The line of each row.
    pub lines: Vec<u64>,
    /// The time column's cells (empty without a time column).
    pub time: Vec<String>,
    /// The id column's cells (empty without an id column).
    pub ids: Vec<String>,
}

/// Reads the rows after the header. A line of empty fields only (`,,,`) at
/// the end of the file is a trailing blank line (spreadsheet exports); before
/// a data row it is a row of missing cells. A row must have as many fields
/// as the header (`width`), or one empty field more (a delimiter ending the
/// line).
pub(super) fn read_records(
    rdr: &mut csv::Reader<&[u8]>,
    text: &str,
    d: &Dialect,
    width: usize,
    cols: &Columns,
    source: &str,
) -> Result<Records> {
    let mut recs = Records {
        data: vec![Vec::new(); cols.names.len()],
        ..Records::default()
    };
    let mut record = csv::StringRecord::new();
    let mut blank_rows: Vec<u64> = Vec::new();
    let mut counter = LineCounter {
        bytes: text.as_bytes(),
        at: 0,
        line: 1 + d.line_offset,
    };
    loop {
        let more = rdr.read_record(&mut record).map_err(|e| {
            let line = counter.line_at(e.position());
            Error::Data(format!("{source}: line {line}: {e}"))
        })?;
        if !more {
            break;
        }
        let line = counter.line_at(record.position());
        if record.iter().all(|f| f.is_empty()) {
            // a line of spaces is a blank line too
            if record.len() > 1 {
                blank_rows.push(line);
            }
            continue;
        }
        for blank in blank_rows.drain(..) {
            recs.push_blank(blank, cols.time.is_some(), cols.id.is_some());
        }
        // a delimiter after the last field of the data rows only: an empty extra field
        let trailing = record.len() == width + 1 && record.get(width) == Some("");
        if record.len() != width && !trailing {
            return Err(Error::Data(format!(
                "{source}: line {line}: {} fields, but the header has {width} (fields split on {})",
                record.len(),
                d.name()
            )));
        }
        recs.push_row(&record, line, d, cols, source)?;
    }
    Ok(recs)
}

impl Records {
    /// A row of missing cells (a line of empty fields before a data row).
    fn push_blank(&mut self, line: u64, has_time: bool, has_id: bool) {
        if has_time {
            self.time.push(String::new());
        }
        if has_id {
            self.ids.push(String::new());
        }
        let row = self.lines.len();
        for (c, col) in self.data.iter_mut().enumerate() {
            self.missing.push((row, c, String::new()));
            col.push(None);
        }
        self.lines.push(line);
    }

    /// A data row: its time cell and its selected numeric cells.
    fn push_row(
        &mut self,
        record: &csv::StringRecord,
        line: u64,
        d: &Dialect,
        cols: &Columns,
        source: &str,
    ) -> Result<()> {
        if let Some(t) = cols.time {
            self.time.push(unquote(&record[t]).into_owned());
        }
        if let Some(i) = cols.id {
            let id = unquote(&record[i]);
            if id.trim().is_empty() {
                return Err(Error::Data(format!(
                    "{source}: line {line}: the id column is empty (every row names its series)"
                )));
            }
            self.ids.push(id.into_owned());
        }
        let row = self.lines.len();
        for (c, &i) in cols.idx.iter().enumerate() {
            let cell = unquote(&record[i]);
            let cell = cell.as_ref();
            let Ok(value) = d.parse(cell) else {
                let header_like = row < 3
                    && cols
                        .idx
                        .iter()
                        .all(|&i| !record[i].bytes().any(|b| b.is_ascii_digit()));
                return Err(Error::Data(format!(
                    "{source}: line {line}, column '{}': '{cell}' is not a finite number{}",
                    cols.names[c],
                    not_a_number_hint(cell, d, header_like)
                )));
            };
            if value.is_none() {
                self.missing.push((row, c, cell.to_string()));
            }
            self.data[c].push(value);
        }
        self.lines.push(line);
        Ok(())
    }
}

/// Why a cell may not read as a number: a second header line (a row without
/// digits among the first rows), or a thousands separator / decimal mark the
/// dialect does not read.
fn not_a_number_hint(cell: &str, d: &Dialect, header_like: bool) -> &'static str {
    if header_like {
        " (this row looks like a second header line, as pandas writes for \
         multi-level columns and yfinance for its 'Ticker' and 'Date' rows; \
         remove such lines)"
    } else if cell.contains(',') && !d.comma {
        " (thousands separators are not read; a decimal comma needs delimiter \";\" or decimal = \",\")"
    } else if cell.contains('.') && !d.dot {
        " (decimal = \",\": '.' is not a decimal mark here; thousands separators are not read)"
    } else {
        ""
    }
}

/// `v` in the order `order` (file rows; `None`: as it is).
pub(super) fn reorder<T: Default>(mut v: Vec<T>, order: Option<&[usize]>) -> Vec<T> {
    match order {
        Some(o) => o.iter().map(|&r| std::mem::take(&mut v[r])).collect(),
        None => v,
    }
}
