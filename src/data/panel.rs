//! Panels: many series in one long-format file, one global model.
//!
//! # Data
//! With `[data] id_column = "region"`, the CSV holds one series per id
//! (rows grouped by id, series in order of first appearance, each in time
//! order; see [`crate::data::csv`]), each with its own length and start. The
//! loaded [`Frame`] keeps every series' rows contiguous and lists them in
//! [`Frame::series`]; a file without an id column is a panel of one series
//! (id `""`). [`Panel`] and [`SeriesRef`] are the read-only view other
//! modules (backtests, reports) use:
//!
//! ```
//! use lstmkit::data::{Frame, Panel};
//! let y: Vec<f64> = (0..10).map(|v| v as f64).collect();
//! let frame = Frame::from_columns("inline", vec![("y".into(), y)]).unwrap()
//!     .with_series("id", vec![("a".into(), 0..4), ("b".into(), 4..10)]).unwrap();
//! let panel = Panel::new(&frame);
//! assert_eq!(panel.ids(), ["a", "b"]);
//! let b = panel.get("b").unwrap();
//! assert_eq!((b.len(), b.values("y").unwrap()[0]), (6, 4.0));
//! ```
//!
//! # Training ([`crate::data::prepare_frame`])
//! Each series is split chronologically on its own (`floor((1 - test_split)
//! · len)` training rows), its scaler (`scale_per_series`, default with an
//! id column) is fitted on its training rows only, and its windows are
//! built on its own rows, so **no window crosses two series**. The windows
//! of all series are concatenated into one training set (the fit shuffles
//! them across series) for one global model; validation takes the last
//! `validation_split` of each series' training windows. A series too short
//! for one training (and, with a test part, one test) window is skipped with
//! a note naming it; the run fails only when no series is left.
//!
//! # Inputs of a window ([`Pipeline`])
//! For the window of input rows `a - timesteps + 1 ..= a` (anchor `a`), row
//! `r` carries the past covariates at `r`, then for `k = 0..=horizon` the
//! known-ahead channels — future covariates and calendar features — of row
//! `r + k`: the last row (`r = a`) thus holds the future covariates of every
//! step `a + 1 ..= a + horizon` the window predicts (direct multi-output),
//! and a recursive forecast feeds each step's covariates with it. Static
//! covariates and the id one-hot follow, the same on every row.

use std::borrow::Cow;

use super::time::{encode_all, TimeColumn, TimeValue};
use super::{too_short, Frame, Pipeline, Scaler, WindowSpec, Windows};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A read-only view of the series of a frame.
#[derive(Clone, Copy, Debug)]
pub struct Panel<'a> {
    /// The frame (every series' rows contiguous).
    pub frame: &'a Frame,
}

/// One series of a [`Panel`]: its id and rows in the frame.
#[derive(Clone, Debug)]
pub struct SeriesRef<'a> {
    /// The id (`""` for the one series of a file without an id column).
    pub id: &'a str,
    /// Its rows in the frame.
    pub rows: std::ops::Range<usize>,
    frame: &'a Frame,
}

impl<'a> Panel<'a> {
    /// The series of `frame`.
    pub fn new(frame: &'a Frame) -> Panel<'a> {
        Panel { frame }
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.frame.series.len().max(1)
    }

    /// Always false: a frame is at least one series.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The ids, in row order.
    pub fn ids(&self) -> Vec<&'a str> {
        self.series().map(|s| s.id).collect()
    }

    /// Every series, in row order.
    pub fn series(&self) -> impl Iterator<Item = SeriesRef<'a>> + 'a {
        let frame = self.frame;
        let whole = frame
            .series
            .is_empty()
            .then(|| SeriesRef {
                id: "",
                rows: 0..frame.n_rows(),
                frame,
            })
            .into_iter();
        whole.chain(frame.series.iter().map(move |(id, rows)| SeriesRef {
            id: id.as_str(),
            rows: rows.clone(),
            frame,
        }))
    }

    /// The series `id`.
    pub fn get(&self, id: &str) -> Option<SeriesRef<'a>> {
        self.series().find(|s| s.id == id)
    }
}

impl<'a> SeriesRef<'a> {
    /// Its number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True without rows (never for a loaded frame).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Its values of a numeric column.
    pub fn values(&self, column: &str) -> Result<&'a [f64]> {
        Ok(&self.frame.require(column)?[self.rows.clone()])
    }

    /// Its time cells, as written.
    pub fn times(&self) -> Option<&'a [String]> {
        self.frame.time.as_ref().map(|t| &t[self.rows.clone()])
    }

    /// The series alone, as a frame of its own (no id column).
    pub fn to_frame(&self) -> Frame {
        let f = self.frame;
        Frame {
            source: if self.id.is_empty() {
                f.source.clone()
            } else {
                format!("{} (series '{}')", f.source, self.id)
            },
            time_column: f.time_column.clone(),
            time: self.times().map(<[String]>::to_vec),
            columns: f.columns.clone(),
            data: f
                .data
                .iter()
                .map(|c| c[self.rows.clone()].to_vec())
                .collect(),
            filled: vec![0; f.columns.len()],
            notes: Vec::new(),
            id_column: None,
            series: Vec::new(),
        }
    }
}

/// One series as the model sees it: the original-unit values of every scaler
/// column (a forecast appends rows), the model-space known-ahead channels of
/// every row, the constant channels, and its scaler.
#[derive(Clone, Debug)]
pub struct SeriesView<'a> {
    /// `cols[c][r]`: scaler column `c` at row `r`, original units.
    pub cols: Vec<Vec<f64>>,
    /// `known[c][r]`: known-ahead channel `c` at row `r`, model space.
    pub known: Vec<Vec<f64>>,
    /// Static covariates (scaled) and the id one-hot.
    pub constant: Vec<f64>,
    /// The series' scaler.
    pub scaler: Cow<'a, Scaler>,
}

impl Pipeline {
    /// The calendar channels of `times`, one vector per channel.
    pub(crate) fn calendar_channels(
        &self,
        times: &[TimeValue],
        source: &str,
    ) -> Result<Vec<Vec<f64>>> {
        let width = self.known_width() - self.future_covariates.len();
        let mut out = vec![Vec::with_capacity(times.len()); width];
        for (r, t) in times.iter().enumerate() {
            let v = encode_all(
                &self.calendar,
                t,
                self.calendar_encoding,
                self.calendar_years,
            )
            .ok_or_else(|| {
                Error::Data(format!(
                    "{source}: row {}: calendar features need dates in the time column '{}'",
                    r + 1,
                    self.time_column.as_deref().unwrap_or_default()
                ))
            })?;
            for (c, x) in v.into_iter().enumerate() {
                out[c].push(x);
            }
        }
        Ok(out)
    }

    /// The time values of time cells, for calendar features (`None` without any).
    pub(crate) fn time_values(
        &self,
        cells: Option<&[String]>,
        source: &str,
    ) -> Result<Option<Vec<TimeValue>>> {
        if self.calendar.is_empty() {
            return Ok(None);
        }
        let name = self.time_column.as_deref().unwrap_or_default();
        let cells = cells.ok_or_else(|| {
            Error::Data(format!(
                "{source}: calendar features need the time column '{name}'"
            ))
        })?;
        match TimeColumn::read(cells) {
            Ok(Some(c)) => Ok(Some(c.values)),
            Ok(None) => Err(Error::Data(format!(
                "{source}: calendar features need dates, but the time column '{name}' holds \
                 labels ('{}')",
                cells.first().map(String::as_str).unwrap_or_default()
            ))),
            Err(bad) => Err(Error::Data(format!(
                "{source}: time column '{name}': {bad}"
            ))),
        }
    }

    /// The constant channels of series `id` (static covariates from `statics`,
    /// original units, then the one-hot).
    pub(crate) fn constant_channels(&self, id: &str, statics: &[f64]) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(statics.len() + self.onehot_ids.len());
        for (c, &v) in statics.iter().enumerate() {
            out.push(match &self.static_scaler {
                Some(s) => s.transform(c, v),
                None => v,
            });
        }
        if !self.onehot_ids.is_empty() {
            let at = self
                .onehot_ids
                .iter()
                .position(|i| i == id)
                .ok_or_else(|| {
                    Error::Data(format!(
                        "series '{id}' is not one of the {} ids the model was trained with (it \
                     one-hots the id)",
                        self.onehot_ids.len()
                    ))
                })?;
            out.extend((0..self.onehot_ids.len()).map(|i| if i == at { 1.0 } else { 0.0 }));
        }
        Ok(out)
    }

    /// The view of series `id`, rows `rows` of `frame`, with its own scaler.
    pub fn series_view(
        &self,
        frame: &Frame,
        id: &str,
        rows: std::ops::Range<usize>,
    ) -> Result<SeriesView<'_>> {
        let scaler = self.scaler_at(frame, rows.start)?;
        self.series_view_with(frame, id, rows, Cow::Borrowed(scaler))
    }

    /// [`Pipeline::series_view`] with a given scaler.
    pub(crate) fn series_view_with<'s>(
        &self,
        frame: &Frame,
        id: &str,
        rows: std::ops::Range<usize>,
        scaler: Cow<'s, Scaler>,
    ) -> Result<SeriesView<'s>> {
        let cols = self
            .scaler
            .columns
            .iter()
            .map(|c| Ok(frame.require(c)?[rows.clone()].to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut known = Vec::with_capacity(self.known_width());
        for name in &self.future_covariates {
            let c = scaler
                .column_index(name)
                .ok_or_else(|| Error::Data(format!("the scaler has no column '{name}'")))?;
            let mut v = frame.require(name)?[rows.clone()].to_vec();
            scaler.transform_slice(c, &mut v);
            known.push(v);
        }
        let cells = frame.time.as_ref().map(|t| &t[rows.clone()]);
        if let Some(times) = self.time_values(cells, &frame.source)? {
            known.extend(self.calendar_channels(&times, &frame.source)?);
        }
        let statics = self
            .static_covariates
            .iter()
            .map(|c| Ok(frame.require(c)?[rows.start]))
            .collect::<Result<Vec<_>>>()?;
        Ok(SeriesView {
            cols,
            known,
            constant: self.constant_channels(id, &statics)?,
            scaler,
        })
    }

    /// Model-space value of scaler column `c` at row `r` (differenced when asked).
    #[inline]
    fn model_value(&self, v: &SeriesView, c: usize, r: usize) -> f64 {
        let col = &v.cols[c];
        let x = if self.is_differenced(c) {
            col[r] - col[r - 1]
        } else {
            col[r]
        };
        v.scaler.transform(c, x)
    }

    /// Appends the inputs of the window anchored at row `a` of `v` (rows
    /// `a - timesteps + 1 ..= a`; known-ahead channels up to row `a + horizon`).
    pub(crate) fn push_window(&self, v: &SeriesView, a: usize, x: &mut Vec<f32>) {
        let ts = self.window.timesteps;
        for r in a + 1 - ts..=a {
            self.push_row(v, r, x);
        }
    }

    /// Appends the inputs of row `r` of `v` (one time step of a window:
    /// features, known-ahead channels of rows `r..=r + horizon`, constants).
    pub(crate) fn push_row(&self, v: &SeriesView, r: usize, x: &mut Vec<f32>) {
        for j in 0..self.features.len() {
            x.push(self.model_value(v, j, r) as f32);
        }
        for k in 0..=self.window.horizon {
            for col in &v.known {
                x.push(col[r + k] as f32);
            }
        }
        x.extend(v.constant.iter().map(|&c| c as f32));
    }

    /// Appends the model-space target values of row `r` of `v`.
    pub(crate) fn push_target_row(&self, v: &SeriesView, r: usize, y: &mut Vec<f32>) {
        for t in 0..self.targets.len() {
            let c = self.target_scaler_column(t);
            y.push(self.model_value(v, c, r) as f32);
        }
    }

    /// Appends the model-space targets of the window anchored at row `a`.
    pub(crate) fn push_target(&self, v: &SeriesView, a: usize, y: &mut Vec<f32>) {
        for k in 0..self.window.horizon {
            for t in 0..self.targets.len() {
                let c = self.target_scaler_column(t);
                y.push(self.model_value(v, c, a + 1 + k) as f32);
            }
        }
    }

    /// The rows of `rows` that can end windows' inputs (from `difference` on,
    /// within the view) and the window geometry with `stride`; an error naming
    /// `source` and the rows when they are too few for one window.
    pub(crate) fn window_rows(
        &self,
        v: &SeriesView,
        rows: std::ops::Range<usize>,
        stride: usize,
        source: &str,
    ) -> Result<(std::ops::Range<usize>, WindowSpec)> {
        let len = v.cols.first().map_or(0, Vec::len);
        let rows = rows.start.max(self.difference)..rows.end.min(len);
        let n = rows.end.saturating_sub(rows.start);
        let spec = WindowSpec {
            stride,
            ..self.window
        };
        spec.validate()?;
        if n < spec.span() {
            return Err(match too_short(n, &spec) {
                Error::Data(m) => {
                    Error::Data(format!("{source}: rows {}..{}: {m}", rows.start, rows.end))
                }
                e => e,
            });
        }
        Ok((rows, spec))
    }

    /// The windows over local rows `rows` of a series view (every full
    /// window, `stride` apart; anchors local). `offset` is the view's first
    /// row in `source`, for messages.
    pub(crate) fn view_windows(
        &self,
        v: &SeriesView,
        rows: std::ops::Range<usize>,
        stride: usize,
        source: &str,
    ) -> Result<Windows> {
        let (rows, spec) = self.window_rows(v, rows, stride, source)?;
        let n = rows.len();
        let count = spec.count(n);
        let (ts, nf, w) = (spec.timesteps, self.n_features(), self.output_width());
        let mut x = Vec::with_capacity(count * ts * nf);
        let mut y = Vec::with_capacity(count * w);
        let mut anchors = Vec::with_capacity(count);
        for i in 0..count {
            let a = rows.start + i * stride + ts - 1;
            self.push_window(v, a, &mut x);
            self.push_target(v, a, &mut y);
            anchors.push(a);
        }
        Ok(Windows {
            x: Tensor::new(&[count, ts, nf], x)?,
            y: Tensor::new(&[count, w], y)?,
            anchors,
        })
    }
}
