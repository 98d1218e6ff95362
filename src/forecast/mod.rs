//! Multi-step forecasting from the end of a series, in original units.
//!
//! * **Recursive** (models trained with `horizon = 1`): predict one step,
//!   turn it back into original units (inverse scaling, and with
//!   `difference = 1` the previous level plus the predicted change), append
//!   it to the series as a new row, rebuild the next window from the series
//!   (differencing and scaling again, exactly as training did) and repeat.
//! * **Direct** (models trained with `horizon = H > 1`): one prediction gives
//!   H steps; for more than H steps the H predicted rows are appended and the
//!   model is applied again (direct-recursive).
//!
//! Inputs that are not targets cannot be predicted by the model, so the user
//! must say how they continue ([`Exog`]): `Known` takes their future values
//! from the last `steps` rows of the data (which are then not history), `Hold`
//! repeats their last value. A model with such inputs and no choice is an
//! error, never a silent guess.
//!
//! Future covariates and calendar features (known ahead) are read for the
//! forecast steps: the future covariates from the rows after the history
//! (the history ends at the last row with every target; an error names the
//! covariates and steps missing), the calendar from those rows' times or the
//! history's spacing continued. Each step's window carries the covariates
//! of the steps it predicts, as in training ([`crate::data::panel`]).
//!
//! A panel ([`forecast_panel`]) is forecast series by series, each with its
//! own scaler; a series the model was not trained on is scaled by a scaler
//! fitted on its own history (unless the model one-hots the ids).
//!
//! Each step runs [`crate::model::Model::predict_one`], the allocation-free single-window path.
//!
//! ```
//! use lstmkit::data::{prepare_frame, DataSpec, Frame};
//! use lstmkit::forecast::{forecast, ForecastOptions};
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Dense, LSTM};
//!
//! let series: Vec<f64> = (0..60).map(|i| 10.0 + (i as f64 * 0.3).sin()).collect();
//! let frame = Frame::from_columns("inline", vec![("y".to_string(), series)]).unwrap();
//! let mut spec = DataSpec::new("inline", &["y"]);
//! spec.timesteps = 5;
//! let prepared = prepare_frame(&spec, frame.clone()).unwrap();
//! let mut model = Sequential::new(&[5, 1]).add(LSTM::new(4)).add(Dense::new(1)).build(1).unwrap();
//! let f = forecast(&mut model, &prepared.pipeline, &frame, &ForecastOptions::new(12)).unwrap();
//! assert_eq!(f.values.len(), 12);
//! assert_eq!(f.history_rows, 60);
//! ```

mod series;

/// The history's time labels continued: the data's calendar ([`crate::data::time`]).
pub use crate::data::time::future_labels as continue_times;
pub use series::{forecast, forecast_panel, forecast_series};

use crate::data::Frame;
use crate::error::{Error, Result};

/// How input features that are not targets continue into the future.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Exog {
    /// Their future values are known: the last `steps` rows of the data hold
    /// them (those rows are the forecast period, not history; their target
    /// cells are not used).
    Known,
    /// Their last value is held for the whole forecast.
    Hold,
}

impl std::str::FromStr for Exog {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_lowercase().as_str() {
            "known" => Ok(Exog::Known),
            "hold" => Ok(Exog::Hold),
            other => Err(Error::Config(format!(
                "unknown --exog '{other}' (known: future values from the data; hold: last value held)"
            ))),
        }
    }
}

/// How the steps were produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// One step per model call, fed back.
    Recursive,
    /// All steps from one call (steps ≤ horizon).
    Direct,
    /// Blocks of `horizon` steps, fed back.
    DirectRecursive,
}

/// Forecast settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastOptions {
    /// Steps to forecast.
    pub steps: usize,
    /// How non-target inputs continue (required when the model has any).
    pub exog: Option<Exog>,
}

impl ForecastOptions {
    /// `steps` steps, no exogenous policy (fine for models whose inputs are all targets).
    pub fn new(steps: usize) -> Self {
        ForecastOptions { steps, exog: None }
    }
    /// Sets the exogenous-input policy.
    pub fn exog(mut self, e: Exog) -> Self {
        self.exog = Some(e);
        self
    }
}

/// A forecast in original units.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Forecast {
    /// Target names, in column order of `values`.
    pub targets: Vec<String>,
    /// `steps × targets` values, step-major (`values[k * targets + t]`).
    pub values: Vec<f64>,
    /// Number of steps.
    pub steps: usize,
    /// Rows of the data used as history (all rows with `Hold` or no exogenous
    /// inputs; all but the last `steps` with `Known`).
    pub history_rows: usize,
    /// Time labels of the forecast rows: with `Known` the CSV's own; otherwise
    /// the history's regular spacing continued ([`continue_times`]), if it has one.
    pub times: Option<Vec<String>>,
    /// How the steps were produced.
    pub method: Method,
    /// The series' id, in a panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Prediction intervals around `values` (the point forecast), one per
    /// level, in the layout of `values` ([`Forecast::with_intervals`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intervals: Vec<crate::intervals::Interval>,
}

impl Forecast {
    /// The point forecast (`values`).
    pub fn point(&self) -> &[f64] {
        &self.values
    }

    /// Adds the conformal intervals of `cal` (the validation errors stored
    /// with the model) at its levels; per series of a panel where it has
    /// enough errors. An error when the forecast has more steps than `cal`
    /// calibrates.
    pub fn with_intervals(mut self, cal: &crate::intervals::StoredCalibration) -> Result<Self> {
        self.intervals = cal.intervals(&self.values, self.series.as_deref())?;
        Ok(self)
    }

    /// The CSV header cells of the intervals: `lower_80,upper_80,...` for one
    /// target, `<target>_lower_80,...` for several, each after its target.
    fn interval_header(&self, t: usize) -> String {
        let prefix = if self.targets.len() == 1 {
            String::new()
        } else {
            format!("{}_", self.targets[t])
        };
        self.intervals
            .iter()
            .map(|iv| {
                let l = crate::intervals::level_name(iv.level);
                format!(
                    ",{},{}",
                    csv_cell(&format!("{prefix}lower_{l}")),
                    csv_cell(&format!("{prefix}upper_{l}"))
                )
            })
            .collect()
    }

    fn interval_cells(&self, j: usize, decimals: Option<usize>) -> String {
        let f = |v: f64| match decimals {
            Some(d) => format!("{v:.d$}"),
            None => v.to_string(),
        };
        self.intervals
            .iter()
            .map(|iv| format!(",{},{}", f(iv.lower[j]), f(iv.upper[j])))
            .collect()
    }

    /// The forecast of target `t`, one value per step.
    pub fn target(&self, t: usize) -> Vec<f64> {
        let nt = self.targets.len();
        (0..self.steps).map(|k| self.values[k * nt + t]).collect()
    }

    /// The forecast as CSV: `step[,time],<target>...`, one row per step.
    pub fn to_csv(&self) -> String {
        self.to_csv_with(None)
    }

    /// [`Forecast::to_csv`] with the values written with `decimals` digits
    /// after the point (e.g. the data's own precision; `None`: every digit).
    pub fn to_csv_with(&self, decimals: Option<usize>) -> String {
        let mut s = String::from("step");
        if self.times.is_some() {
            s.push_str(",time");
        }
        for (i, t) in self.targets.iter().enumerate() {
            s.push(',');
            s.push_str(&csv_cell(t));
            s.push_str(&self.interval_header(i));
        }
        s.push('\n');
        let nt = self.targets.len();
        for k in 0..self.steps {
            s.push_str(&(k + 1).to_string());
            if let Some(times) = &self.times {
                s.push(',');
                s.push_str(&csv_cell(&times[k]));
            }
            for t in 0..nt {
                s.push(',');
                let v = self.values[k * nt + t];
                s.push_str(&match decimals {
                    Some(d) => format!("{v:.d$}"),
                    None => v.to_string(),
                });
                s.push_str(&self.interval_cells(k * nt + t, decimals));
            }
            s.push('\n');
        }
        s
    }
}

/// Forecasts of several series as one CSV: `series,step[,time],<target>...`
/// (times when every forecast has them).
pub fn panel_csv(forecasts: &[Forecast]) -> String {
    let with_times = forecasts.iter().all(|f| f.times.is_some());
    let mut s = String::from("series,step");
    if with_times {
        s.push_str(",time");
    }
    if let Some(f) = forecasts.first() {
        for (i, t) in f.targets.iter().enumerate() {
            s.push(',');
            s.push_str(&csv_cell(t));
            s.push_str(&f.interval_header(i));
        }
    }
    s.push('\n');
    for f in forecasts {
        let nt = f.targets.len();
        let id = csv_cell(f.series.as_deref().unwrap_or_default());
        for k in 0..f.steps {
            s.push_str(&format!("{id},{}", k + 1));
            if let (true, Some(times)) = (with_times, &f.times) {
                s.push(',');
                s.push_str(&csv_cell(&times[k]));
            }
            for t in 0..nt {
                s.push(',');
                s.push_str(&f.values[k * nt + t].to_string());
                s.push_str(&f.interval_cells(k * nt + t, None));
            }
            s.push('\n');
        }
    }
    s
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Plots the history of target `t` (the last `show` rows) followed by the forecast, as a PNG.
pub fn plot_forecast(
    path: &std::path::Path,
    frame: &Frame,
    f: &Forecast,
    t: usize,
    show: usize,
) -> Result<()> {
    let name = &f.targets[t];
    let hist = frame.require(name)?;
    let start = f.history_rows.saturating_sub(show);
    let nh = f.history_rows - start;
    let mut h: Vec<f64> = hist[start..f.history_rows].to_vec();
    h.resize(nh + f.steps, f64::NAN);
    // the forecast line starts at the last history point so the two join
    let mut p = vec![f64::NAN; nh + f.steps];
    if nh > 0 {
        p[nh - 1] = hist[f.history_rows - 1];
    }
    for (k, v) in f.target(t).into_iter().enumerate() {
        p[nh + k] = v;
    }
    // the intervals as a fan of shaded bands, joined to the last history point
    let bands: Vec<(Vec<f64>, Vec<f64>)> = f
        .intervals
        .iter()
        .map(|iv| {
            let mut lo = vec![f64::NAN; nh + f.steps];
            let mut hi = vec![f64::NAN; nh + f.steps];
            if nh > 0 {
                lo[nh - 1] = hist[f.history_rows - 1];
                hi[nh - 1] = hist[f.history_rows - 1];
            }
            let nt = f.targets.len();
            for k in 0..f.steps {
                lo[nh + k] = iv.lower[k * nt + t];
                hi[nh + k] = iv.upper[k * nt + t];
            }
            (lo, hi)
        })
        .collect();
    let mut fc = crate::plot::Series::new("forecast", &p);
    for (lo, hi) in &bands {
        fc = fc.band(lo, hi);
    }
    let series = [crate::plot::Series::new("history", &h), fc];
    let labels: Option<Vec<String>> = frame.time.as_ref().map(|tm| {
        (0..nh + f.steps)
            .map(|i| {
                let row = start + i;
                if row < f.history_rows {
                    tm[row].clone()
                } else if let Some(ft) = &f.times {
                    ft[row - f.history_rows].clone()
                } else {
                    format!("+{}", row - f.history_rows + 1)
                }
            })
            .collect()
    });
    crate::plot::plot_series(
        path,
        &format!(
            "{}-step forecast of {name}{}",
            f.steps,
            if f.intervals.is_empty() {
                String::new()
            } else {
                format!(
                    " ({}% intervals)",
                    f.intervals
                        .iter()
                        .map(|iv| crate::intervals::level_name(iv.level))
                        .collect::<Vec<_>>()
                        .join("/")
                )
            }
        ),
        name,
        labels.as_deref(),
        &series,
    )
}
