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
//! Each step runs [`Model::predict_one`], the allocation-free single-window path.
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

/// The history's time labels continued: the data's calendar ([`crate::data::time`]).
pub use crate::data::time::future_labels as continue_times;

use crate::data::{Frame, Pipeline};
use crate::error::{Error, Result};
use crate::model::Model;

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
}

impl Forecast {
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
        for t in &self.targets {
            s.push(',');
            s.push_str(&csv_cell(t));
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
            }
            s.push('\n');
        }
        s
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Forecasts `opts.steps` steps after the history in `frame` (see the module
/// docs), with the fitted `pipeline` the model was trained with.
pub fn forecast(
    model: &mut Model,
    pipeline: &Pipeline,
    frame: &Frame,
    opts: &ForecastOptions,
) -> Result<Forecast> {
    let nf = pipeline.n_features();
    let nt = pipeline.n_targets();
    let h = pipeline.window.horizon;
    let ts = pipeline.window.timesteps;
    let d = pipeline.difference;
    let steps = opts.steps;
    if steps == 0 {
        return Err(Error::Config("forecast: steps must be at least 1".into()));
    }
    // the model must be the pipeline's
    let ins = model.input_shape();
    if ins.len() != 2 || (ins[0] != 0 && ins[0] != ts) || ins[1] != nf {
        return Err(Error::Shape(format!(
            "the model takes inputs {:?} but the data spec gives windows of {ts} rows × {nf} features",
            ins
        )));
    }
    let out: usize = model.output_shape().iter().product();
    if out != h * nt {
        return Err(Error::Shape(format!(
            "the model gives {out} outputs but the data spec expects horizon {h} × {nt} target(s) = {}",
            h * nt
        )));
    }
    let columns = &pipeline.scaler.columns;
    // which scaler columns are targets (fed back) and which are exogenous inputs
    let target_of: Vec<Option<usize>> = columns
        .iter()
        .map(|c| pipeline.targets.iter().position(|t| t == c))
        .collect();
    let exog_inputs: Vec<&String> = pipeline
        .features
        .iter()
        .filter(|f| !pipeline.targets.contains(f))
        .collect();
    let exog = if exog_inputs.is_empty() {
        None
    } else {
        match opts.exog {
            Some(e) => Some(e),
            None => {
                return Err(Error::Config(format!(
                    "the model's inputs include {} that {} not predicted ({}): say how {} continue{} — \
                     known (future values from the last {steps} rows of the data) or hold (last value held)",
                    if exog_inputs.len() == 1 { "a feature" } else { "features" },
                    if exog_inputs.len() == 1 { "is" } else { "are" },
                    exog_inputs.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                    if exog_inputs.len() == 1 { "it" } else { "they" },
                    if exog_inputs.len() == 1 { "s" } else { "" },
                )))
            }
        }
    };
    let n = frame.n_rows();
    let history_rows = if exog == Some(Exog::Known) {
        n.saturating_sub(steps)
    } else {
        n
    };
    if history_rows < ts + d {
        return Err(Error::Data(format!(
            "{}: {} history row(s){}, but a window of {ts} rows{} needs {}",
            frame.source,
            history_rows,
            if exog == Some(Exog::Known) {
                format!(" ({n} rows minus the {steps} rows of known future inputs)")
            } else {
                String::new()
            },
            if d == 1 { " of differences" } else { "" },
            ts + d
        )));
    }
    // original-unit series of every scaler column: history, then the forecast rows
    let mut series: Vec<Vec<f64>> = Vec::with_capacity(columns.len());
    for c in columns {
        let col = frame.require(c)?;
        let mut v = Vec::with_capacity(history_rows + steps);
        v.extend_from_slice(&col[..history_rows]);
        series.push(v);
    }
    let future: Vec<Option<&[f64]>> = columns
        .iter()
        .zip(&target_of)
        .map(|(c, t)| match (t, exog) {
            (None, Some(Exog::Known)) => frame.column(c),
            _ => None,
        })
        .collect();
    let mut window = vec![0.0f32; ts * nf];
    let mut level = vec![0.0f64; nt];
    if model.is_stateful() {
        model.reset_states();
    }
    let mut produced = 0;
    while produced < steps {
        // the window of the last `ts` rows, processed as in training
        let len = series[0].len();
        for (j, col) in series.iter().take(nf).enumerate() {
            for r in 0..ts {
                let row = len - ts + r;
                let v = if d == 1 {
                    col[row] - col[row - 1]
                } else {
                    col[row]
                };
                window[r * nf + j] = pipeline.scaler.transform(j, v) as f32;
            }
        }
        let y = model.predict_one(&window)?;
        for (t, l) in level.iter_mut().enumerate() {
            *l = *series[pipeline.target_scaler_column(t)]
                .last()
                .unwrap_or(&0.0);
        }
        let take = h.min(steps - produced);
        for k in 0..take {
            for t in 0..nt {
                let v = pipeline
                    .scaler
                    .inverse_transform(pipeline.target_scaler_column(t), y[k * nt + t] as f64);
                level[t] = if d == 1 { level[t] + v } else { v };
            }
            if level.iter().any(|v| !v.is_finite()) {
                return Err(Error::Data(format!(
                    "the forecast became non-finite at step {}",
                    produced + k + 1
                )));
            }
            for (c, col) in series.iter_mut().enumerate() {
                let v = match (target_of[c], future[c]) {
                    (Some(t), _) => level[t],
                    (None, Some(f)) => f[history_rows + produced + k],
                    (None, None) => *col.last().unwrap_or(&0.0),
                };
                col.push(v);
            }
        }
        produced += take;
    }
    let mut values = Vec::with_capacity(steps * nt);
    for k in 0..steps {
        for t in 0..nt {
            values.push(series[pipeline.target_scaler_column(t)][history_rows + k]);
        }
    }
    let times = match (exog, &frame.time) {
        (Some(Exog::Known), Some(t)) => Some(t[history_rows..history_rows + steps].to_vec()),
        // the history's regular spacing continued, written alike
        (_, Some(t)) => continue_times(&t[..history_rows], steps),
        _ => None,
    };
    Ok(Forecast {
        targets: pipeline.targets.clone(),
        values,
        steps,
        history_rows,
        times,
        method: if h == 1 {
            Method::Recursive
        } else if steps <= h {
            Method::Direct
        } else {
            Method::DirectRecursive
        },
    })
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
    let series = [
        crate::plot::Series::new("history", &h),
        crate::plot::Series::new("forecast", &p),
    ];
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
        &format!("{}-step forecast of {name}", f.steps),
        name,
        labels.as_deref(),
        &series,
    )
}
