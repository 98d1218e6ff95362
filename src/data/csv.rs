//! Reading a CSV file into a [`Frame`]: a header line, an optional time
//! column kept as text, and selected numeric columns as `f64`.
//!
//! Rules:
//! * the first line is the header (required); empty lines are skipped;
//!   fields are trimmed; a UTF-8 byte-order mark is ignored;
//! * a selected numeric cell must parse as a finite number. A cell that is
//!   *missing* — empty, `NA`, `N/A`, `NaN`, `nan`, `null`, `None`, `?` — is an
//!   [`Error::Data`] naming the file, the line (1-based, as an editor counts
//!   them: the header is line 1) and the column, unless [`Fill`] asks for
//!   it to be filled. Any other text (`abc`, `inf`, `1.2.3`) is always an error,
//!   even with a fill method: filling is for gaps, not for typos;
//! * [`Fill::Interpolate`] fills a gap linearly between its neighbours (by
//!   row position, like `pandas.Series.interpolate(method="linear")`), a
//!   trailing gap with the last value; [`Fill::Ffill`] repeats the last value.
//!   With both, a **leading** gap (before the first value of a column) is
//!   back-filled with the column's first value. A column with no value at all
//!   is an error;
//! * a row with more or fewer fields than the header is an error naming its line.
//!
//! ```
//! use lstmkit::data::{parse_csv, CsvOptions, Fill};
//! let text = "date,co2,other\n2000-01-01,1.0,x\n2000-01-08,,y\n2000-01-15,3.0,z\n";
//! let opts = CsvOptions {
//!     time_column: Some("date".into()),
//!     columns: vec!["co2".into()],
//!     fill: Fill::Interpolate,
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

/// What [`load_csv`] reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CsvOptions {
    /// Name of a column kept as text (dates for plots). `None`: no time column.
    pub time_column: Option<String>,
    /// Numeric columns to read, in this order. Empty: every column except the
    /// time column.
    pub columns: Vec<String>,
    /// Missing-cell policy.
    pub fill: Fill,
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
        Error::Data(format!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    parse_csv(&text, &path.display().to_string(), opts)
}

/// True for the spellings of a missing value that [`Fill`] may fill.
fn is_missing_marker(s: &str) -> bool {
    matches!(
        s,
        "" | "NA" | "N/A" | "n/a" | "na" | "NaN" | "nan" | "NAN" | "null" | "NULL" | "None" | "?"
    )
}

/// Parses CSV `text`; `source` names it in error messages (a path, or e.g. `bundled:co2`).
pub fn parse_csv(text: &str, source: &str, opts: &CsvOptions) -> Result<Frame> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::Data(format!(
            "{source}: the file is empty (a header line naming the columns is required)"
        )));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Data(format!("{source}: line 1 (header): {e}")))?
        .iter()
        .map(|s| s.to_string())
        .collect();
    let find = |name: &str| -> Result<usize> {
        header.iter().position(|h| h == name).ok_or_else(|| {
            Error::Data(format!(
                "{source}: no column '{name}' in the header (available columns: {})",
                header.join(", ")
            ))
        })
    };
    let time_idx = match &opts.time_column {
        Some(t) => Some(find(t)?),
        None => None,
    };
    let names: Vec<String> = if opts.columns.is_empty() {
        header
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != time_idx)
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
        let i = find(name)?;
        if header.iter().filter(|h| *h == name).count() > 1 {
            return Err(Error::Data(format!(
                "{source}: column '{name}' appears more than once in the header"
            )));
        }
        idx.push(i);
    }

    let mut data: Vec<Vec<Option<f64>>> = vec![Vec::new(); names.len()];
    let mut lines: Vec<u64> = Vec::new();
    let mut time: Vec<String> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::Data(format!("{source}: line {line}: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != header.len() {
            return Err(Error::Data(format!(
                "{source}: line {line}: {} fields, but the header has {}",
                record.len(),
                header.len()
            )));
        }
        if let Some(t) = time_idx {
            time.push(record[t].to_string());
        }
        for (c, &i) in idx.iter().enumerate() {
            let cell = &record[i];
            let value = match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ if is_missing_marker(cell) && opts.fill != Fill::None => None,
                _ => {
                    let what = if cell.is_empty() {
                        "missing value".to_string()
                    } else if is_missing_marker(cell) {
                        format!("missing value '{cell}'")
                    } else {
                        format!("'{cell}' is not a finite number")
                    };
                    let hint = if is_missing_marker(cell) {
                        " (set fill = \"interpolate\" or \"ffill\" to fill gaps)"
                    } else {
                        ""
                    };
                    return Err(Error::Data(format!(
                        "{source}: line {line}, column '{}': {what}{hint}",
                        names[c]
                    )));
                }
            };
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
    let mut out = Vec::with_capacity(names.len());
    let mut filled = Vec::with_capacity(names.len());
    for (c, col) in data.into_iter().enumerate() {
        let n_missing = col.iter().filter(|v| v.is_none()).count();
        if n_missing == col.len() {
            return Err(Error::Data(format!(
                "{source}: column '{}' has no value at all (lines {}..{})",
                names[c],
                lines[0],
                lines[lines.len() - 1]
            )));
        }
        filled.push(n_missing);
        out.push(fill_column(&col, opts.fill));
    }
    Ok(Frame {
        source: source.to_string(),
        time_column: opts.time_column.clone(),
        time: time_idx.map(|_| time),
        columns: names,
        data: out,
        filled,
    })
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
}
