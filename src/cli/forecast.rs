//! `lstmkit forecast --model M --data CSV --steps N [--exog known|hold]
//! [--series ID] [--out forecast.csv] [--plot forecast.png]`: multi-step
//! forecast after the end of a CSV series, in original units, with the data
//! pipeline (scalers, window geometry, differencing) stored in the model file.
//! A model trained on a panel (an id column) forecasts every series of the
//! CSV (`series,step,time,...` rows), or only `--series ID`. With future
//! covariates, the rows after each series' history (whose targets are empty)
//! hold them.
//!
//! A file without a pipeline (Keras `.keras`, `.h5`, a bare native file):
//! `--config EXP.toml` supplies it, fitted on the training rows of the
//! experiment's `[data]` as `lstmkit train` and `lstmkit evaluate` fit it
//! (scaler, timesteps, horizon, differencing).

use std::path::{Path, PathBuf};

use crate::data::{load_csv, OpenTail, Pipeline};
use crate::error::{Error, Result};
use crate::forecast::{forecast, forecast_panel, panel_csv, plot_forecast, Exog, ForecastOptions};
use crate::intervals::StoredCalibration;
use crate::model::Model;

/// Arguments of `lstmkit forecast`.
#[derive(clap::Args, Debug)]
pub struct ForecastArgs {
    /// Model file written by `lstmkit train` (native `.lstmkit`, the JSON
    /// model file, or their folder), or a Keras `.keras` / `.h5` model
    /// together with `--config`.
    #[arg(long)]
    pub model: PathBuf,
    /// Experiment file whose `[data]` section gives the pipeline of a model
    /// file that holds none (Keras files): columns, scaler (fitted on the
    /// training rows), timesteps, horizon, differencing.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// CSV with the history (the same columns the model was trained on).
    #[arg(long)]
    pub data: PathBuf,
    /// Number of steps to forecast.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: u64,
    /// How input features that are not targets continue: `known` (their future
    /// values are the CSV's last N rows) or `hold` (last value held). Required
    /// when the model has such inputs.
    #[arg(long)]
    pub exog: Option<Exog>,
    /// A panel: forecast only this series (default: every series).
    #[arg(long)]
    pub series: Option<String>,
    /// Write the forecast as CSV here (default: print it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw the history and the forecast of the first target into this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// History rows shown in the plot.
    #[arg(long, default_value_t = 200)]
    pub plot_history: usize,
    /// Leave out the prediction intervals of a model trained with
    /// `[intervals]` (point forecasts only).
    #[arg(long)]
    pub no_intervals: bool,
}

impl clap::ValueEnum for Exog {
    fn value_variants<'a>() -> &'a [Self] {
        &[Exog::Known, Exog::Hold]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            Exog::Known => "known",
            Exog::Hold => "hold",
        }))
    }
}

/// A model file (any format, see [`crate::io::dispatch`]) and its data
/// pipeline: the file's own, or for a file without one, the one that
/// `config`'s `[data]` section fits on its training rows, as `lstmkit train`
/// and `lstmkit evaluate` fit it; checked against the model's shapes.
pub fn model_and_pipeline(path: &Path, config: Option<&Path>) -> Result<(Model, Pipeline)> {
    let (model, pipeline, _) = model_pipeline_calibration(path, config)?;
    Ok((model, pipeline))
}

/// [`model_and_pipeline`] and the interval calibration stored with the
/// model (`[intervals]` at training), if any.
pub fn model_pipeline_calibration(
    path: &Path,
    config: Option<&Path>,
) -> Result<(Model, Pipeline, Option<StoredCalibration>)> {
    let loaded = crate::io::load(path)?;
    let pipeline = super::pipeline_for(&loaded, config, |cfg| {
        let (exp, base) = super::train::load_experiment(Some(cfg))?;
        Ok(crate::data::prepare(&exp.data, &base)?.pipeline)
    })?;
    let cal = StoredCalibration::from_extras(&loaded.extras)?;
    Ok((loaded.model, pipeline, cal))
}

/// [`model_and_pipeline`] of a file that holds its pipeline (written by `lstmkit train`).
pub fn load_with_pipeline(path: &Path) -> Result<(Model, Pipeline)> {
    model_and_pipeline(path, None)
}

/// Runs the command.
pub fn run(a: ForecastArgs) -> Result<()> {
    let (mut model, pipeline, cal) = model_pipeline_calibration(&a.model, a.config.as_deref())?;
    let cal = cal.filter(|_| !a.no_intervals);
    let mut csv_opts = pipeline.csv_options();
    let h = pipeline.window.horizon;
    let steps = a.steps as usize;
    if !pipeline.future_covariates.is_empty() {
        // the rows after the history: targets (and past inputs) empty, future covariates given
        let mut open = pipeline.targets.clone();
        open.extend(pipeline.features.iter().cloned());
        open.extend(pipeline.future_covariates.iter().cloned());
        csv_opts.open_tail = Some(OpenTail {
            rows: steps.div_ceil(h) * h,
            columns: open,
        });
    } else if a.exog == Some(Exog::Known) {
        // the last `steps` rows are the forecast period: their targets may be empty
        csv_opts.open_tail = Some(OpenTail {
            rows: steps,
            columns: pipeline.targets.clone(),
        });
    }
    let frame = load_csv(&a.data, &csv_opts)?;
    for n in &frame.notes {
        eprintln!("note: {n}");
    }
    let mut opts = ForecastOptions::new(steps);
    opts.exog = a.exog;
    let panel = pipeline.id_column.is_some();
    if !panel && a.series.is_some() {
        return Err(Error::Config(
            "--series: the model was not trained on a panel (no data.id_column)".into(),
        ));
    }
    let mut forecasts = if panel {
        forecast_panel(&mut model, &pipeline, &frame, &opts, a.series.as_deref())?
    } else {
        vec![forecast(&mut model, &pipeline, &frame, &opts)?]
    };
    if let Some(c) = &cal {
        forecasts = forecasts
            .into_iter()
            .map(|f| f.with_intervals(c))
            .collect::<Result<_>>()
            .map_err(|e| {
                Error::Config(format!(
                    "{} (forecast at most that many steps, train with intervals.steps = {steps}, or pass \
                     --no-intervals)",
                    e.detail()
                ))
            })?;
    }
    let f = &forecasts[0];
    let csv = if panel {
        panel_csv(&forecasts)
    } else {
        let history: Vec<Vec<f64>> = f
            .targets
            .iter()
            .map(|t| {
                frame
                    .require(t)
                    .map(|c| c[..f.history_rows.min(c.len())].to_vec())
            })
            .collect::<Result<_>>()?;
        for w in divergence_warnings(f, &history) {
            eprintln!("warning: {w}");
        }
        // the data's own precision, not 17 digits
        let decimals = history.iter().map(|c| data_decimals(c)).max();
        f.to_csv_with(decimals)
    };
    match &a.out {
        Some(p) => {
            crate::io::atomic_write_bytes(p, csv.as_bytes())?;
            eprintln!(
                "{}-step {} forecast of {}{} after {} history rows written to {}",
                f.steps,
                serde_json::to_value(f.method)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                f.targets.join(", "),
                if panel {
                    format!(" for {} series", forecasts.len())
                } else {
                    String::new()
                },
                f.history_rows,
                p.display()
            );
        }
        None => print!("{csv}"),
    }
    if let Some(p) = &a.plot {
        // the first series forecast, alone
        let one = crate::data::Panel::new(&frame)
            .get(f.series.as_deref().unwrap_or_default())
            .map(|s| s.to_frame())
            .unwrap_or_else(|| frame.clone());
        plot_forecast(p, &one, f, 0, a.plot_history)?;
        eprintln!("plot written to {}", p.display());
    }
    Ok(())
}

/// Digits after the point that the values of a column are written with (at
/// most 8): the fewest that give back every one of its last 1000 values.
pub fn data_decimals(values: &[f64]) -> usize {
    let tail = &values[values.len().saturating_sub(1000)..];
    (0..=8)
        .find(|&d| {
            let p = 10f64.powi(d as i32);
            tail.iter()
                .filter(|v| v.is_finite())
                .all(|v| ((v * p).round() / p - v).abs() <= 1e-9 * v.abs().max(1.0))
        })
        .unwrap_or(8)
}

/// A recursive forecast that leaves the range of its history by more than
/// that range's own width is extrapolating far beyond anything the model has
/// seen (a ReLU LSTM on a trend can run to 1e40): one warning per target,
/// naming the first such step and its value.
pub fn divergence_warnings(f: &crate::forecast::Forecast, history: &[Vec<f64>]) -> Vec<String> {
    let mut out = Vec::new();
    for (t, name) in f.targets.iter().enumerate() {
        let seen = history[t].iter().filter(|v| v.is_finite());
        let (lo, hi) = seen.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
        if !lo.is_finite() {
            continue;
        }
        let span = (hi - lo).max(1e-12 * lo.abs().max(1.0));
        let values = f.target(t);
        if let Some(k) = values
            .iter()
            .position(|v| !v.is_finite() || *v > hi + span || *v < lo - span)
        {
            let last = values[values.len() - 1];
            out.push(format!(
                "the forecast of {name} leaves the range of its history ({} to {}) by more than \
                 that range's width at step {} ({}); by step {} it is {}: a recursive forecast \
                 this far out extrapolates beyond anything the model has seen",
                crate::plot::fmt_tick(lo),
                crate::plot::fmt_tick(hi),
                k + 1,
                crate::plot::fmt_tick(values[k]),
                values.len(),
                crate::plot::fmt_tick(last),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{Forecast, Method};

    fn fc(values: Vec<f64>) -> Forecast {
        Forecast {
            targets: vec!["co2".into()],
            steps: values.len(),
            values,
            history_rows: 100,
            times: None,
            method: Method::Recursive,
            series: None,
            intervals: Vec::new(),
        }
    }

    #[test]
    fn a_forecast_that_runs_away_is_named_at_its_step() {
        let history = vec![(0..100).map(|i| 315.0 + i as f64).collect::<Vec<f64>>()];
        // within the range plus its width (315..414, width 99): quiet
        let calm = fc(vec![420.0, 450.0, 500.0]);
        assert!(divergence_warnings(&calm, &history).is_empty());
        let wild = fc(vec![420.0, 480.0, 600.0, 1e5, 1.2e40]);
        let w = divergence_warnings(&wild, &history);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("co2")
                && w[0].contains("at step 3 (600)")
                && w[0].contains("by step 5 it is 1.2e40"),
            "{w:?}"
        );
    }

    #[test]
    fn forecast_csvs_take_the_data_precision() {
        assert_eq!(data_decimals(&[316.1, 317.3, 320.0]), 1);
        assert_eq!(data_decimals(&[1.0, 2.0]), 0);
        assert_eq!(data_decimals(&[0.125, 2.5]), 3);
        assert_eq!(data_decimals(&[std::f64::consts::PI]), 8);
        let csv = fc(vec![370.123456789, 371.0]).to_csv_with(Some(1));
        assert_eq!(csv, "step,co2\n1,370.1\n2,371.0\n");
    }
}
