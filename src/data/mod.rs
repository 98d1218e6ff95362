//! The data pipeline: CSV → scaled (optionally differenced) sliding windows,
//! split chronologically into train / validation / test, and back to
//! original units for every reported number.
//!
//! # Pipeline ([`prepare`])
//! The same steps as the reference (`../shared/bench/common.py`, used for
//! Keras' figures), on the **rows** of the file:
//! 1. load the CSV ([`load_csv`]): the target and feature columns, the time
//!    column as text;
//! 2. chronological split of the rows: the first
//!    `n_train = floor((1 - test_split) * n_rows)` rows are the training
//!    part, the rest the test part;
//! 3. with `difference = 1`, every column (features and targets) is replaced
//!    by its first difference `x[r] - x[r-1]` (row 0 has none, so the
//!    training part loses its first row; the test part's first difference uses
//!    the last training row, which is past data);
//! 4. the scaler is fitted on the training part only (the seed's guide
//!    fits it on everything, leaking the test set; we don't);
//! 5. windows ([`make_windows`]) are built separately on each part, so no
//!    window straddles the boundary: the training part gives
//!    `(n_train - difference - timesteps - horizon) / stride + 1` windows, the
//!    test part `n_rows - n_train - timesteps - horizon + 1` windows (every
//!    window: `stride` applies to the training windows only, so test scores
//!    do not depend on it);
//! 6. Keras' `validation_split`: the **last** `validation_split` fraction of
//!    the training windows, taken before any shuffling
//!    (`split_at = floor(n_windows * (1 - validation_split))`).
//!
//! Targets are flattened step-major: `y[i, k * n_targets + t]` (see
//! [`window`]). Predictions are turned back into original units by
//! [`Prepared::to_original_units`]: inverse scaling, and with
//! `difference = 1`, `level(anchor + 1 + k) = level(anchor) + Σ_{j ≤ k} change_j`
//! (for `horizon = 1`: previous true level + predicted change).
//!
//! ```
//! use lstmkit::data::{prepare_frame, DataSpec, Frame};
//! let series: Vec<f64> = (0..100).map(|i| (i as f64 * 0.3).sin() + 0.05 * i as f64).collect();
//! let frame = Frame::from_columns("inline", vec![("y".to_string(), series.clone())]).unwrap();
//! let mut spec = DataSpec::new("inline", &["y"]);
//! spec.timesteps = 5;
//! spec.validation_split = 0.2;
//! let p = prepare_frame(&spec, frame).unwrap();
//! assert_eq!((p.n_rows, p.n_train_rows), (100, 80));
//! assert_eq!(p.train.len() + p.val.len(), 80 - 5);
//! assert_eq!(p.val.len(), 15);
//! assert_eq!(p.test.len(), 20 - 5);
//! assert_eq!(p.test.x.shape, vec![15, 5, 1]);
//! // Scaled truths map back to the original series.
//! let back = p.to_original_units(&p.test.y).unwrap();
//! assert!((back[0] - series[85]).abs() < 1e-5);
//! assert_eq!(p.test_truth[0], series[85]);
//! ```

mod arrays;
pub mod csv;
pub mod scaler;
pub mod time;
pub mod window;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

pub use self::csv::{
    detect_delimiter, load_csv, parse_csv, CsvOptions, Fill, Frame, OpenTail, TimeOrder,
};
pub use self::scaler::{Scaler, ScalerKind};
pub use self::window::{make_windows, too_short, WindowSpec, Windows};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The bundled weekly Mauna Loa CO₂ series (`date,co2`, 2,284 rows; see
/// `data/PROVENANCE.md`). Also reachable as `path = "bundled:co2"`.
pub fn bundled_co2() -> &'static str {
    include_str!("../../data/co2_weekly.csv")
}

/// The bundled daily Seattle weather (`date,temp_max,temp_min,precipitation,wind`,
/// 1,461 rows; see `data/PROVENANCE.md`). Also reachable as
/// `path = "bundled:seattle_weather"`.
pub fn bundled_seattle_weather() -> &'static str {
    include_str!("../../data/seattle_weather.csv")
}

/// The text of a bundled dataset by name (`co2`, `seattle_weather`).
pub fn bundled(name: &str) -> Option<&'static str> {
    match name {
        "co2" => Some(bundled_co2()),
        "seattle_weather" | "seattle" | "weather" => Some(bundled_seattle_weather()),
        _ => None,
    }
}

/// Scaler names as written in a config file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalerName {
    /// Min-max to `feature_range` (the default, as in the seed).
    #[default]
    MinMax,
    /// Zero mean, unit population variance.
    Standard,
    /// No scaling.
    None,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    // a visitor, not an untagged enum: its error says what is expected
    struct OneOrMany;
    impl<'de> serde::de::Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a column name or a list of column names")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(OneOrMany)
}

/// `delimiter`: one character, or `"tab"`, `"comma"`, `"semicolon"`, `"pipe"`, `"space"`.
fn delimiter_char<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<char>, D::Error> {
    let s = String::deserialize(d)?;
    let mut chars = s.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(Some(c));
    }
    match s.to_ascii_lowercase().as_str() {
        "tab" | "\\t" => Ok(Some('\t')),
        "comma" => Ok(Some(',')),
        "semicolon" => Ok(Some(';')),
        "pipe" => Ok(Some('|')),
        "space" => Ok(Some(' ')),
        _ => Err(serde::de::Error::custom(format!(
            "delimiter {s:?}: one character (\",\", \";\", \"\\t\", \"|\") or tab, comma, semicolon, pipe, space"
        ))),
    }
}

fn d_timesteps() -> usize {
    10
}
fn d_one() -> usize {
    1
}
fn d_range() -> (f64, f64) {
    (0.0, 1.0)
}
fn d_test_split() -> f64 {
    0.2
}

/// The `[data]` table of an experiment file.
///
/// ```
/// let spec: lstmkit::data::DataSpec = toml::from_str(r#"
///     path = "co2_weekly.csv"
///     time_column = "date"
///     target = "co2"
///     timesteps = 10
///     scaler = "minmax"
///     test_split = 0.2
///     validation_split = 0.2
/// "#).unwrap();
/// assert_eq!(spec.target, vec!["co2"]);
/// assert_eq!(spec.feature_names(), vec!["co2"]);
/// assert_eq!((spec.horizon, spec.stride, spec.difference), (1, 1, 0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// CSV file, relative to the config file's folder (or absolute), or
    /// `bundled:co2` / `bundled:seattle_weather`.
    pub path: PathBuf,
    /// Column kept as text for plots (optional).
    #[serde(default)]
    pub time_column: Option<String>,
    /// Target column(s): a string or a list in the file.
    #[serde(deserialize_with = "one_or_many")]
    pub target: Vec<String>,
    /// Input columns; default: the targets.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Input rows per window (default 10, the seed's `look_back`).
    #[serde(default = "d_timesteps")]
    pub timesteps: usize,
    /// Steps predicted at once (default 1).
    #[serde(default = "d_one")]
    pub horizon: usize,
    /// Rows between training windows (default 1).
    #[serde(default = "d_one")]
    pub stride: usize,
    /// `minmax` (default), `standard` or `none`.
    #[serde(default)]
    pub scaler: ScalerName,
    /// Range of the `minmax` scaler (default `[0, 1]`).
    #[serde(default = "d_range")]
    pub feature_range: (f64, f64),
    /// Fraction of the rows kept for testing, at the end (default 0.2; 0 = no test part).
    #[serde(default = "d_test_split")]
    pub test_split: f64,
    /// Keras' `validation_split`: the last fraction of the training windows (default 0).
    #[serde(default)]
    pub validation_split: f64,
    /// Missing-cell policy (`none`, `interpolate`, `ffill`; default `none`).
    #[serde(default)]
    pub fill: Fill,
    /// 0 (default) or 1: train on first differences, report levels.
    #[serde(default)]
    pub difference: usize,
    /// Season length for the seasonal-naive baseline and MASE's scale (e.g. 52 for weekly data).
    #[serde(default)]
    pub season: Option<usize>,
    /// Field delimiter (`","`, `";"`, `"\t"` or `"tab"`, `"|"`); default:
    /// detected from the header line.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "delimiter_char"
    )]
    pub delimiter: Option<char>,
    /// Decimal mark (`"."` or `","`); default: `.`, and also `,` when the
    /// delimiter is not a comma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal: Option<char>,
    /// Row order by the time column: `auto` (default: in time order; a file
    /// written newest first is reversed; rows out of order are an error naming
    /// the lines; repeated times are kept, with a note), `sort` (sort the rows
    /// by time) or `file` (rows as they are, time as labels only).
    #[serde(default, skip_serializing_if = "TimeOrder::is_auto")]
    pub time_order: TimeOrder,
}

impl DataSpec {
    /// A spec with every default: `targets` as targets and features.
    pub fn new(path: impl Into<PathBuf>, targets: &[&str]) -> DataSpec {
        DataSpec {
            path: path.into(),
            time_column: None,
            target: targets.iter().map(|s| s.to_string()).collect(),
            features: None,
            timesteps: d_timesteps(),
            horizon: 1,
            stride: 1,
            scaler: ScalerName::MinMax,
            feature_range: d_range(),
            test_split: d_test_split(),
            validation_split: 0.0,
            fill: Fill::None,
            difference: 0,
            season: None,
            delimiter: None,
            decimal: None,
            time_order: TimeOrder::Auto,
        }
    }

    /// The input columns (the targets when `features` is not given).
    pub fn feature_names(&self) -> Vec<String> {
        self.features.clone().unwrap_or_else(|| self.target.clone())
    }

    /// Features, then the targets that are not features: the columns read and scaled.
    pub fn columns(&self) -> Vec<String> {
        let mut cols = self.feature_names();
        for t in &self.target {
            if !cols.contains(t) {
                cols.push(t.clone());
            }
        }
        cols
    }

    /// The scaler settings.
    pub fn scaler_kind(&self) -> ScalerKind {
        match self.scaler {
            ScalerName::MinMax => ScalerKind::MinMax {
                feature_range: self.feature_range,
            },
            ScalerName::Standard => ScalerKind::Standard,
            ScalerName::None => ScalerKind::None,
        }
    }

    /// The window geometry.
    pub fn window_spec(&self) -> WindowSpec {
        WindowSpec {
            timesteps: self.timesteps,
            horizon: self.horizon,
            stride: self.stride,
        }
    }

    /// Checks the settings (not the data).
    pub fn validate(&self) -> Result<()> {
        self.window_spec().validate()?;
        if self.target.is_empty() {
            return Err(Error::Config(
                "data.target: at least one target column".into(),
            ));
        }
        let feats = self.feature_names();
        if feats.is_empty() {
            return Err(Error::Config(
                "data.features: at least one feature column".into(),
            ));
        }
        for (what, list) in [("target", &self.target), ("features", &feats)] {
            for (i, c) in list.iter().enumerate() {
                if list[..i].contains(c) {
                    return Err(Error::Config(format!("data.{what}: '{c}' is listed twice")));
                }
            }
        }
        if let Some(t) = &self.time_column {
            if self.columns().contains(t) {
                return Err(Error::Config(format!(
                    "data.time_column '{t}' is also a target or feature"
                )));
            }
        }
        if !(0.0..1.0).contains(&self.test_split) {
            return Err(Error::Config(format!(
                "data.test_split must be in [0, 1), got {}",
                self.test_split
            )));
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return Err(Error::Config(format!(
                "data.validation_split must be in [0, 1), got {}",
                self.validation_split
            )));
        }
        if self.difference > 1 {
            return Err(Error::Config(format!(
                "data.difference must be 0 or 1, got {}",
                self.difference
            )));
        }
        if self.season == Some(0) {
            return Err(Error::Config("data.season must be at least 1".into()));
        }
        if self.scaler == ScalerName::MinMax
            && !(self.feature_range.0 < self.feature_range.1
                && self.feature_range.0.is_finite()
                && self.feature_range.1.is_finite())
        {
            return Err(Error::Config(format!(
                "data.feature_range must be [lo, hi] with lo < hi, got [{}, {}]",
                self.feature_range.0, self.feature_range.1
            )));
        }
        Ok(())
    }

    /// The CSV options that read this spec's columns.
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            time_column: self.time_column.clone(),
            columns: self.columns(),
            fill: self.fill,
            delimiter: self.delimiter,
            decimal: self.decimal,
            time_order: self.time_order,
            open_tail: None,
        }
    }

    /// `path` resolved against `base_dir` (the config file's folder) when relative.
    pub fn resolved_path(&self, base_dir: &Path) -> PathBuf {
        if self.path.is_absolute() {
            self.path.clone()
        } else {
            base_dir.join(&self.path)
        }
    }

    /// Loads the spec's CSV (or bundled dataset).
    pub fn load_frame(&self, base_dir: &Path) -> Result<Frame> {
        let opts = self.csv_options();
        if let Some(name) = self.path.to_str().and_then(|p| p.strip_prefix("bundled:")) {
            let text = bundled(name).ok_or_else(|| {
                Error::Config(format!(
                    "data.path: no bundled dataset '{name}' (bundled: co2, seattle_weather)"
                ))
            })?;
            return parse_csv(text, &format!("bundled:{name}"), &opts);
        }
        load_csv(self.resolved_path(base_dir), &opts)
    }
}

/// The fitted, serialisable part of the pipeline: what a saved model needs to
/// turn new rows into inputs and its outputs back into original units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Input columns, in feature order.
    pub features: Vec<String>,
    /// Target columns, in output order.
    pub targets: Vec<String>,
    /// Time column (for plots), if any.
    pub time_column: Option<String>,
    /// Window geometry.
    pub window: WindowSpec,
    /// 0 or 1 (first differences).
    pub difference: usize,
    /// Missing-cell policy used when reading new data.
    pub fill: Fill,
    /// Fitted scaler over `features` then the targets that are not features
    /// (fitted on differences when `difference = 1`).
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
}

impl Pipeline {
    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.features.len()
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
        [self.window.timesteps, self.features.len()]
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

    /// CSV options that read the columns this pipeline needs.
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            time_column: self.time_column.clone(),
            columns: self.scaler.columns.clone(),
            fill: self.fill,
            delimiter: self.delimiter,
            decimal: self.decimal,
            time_order: self.time_order,
            open_tail: None,
        }
    }

    /// Model-space values (differenced when asked, not scaled) of every
    /// scaler column over original rows `rows` (`rows.start >= difference`).
    fn raw_processed(&self, frame: &Frame, rows: std::ops::Range<usize>) -> Result<Vec<Vec<f64>>> {
        let mut out = Vec::with_capacity(self.scaler.columns.len());
        for name in &self.scaler.columns {
            let col = frame.require(name)?;
            let v: Vec<f64> = if self.difference == 1 {
                rows.clone().map(|r| col[r] - col[r - 1]).collect()
            } else {
                col[rows.clone()].to_vec()
            };
            out.push(v);
        }
        Ok(out)
    }

    /// Scaled model-space values of every scaler column over `rows`.
    fn processed(&self, frame: &Frame, rows: std::ops::Range<usize>) -> Result<Vec<Vec<f64>>> {
        let mut cols = self.raw_processed(frame, rows)?;
        for (c, col) in cols.iter_mut().enumerate() {
            self.scaler.transform_slice(c, col);
        }
        Ok(cols)
    }

    /// Windows over original rows `rows` of `frame`, anchors in original row numbers.
    pub fn windows(
        &self,
        frame: &Frame,
        rows: std::ops::Range<usize>,
        stride: usize,
    ) -> Result<Windows> {
        let rows = rows.start.max(self.difference)..rows.end.min(frame.n_rows());
        let n = rows.end.saturating_sub(rows.start);
        let spec = WindowSpec {
            stride,
            ..self.window
        };
        if n < spec.span() {
            return Err(match too_short(n, &spec) {
                Error::Data(m) => Error::Data(format!(
                    "{}: rows {}..{}: {m}",
                    frame.source, rows.start, rows.end
                )),
                e => e,
            });
        }
        let cols = self.processed(frame, rows.clone())?;
        let feats: Vec<&[f64]> = (0..self.features.len())
            .map(|c| cols[c].as_slice())
            .collect();
        let targs: Vec<&[f64]> = (0..self.targets.len())
            .map(|t| cols[self.target_scaler_column(t)].as_slice())
            .collect();
        let mut w = make_windows(&feats, &targs, &spec)?;
        for a in &mut w.anchors {
            *a += rows.start;
        }
        Ok(w)
    }

    /// Model inputs for forecasting from the end of `frame`: the last `count`
    /// windows, the newest last (anchors `n_rows - count .. n_rows`), shape
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
        let start = n + 1 - count - ts;
        let cols = self.processed(frame, start..n)?;
        let nf = self.features.len();
        let mut x = Vec::with_capacity(count * ts * nf);
        for i in 0..count {
            for r in i..i + ts {
                for c in cols.iter().take(nf) {
                    x.push(c[r] as f32);
                }
            }
        }
        Ok(Windows {
            x: Tensor::new(&[count, ts, nf], x)?,
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
            cum.iter_mut().for_each(|c| *c = 0.0);
            for k in 0..self.window.horizon {
                for t in 0..nt {
                    let s = pred.data[i * w + k * nt + t] as f64;
                    let v = self
                        .scaler
                        .inverse_transform(self.target_scaler_column(t), s);
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
        let xs: usize = self.x.shape.iter().skip(1).product();
        let ys: usize = self.y.shape.iter().skip(1).product();
        let part = |a: usize, b: usize| -> Result<Windows> {
            let mut xshape = self.x.shape.clone();
            xshape[0] = b - a;
            let mut yshape = self.y.shape.clone();
            yshape[0] = b - a;
            Ok(Windows {
                x: Tensor::new(&xshape, self.x.data[a * xs..b * xs].to_vec())?,
                y: Tensor::new(&yshape, self.y.data[a * ys..b * ys].to_vec())?,
                anchors: self.anchors[a..b].to_vec(),
            })
        };
        Ok((part(0, n)?, part(n, self.len())?))
    }

    fn empty(timesteps: usize, features: usize, outputs: usize) -> Windows {
        Windows {
            x: Tensor::zeros(&[0, timesteps, features]),
            y: Tensor::zeros(&[0, outputs]),
            anchors: Vec::new(),
        }
    }
}

/// Everything training and evaluation need, from one [`DataSpec`].
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The spec it was built from.
    pub spec: DataSpec,
    /// The fitted pipeline (store it with the model).
    pub pipeline: Pipeline,
    /// The loaded data, original units.
    pub frame: Frame,
    /// Rows in the file.
    pub n_rows: usize,
    /// Rows in the training part (`floor((1 - test_split) * n_rows)`).
    pub n_train_rows: usize,
    /// Training windows (without the validation windows).
    pub train: Windows,
    /// Validation windows: the last `validation_split` of the training windows (may be empty).
    pub val: Windows,
    /// Test windows (empty when `test_split = 0`).
    pub test: Windows,
    /// True test targets in original units, `(test windows, horizon * targets)` step-major.
    pub test_truth: Vec<f64>,
    /// Time-column value of each test window's first predicted row (`None` without a time column).
    pub test_times: Option<Vec<String>>,
}

impl Prepared {
    /// Test-window predictions (model outputs: scaled, differenced when asked)
    /// in original units, same layout as [`Prepared::test_truth`].
    /// Accepts shape `(n, horizon * targets)`, `(n, horizon, targets)` or `(n,)` for one output.
    pub fn to_original_units(&self, pred: &Tensor) -> Result<Vec<f64>> {
        self.pipeline
            .to_levels(&self.frame, &self.test.anchors, pred)
    }

    /// Like [`Prepared::to_original_units`] for any windows of this data (train, val, test).
    pub fn to_original_units_for(&self, windows: &Windows, pred: &Tensor) -> Result<Vec<f64>> {
        self.pipeline.to_levels(&self.frame, &windows.anchors, pred)
    }

    /// True targets of any windows of this data, original units.
    pub fn truth_for(&self, windows: &Windows) -> Result<Vec<f64>> {
        self.pipeline.truth(&self.frame, &windows.anchors)
    }

    /// Time-column values of rows `anchor + 1 + step` of the given windows.
    pub fn target_times(&self, windows: &Windows, step: usize) -> Option<Vec<String>> {
        let t = self.frame.time.as_ref()?;
        windows
            .anchors
            .iter()
            .map(|a| t.get(a + 1 + step).cloned())
            .collect()
    }

    /// Original-unit series of target `t` (all rows).
    pub fn target_levels(&self, t: usize) -> &[f64] {
        self.frame
            .column(&self.pipeline.targets[t])
            .unwrap_or_default()
    }

    /// A one-line description: rows, split and window counts.
    pub fn describe(&self) -> String {
        format!(
            "{}: {} rows ({} train, {} test); windows: {} train, {} validation, {} test; \
             input ({}, {}), {} output(s){}",
            self.frame.source,
            self.n_rows,
            self.n_train_rows,
            self.n_rows - self.n_train_rows,
            self.train.len(),
            self.val.len(),
            self.test.len(),
            self.pipeline.window.timesteps,
            self.pipeline.n_features(),
            self.pipeline.output_width(),
            if self.pipeline.difference == 1 {
                ", on first differences"
            } else {
                ""
            }
        )
    }
}

/// Loads the spec's CSV (path relative to `base_dir`) and prepares it ([`prepare_frame`]).
pub fn prepare(spec: &DataSpec, base_dir: &Path) -> Result<Prepared> {
    spec.validate()?;
    let frame = spec.load_frame(base_dir)?;
    prepare_frame(spec, frame)
}

/// Splits, fits the scaler on the training rows and builds the windows (see the module docs).
pub fn prepare_frame(spec: &DataSpec, frame: Frame) -> Result<Prepared> {
    spec.validate()?;
    let columns = spec.columns();
    for c in &columns {
        frame.require(c)?;
    }
    let n = frame.n_rows();
    let n_train = ((1.0 - spec.test_split) * n as f64).floor() as usize;
    let d = spec.difference;
    let wspec = spec.window_spec();
    let train_rows = n_train.saturating_sub(d);
    if train_rows < wspec.span() {
        return Err(Error::Data(format!(
            "{}: training part too short: {n_train} of {n} rows (test_split {}){}, but one \
             window needs timesteps ({}) + horizon ({}) = {} rows",
            frame.source,
            spec.test_split,
            if d == 1 {
                ", minus 1 for differencing"
            } else {
                ""
            },
            wspec.timesteps,
            wspec.horizon,
            wspec.span()
        )));
    }
    let features = spec.feature_names();
    let mut pipeline = Pipeline {
        features: features.clone(),
        targets: spec.target.clone(),
        time_column: spec.time_column.clone(),
        window: wspec,
        difference: d,
        fill: spec.fill,
        scaler: Scaler::fit(ScalerKind::None, &[], &[])?,
        delimiter: spec.delimiter,
        decimal: spec.decimal,
        time_order: spec.time_order,
    };
    // Fit the scaler on the (differenced) training rows only.
    pipeline.scaler.columns = columns.clone();
    let raw = pipeline.raw_processed(&frame, d..n_train)?;
    let refs: Vec<&[f64]> = raw.iter().map(|c| c.as_slice()).collect();
    pipeline.scaler = Scaler::fit(spec.scaler_kind(), &columns, &refs).map_err(|e| match e {
        Error::Data(m) => Error::Data(format!("{}: {m}", frame.source)),
        e => e,
    })?;

    let all_train = pipeline.windows(&frame, 0..n_train, spec.stride)?;
    let (train, val) = if spec.validation_split > 0.0 {
        let nw = all_train.len();
        let split_at = (nw as f64 * (1.0 - spec.validation_split)).floor() as usize;
        if split_at == 0 || split_at == nw {
            return Err(Error::Data(format!(
                "{}: {nw} training windows are not enough to split off validation_split = {} \
                 (Keras' rule: at least one window on each side)",
                frame.source, spec.validation_split
            )));
        }
        all_train.split_at(split_at)?
    } else {
        let empty = Windows::empty(wspec.timesteps, features.len(), pipeline.output_width());
        (all_train, empty)
    };
    let test = if n_train < n && spec.test_split > 0.0 {
        let n_test = n - n_train;
        if n_test < wspec.span() {
            return Err(Error::Data(format!(
                "{}: test part too short: {n_test} of {n} rows (test_split {}), but one window \
                 needs timesteps ({}) + horizon ({}) = {} rows",
                frame.source,
                spec.test_split,
                wspec.timesteps,
                wspec.horizon,
                wspec.span()
            )));
        }
        pipeline.windows(&frame, n_train..n, 1)?
    } else {
        Windows::empty(wspec.timesteps, features.len(), pipeline.output_width())
    };
    let test_truth = pipeline.truth(&frame, &test.anchors)?;
    let mut p = Prepared {
        spec: spec.clone(),
        pipeline,
        frame,
        n_rows: n,
        n_train_rows: n_train,
        train,
        val,
        test,
        test_truth,
        test_times: None,
    };
    p.test_times = p.target_times(&p.test, 0);
    Ok(p)
}

#[cfg(test)]
mod tests;
