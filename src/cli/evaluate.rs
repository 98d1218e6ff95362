//! `lstmkit evaluate --model DIR/model.json [--config EXP.toml]`: re-scores a
//! saved model on the test part of the experiment's data, with the model's
//! own fitted pipeline (scaler, windows, differencing), next to the baselines.

use std::path::PathBuf;

use crate::data::prepare;
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::experiment::{write_atomic, SavedModel};

/// Arguments of `lstmkit evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// A model written by `lstmkit train` (`DIR/model.json`).
    #[arg(long)]
    pub model: PathBuf,
    /// The experiment file it was trained with (default: the built-in m1).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also write the metrics as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs the command.
pub fn run(a: EvaluateArgs) -> Result<()> {
    let saved = SavedModel::load(&a.model)?;
    let mut model = saved.model()?;
    let (exp, base) = super::train::load_experiment(a.config.as_deref())?;
    let mut p = prepare(&exp.data, &base)?;
    // Score with the model's own pipeline: the scaler fitted when it was trained.
    let pipe = saved.pipeline.clone();
    if pipe.input_shape().to_vec() != model.input_shape() {
        return Err(Error::format(
            &a.model,
            format!(
                "the pipeline's input shape {:?} does not match the model's {:?}",
                pipe.input_shape(),
                model.input_shape()
            ),
        ));
    }
    p.test = pipe.windows(&p.frame, p.n_train_rows..p.n_rows, 1)?;
    p.test_truth = pipe.truth(&p.frame, &p.test.anchors)?;
    p.pipeline = pipe;
    p.test_times = p.target_times(&p.test, 0);
    let pred = model.predict(&p.test.x)?;
    let ev = evaluate(&p, &pred)?;
    println!("{}", ev.table());
    println!("{}", super::train::versus_naive(&ev));
    if let Some(j) = &a.json {
        let js = serde_json::to_string_pretty(&ev)
            .map_err(|e| Error::Other(format!("cannot serialise the metrics: {e}")))?;
        write_atomic(j, js.as_bytes())?;
    }
    Ok(())
}
