//! `Model::fit`: epochs of mini-batch training with Keras' semantics.
//!
//! * `validation_split` takes the **last** fraction of the samples as
//!   validation data, before any shuffling (`split_at = floor(n·(1 − split))`);
//!   explicit `validation_data` takes precedence;
//! * every epoch the training samples are shuffled (seeded: the same seed gives
//!   the same batches and the same bits) and cut into batches of `batch_size`
//!   (the last one may be smaller);
//! * the reported `loss` is the sample-weighted running mean of the batch
//!   losses (Keras' loss tracker), regularisation included; `val_loss` is
//!   computed in inference mode after the epoch;
//! * callbacks are called in Keras' order and may stop training or change the
//!   learning rate.
//!
//! ```
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Dense, LSTM};
//! use lstmkit::train::{EarlyStopping, FitOptions, Loss, Optimizer};
//! use lstmkit::Tensor;
//!
//! let mut model = Sequential::new(&[4, 1]).add(LSTM::new(4)).add(Dense::new(1)).build(1).unwrap();
//! model.compile(Optimizer::adam(1e-2), Loss::Mse);
//! let x = Tensor::new(&[20, 4, 1], (0..80).map(|i| (i % 7) as f32 / 7.0).collect()).unwrap();
//! let y = Tensor::new(&[20, 1], (0..20).map(|i| (i % 3) as f32 / 3.0).collect()).unwrap();
//! let opts = FitOptions::new().epochs(3).batch_size(8).validation_split(0.25).verbose(0);
//! let mut es = EarlyStopping::new().patience(5);
//! let history = model.fit_with_callbacks(&x, &y, &opts, &mut [&mut es]).unwrap();
//! assert_eq!(history.len(), 3);
//! assert!(history.val_loss[0].is_some());
//! ```

use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::callbacks::{Callback, Control};
use crate::train::history::{History, Logs};
use crate::train::progress::Progress;
use crate::train::source::{BatchSource, TensorPair};

/// The arguments of [`Model::fit`], with Keras' defaults (epochs 1,
/// batch_size 32, shuffle true, no validation, initial_epoch 0, verbose 1).
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// Index one past the last epoch to run (Keras' `epochs`).
    pub epochs: usize,
    /// Samples per gradient step.
    pub batch_size: usize,
    /// Shuffle the training samples before each epoch.
    pub shuffle: bool,
    /// Seed of the shuffling stream.
    pub seed: u64,
    /// Fraction of the samples (the last ones) held out for validation.
    pub validation_split: f64,
    /// Explicit validation data (x, y); overrides `validation_split`.
    pub validation_data: Option<(Tensor, Tensor)>,
    /// Epoch to start from (for resuming: epochs `initial_epoch..epochs` run).
    pub initial_epoch: usize,
    /// 0 silent, 1 a progress bar per epoch (plain lines when stdout is not a
    /// terminal), 2 one line per epoch.
    pub verbose: u8,
    /// Reset the states of stateful layers at the end of every epoch (after
    /// validation), as Keras users do with `model.reset_states()` between
    /// one-epoch `fit` calls. Default false (Keras' `fit` never resets).
    pub reset_states_each_epoch: bool,
    /// Draw a new permutation every epoch (true, Keras' documented `shuffle`
    /// semantics) or one permutation reused by every epoch (false: what Keras 3
    /// on the TensorFlow backend actually does after `keras.utils.set_random_seed`,
    /// since its seeded shuffle op restarts with each epoch's iterator).
    pub reshuffle_each_epoch: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl FitOptions {
    /// Keras' defaults.
    pub fn new() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            validation_data: None,
            initial_epoch: 0,
            reset_states_each_epoch: false,
            reshuffle_each_epoch: true,
            verbose: 1,
        }
    }
    /// Sets `epochs`.
    pub fn epochs(mut self, e: usize) -> Self {
        self.epochs = e;
        self
    }
    /// Sets `batch_size`.
    pub fn batch_size(mut self, b: usize) -> Self {
        self.batch_size = b;
        self
    }
    /// Sets `shuffle`.
    pub fn shuffle(mut self, s: bool) -> Self {
        self.shuffle = s;
        self
    }
    /// Sets `seed`.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Sets `validation_split`.
    pub fn validation_split(mut self, v: f64) -> Self {
        self.validation_split = v;
        self
    }
    /// Sets explicit validation data.
    pub fn validation_data(mut self, x: Tensor, y: Tensor) -> Self {
        self.validation_data = Some((x, y));
        self
    }
    /// Sets `reset_states_each_epoch` (stateful models).
    pub fn reset_states_each_epoch(mut self, r: bool) -> Self {
        self.reset_states_each_epoch = r;
        self
    }

    /// Sets `reshuffle_each_epoch`.
    pub fn reshuffle_each_epoch(mut self, r: bool) -> Self {
        self.reshuffle_each_epoch = r;
        self
    }
    /// Sets `initial_epoch`.
    pub fn initial_epoch(mut self, e: usize) -> Self {
        self.initial_epoch = e;
        self
    }
    /// Sets `verbose`.
    pub fn verbose(mut self, v: u8) -> Self {
        self.verbose = v;
        self
    }
}

/// Copies samples `idx` of `src` (first axis) into `dst`, reusing its allocation.
#[cfg(test)]
fn gather(src: &Tensor, idx: &[usize], dst: &mut Tensor) {
    super::source::gather_rows(src, 0, idx, dst)
}

/// Samples `start..end` of `src` (first axis).
#[cfg(test)]
fn slice_rows(src: &Tensor, start: usize, end: usize) -> Tensor {
    let per: usize = src.shape[1..].iter().product();
    let mut shape = src.shape.clone();
    shape[0] = end - start;
    Tensor {
        shape,
        data: src.data[start * per..end * per].to_vec(),
    }
}

/// [`check_xy`] for a source: the shapes of its first sample, and its targets' values.
fn check_source(model: &Model, src: &dyn BatchSource, what: &str) -> Result<()> {
    if src.is_empty() {
        return Ok(());
    }
    let (mut x1, mut y1) = (Tensor::default(), Tensor::default());
    src.gather(&[0], &mut x1, &mut y1);
    check_xy(model, &x1, &y1, what)?;
    if src.targets_non_finite() {
        return Err(Error::Data(format!(
            "{what}: y contains NaN or infinite values"
        )));
    }
    Ok(())
}

fn check_xy(model: &Model, x: &Tensor, y: &Tensor, what: &str) -> Result<()> {
    model.check_input(x)?;
    if y.ndim() == 0 || y.batch() != x.batch() {
        return Err(Error::Shape(format!(
            "{what}: x has {} samples but y has shape {:?}",
            x.batch(),
            y.shape
        )));
    }
    let per_y: usize = y.shape[1..].iter().product();
    let per_out: usize = model.output_shape().iter().product();
    if per_y != per_out {
        return Err(Error::Shape(format!(
            "{what}: y has {per_y} value(s) per sample (shape {:?}) but the model outputs {:?}",
            y.shape,
            model.output_shape()
        )));
    }
    if y.has_non_finite() {
        return Err(Error::Data(format!(
            "{what}: y contains NaN or infinite values"
        )));
    }
    Ok(())
}

impl Model {
    /// Trains for `opts.epochs` epochs (see the module docs); returns the history.
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, opts: &FitOptions) -> Result<History> {
        self.fit_with_callbacks(x, y, opts, &mut [])
    }

    /// Loss over `(x, y)` in inference mode, in batches of `batch_size`
    /// (sample-weighted mean, regularisation included, like Keras' `evaluate`).
    pub fn evaluate(&mut self, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<f64> {
        check_xy(self, x, y, "evaluate")?;
        self.evaluate_source(&TensorPair::new(x, y), batch_size)
    }

    /// [`Model::evaluate`] over the samples of a [`BatchSource`], in order.
    pub fn evaluate_source(&mut self, src: &dyn BatchSource, batch_size: usize) -> Result<f64> {
        let n = src.len();
        if n == 0 {
            return Err(Error::Data("evaluate: no samples".into()));
        }
        let bs = batch_size.max(1);
        let mut xb = Tensor::default();
        let mut yb = Tensor::default();
        let mut idx: Vec<usize> = Vec::with_capacity(bs);
        let (mut sum, mut count) = (0.0f64, 0usize);
        let mut start = 0;
        while start < n {
            let end = (start + bs).min(n);
            idx.clear();
            idx.extend(start..end);
            src.gather(&idx, &mut xb, &mut yb);
            let l = self.test_on_batch(&xb, &yb)? as f64;
            sum += l * (end - start) as f64;
            count += end - start;
            start = end;
        }
        Ok(sum / count as f64)
    }

    /// [`Model::fit`] with callbacks, called in order at each hook.
    pub fn fit_with_callbacks(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        self.check_fit_options(opts)?;
        check_xy(self, x, y, "fit")?;
        let n_all = x.batch();
        // Keras' train_validation_split: the last part, before shuffling.
        // the caller's tensors are borrowed, not copied (a large panel's windows are most of the memory)
        if let Some((vx, vy)) = &opts.validation_data {
            check_xy(self, vx, vy, "validation data")?;
            if vx.batch() == 0 {
                return Err(Error::Data("validation data holds no sample".into()));
            }
            let val = TensorPair::new(vx, vy);
            self.fit_loop(&TensorPair::new(x, y), Some(&val), opts, callbacks)
        } else if opts.validation_split > 0.0 {
            let split_at = (n_all as f64 * (1.0 - opts.validation_split)).floor() as usize;
            if split_at == 0 || split_at == n_all {
                return Err(Error::Data(format!(
                    "training data contains {n_all} samples, which is not sufficient to \
                         split it into a validation and training set as specified by \
                         validation_split={}",
                    opts.validation_split
                )));
            }
            let val = TensorPair::range(x, y, split_at..n_all);
            self.fit_loop(
                &TensorPair::range(x, y, 0..split_at),
                Some(&val),
                opts,
                callbacks,
            )
        } else {
            self.fit_loop(&TensorPair::new(x, y), None, opts, callbacks)
        }
    }

    /// [`Model::fit_with_callbacks`] on batches gathered from `train`, scored
    /// on `val` after each epoch (the same shuffles, batches and bits as the
    /// materialised tensors of the same samples). `opts.validation_split` and
    /// `opts.validation_data` must be unset: the validation samples are `val`.
    pub fn fit_source(
        &mut self,
        train: &dyn BatchSource,
        val: Option<&dyn BatchSource>,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        self.check_fit_options(opts)?;
        if opts.validation_split > 0.0 || opts.validation_data.is_some() {
            return Err(Error::Config(
                "fit_source takes its validation samples as an argument: leave \
                 validation_split and validation_data unset"
                    .into(),
            ));
        }
        check_source(self, train, "fit")?;
        if let Some(v) = val {
            check_source(self, v, "validation data")?;
            if v.is_empty() {
                return Err(Error::Data("validation data holds no sample".into()));
            }
        }
        self.fit_loop(train, val, opts, callbacks)
    }

    /// Errors on options no fit can run with.
    fn check_fit_options(&self, opts: &FitOptions) -> Result<()> {
        if self.optimizer.is_none() || self.loss.is_none() {
            return Err(Error::Config(
                "call compile(optimizer, loss) before fit".into(),
            ));
        }
        if opts.batch_size == 0 {
            return Err(Error::Config("batch_size must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&opts.validation_split) {
            return Err(Error::Config(format!(
                "validation_split must be in [0, 1), got {}",
                opts.validation_split
            )));
        }
        if opts.initial_epoch > opts.epochs {
            return Err(Error::Config(format!(
                "initial_epoch ({}) is larger than epochs ({})",
                opts.initial_epoch, opts.epochs
            )));
        }
        Ok(())
    }

    /// The epochs themselves (options and shapes already checked).
    fn fit_loop(
        &mut self,
        xt: &dyn BatchSource,
        val: Option<&dyn BatchSource>,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        let n = xt.len();
        if n == 0 {
            return Err(Error::Data("fit: no training samples".into()));
        }
        let bs = opts.batch_size;
        let steps = n.div_ceil(bs);
        if self.is_stateful() {
            let nv = val.map_or(0, |v| v.len());
            if !n.is_multiple_of(bs) || !nv.is_multiple_of(bs) {
                return Err(Error::Config(format!(
                    "a stateful model needs a fixed batch size: the number of training samples ({n}){} must be a multiple of batch_size ({bs})",
                    if nv > 0 { format!(" and of validation samples ({nv})") } else { String::new() }
                )));
            }
        }
        let mut rng = Rng::new(opts.seed);
        // u32 indices (half the memory of usize for millions of windows); the
        // shuffle's draws and swaps do not depend on the element type
        let n32 = u32::try_from(n).map_err(|_| {
            Error::Data(format!("fit: {n} training samples, more than {}", u32::MAX))
        })?;
        let mut order: Vec<u32> = (0..n32).collect();
        let mut idx: Vec<usize> = Vec::with_capacity(bs);
        // Resuming at `initial_epoch` replays the earlier epochs' shuffles, so that
        // epoch e sees the same batches whether the run was interrupted or not.
        if opts.shuffle && opts.reshuffle_each_epoch {
            for _ in 0..opts.initial_epoch {
                rng.shuffle(&mut order);
            }
        } else if opts.shuffle {
            // one permutation for every epoch
            rng.shuffle(&mut order);
        }
        let mut xb = Tensor::default();
        let mut yb = Tensor::default();
        let mut history = History::default();
        let mut progress = Progress::new(opts.verbose, opts.epochs, steps);
        let mut ctl = Control {
            model: self,
            stop_training: false,
            epochs: opts.epochs,
            steps,
        };
        for cb in callbacks.iter_mut() {
            cb.on_train_begin(&mut ctl)?;
        }
        let mut last_logs = Logs::new();
        for epoch in opts.initial_epoch..opts.epochs {
            let t0 = Instant::now();
            for cb in callbacks.iter_mut() {
                cb.on_epoch_begin(epoch, &mut ctl)?;
            }
            progress.epoch_begin(epoch);
            // the f32 rate as the decimal it prints as (0.001, not 0.0010000000474974513)
            let lr = ctl
                .learning_rate()
                .map(crate::train::history::lr_to_f64)
                .unwrap_or(0.0);
            if opts.shuffle && opts.reshuffle_each_epoch {
                rng.shuffle(&mut order);
            }
            let (mut sum, mut count) = (0.0f64, 0usize);
            let mut logs = Logs::new();
            for step in 0..steps {
                idx.clear();
                idx.extend(
                    order[step * bs..((step + 1) * bs).min(n)]
                        .iter()
                        .map(|&i| i as usize),
                );
                let idx = &idx[..];
                xt.gather(idx, &mut xb, &mut yb);
                let l = ctl.model.train_on_batch(&xb, &yb)? as f64;
                sum += l * idx.len() as f64;
                count += idx.len();
                logs.insert("loss".into(), sum / count as f64);
                for cb in callbacks.iter_mut() {
                    cb.on_batch_end(step, &logs, &mut ctl)?;
                }
                progress.batch_end(step, sum / count as f64);
                if ctl.stop_training || super::interrupt::requested() {
                    break;
                }
            }
            if super::interrupt::requested() {
                // Ctrl-C: the epoch in progress is not finished, so it is not
                // scored or recorded; the callbacks end the run as usual
                break;
            }
            let val_loss = match val {
                Some(v) => Some(ctl.model.evaluate_source(v, bs)?),
                None => None,
            };
            if let Some(v) = val_loss {
                logs.insert("val_loss".into(), v);
            }
            logs.insert("learning_rate".into(), lr);
            if opts.reset_states_each_epoch {
                // before the callbacks, so a checkpoint holds the state the next epoch starts from
                ctl.model.reset_states();
            }
            for cb in callbacks.iter_mut() {
                cb.on_epoch_end(epoch, &mut logs, &mut ctl)?;
            }
            let secs = t0.elapsed().as_secs_f64();
            let loss = logs.get("loss").copied().unwrap_or(f64::NAN);
            history.push(epoch, loss, val_loss, lr, secs);
            progress.epoch_end(epoch, loss, val_loss, lr, secs);
            last_logs = logs;
            if ctl.stop_training {
                break;
            }
        }
        for cb in callbacks.iter_mut() {
            cb.on_train_end(&last_logs, &mut ctl)?;
        }
        Ok(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sequential;
    use crate::nn::{Dense, LSTM};
    use crate::train::{EarlyStopping, Loss, Optimizer, ReduceLROnPlateau, TerminateOnNaN};

    fn data(n: usize) -> (Tensor, Tensor) {
        let mut r = Rng::new(3);
        let x: Vec<f32> = (0..n * 5).map(|_| r.uniform(0.0, 1.0) as f32).collect();
        let y: Vec<f32> = (0..n)
            .map(|i| x[i * 5..i * 5 + 5].iter().sum::<f32>() / 5.0)
            .collect();
        (
            Tensor::new(&[n, 5, 1], x).unwrap(),
            Tensor::new(&[n, 1], y).unwrap(),
        )
    }

    fn model(lr: f32) -> Model {
        let mut m = Sequential::new(&[5, 1])
            .add(LSTM::new(6))
            .add(Dense::new(1))
            .build(7)
            .unwrap();
        m.compile(Optimizer::adam(lr), Loss::Mse);
        m
    }

    #[test]
    fn same_seed_same_bits_and_loss_is_the_batch_mean() {
        let (x, y) = data(50);
        let opts = FitOptions::new()
            .epochs(3)
            .batch_size(16)
            .seed(5)
            .validation_split(0.2)
            .verbose(0);
        let mut a = model(1e-2);
        let ha = a.fit(&x, &y, &opts).unwrap();
        let mut b = model(1e-2);
        let hb = b.fit(&x, &y, &opts).unwrap();
        assert_eq!(a.get_weights(), b.get_weights());
        assert_eq!(ha.loss, hb.loss);
        assert_eq!(ha.val_loss, hb.val_loss);
        let mut c = model(1e-2);
        c.fit(&x, &y, &opts.clone().seed(6)).unwrap();
        assert_ne!(a.get_weights(), c.get_weights());
        // the loss decreases on this easy task
        assert!(ha.loss[2] < ha.loss[0], "{:?}", ha.loss);
        // val_loss equals evaluate() on the last 20% after training
        let (xv, yv) = (slice_rows(&x, 40, 50), slice_rows(&y, 40, 50));
        let v = a.evaluate(&xv, &yv, 16).unwrap();
        assert!((v - ha.val_loss[2].unwrap()).abs() < 1e-9);
    }

    #[test]
    fn epoch_loss_is_the_weighted_mean_of_batch_losses() {
        let (x, y) = data(40);
        // replay by hand with train_on_batch, no shuffle: batches 0..16, 16..32, 32..40
        let mut a = model(1e-2);
        let opts = FitOptions::new()
            .epochs(1)
            .batch_size(16)
            .shuffle(false)
            .verbose(0);
        let h = a.fit(&x, &y, &opts).unwrap();
        let mut b = model(1e-2);
        let mut s = 0.0f64;
        for (lo, hi) in [(0, 16), (16, 32), (32, 40)] {
            let l = b
                .train_on_batch(&slice_rows(&x, lo, hi), &slice_rows(&y, lo, hi))
                .unwrap();
            s += l as f64 * (hi - lo) as f64;
        }
        assert!((h.loss[0] - s / 40.0).abs() < 1e-9);
        assert_eq!(a.get_weights(), b.get_weights());
    }

    #[test]
    fn callbacks_stop_and_change_the_learning_rate() {
        let (x, y) = data(30);
        // lr 0: nothing improves → EarlyStopping(patience 2) stops at epoch index 2
        let mut m = model(0.0);
        let mut es = EarlyStopping::new().monitor("loss").patience(2);
        let mut rl = ReduceLROnPlateau::new()
            .monitor("loss")
            .patience(1)
            .factor(0.5);
        let opts = FitOptions::new().epochs(20).batch_size(8).verbose(0);
        let h = m
            .fit_with_callbacks(&x, &y, &opts, &mut [&mut rl, &mut es])
            .unwrap();
        // the shuffled batches change the epoch mean a little even at lr 0, so
        // just check that it stopped early and that the history is complete
        assert!(h.len() < 20);
        assert_eq!(h.len(), es.stopped_epoch() + 1);
        // learning rate recorded is the one used during the epoch
        let mut m = model(0.1);
        let mut rl = ReduceLROnPlateau::new()
            .monitor("loss")
            .patience(1)
            .factor(0.5)
            .min_delta(1e9);
        let h = m
            .fit_with_callbacks(&x, &y, &opts.clone().epochs(4), &mut [&mut rl])
            .unwrap();
        // epoch 0 always improves on "no best yet"; epochs 1, 2 drop the rate at their end
        assert_eq!(h.learning_rate, vec![0.1, 0.1, 0.05, 0.025]);
        // initial_epoch
        let h = m
            .fit(&x, &y, &opts.clone().epochs(5).initial_epoch(3))
            .unwrap();
        assert_eq!(h.epoch, vec![3, 4]);
        // TerminateOnNaN with an exploding learning rate
        let mut m = model(1e30);
        let mut t = TerminateOnNaN::new();
        let h = m.fit_with_callbacks(&x, &y, &opts, &mut [&mut t]).unwrap();
        assert!(t.stopped_at.is_some());
        assert_eq!(h.len(), t.stopped_at.unwrap().0 + 1);
    }

    #[test]
    fn one_permutation_for_every_epoch_when_asked() {
        // With reshuffle_each_epoch = false, training twice for one epoch from
        // the same start with the same seed equals the first two epochs' batches
        // being identical: check that epoch 2 of a 2-epoch run equals a manual
        // replay with the same permutation.
        let (x, y) = data(20);
        let opts = FitOptions::new()
            .epochs(2)
            .batch_size(8)
            .seed(9)
            .reshuffle_each_epoch(false)
            .verbose(0);
        let mut a = model(1e-2);
        a.fit(&x, &y, &opts).unwrap();
        let mut order: Vec<usize> = (0..20).collect();
        Rng::new(9).shuffle(&mut order);
        let mut b = model(1e-2);
        let (mut xb, mut yb) = (Tensor::default(), Tensor::default());
        for _ in 0..2 {
            for chunk in order.chunks(8) {
                gather(&x, chunk, &mut xb);
                gather(&y, chunk, &mut yb);
                b.train_on_batch(&xb, &yb).unwrap();
            }
        }
        assert_eq!(a.get_weights(), b.get_weights());
        let mut c = model(1e-2);
        c.fit(&x, &y, &opts.clone().reshuffle_each_epoch(true))
            .unwrap();
        assert_ne!(a.get_weights(), c.get_weights());
    }

    #[test]
    fn errors_are_values() {
        let (x, y) = data(10);
        let mut m = model(1e-2);
        let o = FitOptions::new().verbose(0);
        assert!(m.fit(&x, &y, &o.clone().batch_size(0)).is_err());
        assert!(m.fit(&x, &y, &o.clone().validation_split(1.0)).is_err());
        // 3 samples, split 0.2 → split_at = floor(2.4) = 2, fine; 1 sample → error
        let (x1, y1) = (slice_rows(&x, 0, 1), slice_rows(&y, 0, 1));
        let e = m
            .fit(&x1, &y1, &o.clone().validation_split(0.2))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not sufficient"), "{e}");
        let bad_y = Tensor::zeros(&[10, 2]);
        assert!(m.fit(&x, &bad_y, &o).is_err());
        assert!(m.fit(&x, &Tensor::zeros(&[9, 1]), &o).is_err());
        let mut nan_y = y.clone();
        nan_y.data[3] = f32::NAN;
        assert!(m.fit(&x, &nan_y, &o).is_err());
        assert!(m
            .fit(&x, &y, &o.clone().epochs(2).initial_epoch(3))
            .is_err());
        let mut un = Sequential::new(&[5, 1])
            .add(LSTM::new(2))
            .add(Dense::new(1))
            .build(1)
            .unwrap();
        let e = un.fit(&x, &y, &o).unwrap_err().to_string();
        assert!(e.contains("compile"), "{e}");
    }
}
