//! `lstmkit evaluate --model M [--config EXP.toml]`: re-scores a saved model
//! on the test part of the experiment's data, next to the baselines, with the
//! model's own fitted pipeline (scaler, windows, differencing) when the file
//! holds one (native files and the JSON model file written by `lstmkit
//! train`). A file without one (Keras `.keras`, `.h5`) is scored with the
//! pipeline fitted from `--config`, as `lstmkit forecast` does.

use std::path::{Path, PathBuf};

use crate::data::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::eval::evaluate;
use crate::io::atomic_write_bytes;

/// Arguments of `lstmkit evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// A model file (any format `lstmkit predict` reads): `DIR/model.lstmkit`
    /// or `DIR/model.json` from `lstmkit train` (or the folder `DIR`), or a
    /// `.keras` / `.h5` file together with `--config`.
    #[arg(long)]
    pub model: PathBuf,
    /// The experiment file whose data it is scored on (default: the built-in
    /// m1); for a file without a data pipeline (Keras), also its pipeline.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also write the metrics as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The experiment's data (`--config`, default the built-in m1), prepared.
fn prepared(config: Option<&Path>) -> Result<Prepared> {
    let (exp, base) = super::train::load_experiment(config)?;
    let p = prepare(&exp.data, &base)?;
    for n in &p.frame.notes {
        eprintln!("note: {n}");
    }
    Ok(p)
}

/// Runs the command.
pub fn run(a: EvaluateArgs) -> Result<()> {
    let loaded = crate::io::load(&a.model)?;
    // Score with the model's own pipeline (the scaler fitted when it was
    // trained), or with the one `--config` fits.
    let mut from_config = None;
    let pipe = super::pipeline_for(&loaded, a.config.as_deref(), |cfg| {
        let p = prepared(Some(cfg))?;
        let pipe = p.pipeline.clone();
        from_config = Some(p);
        Ok(pipe)
    })?;
    let mut p = match from_config {
        Some(p) => p,
        None => prepared(a.config.as_deref())?,
    };
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
