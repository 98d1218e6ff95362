//! `lstmkit predict --model PATH --input X.npy --output Y.npy [--scaled]
//! [--config EXP.toml] [--batch-size N]`: runs any loadable model on a
//! float32 `.npy` array and writes the outputs.
//!
//! One rule, as for `evaluate` and `forecast`: a model file that carries its
//! data pipeline (what `lstmkit train` writes) is used with it, so the input
//! holds original-unit rows and the output original-unit levels
//! ([`crate::data::Pipeline::inputs_from_levels`]); `--config` gives a file
//! without one (Keras) the pipeline of an experiment's `[data]`. `--scaled`,
//! or a file without a pipeline and no `--config`, feeds the array to the
//! model as is. The command says which it did.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::io::npy;
use crate::tensor::Tensor;

/// Arguments of `lstmkit predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// Model file: lstmkit's native `.lstmkit` (or the folder `lstmkit train`
    /// wrote it in), `lstmkit train`'s `model.json`, Keras `.keras` or legacy
    /// Keras `.h5` (recognised by content, not by extension).
    #[arg(long)]
    pub model: PathBuf,
    /// Input array (.npy, float32 or float64). With the model's data pipeline
    /// (the default for files `lstmkit train` wrote): original-unit rows,
    /// shape (samples, timesteps [+ 1 with `difference = 1`], features); with
    /// `--scaled`: the model's own inputs, shape (samples, timesteps, features).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the predictions (.npy, float32): original units with
    /// the pipeline, the model's raw outputs with `--scaled`.
    #[arg(long)]
    pub output: PathBuf,
    /// Feed the array to the model as is and write its raw outputs (scaled,
    /// differenced: the model's own units), ignoring the file's data pipeline.
    #[arg(long, conflicts_with = "config")]
    pub scaled: bool,
    /// Experiment file whose `[data]` section gives the pipeline of a model
    /// file that holds none (Keras `.keras`, `.h5`): then input and output
    /// are in original units too.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Samples per forward pass.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
}

fn fmt_shape(s: &[usize]) -> String {
    let dims: Vec<String> = s
        .iter()
        .map(|d| if *d == 0 { "any".into() } else { d.to_string() })
        .collect();
    format!("(samples, {})", dims.join(", "))
}

/// Runs the command.
pub fn run(a: PredictArgs) -> Result<()> {
    let loaded = crate::io::load(&a.model)?;
    let pipeline = match (a.scaled, &loaded.pipeline, &a.config) {
        (true, _, _) => None,
        (false, Some(_), _) | (false, None, Some(_)) => {
            Some(super::pipeline_for(&loaded, a.config.as_deref(), |cfg| {
                let (exp, base) = super::train::load_experiment(Some(cfg))?;
                Ok(crate::data::prepare(&exp.data, &base)?.pipeline)
            })?)
        }
        (false, None, None) => None,
    };
    let mut model = loaded.model;
    let x = npy::read(&a.input)?;
    if x.ndim() >= 1 && x.shape[0] == 0 {
        return Err(Error::Data(format!(
            "{}: the array holds no samples",
            a.input.display()
        )));
    }
    if x.has_non_finite() {
        return Err(Error::Data(format!(
            "{}: the array contains NaN or infinite values",
            a.input.display()
        )));
    }
    let bs = usize::try_from(a.batch_size).unwrap_or(usize::MAX);
    let (y, units) = match &pipeline {
        Some(p) => {
            let inputs = p.inputs_from_levels(&x).map_err(|e| {
                Error::Shape(format!(
                    "{}: {} (or pass --scaled to feed the model's own inputs)",
                    a.input.display(),
                    e.detail()
                ))
            })?;
            let raw = model.predict_batched(&inputs, bs)?;
            let y = p.outputs_to_levels(&x, &raw)?;
            let units = format!(
                "original units of {}: the input scaled{} and the outputs turned back with {}'s data \
                 pipeline (--scaled feeds the array as is)",
                p.targets.join(", "),
                if p.difference == 1 { " and differenced" } else { "" },
                match &a.config {
                    Some(c) => format!("the [data] section of {}", c.display()),
                    None => "the model file".to_string(),
                }
            );
            (y, units)
        }
        None => {
            check_raw_shape(&x, model.input_shape(), &a)?;
            let y = model.predict_batched(&x, bs)?;
            let why = if a.scaled {
                "--scaled"
            } else {
                "the file holds no data pipeline; --config EXP.toml gives it one"
            };
            (
                y,
                format!("the model's own units: the array fed as is ({why})"),
            )
        }
    };
    npy::write(&a.output, &y)?;
    eprintln!(
        "wrote {} predictions of shape {:?} to {}, in {units}",
        y.shape[0],
        &y.shape[1..],
        a.output.display()
    );
    Ok(())
}

fn check_raw_shape(x: &Tensor, want: &[usize], a: &PredictArgs) -> Result<()> {
    let ok = x.ndim() == want.len() + 1
        && x.shape[1..]
            .iter()
            .zip(want)
            .all(|(g, w)| *w == 0 || g == w);
    if ok {
        return Ok(());
    }
    let got: Vec<String> = x.shape.iter().map(|d| d.to_string()).collect();
    Err(Error::Shape(format!(
        "{}: the array has shape ({}) but model {} expects {}",
        a.input.display(),
        got.join(", "),
        a.model.display(),
        fmt_shape(want)
    )))
}
