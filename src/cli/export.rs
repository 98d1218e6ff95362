//! `lstmkit export --model M --out OUT.keras|OUT.lstmkit`: converts a model
//! between formats. To `.keras` (Keras 3: `config.json` + `model.weights.h5`,
//! loadable by `keras.saving.load_model`), from a native file, `lstmkit
//! train`'s JSON model file, a `.keras` or an `.h5`; to `.lstmkit` (native),
//! from any of them, keeping a native file's data pipeline and history.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::io::native::{self, Extras};

/// Arguments of `lstmkit export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The model: native `.lstmkit`, `lstmkit train`'s `model.json`, `.keras` or `.h5`.
    #[arg(long)]
    pub model: PathBuf,
    /// Output file; its extension picks the format: `.keras` or `.lstmkit`.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(a: ExportArgs) -> Result<()> {
    let bytes = std::fs::read(&a.model).map_err(|e| Error::io(&a.model, e))?;
    let (model, extras) = if native::is_native(&bytes) {
        native::from_bytes(&bytes, &a.model)?
    } else if bytes.first() == Some(&b'{') {
        let saved = crate::experiment::SavedModel::load(&a.model)?;
        let extras = Extras {
            data: Some(Extras::data_blob(None, &saved.pipeline)),
            ..Extras::default()
        };
        (saved.model()?, extras)
    } else {
        (
            crate::io::load_model_bytes(bytes, &a.model)?,
            Extras::default(),
        )
    };
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "keras" => crate::io::keras_zip::save(&model, &a.out)?,
        "lstmkit" => native::save(&model, &a.out, &extras)?,
        _ => {
            return Err(Error::Config(format!(
                "--out {}: the extension must be .keras (Keras 3) or .lstmkit (native)",
                a.out.display()
            )))
        }
    }
    eprintln!(
        "{} ({} parameters) written to {}",
        a.model.display(),
        model.count_params(),
        a.out.display()
    );
    Ok(())
}
