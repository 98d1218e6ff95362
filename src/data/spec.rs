//! The `[data]` table of an experiment file ([`DataSpec`]): where the data
//! are, which columns are targets, past covariates (`features`), future
//! covariates, static covariates and calendar features, the series' id
//! column of a long-format panel, and the window geometry.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use super::time::{CalendarEncoding, CalendarFeature};
use super::{
    bundled, load_csv, parse_csv, CsvOptions, Fill, Frame, ScalerKind, TimeOrder, WindowSpec,
};
use crate::error::{Error, Result};

fn is_false(b: &bool) -> bool {
    !*b
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
    /// Input columns known up to the forecast origin (`past_covariates` is
    /// the same key); default: the targets. List the target among them to
    /// keep its past as an input.
    #[serde(default, alias = "past_covariates")]
    pub features: Option<Vec<String>>,
    /// Columns known for the whole horizon (work days, planned prices, a
    /// weather forecast): the model sees their value at each input row and
    /// at the steps it predicts (see [`crate::data::panel`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub future_covariates: Vec<String>,
    /// Long-format panels: the text column naming each row's series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    /// Fit one scaler per series on its own training rows (default: true
    /// with an `id_column`); false: one scaler on the training rows of all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_per_series: Option<bool>,
    /// Columns constant within a series (region size, store type), inputs
    /// at every row; scaled over the series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_covariates: Vec<String>,
    /// A one-hot of the series id as inputs (needs an `id_column`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub id_onehot: bool,
    /// Calendar features of the time column, known ahead:
    /// `month`, `dayofweek`, `hour`, `dayofyear`, `quarter`, `year`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calendar: Vec<CalendarFeature>,
    /// `onehot`, `cyclic` (default) or `ordinal`.
    #[serde(default, skip_serializing_if = "CalendarEncoding::is_default")]
    pub calendar_encoding: CalendarEncoding,
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
            future_covariates: Vec::new(),
            id_column: None,
            scale_per_series: None,
            static_covariates: Vec::new(),
            id_onehot: false,
            calendar: Vec::new(),
            calendar_encoding: CalendarEncoding::default(),
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

    /// Features, then the targets that are not features, then the future
    /// covariates: the columns scaled.
    pub fn columns(&self) -> Vec<String> {
        let mut cols = self.feature_names();
        for t in &self.target {
            if !cols.contains(t) {
                cols.push(t.clone());
            }
        }
        cols.extend(self.future_covariates.iter().cloned());
        cols
    }

    /// Whether each series gets its own scaler.
    pub fn per_series_scaling(&self) -> bool {
        self.id_column.is_some() && self.scale_per_series.unwrap_or(true)
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
        for (what, list) in [
            ("target", &self.target),
            ("features", &feats),
            ("future_covariates", &self.future_covariates),
            ("static_covariates", &self.static_covariates),
        ] {
            for (i, c) in list.iter().enumerate() {
                if list[..i].contains(c) {
                    return Err(Error::Config(format!("data.{what}: '{c}' is listed twice")));
                }
            }
        }
        self.validate_covariates()?;
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

    /// Covariates, id and calendar settings that fit together.
    fn validate_covariates(&self) -> Result<()> {
        let past = self.columns();
        for c in &self.future_covariates {
            if self.feature_names().contains(c) || self.target.contains(c) {
                return Err(Error::Config(format!(
                    "data.future_covariates: '{c}' is also a target or past covariate (features); \
                     a column is known ahead or not"
                )));
            }
        }
        for c in &self.static_covariates {
            if past.contains(c) {
                return Err(Error::Config(format!(
                    "data.static_covariates: '{c}' is also a target or covariate"
                )));
            }
        }
        let mut all = past.clone();
        all.extend(self.static_covariates.iter().cloned());
        for (what, col) in [
            ("time_column", &self.time_column),
            ("id_column", &self.id_column),
        ] {
            if let Some(t) = col {
                if all.contains(t) {
                    return Err(Error::Config(format!(
                        "data.{what} '{t}' is also a target or covariate"
                    )));
                }
            }
        }
        if self.id_column.is_some() && self.id_column == self.time_column {
            return Err(Error::Config(
                "data.id_column and data.time_column are the same column".into(),
            ));
        }
        if self.id_column.is_none() {
            if !self.static_covariates.is_empty() {
                return Err(Error::Config(
                    "data.static_covariates need data.id_column (they are constant within a series)"
                        .into(),
                ));
            }
            if self.id_onehot {
                return Err(Error::Config(
                    "data.id_onehot needs data.id_column (the series to one-hot)".into(),
                ));
            }
        }
        if !self.calendar.is_empty() && self.time_column.is_none() {
            return Err(Error::Config(
                "data.calendar needs data.time_column (the dates the features are read from)"
                    .into(),
            ));
        }
        for (i, c) in self.calendar.iter().enumerate() {
            if self.calendar[..i].contains(c) {
                return Err(Error::Config(format!(
                    "data.calendar: '{}' is listed twice",
                    c.name()
                )));
            }
        }
        Ok(())
    }

    /// The CSV options that read this spec's columns.
    pub fn csv_options(&self) -> CsvOptions {
        let mut columns = self.columns();
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
