//! The `lstmkit` command line. Each sub-command lives in its own file.
//!
//! Exit codes: 0 success, 1 a runtime error (bad data, bad model file, ...),
//! 2 a usage error (clap's own).

pub mod backtest;
pub mod bench;
pub mod evaluate;
pub mod export;
pub mod forecast;
pub mod init;
mod predict;
pub mod train;
pub mod tune;

use std::path::Path;

use clap::{Parser, Subcommand};

use crate::data::Pipeline;
use crate::error::{Error, Result};
use crate::io::Loaded;

/// LSTM regression and time-series forecasting.
#[derive(Parser, Debug)]
#[command(name = "lstmkit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Historical forecasts from many origins (retrained as asked), next to the baselines.
    Backtest(backtest::BacktestArgs),
    /// Benchmarks (training speed of the seed's models).
    Bench(bench::BenchArgs),
    /// Runs a model (native, model.json, .keras, .h5) on a .npy array and writes the predictions as
    /// .npy: in original units with the file's data pipeline (`--scaled`: the array as is).
    Predict(predict::PredictArgs),
    /// Train a model from an experiment file (default: the seed's m1 on bundled CO2 data).
    Train(train::TrainArgs),
    /// Re-score a model (native, model.json, .keras, .h5) on the test part of the data it was
    /// trained on, or of `--config`'s (a Keras model needs `--config`).
    Evaluate(evaluate::EvaluateArgs),
    /// Forecast N steps after the end of a CSV series with a model saved by `train` (native,
    /// model.json; a .keras or .h5 model with `--config`).
    Forecast(forecast::ForecastArgs),
    /// Convert a model (native, model.json, .keras, .h5) to Keras 3 `.keras` or to the native
    /// `.lstmkit` format.
    Export(export::ExportArgs),
    /// Write a commented starter experiment file for a CSV (columns detected, time step and
    /// season guessed).
    Init(init::InitArgs),
    /// Hyper-parameter search over an experiment file (workers share a study in SQLite or PostgreSQL).
    Tune(tune::TuneArgs),
}

/// Parses the arguments, runs the command, prints errors; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Backtest(a) => backtest::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Train(a) => train::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Tune(a) => tune::run(a),
        Command::Forecast(a) => forecast::run(a),
        Command::Export(a) => export::run(a),
        Command::Init(a) => init::run(a),
    };
    match result {
        // a run Ctrl-C stopped (and saved): the shell's code for SIGINT
        Ok(()) if crate::train::interrupt::requested() => 130,
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// The data pipeline that a command needing one (`evaluate`, `forecast`)
/// uses with the model file `loaded` ([`crate::io::load`]): the file's own
/// (native files written by `lstmkit train`, its JSON model file), else,
/// with `--config EXP.toml`, the one `fit` makes from that experiment's
/// `[data]` section; checked against the model's shapes either way. A file
/// without a pipeline and no `--config` is an error naming the file, what it
/// lacks and what to add.
pub(crate) fn pipeline_for(
    loaded: &Loaded,
    config: Option<&Path>,
    fit: impl FnOnce(&Path) -> Result<Pipeline>,
) -> Result<Pipeline> {
    let (pipeline, source) = match (&loaded.pipeline, config) {
        (Some(p), _) => (p.clone(), "the file's own data pipeline".to_string()),
        (None, Some(cfg)) => (
            fit(cfg)?,
            format!("the [data] section of {}", cfg.display()),
        ),
        (None, None) => return Err(no_pipeline(loaded)),
    };
    loaded.check_pipeline(&pipeline, &source)?;
    Ok(pipeline)
}

/// The error for a model file without a data pipeline where a command needs
/// one and no `--config` gives it: names the file, what it lacks and what to add.
pub(crate) fn no_pipeline(loaded: &Loaded) -> Error {
    Error::format(
        &loaded.path,
        format!(
            "{} with no data pipeline (scalers, timesteps, horizon: `lstmkit train` stores them); \
             add --config EXP.toml, whose [data] section gives it",
            loaded.format.describe()
        ),
    )
}
