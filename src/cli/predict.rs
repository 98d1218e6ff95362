//! `lstmkit predict --model PATH --input X.npy --output Y.npy [--batch-size N]`:
//! runs any loadable model on a float32 `.npy` array and writes the outputs.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::io::{load_model, npy};

/// Arguments of `lstmkit predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// Model file: lstmkit's native `.lstmkit` (or the folder `lstmkit train`
    /// wrote it in), `lstmkit train`'s JSON model file, Keras `.keras` or
    /// legacy Keras `.h5` (recognised by content, not by extension).
    #[arg(long)]
    pub model: PathBuf,
    /// Input array (.npy, float32 or float64), shape (samples, timesteps, features).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the predictions (.npy, float32).
    #[arg(long)]
    pub output: PathBuf,
    /// Samples per forward pass.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
}

/// Runs the command.
pub fn run(a: PredictArgs) -> Result<()> {
    let mut model = load_model(&a.model)?;
    let x = npy::read(&a.input)?;
    let want = model.input_shape().to_vec();
    let fmt = |s: &[usize]| {
        let dims: Vec<String> = s
            .iter()
            .map(|d| if *d == 0 { "any".into() } else { d.to_string() })
            .collect();
        format!("(samples, {})", dims.join(", "))
    };
    let ok = x.ndim() == want.len() + 1
        && x.shape[1..]
            .iter()
            .zip(&want)
            .all(|(g, w)| *w == 0 || g == w);
    if !ok {
        let got: Vec<String> = x.shape.iter().map(|d| d.to_string()).collect();
        return Err(Error::Shape(format!(
            "{}: the array has shape ({}) but model {} expects {}",
            a.input.display(),
            got.join(", "),
            a.model.display(),
            fmt(&want)
        )));
    }
    if x.shape[0] == 0 {
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
    let y = model.predict_batched(&x, bs)?;
    npy::write(&a.output, &y)?;
    eprintln!(
        "wrote {} predictions of shape {:?} to {}",
        y.shape[0],
        &y.shape[1..],
        a.output.display()
    );
    Ok(())
}
