//! Truncated back-propagation through time (TBPTT) for sequences too long to
//! unroll: train a *stateful* model on one (or a few parallel) long sequence(s)
//! chunk by chunk.
//!
//! Every chunk of `k1` steps is run forward in training mode; the first
//! `k1 − k2` steps only advance the state, the last `k2` steps are unrolled,
//! their loss is back-propagated through those `k2` steps only, and the
//! optimiser takes one step. The final state of the chunk (its value, not
//! its gradient) is the initial state of the next chunk, so information can
//! travel arbitrarily far forward while gradients travel at most `k2` steps
//! back. The memory used is that of one `k2`-step batch, whatever the length
//! of the sequence: the layers' caches are sized by the chunk and reused.
//!
//! ```
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Dense, LSTM};
//! use lstmkit::train::tbptt::{fit_tbptt, Tbptt};
//! use lstmkit::train::{Loss, Optimizer};
//! use lstmkit::Tensor;
//!
//! // 2 parallel streams of 1,000 steps, 1 feature; one target per step
//! let x = Tensor::new(&[2, 1000, 1], (0..2000).map(|i| (i as f32 * 0.1).sin()).collect()).unwrap();
//! let y = Tensor::new(&[2, 1000, 1], (0..2000).map(|i| (i as f32 * 0.1 + 0.1).sin()).collect()).unwrap();
//! let mut model = Sequential::new(&[0, 1]) // 0 = any number of timesteps
//!     .add(LSTM::new(8).stateful(true).return_sequences(true))
//!     .add(Dense::new(1))
//!     .build(1)
//!     .unwrap();
//! model.compile(Optimizer::adam(1e-2), Loss::Mse);
//! let report = fit_tbptt(&mut model, &x, &y, &Tbptt { k1: 50, k2: 25, epochs: 2 }).unwrap();
//! assert_eq!(report.epoch_losses.len(), 2);
//! assert_eq!(report.chunks_per_epoch, 20);
//! ```

use crate::error::{Error, Result};
use crate::model::Model;
use crate::tensor::Tensor;

/// TBPTT settings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tbptt {
    /// Steps run forward per chunk (and per optimiser step).
    pub k1: usize,
    /// Steps back-propagated at the end of each chunk (`1 ≤ k2 ≤ k1`).
    pub k2: usize,
    /// Passes over the whole sequence; the states are reset before each pass.
    pub epochs: usize,
}

/// What [`fit_tbptt`] did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TbpttReport {
    /// Mean training loss over the chunks of each epoch (loss at the pre-update weights).
    pub epoch_losses: Vec<f32>,
    /// Optimiser steps per epoch.
    pub chunks_per_epoch: usize,
    /// Trailing steps left unused because they do not fill a chunk of a
    /// fixed-length model (always 0 for models with open timesteps).
    pub unused_tail: usize,
}

/// Copies steps `[start, start + len)` of every stream of `src` (B, T, F) into `dst`.
fn slice_steps(src: &Tensor, start: usize, len: usize, dst: &mut Tensor) {
    let (b, t, f) = (src.shape[0], src.shape[1], src.shape[2]);
    dst.resize_uninit(&[b, len, f]);
    for bi in 0..b {
        let from = (bi * t + start) * f;
        dst.data[bi * len * f..(bi + 1) * len * f].copy_from_slice(&src.data[from..from + len * f]);
    }
}

/// The chunk plan: `(start, warm_steps, train_steps)` per chunk, and the unused tail.
fn plan(
    t: usize,
    k1: usize,
    k2: usize,
    fixed: Option<usize>,
) -> (Vec<(usize, usize, usize)>, usize) {
    let mut chunks = Vec::new();
    let mut s = 0;
    while s + k1 <= t {
        chunks.push((s, k1 - k2, k2));
        s += k1;
    }
    let rest = t - s;
    if rest == 0 {
        return (chunks, 0);
    }
    match fixed {
        None => {
            let train = rest.min(k2);
            chunks.push((s, rest - train, train));
            (chunks, 0)
        }
        Some(_) => (chunks, rest),
    }
}

fn check(model: &Model, x: &Tensor, y: &Tensor, cfg: &Tbptt) -> Result<Option<usize>> {
    if cfg.k1 == 0 || cfg.k2 == 0 || cfg.k2 > cfg.k1 {
        return Err(Error::Config(format!(
            "TBPTT needs 1 ≤ k2 ≤ k1, got k1 = {}, k2 = {}",
            cfg.k1, cfg.k2
        )));
    }
    if !model.is_stateful() {
        return Err(Error::Config(
            "TBPTT needs a stateful model (e.g. LSTM::new(n).stateful(true)) so that the state carries across chunks"
                .into(),
        ));
    }
    if x.ndim() != 3 || y.ndim() != 3 || x.shape[..2] != y.shape[..2] {
        return Err(Error::Shape(format!(
            "TBPTT takes x (streams, timesteps, features) and y (streams, timesteps, outputs) with the same streams and timesteps, got {:?} and {:?}",
            x.shape, y.shape
        )));
    }
    let ins = model.input_shape();
    let outs = model.output_shape();
    if ins.len() != 2 || outs.len() != 2 || outs[0] != ins[0] {
        return Err(Error::Shape(format!(
            "TBPTT needs a model with one output per timestep (return_sequences=true on the last recurrent layer): input {:?}, output {:?}",
            ins, outs
        )));
    }
    if outs[1] != y.shape[2] {
        return Err(Error::Shape(format!(
            "the model gives {} outputs per step but y has {}",
            outs[1], y.shape[2]
        )));
    }
    let fixed = (ins[0] != 0).then_some(ins[0]);
    if let Some(k) = fixed {
        if cfg.k2 != k || !(cfg.k1 - cfg.k2).is_multiple_of(k) {
            return Err(Error::Config(format!(
                "the model takes exactly {k} timesteps: use k2 = {k} and k1 a multiple of {k} (got k1 = {}, k2 = {}), or build the model with 0 (any) timesteps",
                cfg.k1, cfg.k2
            )));
        }
    }
    if x.shape[1] < cfg.k2 {
        return Err(Error::Data(format!(
            "the sequence has {} steps, fewer than k2 = {}",
            x.shape[1], cfg.k2
        )));
    }
    if x.has_non_finite() || y.has_non_finite() {
        return Err(Error::Data(
            "TBPTT input or target contains NaN or infinite values".into(),
        ));
    }
    Ok(fixed)
}

/// Runs `steps` steps forward (training mode, no back-propagation), `piece` steps
/// at a time, to advance the states.
fn advance(
    model: &mut Model,
    x: &Tensor,
    start: usize,
    steps: usize,
    piece: usize,
    buf: &mut Tensor,
) -> Result<()> {
    let mut s = start;
    while s < start + steps {
        let len = piece.min(start + steps - s);
        slice_steps(x, s, len, buf);
        model.forward(buf, true)?;
        s += len;
    }
    Ok(())
}

/// Trains a compiled, stateful model on long sequences with truncated BPTT
/// (see the module docs). `x` is (streams, T, features), `y` (streams, T,
/// outputs); each stream is one long sequence, processed in parallel (the
/// batch size is the number of streams). The model must output one value per
/// timestep and either take any number of timesteps (input shape `[0, F]`) or
/// exactly `k2` (then `k1` must be a multiple of `k2`).
pub fn fit_tbptt(model: &mut Model, x: &Tensor, y: &Tensor, cfg: &Tbptt) -> Result<TbpttReport> {
    let fixed = check(model, x, y, cfg)?;
    let (chunks, unused_tail) = plan(x.shape[1], cfg.k1, cfg.k2, fixed);
    let piece = fixed.unwrap_or(cfg.k1.max(1));
    let (mut xb, mut yb) = (Tensor::default(), Tensor::default());
    let mut report = TbpttReport {
        epoch_losses: Vec::with_capacity(cfg.epochs),
        chunks_per_epoch: chunks.len(),
        unused_tail,
    };
    for epoch in 0..cfg.epochs {
        model.reset_states();
        let mut sum = 0.0f64;
        for &(start, warm, train) in &chunks {
            advance(model, x, start, warm, piece, &mut xb)?;
            slice_steps(x, start + warm, train, &mut xb);
            slice_steps(y, start + warm, train, &mut yb);
            let l = model.train_on_batch(&xb, &yb)?;
            if !l.is_finite() {
                return Err(Error::Training(format!(
                    "TBPTT loss became {l} in epoch {} at step {}",
                    epoch + 1,
                    start + warm
                )));
            }
            sum += l as f64;
        }
        report
            .epoch_losses
            .push((sum / chunks.len().max(1) as f64) as f32);
    }
    Ok(report)
}

/// Runs a stateful per-timestep model over whole sequences `x` (streams, T,
/// features) in chunks of `chunk` steps, starting from reset states, and
/// returns the outputs (streams, T, outputs). The states are left at the end
/// of the sequences (e.g. to continue with a forecast).
pub fn predict_sequence(model: &mut Model, x: &Tensor, chunk: usize) -> Result<Tensor> {
    if x.ndim() != 3 || chunk == 0 {
        return Err(Error::Shape(format!(
            "predict_sequence takes x (streams, timesteps, features) and chunk > 0, got {:?} and {chunk}",
            x.shape
        )));
    }
    let ins = model.input_shape().to_vec();
    let outs = model.output_shape();
    if ins.len() != 2 || outs.len() != 2 {
        return Err(Error::Shape(format!(
            "predict_sequence needs a model with one output per timestep, got input {:?}, output {:?}",
            ins, outs
        )));
    }
    let piece = if ins[0] != 0 { ins[0] } else { chunk };
    let (b, t) = (x.shape[0], x.shape[1]);
    if t % piece != 0 {
        return Err(Error::Shape(format!(
            "the model takes exactly {piece} timesteps; the sequence length {t} is not a multiple of it"
        )));
    }
    let o = outs[1];
    let mut out = Tensor::zeros(&[b, t, o]);
    let mut xb = Tensor::default();
    model.reset_states();
    let mut s = 0;
    while s < t {
        let len = piece.min(t - s);
        slice_steps(x, s, len, &mut xb);
        let yb = model.forward(&xb, false)?;
        for bi in 0..b {
            out.data[(bi * t + s) * o..(bi * t + s + len) * o]
                .copy_from_slice(&yb.data[bi * len * o..(bi + 1) * len * o]);
        }
        s += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn chunk_plan() {
        assert_eq!(
            plan(10, 4, 2, None),
            (vec![(0, 2, 2), (4, 2, 2), (8, 0, 2)], 0)
        );
        assert_eq!(
            plan(11, 4, 4, None),
            (vec![(0, 0, 4), (4, 0, 4), (8, 0, 3)], 0)
        );
        assert_eq!(plan(10, 4, 2, Some(2)), (vec![(0, 2, 2), (4, 2, 2)], 2));
        assert_eq!(
            plan(9, 3, 1, None),
            (vec![(0, 2, 1), (3, 2, 1), (6, 2, 1)], 0)
        );
    }
}
