//! Missing cells: their spellings, the fill policies, and the open tail of a
//! forecast file whose missing cells are read as NaN.

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

/// True for the spellings of a missing value that [`Fill`] may fill:
/// pandas' default `na_values`, plus `?` (UCI files), `-` / `--` (ENTSO-E,
/// spreadsheets) and `.` (FRED's CSV downloads).
pub(super) fn is_missing_marker(s: &str) -> bool {
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

/// Where cells may stay missing: in the open columns, in the last rows of
/// each segment (a series of a panel; the whole file otherwise), after ordering.
pub(super) struct Tail {
    open: Vec<bool>,
    /// `(start, tail_start, end)` of every segment, in row order.
    segments: Vec<(usize, usize, usize)>,
}

impl Tail {
    /// The open tail of each segment (`segments`: `(name, rows)`; one unnamed
    /// segment for a file without an id column) for the columns `names` (none
    /// without `tail`); an error when it would leave a segment no history row.
    pub fn new(
        tail: Option<&OpenTail>,
        names: &[String],
        segments: &[(String, std::ops::Range<usize>)],
        source: &str,
    ) -> Result<Tail> {
        let mut t = Tail {
            open: vec![false; names.len()],
            segments: segments
                .iter()
                .map(|(_, r)| (r.start, r.end, r.end))
                .collect(),
        };
        if let Some(tail) = tail {
            for (seg, (id, r)) in t.segments.iter_mut().zip(segments) {
                let n = r.len();
                if tail.rows >= n {
                    let which = if id.is_empty() {
                        String::new()
                    } else {
                        format!(" of series '{id}'")
                    };
                    return Err(Error::Data(format!(
                        "{source}: {n} data rows{which}, but the last {} are to be the forecast \
                         period (future inputs known, targets not): no history row is left",
                        tail.rows
                    )));
                }
                seg.1 = r.end - tail.rows;
            }
            for (c, name) in names.iter().enumerate() {
                t.open[c] = tail.columns.contains(name);
            }
        }
        Ok(t)
    }

    /// True when row `k` (after ordering) is in the open tail of its segment.
    fn in_tail_row(&self, k: usize) -> bool {
        self.segments
            .iter()
            .any(|&(_, tail_start, end)| k >= tail_start && k < end)
    }
}

/// Without a fill method, the first missing cell outside the open tail is an
/// error naming its line. `missing` holds (file row, column, text); `order`
/// maps rows to file rows; `lines` are the file rows' lines.
pub(super) fn check_gaps(
    missing: &[(usize, usize, String)],
    order: Option<&[usize]>,
    tail: &Tail,
    lines: &[u64],
    names: &[String],
    source: &str,
) -> Result<()> {
    // position[file row] = its row after ordering
    let mut position: Vec<usize> = (0..lines.len()).collect();
    if let Some(o) = order {
        for (k, &r) in o.iter().enumerate() {
            position[r] = k;
        }
    }
    let in_tail = |row: usize, c: usize| tail.open[c] && tail.in_tail_row(position[row]);
    let Some((row, c, cell)) = missing.iter().find(|(r, c, _)| !in_tail(*r, *c)) else {
        return Ok(());
    };
    let what = if cell.is_empty() {
        "missing value".to_string()
    } else {
        format!("missing value '{cell}'")
    };
    Err(Error::Data(format!(
        "{source}: line {}, column '{}': {what} (set fill = \"interpolate\" or \"ffill\" to fill gaps)",
        lines[*row], names[*c]
    )))
}

/// The numeric columns (rows already ordered): gaps before the tail filled by
/// `fill`, missing cells in the tail NaN. Returns the columns and the number
/// of cells filled in each; a column with no value at all is an error.
pub(super) fn fill_columns(
    data: Vec<Vec<Option<f64>>>,
    tail: &Tail,
    fill: Fill,
    lines: &[u64],
    names: &[String],
    source: &str,
) -> Result<(Vec<Vec<f64>>, Vec<usize>)> {
    let mut out = Vec::with_capacity(names.len());
    let mut filled = Vec::with_capacity(names.len());
    for (c, col) in data.into_iter().enumerate() {
        // each segment (series) is filled on its own: no value crosses into another series
        let mut v = Vec::with_capacity(col.len());
        let mut n_missing = 0;
        for &(start, tail_start, end) in &tail.segments {
            let body_end = if tail.open[c] { tail_start } else { end };
            let (body, open) = (&col[start..body_end], &col[body_end..end]);
            let missing = body.iter().filter(|v| v.is_none()).count();
            if missing == body.len() {
                let rows = &lines[start..end];
                return Err(Error::Data(format!(
                    "{source}: column '{}' has no value at all (lines {}..{})",
                    names[c],
                    rows.iter().min().copied().unwrap_or(0),
                    rows.iter().max().copied().unwrap_or(0)
                )));
            }
            n_missing += missing;
            v.extend(fill_column(body, fill));
            v.extend(open.iter().map(|x| x.unwrap_or(f64::NAN)));
        }
        filled.push(n_missing);
        out.push(v);
    }
    Ok((out, filled))
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
