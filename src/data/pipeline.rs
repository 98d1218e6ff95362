//! The fitted, serialisable part of the data pipeline ([`Pipeline`]): what a
//! saved model needs to turn rows into inputs and its outputs back into
//! original units. Stored in model files; every field added since the first
//! format has a serde default, so older files load unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::time::{CalendarEncoding, CalendarFeature, YearRange};
use super::{CsvOptions, Fill, Frame, Scaler, TimeOrder, WindowSpec, Windows};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The fitted, serialisable part of the pipeline: what a saved model needs to
/// turn new rows into inputs and its outputs back into original units.
///
/// Model inputs, per window row `r` (channel order, see [`Pipeline::input_names`]):
/// the past covariates `features` (differenced when asked, scaled); for every
/// offset `k = 0..=horizon`, the known-ahead channels (future covariates,
/// scaled, then calendar features) of row `r + k`; the static covariates
/// (scaled); the id one-hot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Past-covariate input columns, in feature order.
    pub features: Vec<String>,
    /// Target columns, in output order.
    pub targets: Vec<String>,
    /// Time column (for plots), if any.
    pub time_column: Option<String>,
    /// Window geometry.
    pub window: WindowSpec,
    /// 0 or 1 (first differences of the features and targets).
    pub difference: usize,
    /// Missing-cell policy used when reading new data.
    pub fill: Fill,
    /// Fitted scaler over `features`, the targets that are not features, then
    /// the future covariates (fitted on differences when `difference = 1`,
    /// but for the future covariates); on the training rows of every series.
    pub scaler: Scaler,
    /// Field delimiter used for training data (`None`: detected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// Decimal mark used for training data (`None`: see [`CsvOptions::decimal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal: Option<char>,
    /// Row-order policy used for training data.
    #[serde(default, skip_serializing_if = "TimeOrder::is_auto")]
    pub time_order: TimeOrder,
    /// The id column of a long-format panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// Columns known for the whole horizon (scaled, not differenced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub future_covariates: Vec<String>,
    /// Calendar features of the time column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendar: Vec<CalendarFeature>,
    /// Their encoding.
    #[serde(default, skip_serializing_if = "CalendarEncoding::is_default")]
    pub calendar_encoding: CalendarEncoding,
    /// The training rows' year range (`calendar` with `year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_years: Option<YearRange>,
    /// Columns constant within a series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_covariates: Vec<String>,
    /// The scaler of the static covariates, fitted on one row per series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_scaler: Option<Scaler>,
    /// The ids of the id one-hot, in channel order (empty: no one-hot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub onehot_ids: Vec<String>,
    /// Per-series scalers (`scale_per_series`), by id, each fitted on its
    /// series' training rows; empty: `scaler` serves every series.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub series_scalers: BTreeMap<String, Scaler>,
}

impl Pipeline {
    /// Number of model input channels (see the type's documentation).
    pub fn n_features(&self) -> usize {
        self.features.len()
            + self.known_width() * (self.window.horizon + 1)
            + self.static_covariates.len()
            + self.onehot_ids.len()
    }

    /// Known-ahead channels per row: future covariates, then calendar channels.
    pub fn known_width(&self) -> usize {
        self.future_covariates.len()
            + self
                .calendar
                .iter()
                .map(|c| c.width(self.calendar_encoding))
                .sum::<usize>()
    }

    /// The names of the input channels, in order: `WorkDay@+1` is the future
    /// covariate one row after the input row; `id=NSW` a one-hot channel.
    pub fn input_names(&self) -> Vec<String> {
        let mut out = self.features.clone();
        let mut known = self.future_covariates.clone();
        for c in &self.calendar {
            known.extend(c.channel_names(self.calendar_encoding));
        }
        for k in 0..=self.window.horizon {
            for n in &known {
                out.push(if k == 0 {
                    n.clone()
                } else {
                    format!("{n}@+{k}")
                });
            }
        }
        out.extend(self.static_covariates.iter().cloned());
        out.extend(self.onehot_ids.iter().map(|i| format!("id={i}")));
        out
    }

    /// Number of targets.
    pub fn n_targets(&self) -> usize {
        self.targets.len()
    }

    /// Model output width: `horizon * n_targets`.
    pub fn output_width(&self) -> usize {
        self.window.horizon * self.targets.len()
    }

    /// Per-sample model input shape `[timesteps, n_features]`.
    pub fn input_shape(&self) -> [usize; 2] {
        [self.window.timesteps, self.n_features()]
    }

    /// Scaler column of target `t`.
    pub fn target_scaler_column(&self, t: usize) -> usize {
        self.scaler
            .column_index(&self.targets[t])
            .unwrap_or(self.features.len() + t)
    }

    /// Position of target `t` among the features, if it is one (for recursive forecasting).
    pub fn target_feature_index(&self, t: usize) -> Option<usize> {
        self.features.iter().position(|f| *f == self.targets[t])
    }

    /// Whether scaler column `c` is differenced (`difference = 1`; never the
    /// future covariates, which are levels known ahead).
    pub fn is_differenced(&self, c: usize) -> bool {
        self.difference == 1
            && self
                .scaler
                .columns
                .get(c)
                .is_some_and(|n| !self.future_covariates.contains(n))
    }

    /// The scaler of series `id` (the shared one without per-series scalers).
    pub fn scaler_for(&self, id: &str) -> Option<&Scaler> {
        if self.series_scalers.is_empty() {
            Some(&self.scaler)
        } else {
            self.series_scalers.get(id)
        }
    }

    /// The scaler of the series holding row `row` of `frame`.
    pub(crate) fn scaler_at(&self, frame: &Frame, row: usize) -> Result<&Scaler> {
        if self.series_scalers.is_empty() {
            return Ok(&self.scaler);
        }
        // the series are contiguous and in row order
        let i = frame.series.partition_point(|(_, r)| r.end <= row);
        let id = frame
            .series
            .get(i)
            .filter(|(_, r)| r.contains(&row))
            .map(|(id, _)| id.as_str())
            .unwrap_or_default();
        self.scaler_for(id).ok_or_else(|| {
            Error::Data(format!(
                "{}: series '{id}' has no scaler in this pipeline (it was not in the training data)",
                frame.source
            ))
        })
    }

    /// CSV options that read the columns this pipeline needs.
    pub fn csv_options(&self) -> CsvOptions {
        let mut columns = self.scaler.columns.clone();
        columns.extend(self.static_covariates.iter().cloned());
        CsvOptions {
            id_column: self.id_column.clone(),
            time_column: self.time_column.clone(),
            columns,
            fill: self.fill,
            delimiter: self.delimiter,
            decimal: self.decimal,
            time_order: self.time_order,
            open_tail: None,
        }
    }

    /// Windows over original rows `rows` of `frame` (within one series),
    /// anchors in original row numbers.
    pub fn windows(
        &self,
        frame: &Frame,
        rows: std::ops::Range<usize>,
        stride: usize,
    ) -> Result<Windows> {
        let (id, series) = frame
            .series_ranges()
            .into_iter()
            .find(|(_, r)| r.contains(&rows.start))
            .ok_or_else(|| {
                Error::Data(format!(
                    "{}: rows {}..{}: no such rows ({} rows)",
                    frame.source,
                    rows.start,
                    rows.end,
                    frame.n_rows()
                ))
            })?;
        let view = self.series_view(frame, &id, series.clone())?;
        let local = (rows.start - series.start)..(rows.end.min(series.end) - series.start);
        let mut w = self.view_windows(&view, local, stride, &frame.source)?;
        for a in &mut w.anchors {
            *a += series.start;
        }
        Ok(w)
    }

    /// Model inputs for forecasting from the end of `frame` (one series,
    /// without future covariates or calendar features: those need the rows
    /// after the history, see [`crate::forecast`]): the last `count` windows,
    /// the newest last (anchors `n_rows - count .. n_rows`), shape
    /// `(count, timesteps, features)`. `y` is empty (the future is unknown).
    /// Turn the model's output into levels with [`Pipeline::to_levels`] and
    /// the returned anchors.
    pub fn latest_windows(&self, frame: &Frame, count: usize) -> Result<Windows> {
        let n = frame.n_rows();
        let ts = self.window.timesteps;
        let need = ts + self.difference + count.max(1) - 1;
        if count == 0 {
            return Err(Error::Config(
                "latest_windows: count must be at least 1".into(),
            ));
        }
        if self.known_width() > 0 || frame.series.len() > 1 {
            return Err(Error::Config(format!(
                "{}: latest_windows takes one series without known-ahead inputs; forecast \
                 (crate::forecast) reads future covariates and panels",
                frame.source
            )));
        }
        if n < need {
            return Err(Error::Data(format!(
                "{}: {n} rows, but {count} forecast window(s) of timesteps {ts}{} need {need} rows",
                frame.source,
                if self.difference == 1 {
                    " on differences"
                } else {
                    ""
                }
            )));
        }
        let id = frame
            .series
            .first()
            .map(|s| s.0.clone())
            .unwrap_or_default();
        let view = self.series_view(frame, &id, 0..n)?;
        let mut x = Vec::with_capacity(count * ts * self.n_features());
        for a in n - count..n {
            self.push_window(&view, a, &mut x);
        }
        Ok(Windows {
            x: Tensor::new(&[count, ts, self.n_features()], x)?,
            y: Tensor::zeros(&[count, 0]),
            anchors: (n - count..n).collect(),
        })
    }

    /// Turns model outputs (scaled, possibly differenced; `(windows, horizon *
    /// targets)`, step-major) back into original-unit levels, same layout.
    /// `anchors[i]` is window `i`'s last input row in `frame`.
    pub fn to_levels(&self, frame: &Frame, anchors: &[usize], pred: &Tensor) -> Result<Vec<f64>> {
        let w = self.output_width();
        let nt = self.targets.len();
        if pred.len() != anchors.len() * w || (pred.ndim() > 0 && pred.batch() != anchors.len()) {
            return Err(Error::Shape(format!(
                "predictions of shape {:?} for {} windows of {} outputs (horizon {} x {} targets)",
                pred.shape,
                anchors.len(),
                w,
                self.window.horizon,
                nt
            )));
        }
        let levels: Vec<&[f64]> = self
            .targets
            .iter()
            .map(|t| frame.require(t))
            .collect::<Result<_>>()?;
        let n = frame.n_rows();
        let mut out = Vec::with_capacity(pred.len());
        let mut cum = vec![0.0f64; nt];
        for (i, &a) in anchors.iter().enumerate() {
            if a >= n {
                return Err(Error::Shape(format!(
                    "window anchor row {a} is past the end of {} ({n} rows)",
                    frame.source
                )));
            }
            let scaler = self.scaler_at(frame, a)?;
            cum.iter_mut().for_each(|c| *c = 0.0);
            for k in 0..self.window.horizon {
                for t in 0..nt {
                    let s = pred.data[i * w + k * nt + t] as f64;
                    let v = scaler.inverse_transform(self.target_scaler_column(t), s);
                    out.push(if self.difference == 1 {
                        cum[t] += v;
                        levels[t][a] + cum[t]
                    } else {
                        v
                    });
                }
            }
        }
        Ok(out)
    }

    /// The true original-unit targets of windows with these anchors (rows
    /// `anchor + 1 ..= anchor + horizon` must exist in `frame`).
    pub fn truth(&self, frame: &Frame, anchors: &[usize]) -> Result<Vec<f64>> {
        let levels: Vec<&[f64]> = self
            .targets
            .iter()
            .map(|t| frame.require(t))
            .collect::<Result<_>>()?;
        let n = frame.n_rows();
        let h = self.window.horizon;
        let mut out = Vec::with_capacity(anchors.len() * h * levels.len());
        for &a in anchors {
            if a + h >= n {
                return Err(Error::Shape(format!(
                    "window anchored at row {a} needs rows up to {} but {} has {n}",
                    a + h,
                    frame.source
                )));
            }
            for k in 0..h {
                for l in &levels {
                    out.push(l[a + 1 + k]);
                }
            }
        }
        Ok(out)
    }
}

impl Windows {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True when there is no window.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The first `n` windows and the rest (Keras' `validation_split` cut).
    pub fn split_at(&self, n: usize) -> Result<(Windows, Windows)> {
        let n = n.min(self.len());
        Ok((self.slice(0..n)?, self.slice(n..self.len())?))
    }

    /// Windows `range` (by index).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Result<Windows> {
        let (a, b) = (range.start.min(self.len()), range.end.min(self.len()));
        let b = b.max(a);
        let xs: usize = self.x.shape.iter().skip(1).product();
        let ys: usize = self.y.shape.iter().skip(1).product();
        let mut xshape = self.x.shape.clone();
        xshape[0] = b - a;
        let mut yshape = self.y.shape.clone();
        yshape[0] = b - a;
        Ok(Windows {
            x: Tensor::new(&xshape, self.x.data[a * xs..b * xs].to_vec())?,
            y: Tensor::new(&yshape, self.y.data[a * ys..b * ys].to_vec())?,
            anchors: self.anchors[a..b].to_vec(),
        })
    }

    /// No window, with these per-window shapes.
    pub(crate) fn empty(timesteps: usize, features: usize, outputs: usize) -> Windows {
        Windows {
            x: Tensor::zeros(&[0, timesteps, features]),
            y: Tensor::zeros(&[0, outputs]),
            anchors: Vec::new(),
        }
    }

    /// Appends `other`'s windows (same per-window shapes).
    pub(crate) fn append(&mut self, other: Windows) -> Result<()> {
        if self.x.shape[1..] != other.x.shape[1..] || self.y.shape[1..] != other.y.shape[1..] {
            return Err(Error::Shape(format!(
                "windows of shape {:?}/{:?} appended to {:?}/{:?}",
                other.x.shape, other.y.shape, self.x.shape, self.y.shape
            )));
        }
        self.x.shape[0] += other.x.shape[0];
        self.y.shape[0] += other.y.shape[0];
        self.x.data.extend(other.x.data);
        self.y.data.extend(other.y.data);
        self.anchors.extend(other.anchors);
        Ok(())
    }
}
