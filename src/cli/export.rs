//! `lstmkit export --model M --out OUT.keras|OUT.lstmkit`: converts a model
//! between formats. To `.keras` (Keras 3: `config.json` + `model.weights.h5`,
//! loadable by `keras.saving.load_model`), from a native file, `lstmkit
//! train`'s JSON model file, a `.keras` or an `.h5`; to `.lstmkit` (native),
//! from any of them, keeping a native file's data pipeline and history.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::io::native;

/// Arguments of `lstmkit export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The model: native `.lstmkit` (or the folder `lstmkit train` wrote it in),
    /// `lstmkit train`'s `model.json`, `.keras` or `.h5`.
    #[arg(long)]
    pub model: PathBuf,
    /// Output file; its extension picks the format: `.keras` or `.lstmkit`.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(a: ExportArgs) -> Result<()> {
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "keras" && ext != "lstmkit" {
        return Err(Error::Config(format!(
            "--out {}: the extension must be .keras (Keras 3) or .lstmkit (native)",
            a.out.display()
        )));
    }
    // a native file keeps its extras (pipeline, history, training state), the
    // JSON model file its pipeline; Keras files hold neither
    let crate::io::Loaded { model, extras, .. } = crate::io::load(&a.model)?;
    if ext == "keras" {
        crate::io::keras_zip::save(&model, &a.out)?;
    } else {
        native::save(&model, &a.out, &extras)?;
    }
    eprintln!(
        "{} ({} parameters) written to {}",
        a.model.display(),
        model.count_params(),
        a.out.display()
    );
    Ok(())
}
