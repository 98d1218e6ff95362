//! `lstmkit forecast --model M --data CSV --steps N [--exog known|hold]
//! [--out forecast.csv] [--plot forecast.png]`: multi-step forecast after the
//! end of a CSV series, in original units, with the data pipeline (scalers,
//! window geometry, differencing) stored in the model file.
//!
//! A Keras model (`.keras`, `.h5`) holds no pipeline: `--config EXP.toml`
//! supplies it, fitted on the training rows of the experiment's `[data]` as
//! `lstmkit train` and `lstmkit evaluate` fit it (scaler, timesteps, horizon,
//! differencing).

use std::path::{Path, PathBuf};

use crate::data::{load_csv, OpenTail, Pipeline};
use crate::error::{Error, Result};
use crate::forecast::{forecast, plot_forecast, Exog, ForecastOptions};
use crate::io::native;
use crate::model::Model;

/// Arguments of `lstmkit forecast`.
#[derive(clap::Args, Debug)]
pub struct ForecastArgs {
    /// Model file written by `lstmkit train` (native `.lstmkit`, or the JSON
    /// model file), or a Keras `.keras` / `.h5` model together with `--config`.
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
    /// Write the forecast as CSV here (default: print it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Draw the history and the forecast of the first target into this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// History rows shown in the plot.
    #[arg(long, default_value_t = 200)]
    pub plot_history: usize,
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

/// Loads a model and its data pipeline from a native file or `lstmkit train`'s JSON model file.
pub fn load_with_pipeline(path: &Path) -> Result<(Model, Pipeline)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if native::is_native(&bytes) {
        let (model, extras) = native::from_bytes(&bytes, path)?;
        let pipeline = extras.pipeline()?.ok_or_else(|| {
            Error::format(
                path,
                "the model file holds no data pipeline (scalers, timesteps, horizon); \
                 forecasting needs a model saved by `lstmkit train`",
            )
        })?;
        return Ok((model, pipeline));
    }
    if bytes.first() == Some(&b'{') {
        let saved = crate::experiment::SavedModel::load(path)?;
        return Ok((saved.model()?, saved.pipeline.clone()));
    }
    Err(Error::format(
        path,
        "not a model saved by `lstmkit train` (a native .lstmkit file or its JSON model file); \
         a Keras file holds no data pipeline: add --config EXP.toml, whose [data] section gives it",
    ))
}

/// True for files that are lstmkit's own (native or JSON): their errors stand.
fn looks_lstmkit(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| native::is_native(&b) || b.first() == Some(&b'{'))
        .unwrap_or(true)
}

/// A Keras model with the pipeline of an experiment's `[data]` section.
fn load_with_config(path: &Path, config: &Path) -> Result<(Model, Pipeline)> {
    let model = crate::io::load_model(path)?;
    let (exp, base) = super::train::load_experiment(Some(config))?;
    let prepared = crate::data::prepare(&exp.data, &base)?;
    let pipeline = prepared.pipeline;
    if pipeline.input_shape().to_vec() != model.input_shape() {
        return Err(Error::format(
            path,
            format!(
                "the model takes windows of shape {:?}, but the [data] section of {} makes {:?} \
                 (timesteps, features)",
                model.input_shape(),
                config.display(),
                pipeline.input_shape()
            ),
        ));
    }
    let out: usize = model.output_shape().iter().product();
    if out != pipeline.output_width() {
        return Err(Error::format(
            path,
            format!(
                "the model outputs {out} value(s) per window, but the [data] section of {} needs {} \
                 (horizon x targets)",
                config.display(),
                pipeline.output_width()
            ),
        ));
    }
    Ok((model, pipeline))
}

/// Runs the command.
pub fn run(a: ForecastArgs) -> Result<()> {
    let (mut model, pipeline) = match load_with_pipeline(&a.model) {
        Ok(mp) => mp,
        Err(e) => match &a.config {
            Some(cfg) if !looks_lstmkit(&a.model) => load_with_config(&a.model, cfg)?,
            _ => return Err(e),
        },
    };
    let mut csv_opts = pipeline.csv_options();
    if a.exog == Some(Exog::Known) {
        // the last `steps` rows are the forecast period: their targets may be empty
        csv_opts.open_tail = Some(OpenTail {
            rows: a.steps as usize,
            columns: pipeline.targets.clone(),
        });
    }
    let frame = load_csv(&a.data, &csv_opts)?;
    for n in &frame.notes {
        eprintln!("note: {n}");
    }
    let mut opts = ForecastOptions::new(a.steps as usize);
    opts.exog = a.exog;
    let f = forecast(&mut model, &pipeline, &frame, &opts)?;
    let csv = f.to_csv();
    match &a.out {
        Some(p) => {
            crate::io::atomic_write_bytes(p, csv.as_bytes())?;
            eprintln!(
                "{}-step {} forecast of {} after {} history rows written to {}",
                f.steps,
                serde_json::to_value(f.method)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                f.targets.join(", "),
                f.history_rows,
                p.display()
            );
        }
        None => print!("{csv}"),
    }
    if let Some(p) = &a.plot {
        plot_forecast(p, &frame, &f, 0, a.plot_history)?;
        eprintln!("plot written to {}", p.display());
    }
    Ok(())
}
