//! `lstmkit evaluate --model M [--config EXP.toml]`: re-scores a saved model
//! on the test part of its data, next to the baselines. One rule, as for
//! `predict` and `forecast`: a model file that carries its data pipeline
//! (scaler, windows, differencing: native files and the JSON model file
//! written by `lstmkit train`) is scored with it, on the data it was trained
//! on unless `--config` names another experiment's; a file without one
//! (Keras `.keras`, `.h5`) takes both from `--config`.

use std::path::{Path, PathBuf};

use crate::data::{prepare, DataSpec, Prepared};
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::io::atomic_write_bytes;

/// Arguments of `lstmkit evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// The model: native `.lstmkit` (or the folder `lstmkit train` wrote it
    /// in), `lstmkit train`'s `model.json`, `.keras` or `.h5` (recognised by
    /// content); a Keras file together with `--config`.
    #[arg(long)]
    pub model: PathBuf,
    /// The experiment file whose data it is scored on (default: the data the
    /// model was trained on, which files written by `lstmkit train` record);
    /// for a file without a data pipeline (Keras), also its pipeline.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also write the metrics as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The data of `spec` (relative paths from `base`), prepared; notes printed.
fn prepared(spec: &DataSpec, base: &Path) -> Result<Prepared> {
    let p = prepare(spec, base)?;
    for n in &p.frame.notes {
        eprintln!("note: {n}");
    }
    Ok(p)
}

/// Runs the command.
pub fn run(a: EvaluateArgs) -> Result<()> {
    let loaded = crate::io::load(&a.model)?;
    // the data: --config's, else the one the file says it was trained on
    let (p, data_from) = match &a.config {
        Some(cfg) => {
            let (exp, base) = super::train::load_experiment(Some(cfg))?;
            (prepared(&exp.data, &base)?, format!("{}'s [data]", cfg.display()))
        }
        None if loaded.pipeline.is_none() => return Err(super::no_pipeline(&loaded)),
        None => match loaded.data_source()? {
            Some((spec, base)) => {
                let at = spec.resolved_path(&base);
                let from = format!("the data it was trained on ({})", at.display());
                (prepared(&spec, &base)?, from)
            }
            None => {
                return Err(Error::format(
                    &loaded.path,
                    "the file holds its data pipeline but not where its data is; add --config EXP.toml, \
                     whose [data] section names it",
                ))
            }
        },
    };
    // score with the model's own pipeline (the scaler fitted when it was
    // trained), or with the one `--config` fits
    let pipe = super::pipeline_for(&loaded, a.config.as_deref(), |_| Ok(p.pipeline.clone()))?;
    eprintln!(
        "scoring {} on the test part of {data_from}, with {}",
        loaded.path.display(),
        if loaded.pipeline.is_some() {
            "the model file's data pipeline"
        } else {
            "the pipeline that [data] fits"
        }
    );
    let mut p = p;
    let mut model = loaded.model;
    p.rewindow_test(pipe)?;
    let pred = model.predict(&p.test.x)?;
    let ev = evaluate(&p, &pred)?;
    print!("{}", ev.series_table());
    println!("{}", ev.table());
    println!("{}", super::train::versus_naive(&ev));
    if let Some(j) = &a.json {
        let js = serde_json::to_string_pretty(&ev)
            .map_err(|e| Error::Other(format!("cannot serialise the metrics: {e}")))?;
        atomic_write_bytes(j, js.as_bytes())?;
    }
    Ok(())
}
