//! Long-format files (one series per id): the rows grouped by series, each
//! series in time order.

use std::collections::HashMap;

use super::records::Records;
use super::{time_order, CsvOptions, SeriesRanges, TimeOrder};
use crate::error::{Error, Result};

/// The row order of a long-format file and its series: rows grouped by id
/// (series in order of first appearance, file order kept within a series),
/// then each series put in time order under `opts.time_order` (as a
/// one-series file is). Returns `order[k]` = the file row that becomes row
/// `k`, and `(id, rows)` of every series.
pub(super) fn group(
    recs: &Records,
    has_time: bool,
    source: &str,
    tname: &str,
    opts: &CsvOptions,
    notes: &mut Vec<String>,
) -> Result<(Vec<usize>, SeriesRanges)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (r, id) in recs.ids.iter().enumerate() {
        if id.is_empty() {
            return Err(Error::Data(format!(
                "{source}: line {}: a blank line inside a long-format file (the id column names \
                 the series of every row; remove the line)",
                recs.lines[r]
            )));
        }
        let g = *index.entry(id.as_str()).or_insert_with(|| {
            groups.push((id.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(r);
    }
    let mut order = Vec::with_capacity(recs.ids.len());
    let mut series = Vec::with_capacity(groups.len());
    let mut local_notes = Vec::new();
    for (id, rows) in groups {
        let start = order.len();
        let local = if has_time && opts.time_order != TimeOrder::File {
            let times: Vec<String> = rows.iter().map(|&r| recs.time[r].clone()).collect();
            let lines: Vec<u64> = rows.iter().map(|&r| recs.lines[r]).collect();
            let name = format!("{source} (series '{id}')");
            time_order(
                &times,
                &lines,
                &name,
                tname,
                opts.time_order,
                &mut local_notes,
            )?
        } else {
            None
        };
        match local {
            Some(o) => order.extend(o.iter().map(|&k| rows[k])),
            None => order.extend_from_slice(&rows),
        }
        series.push((id, start..order.len()));
    }
    // one note per kind of change, not one per series
    if let Some(first) = local_notes.first() {
        if local_notes.len() == 1 {
            notes.push(first.clone());
        } else {
            notes.push(format!(
                "{first} (and {} more such note(s) for other series)",
                local_notes.len() - 1
            ));
        }
    }
    Ok((order, series))
}
