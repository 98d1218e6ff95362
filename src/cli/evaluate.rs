//! `lstmkit evaluate --model DIR/model.lstmkit [--config EXP.toml]`: re-scores a
//! saved model on the test part of the experiment's data, with the model's
//! own fitted pipeline (scaler, windows, differencing) when the file holds one
//! (native files written by `lstmkit train`), next to the baselines. Keras
//! files (`.keras`, `.h5`) are scored with the pipeline fitted from the config.

use std::path::PathBuf;

use crate::data::prepare;
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::io::atomic_write_bytes;

/// Arguments of `lstmkit evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// A model: `DIR/model.lstmkit` from `lstmkit train`, or a `.keras` / `.h5` file.
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
    let bytes = std::fs::read(&a.model).map_err(|e| Error::io(&a.model, e))?;
    let (mut model, saved_pipe) = if crate::io::native::is_native(&bytes) {
        let (m, extras) = crate::io::native::from_bytes(&bytes, &a.model)?;
        (m, extras.pipeline()?)
    } else {
        (crate::io::load_model_bytes(bytes, &a.model)?, None)
    };
    let (exp, base) = super::train::load_experiment(a.config.as_deref())?;
    let mut p = prepare(&exp.data, &base)?;
    for n in &p.frame.notes {
        eprintln!("note: {n}");
    }
    // Score with the model's own pipeline (the scaler fitted when it was trained).
    let pipe = saved_pipe.unwrap_or_else(|| p.pipeline.clone());
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
        atomic_write_bytes(j, js.as_bytes())?;
    }
    Ok(())
}
