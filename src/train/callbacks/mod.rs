//! Callbacks: hooks into [`Model::fit_with_callbacks`](crate::Model::fit_with_callbacks)
//! with Keras 3's arguments, defaults and decision rules.
//!
//! * [`EarlyStopping`] — stop when the monitored value stops improving;
//! * [`ReduceLROnPlateau`] — multiply the learning rate by `factor` on a plateau;
//! * [`ModelCheckpoint`] — save the model every epoch or when it improves;
//! * [`CsvLogger`] — one CSV row per epoch;
//! * [`TerminateOnNaN`] — stop when the loss becomes NaN or infinite.
//!
//! Write your own by implementing [`Callback`]:
//!
//! ```
//! use lstmkit::train::{Callback, Control, Logs};
//! struct StopBelow(f64);
//! impl Callback for StopBelow {
//!     fn on_epoch_end(&mut self, _epoch: usize, logs: &mut Logs, ctl: &mut Control) -> lstmkit::Result<()> {
//!         if logs.get("loss").is_some_and(|l| *l < self.0) {
//!             ctl.stop_training = true;
//!         }
//!         Ok(())
//!     }
//! }
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::history::Logs;

/// What a callback may touch during training: the model (weights, optimiser and
/// its learning rate) and the flag that ends training after the current batch
/// or epoch (Keras' `model.stop_training`).
pub struct Control<'a> {
    /// The model being trained.
    pub model: &'a mut Model,
    /// Set to true to stop training (checked after each batch and each epoch).
    pub stop_training: bool,
    /// The `epochs` argument of `fit` (the index one past the last epoch).
    pub epochs: usize,
    /// Batches per epoch.
    pub steps: usize,
}

impl Control<'_> {
    /// The optimiser's current learning rate (None before `compile`).
    pub fn learning_rate(&self) -> Option<f32> {
        self.model.optimizer().map(|o| o.learning_rate)
    }

    /// Sets the optimiser's learning rate (used from the next batch on).
    pub fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        match self.model.optimizer_mut() {
            Some(o) => {
                o.learning_rate = lr;
                Ok(())
            }
            None => Err(Error::Config(
                "the model has no optimizer: call compile before fit".into(),
            )),
        }
    }
}

/// A training hook. Every method has an empty default; errors abort `fit`.
pub trait Callback {
    /// Before the first epoch.
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        Ok(())
    }
    /// After the last epoch (also after an early stop); `logs` are the last epoch's.
    fn on_train_end(&mut self, _logs: &Logs, _ctl: &mut Control) -> Result<()> {
        Ok(())
    }
    /// At the start of epoch `epoch` (0-based).
    fn on_epoch_begin(&mut self, _epoch: usize, _ctl: &mut Control) -> Result<()> {
        Ok(())
    }
    /// At the end of epoch `epoch` (0-based), after validation. `logs` holds
    /// `loss`, `val_loss` (with validation data) and `learning_rate`; callbacks
    /// may add entries.
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, _ctl: &mut Control) -> Result<()> {
        Ok(())
    }
    /// After training batch `batch` (0-based within the epoch); `logs["loss"]`
    /// is the running mean of the epoch's batch losses so far.
    fn on_batch_end(&mut self, _batch: usize, _logs: &Logs, _ctl: &mut Control) -> Result<()> {
        Ok(())
    }
    /// What this callback must carry into a resumed run so that it decides
    /// as if training had never stopped (`None`: it keeps no such state).
    fn resume_state(&self) -> Option<CallbackState> {
        None
    }
    /// Hands over a state from [`Callback::resume_state`] of an earlier run;
    /// the next `on_train_begin` continues from it instead of starting afresh.
    fn set_resume_state(&mut self, _state: CallbackState) -> Result<()> {
        Ok(())
    }
}

/// A callback's state between runs: counters and best values as JSON (floats
/// by their bits, so that a resumed run compares exactly as an unbroken one), and
/// tensors (e.g. `EarlyStopping`'s best weights) stored beside it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallbackState {
    /// Counters, best values.
    pub values: serde_json::Value,
    /// Tensors, in the callback's own order.
    pub tensors: Vec<Tensor>,
}

fn state_field<T: serde::de::DeserializeOwned>(
    s: &CallbackState,
    who: &str,
    key: &str,
) -> Result<T> {
    serde_json::from_value(s.values.get(key).cloned().unwrap_or_default()).map_err(|e| {
        Error::Config(format!(
            "{who}: the saved state's '{key}' cannot be read: {e}"
        ))
    })
}

/// Direction of improvement of a monitored quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Inferred from the name: losses and error metrics are minimised.
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

impl Mode {
    /// Parses `auto`, `min` or `max`.
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Mode::Auto),
            "min" => Ok(Mode::Min),
            "max" => Ok(Mode::Max),
            other => Err(Error::Config(format!(
                "unknown mode '{other}' (auto, min, max)"
            ))),
        }
    }
}

/// Keras' `MonitorCallback`: which value is watched, in which direction, and
/// the improvement test `op(current - min_delta, reference)`.
#[derive(Clone, Debug)]
struct Monitor {
    monitor: String,
    mode: Mode,
    /// |min_delta|, negated for `min` once the direction is known (as Keras does).
    min_delta: f64,
    lower_is_better: Option<bool>,
}

impl Monitor {
    fn new(monitor: &str, mode: Mode, min_delta: f64) -> Self {
        Monitor {
            monitor: monitor.to_string(),
            mode,
            min_delta: min_delta.abs(),
            lower_is_better: None,
        }
    }

    /// Keras' `_set_monitor_op`: `min`/`max`, or for `auto` a name whose part
    /// after `val_` is a loss or an error metric (lower is better) or a score
    /// (`r2`, `accuracy`: higher is better); anything else is an error.
    fn resolve(&mut self, who: &str) -> Result<()> {
        if self.lower_is_better.is_some() {
            return Ok(());
        }
        let lower = match self.mode {
            Mode::Min => true,
            Mode::Max => false,
            Mode::Auto => {
                let m = self.monitor.strip_prefix("val_").unwrap_or(&self.monitor);
                match m {
                    "loss"
                    | "mse"
                    | "mae"
                    | "rmse"
                    | "mape"
                    | "smape"
                    | "mase"
                    | "msle"
                    | "huber"
                    | "mean_squared_error"
                    | "mean_absolute_error"
                    | "root_mean_squared_error"
                    | "mean_absolute_percentage_error" => true,
                    "r2" | "r2_score" | "accuracy" => false,
                    _ => {
                        return Err(Error::Config(format!(
                        "{who} received monitor={}, but the direction of that metric is unknown: \
                             set mode = \"min\" or mode = \"max\"",
                        self.monitor
                    )))
                    }
                }
            }
        };
        self.lower_is_better = Some(lower);
        if lower {
            self.min_delta = -self.min_delta;
        }
        Ok(())
    }

    /// `monitor_op(current - min_delta, reference)`; `None` reference is always beaten.
    fn is_improvement(&self, current: f64, reference: Option<f64>) -> bool {
        let Some(r) = reference else { return true };
        let lower = self.lower_is_better.unwrap_or(true);
        if lower {
            current - self.min_delta < r
        } else {
            current - self.min_delta > r
        }
    }

    fn value(&self, logs: &Logs) -> Option<f64> {
        logs.get(&self.monitor).copied()
    }
}

/// Stops training when the monitored quantity has stopped improving
/// (`keras.callbacks.EarlyStopping`, same arguments and defaults: monitor
/// `val_loss`, min_delta 0, patience 0, mode auto, no baseline,
/// restore_best_weights false, start_from_epoch 0).
///
/// Rule (Keras 3): from epoch `start_from_epoch` on, each epoch increments
/// `wait`; an improvement over the best (by more than `min_delta`) records the
/// new best (and its weights) and resets `wait` to 0 if it also beats
/// `baseline`; otherwise training stops when `wait >= patience` and the epoch
/// index is above 0. With `restore_best_weights` the best epoch's weights are
/// put back at the end of training (also when training did not stop early).
///
/// ```
/// use lstmkit::train::EarlyStopping;
/// let es = EarlyStopping::new().patience(10).restore_best_weights(true);
/// assert_eq!(es.monitor, "val_loss");
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    /// The log entry watched.
    pub monitor: String,
    /// Minimum change that counts as an improvement.
    pub min_delta: f64,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Direction.
    pub mode: Mode,
    /// The value the monitored quantity must beat for `wait` to be reset.
    pub baseline: Option<f64>,
    /// Put the best epoch's weights back at the end.
    pub restore_best_weights: bool,
    /// Epochs to wait before watching at all (warm-up).
    pub start_from_epoch: usize,
    /// Print a line when stopping / restoring.
    pub verbose: bool,
    mon: Monitor,
    wait: usize,
    stopped_epoch: usize,
    best: Option<f64>,
    best_weights: Option<Vec<Tensor>>,
    best_epoch: usize,
    resume: Option<CallbackState>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self::new()
    }
}

impl EarlyStopping {
    /// Keras' defaults.
    pub fn new() -> Self {
        EarlyStopping {
            monitor: "val_loss".into(),
            min_delta: 0.0,
            patience: 0,
            mode: Mode::Auto,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            verbose: false,
            mon: Monitor::new("val_loss", Mode::Auto, 0.0),
            wait: 0,
            stopped_epoch: 0,
            best: None,
            best_weights: None,
            best_epoch: 0,
            resume: None,
        }
    }
    /// Sets `monitor`.
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.into();
        self
    }
    /// Sets `min_delta`.
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d;
        self
    }
    /// Sets `patience`.
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    /// Sets `mode`.
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Sets `baseline`.
    pub fn baseline(mut self, b: Option<f64>) -> Self {
        self.baseline = b;
        self
    }
    /// Sets `restore_best_weights`.
    pub fn restore_best_weights(mut self, r: bool) -> Self {
        self.restore_best_weights = r;
        self
    }
    /// Sets `start_from_epoch`.
    pub fn start_from_epoch(mut self, e: usize) -> Self {
        self.start_from_epoch = e;
        self
    }
    /// Sets `verbose`.
    pub fn verbose(mut self, v: bool) -> Self {
        self.verbose = v;
        self
    }
    /// The epoch (0-based) at which training was stopped; 0 if it was not.
    pub fn stopped_epoch(&self) -> usize {
        self.stopped_epoch
    }
    /// The epoch (0-based) of the best monitored value seen.
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }
    /// The best monitored value seen.
    pub fn best(&self) -> Option<f64> {
        self.best
    }
    /// Epochs since the last improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        self.mon = Monitor::new(&self.monitor, self.mode, self.min_delta);
        self.mon.resolve("EarlyStopping")?;
        self.wait = 0;
        self.stopped_epoch = 0;
        self.best = None;
        self.best_weights = None;
        self.best_epoch = 0;
        if let Some(st) = self.resume.take() {
            const W: &str = "EarlyStopping";
            self.wait = state_field(&st, W, "wait")?;
            self.stopped_epoch = state_field(&st, W, "stopped_epoch")?;
            self.best = state_field::<Option<u64>>(&st, W, "best_bits")?.map(f64::from_bits);
            self.best_epoch = state_field(&st, W, "best_epoch")?;
            let has: bool = state_field(&st, W, "has_best_weights")?;
            self.best_weights = has.then_some(st.tensors);
        }
        Ok(())
    }

    fn resume_state(&self) -> Option<CallbackState> {
        Some(CallbackState {
            values: serde_json::json!({
                "wait": self.wait,
                "stopped_epoch": self.stopped_epoch,
                "best_bits": self.best.map(f64::to_bits),
                "best_epoch": self.best_epoch,
                "has_best_weights": self.best_weights.is_some(),
            }),
            tensors: self.best_weights.clone().unwrap_or_default(),
        })
    }

    fn set_resume_state(&mut self, state: CallbackState) -> Result<()> {
        self.resume = Some(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.mon.resolve("EarlyStopping")?;
        let Some(current) = self.mon.value(logs) else {
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(ctl.model.get_weights());
            self.best_epoch = epoch;
        }
        self.wait += 1;
        if self.mon.is_improvement(current, self.best) {
            self.best = Some(current);
            self.best_epoch = epoch;
            if self.restore_best_weights {
                self.best_weights = Some(ctl.model.get_weights());
            }
            if self.baseline.is_none() || self.mon.is_improvement(current, self.baseline) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = epoch;
            ctl.stop_training = true;
        }
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &Logs, ctl: &mut Control) -> Result<()> {
        if self.stopped_epoch > 0 && self.verbose {
            println!("Epoch {}: early stopping", self.stopped_epoch + 1);
        }
        if self.restore_best_weights {
            if let Some(w) = &self.best_weights {
                if self.verbose {
                    println!(
                        "Restoring model weights from the end of the best epoch: {}.",
                        self.best_epoch + 1
                    );
                }
                ctl.model.set_weights(w)?;
            }
        }
        Ok(())
    }
}

/// Reduces the learning rate when the monitored quantity has stopped improving
/// (`keras.callbacks.ReduceLROnPlateau`, same defaults: monitor `val_loss`,
/// factor 0.1, patience 10, mode auto, min_delta 1e-4, cooldown 0, min_lr 0).
///
/// Rule (Keras 3), each epoch: during cooldown the cooldown counter decreases
/// and `wait` is reset; an improvement (by more than `min_delta`) records the
/// best and resets `wait`; otherwise, outside cooldown, `wait` increases and
/// when it reaches `patience` the rate becomes `max(lr·factor, min_lr)` (only
/// if `lr > min_lr`), cooldown starts and `wait` is reset.
///
/// ```
/// use lstmkit::train::ReduceLROnPlateau;
/// let r = ReduceLROnPlateau::new().factor(0.2).patience(5);
/// assert!(r.validate().is_ok());
/// assert!(ReduceLROnPlateau::new().factor(1.0).validate().is_err());
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    /// The log entry watched.
    pub monitor: String,
    /// Multiplier applied to the learning rate (< 1).
    pub factor: f64,
    /// Epochs without improvement before reducing.
    pub patience: usize,
    /// Direction.
    pub mode: Mode,
    /// Minimum change that counts as an improvement.
    pub min_delta: f64,
    /// Epochs to wait after a reduction before counting again.
    pub cooldown: usize,
    /// Lower bound of the learning rate.
    pub min_lr: f64,
    /// Print a line at each reduction.
    pub verbose: bool,
    mon: Monitor,
    best: Option<f64>,
    wait: usize,
    cooldown_counter: usize,
    resume: Option<CallbackState>,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

impl ReduceLROnPlateau {
    /// Keras' defaults.
    pub fn new() -> Self {
        ReduceLROnPlateau {
            monitor: "val_loss".into(),
            factor: 0.1,
            patience: 10,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            verbose: false,
            mon: Monitor::new("val_loss", Mode::Auto, 1e-4),
            best: None,
            wait: 0,
            cooldown_counter: 0,
            resume: None,
        }
    }
    /// Sets `monitor`.
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.into();
        self
    }
    /// Sets `factor`.
    pub fn factor(mut self, f: f64) -> Self {
        self.factor = f;
        self
    }
    /// Sets `patience`.
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    /// Sets `mode`.
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Sets `min_delta`.
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d;
        self
    }
    /// Sets `cooldown`.
    pub fn cooldown(mut self, c: usize) -> Self {
        self.cooldown = c;
        self
    }
    /// Sets `min_lr`.
    pub fn min_lr(mut self, m: f64) -> Self {
        self.min_lr = m;
        self
    }
    /// Sets `verbose`.
    pub fn verbose(mut self, v: bool) -> Self {
        self.verbose = v;
        self
    }
    /// Checks the arguments as Keras does (`factor >= 1` is an error).
    pub fn validate(&self) -> Result<()> {
        if self.factor >= 1.0 || self.factor.is_nan() {
            return Err(Error::Config(format!(
                "ReduceLROnPlateau does not support a factor >= 1.0 (got {})",
                self.factor
            )));
        }
        if self.factor <= 0.0 {
            return Err(Error::Config(format!(
                "ReduceLROnPlateau needs a factor above 0 (got {})",
                self.factor
            )));
        }
        if self.min_lr < 0.0 || self.min_lr.is_nan() {
            return Err(Error::Config(format!(
                "ReduceLROnPlateau needs min_lr >= 0 (got {})",
                self.min_lr
            )));
        }
        Ok(())
    }
    fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        self.validate()?;
        self.mon = Monitor::new(&self.monitor, self.mode, self.min_delta);
        self.mon.resolve("ReduceLROnPlateau")?;
        self.best = None;
        self.cooldown_counter = 0;
        self.wait = 0;
        if let Some(st) = self.resume.take() {
            const W: &str = "ReduceLROnPlateau";
            self.best = state_field::<Option<u64>>(&st, W, "best_bits")?.map(f64::from_bits);
            self.wait = state_field(&st, W, "wait")?;
            self.cooldown_counter = state_field(&st, W, "cooldown_counter")?;
        }
        Ok(())
    }

    fn resume_state(&self) -> Option<CallbackState> {
        Some(CallbackState {
            values: serde_json::json!({
                "best_bits": self.best.map(f64::to_bits),
                "wait": self.wait,
                "cooldown_counter": self.cooldown_counter,
            }),
            tensors: Vec::new(),
        })
    }

    fn set_resume_state(&mut self, state: CallbackState) -> Result<()> {
        self.resume = Some(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.mon.resolve("ReduceLROnPlateau")?;
        if let Some(lr) = ctl.learning_rate() {
            logs.insert("learning_rate".into(), crate::train::history::lr_to_f64(lr));
        }
        let Some(current) = self.mon.value(logs) else {
            return Ok(());
        };
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.mon.is_improvement(current, self.best) {
            self.best = Some(current);
            self.wait = 0;
        } else if !self.in_cooldown() {
            self.wait += 1;
            if self.wait >= self.patience {
                let old = ctl.learning_rate().unwrap_or(0.0);
                if old > self.min_lr as f32 {
                    let new = (old as f64 * self.factor).max(self.min_lr);
                    ctl.set_learning_rate(new as f32)?;
                    if self.verbose {
                        println!(
                            "Epoch {}: ReduceLROnPlateau reducing learning rate to {}.",
                            epoch + 1,
                            new as f32
                        );
                    }
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }
}

/// A function that writes a model to a path (the native format's `save`, or
/// anything the caller chooses).
pub type SaveFn = Box<dyn FnMut(&Model, &Path) -> Result<()>>;

/// Saves the model at the end of every epoch, or only when the monitored value
/// improves (`keras.callbacks.ModelCheckpoint`: monitor `val_loss`, mode auto,
/// save_best_only false, initial_value_threshold none).
///
/// `filepath` may contain `{epoch}` (1-based, as Keras), `{epoch:03d}` and log
/// entries such as `{val_loss}` or `{val_loss:.4f}`.
///
/// ```
/// use lstmkit::train::ModelCheckpoint;
/// let ck = ModelCheckpoint::new("ckpt-{epoch:02d}-{val_loss:.3f}.lstmkit", Box::new(|_, _| Ok(())))
///     .save_best_only(true);
/// let mut logs = lstmkit::train::Logs::new();
/// logs.insert("val_loss".into(), 0.12345);
/// assert_eq!(ck.file_path(4, &logs).unwrap().to_str().unwrap(), "ckpt-05-0.123.lstmkit");
/// ```
pub struct ModelCheckpoint {
    /// Target path pattern.
    pub filepath: String,
    /// The log entry watched (with `save_best_only`).
    pub monitor: String,
    /// Save only when the monitored value improves.
    pub save_best_only: bool,
    /// Direction.
    pub mode: Mode,
    /// A value the first save must beat (Keras' `initial_value_threshold`).
    pub initial_value_threshold: Option<f64>,
    /// Print a line at each save.
    pub verbose: bool,
    save: SaveFn,
    mon: Monitor,
    best: Option<f64>,
    saved: Vec<PathBuf>,
    resume: Option<CallbackState>,
}

impl ModelCheckpoint {
    /// A checkpoint writing to `filepath` with `save`.
    pub fn new(filepath: &str, save: SaveFn) -> Self {
        ModelCheckpoint {
            filepath: filepath.into(),
            monitor: "val_loss".into(),
            save_best_only: false,
            mode: Mode::Auto,
            initial_value_threshold: None,
            verbose: false,
            save,
            mon: Monitor::new("val_loss", Mode::Auto, 0.0),
            best: None,
            saved: Vec::new(),
            resume: None,
        }
    }
    /// Sets `monitor`.
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.into();
        self
    }
    /// Sets `save_best_only`.
    pub fn save_best_only(mut self, b: bool) -> Self {
        self.save_best_only = b;
        self
    }
    /// Sets `mode`.
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Sets `initial_value_threshold`.
    pub fn initial_value_threshold(mut self, v: Option<f64>) -> Self {
        self.initial_value_threshold = v;
        self
    }
    /// Sets `verbose`.
    pub fn verbose(mut self, v: bool) -> Self {
        self.verbose = v;
        self
    }
    /// Paths written so far, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }
    /// The best monitored value seen (with `save_best_only`).
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Expands the path pattern for `epoch` (0-based) and `logs`.
    pub fn file_path(&self, epoch: usize, logs: &Logs) -> Result<PathBuf> {
        let mut out = String::new();
        let mut rest = self.filepath.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err(Error::Config(format!(
                    "ModelCheckpoint filepath '{}': unclosed '{{'",
                    self.filepath
                )));
            };
            let field = &after[..close];
            let (name, spec) = match field.split_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (field, None),
            };
            let value = if name == "epoch" {
                (epoch + 1) as f64
            } else {
                *logs.get(name).ok_or_else(|| {
                    Error::Config(format!(
                        "ModelCheckpoint filepath '{}' names '{name}', which is not in the logs ({})",
                        self.filepath,
                        logs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?
            };
            out.push_str(&format_value(value, name == "epoch", spec).ok_or_else(|| {
                Error::Config(format!(
                    "ModelCheckpoint filepath '{}': unsupported format '{field}' (use {{name}}, {{name:.4f}} or {{epoch:03d}})",
                    self.filepath
                ))
            })?);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(PathBuf::from(out))
    }
}

/// Formats `{name}`, `{name:.Nf}`, `{epoch:0Nd}` / `{epoch:d}`.
fn format_value(v: f64, integer: bool, spec: Option<&str>) -> Option<String> {
    match spec {
        None => Some(if integer {
            format!("{}", v as i64)
        } else {
            format!("{v}")
        }),
        Some(s) => {
            if let Some(p) = s.strip_prefix('.').and_then(|r| r.strip_suffix('f')) {
                let p: usize = p.parse().ok()?;
                Some(format!("{v:.p$}"))
            } else if let Some(w) = s.strip_suffix('d') {
                let i = v as i64;
                if w.is_empty() {
                    return Some(format!("{i}"));
                }
                let zero = w.starts_with('0');
                let w: usize = w.parse().ok()?;
                Some(if zero {
                    format!("{i:0w$}")
                } else {
                    format!("{i:w$}")
                })
            } else {
                None
            }
        }
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        self.mon = Monitor::new(&self.monitor, self.mode, 0.0);
        self.mon.resolve("ModelCheckpoint")?;
        self.best = self.initial_value_threshold;
        self.saved.clear();
        if let Some(st) = self.resume.take() {
            self.best = state_field::<Option<u64>>(&st, "ModelCheckpoint", "best_bits")?
                .map(f64::from_bits);
        }
        Ok(())
    }

    fn resume_state(&self) -> Option<CallbackState> {
        Some(CallbackState {
            values: serde_json::json!({ "best_bits": self.best.map(f64::to_bits) }),
            tensors: Vec::new(),
        })
    }

    fn set_resume_state(&mut self, state: CallbackState) -> Result<()> {
        self.resume = Some(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.mon.resolve("ModelCheckpoint")?;
        let path = self.file_path(epoch, logs)?;
        let save = if self.save_best_only {
            match self.mon.value(logs) {
                // Keras warns and saves when the monitored value is missing.
                None => true,
                Some(current) => {
                    if self.mon.is_improvement(current, self.best) {
                        if self.verbose {
                            println!(
                                "Epoch {}: {} improved to {current:.5}, saving model to {}",
                                epoch + 1,
                                self.monitor,
                                path.display()
                            );
                        }
                        self.best = Some(current);
                        true
                    } else {
                        if self.verbose {
                            println!("Epoch {}: {} did not improve", epoch + 1, self.monitor);
                        }
                        false
                    }
                }
            }
        } else {
            true
        };
        if save {
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() && !dir.exists() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
            }
            (self.save)(ctl.model, &path)?;
            self.saved.push(path);
        }
        Ok(())
    }
}

/// Streams each epoch's logs to a CSV file (`keras.callbacks.CSVLogger`:
/// separator `,`, append false). Columns: `epoch`, then the log keys sorted
/// (`learning_rate`, `loss`, `val_loss`); each row is flushed at once.
pub struct CsvLogger {
    /// Output file.
    pub filename: PathBuf,
    /// Field separator.
    pub separator: char,
    /// Append to an existing file (no second header when it is not empty).
    pub append: bool,
    file: Option<std::io::BufWriter<std::fs::File>>,
    keys: Option<Vec<String>>,
    header: bool,
}

impl CsvLogger {
    /// A logger writing to `filename`.
    pub fn new(filename: impl Into<PathBuf>) -> Self {
        CsvLogger {
            filename: filename.into(),
            separator: ',',
            append: false,
            file: None,
            keys: None,
            header: true,
        }
    }
    /// Sets the separator.
    pub fn separator(mut self, s: char) -> Self {
        self.separator = s;
        self
    }
    /// Sets `append`.
    pub fn append(mut self, a: bool) -> Self {
        self.append = a;
        self
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        let path = &self.filename;
        self.header = true;
        let f = if self.append {
            if let Ok(m) = std::fs::metadata(path) {
                self.header = m.len() == 0;
            }
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        } else {
            std::fs::File::create(path)
        }
        .map_err(|e| Error::io(path, e))?;
        self.file = Some(std::io::BufWriter::new(f));
        self.keys = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, _ctl: &mut Control) -> Result<()> {
        let sep = self.separator.to_string();
        if self.keys.is_none() {
            let mut keys: Vec<String> = logs.keys().cloned().collect();
            if !keys.iter().any(|k| k.starts_with("val_")) && !keys.is_empty() {
                let vals: Vec<String> = keys.iter().map(|k| format!("val_{k}")).collect();
                keys.extend(vals);
            }
            self.keys = Some(keys);
        }
        let keys = self.keys.as_ref().expect("set above");
        let Some(f) = self.file.as_mut() else {
            return Err(Error::Other("CSVLogger used before on_train_begin".into()));
        };
        let path = &self.filename;
        let mut line = String::new();
        if self.header {
            line.push_str("epoch");
            for k in keys {
                line.push_str(&sep);
                line.push_str(k);
            }
            line.push('\n');
            self.header = false;
        }
        line.push_str(&epoch.to_string());
        for k in keys {
            line.push_str(&sep);
            match logs.get(k) {
                Some(v) => line.push_str(&v.to_string()),
                None => line.push_str("NA"),
            }
        }
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|_| f.flush())
            .map_err(|e| Error::io(path, e))
    }

    fn on_train_end(&mut self, _logs: &Logs, _ctl: &mut Control) -> Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(|e| Error::io(&self.filename, e))?;
        }
        Ok(())
    }
}

/// Stops training when the loss becomes NaN or infinite
/// (`keras.callbacks.TerminateOnNaN`; with `raise_error` it fails instead).
#[derive(Clone, Debug, Default)]
pub struct TerminateOnNaN {
    /// Return an error instead of stopping gracefully.
    pub raise_error: bool,
    /// The batch at which it stopped, if it did.
    pub stopped_at: Option<(usize, usize)>,
    epoch: usize,
}

impl TerminateOnNaN {
    /// Keras' default (graceful stop).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `raise_error`.
    pub fn raise_error(mut self, r: bool) -> Self {
        self.raise_error = r;
        self
    }
}

impl Callback for TerminateOnNaN {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        self.stopped_at = None;
        Ok(())
    }
    fn on_epoch_begin(&mut self, epoch: usize, _ctl: &mut Control) -> Result<()> {
        self.epoch = epoch;
        Ok(())
    }
    fn on_batch_end(&mut self, batch: usize, logs: &Logs, ctl: &mut Control) -> Result<()> {
        if let Some(l) = logs.get("loss") {
            if !l.is_finite() {
                if self.raise_error {
                    return Err(Error::Training(format!(
                        "NaN or Inf loss encountered at epoch {} batch {batch}: {l}",
                        self.epoch + 1
                    )));
                }
                self.stopped_at = Some((self.epoch, batch));
                ctl.stop_training = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sequential;
    use crate::nn::Dense;
    use crate::train::{Loss, Optimizer};

    fn model() -> Model {
        let mut m = Sequential::new(&[2]).add(Dense::new(1)).build(1).unwrap();
        m.compile(Optimizer::adam(0.1), Loss::Mse);
        m
    }

    fn logs(v: f64) -> Logs {
        let mut l = Logs::new();
        l.insert("val_loss".into(), v);
        l.insert("loss".into(), v);
        l
    }

    /// Replays a scripted val_loss sequence; returns the epoch at which the
    /// callback stopped training (None if it ran through).
    fn replay_es(es: &mut EarlyStopping, seq: &[f64], m: &mut Model) -> Option<usize> {
        let mut ctl = Control {
            model: m,
            stop_training: false,
            epochs: seq.len(),
            steps: 1,
        };
        es.on_train_begin(&mut ctl).unwrap();
        let mut stop = None;
        for (e, v) in seq.iter().enumerate() {
            let mut l = logs(*v);
            es.on_epoch_end(e, &mut l, &mut ctl).unwrap();
            if ctl.stop_training {
                stop = Some(e);
                break;
            }
        }
        es.on_train_end(&Logs::new(), &mut ctl).unwrap();
        stop
    }

    // Every expected sequence below was produced by replaying the same values
    // through Keras 3.15's callbacks (tensorflow backend).
    #[test]
    fn early_stopping_patience_like_keras() {
        let mut m = model();
        // Keras docs example: patience=3, losses never improve after epoch 0 →
        // stops at the 4th epoch (index 3).
        let mut es = EarlyStopping::new().monitor("loss").patience(3);
        assert_eq!(
            replay_es(&mut es, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], &mut m),
            Some(3)
        );
        assert_eq!(es.stopped_epoch(), 3);
        assert_eq!(es.best_epoch(), 0);
        // patience 0: the first non-improving epoch (above index 0) stops.
        let mut es = EarlyStopping::new().patience(0);
        assert_eq!(replay_es(&mut es, &[3.0, 2.0, 2.5, 1.0], &mut m), Some(2));
        // improvements reset the counter
        let mut es = EarlyStopping::new().patience(2);
        assert_eq!(
            replay_es(&mut es, &[5.0, 4.0, 4.5, 3.0, 3.5, 3.6, 3.7], &mut m),
            Some(5)
        );
        assert_eq!(es.best_epoch(), 3);
        assert_eq!(es.best(), Some(3.0));
        // never stops when it keeps improving
        let mut es = EarlyStopping::new().patience(1);
        assert_eq!(replay_es(&mut es, &[5.0, 4.0, 3.0, 2.0], &mut m), None);
    }

    #[test]
    fn early_stopping_min_delta_mode_baseline_start() {
        let mut m = model();
        // min_delta: an improvement of 0.05 < 0.1 does not count.
        let mut es = EarlyStopping::new().patience(1).min_delta(0.1);
        assert_eq!(replay_es(&mut es, &[1.0, 0.95, 0.5], &mut m), Some(1));
        // negative min_delta is taken in absolute value (Keras: abs(min_delta))
        let mut es = EarlyStopping::new().patience(1).min_delta(-0.1);
        assert_eq!(replay_es(&mut es, &[1.0, 0.95, 0.5], &mut m), Some(1));
        // mode max
        let mut es = EarlyStopping::new()
            .monitor("val_r2")
            .mode(Mode::Max)
            .patience(1);
        let mut ctl = Control {
            model: &mut m,
            stop_training: false,
            epochs: 5,
            steps: 1,
        };
        es.on_train_begin(&mut ctl).unwrap();
        for (e, v) in [0.1, 0.5, 0.4].iter().enumerate() {
            let mut l = Logs::new();
            l.insert("val_r2".into(), *v);
            es.on_epoch_end(e, &mut l, &mut ctl).unwrap();
        }
        assert!(ctl.stop_training);
        assert_eq!(es.stopped_epoch(), 2);
        // auto mode on an unknown metric is an error (Keras raises ValueError)
        let mut es = EarlyStopping::new().monitor("val_weird");
        assert!(es.on_train_begin(&mut ctl).is_err());
        // baseline: an improvement that does not beat the baseline does not
        // reset `wait`, but improving epochs never stop training (Keras returns
        // before the patience test); a plateau above the baseline stops at once.
        let mut es = EarlyStopping::new().patience(2).baseline(Some(0.5));
        assert_eq!(replay_es(&mut es, &[0.9, 0.8, 0.7, 0.6], &mut m), None);
        assert_eq!(es.best_epoch(), 3);
        let mut es = EarlyStopping::new().patience(2).baseline(Some(0.5));
        assert_eq!(replay_es(&mut es, &[0.9, 0.9, 0.9, 0.9], &mut m), Some(1));
        // reached baseline → behaves normally
        let mut es = EarlyStopping::new().patience(2).baseline(Some(0.85));
        assert_eq!(
            replay_es(&mut es, &[0.9, 0.8, 0.7, 0.6, 0.6, 0.6], &mut m),
            Some(5)
        );
        // start_from_epoch: epochs before it are ignored entirely
        let mut es = EarlyStopping::new().patience(1).start_from_epoch(3);
        assert_eq!(
            replay_es(&mut es, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut m),
            Some(4)
        );
        assert_eq!(es.best_epoch(), 3);
    }

    #[test]
    fn early_stopping_restores_the_best_weights() {
        let mut m = model();
        let seq = [0.5, 0.3, 0.4, 0.35, 0.6];
        let mut es = EarlyStopping::new().patience(2).restore_best_weights(true);
        let mut ctl = Control {
            model: &mut m,
            stop_training: false,
            epochs: 5,
            steps: 1,
        };
        es.on_train_begin(&mut ctl).unwrap();
        let mut snapshots = Vec::new();
        for (e, v) in seq.iter().enumerate() {
            // "train": set every weight to the epoch number
            let w: Vec<Tensor> = ctl
                .model
                .get_weights()
                .into_iter()
                .map(|t| Tensor::new(&t.shape, vec![e as f32; t.len()]).unwrap())
                .collect();
            ctl.model.set_weights(&w).unwrap();
            snapshots.push(w);
            let mut l = logs(*v);
            es.on_epoch_end(e, &mut l, &mut ctl).unwrap();
            if ctl.stop_training {
                break;
            }
        }
        assert_eq!(es.stopped_epoch(), 3);
        es.on_train_end(&Logs::new(), &mut ctl).unwrap();
        assert_eq!(ctl.model.get_weights(), snapshots[1]);
        assert_eq!(es.best_epoch(), 1);
        // without restore, the last weights stay
        let mut es = EarlyStopping::new().patience(2);
        let mut m2 = model();
        let before = m2.get_weights();
        replay_es(&mut es, &seq, &mut m2);
        assert_eq!(m2.get_weights(), before);
    }

    fn replay_lr(r: &mut ReduceLROnPlateau, seq: &[f64], lr0: f32) -> Vec<f32> {
        let mut m = model();
        m.optimizer_mut().unwrap().learning_rate = lr0;
        let mut ctl = Control {
            model: &mut m,
            stop_training: false,
            epochs: seq.len(),
            steps: 1,
        };
        r.on_train_begin(&mut ctl).unwrap();
        let mut lrs = Vec::new();
        for (e, v) in seq.iter().enumerate() {
            let mut l = logs(*v);
            r.on_epoch_end(e, &mut l, &mut ctl).unwrap();
            assert!(l.contains_key("learning_rate"));
            lrs.push(ctl.learning_rate().unwrap());
        }
        lrs
    }

    #[test]
    fn reduce_lr_on_plateau_rules() {
        // patience 2, factor 0.5: lr drops after the 2nd epoch without improvement
        let mut r = ReduceLROnPlateau::new().factor(0.5).patience(2);
        let lrs = replay_lr(&mut r, &[1.0, 1.0, 1.0, 1.0, 1.0, 0.5], 1.0);
        assert_eq!(lrs, vec![1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
        // min_delta default 1e-4: an improvement of 5e-5 does not count
        let mut r = ReduceLROnPlateau::new().factor(0.5).patience(1);
        let lrs = replay_lr(&mut r, &[1.0, 0.99995, 0.5], 1.0);
        assert_eq!(lrs, vec![1.0, 0.5, 0.5]);
        // cooldown 2: the epoch after a drop is not counted, the counter runs
        // down during the next (Keras 3 gives exactly this sequence)
        let mut r = ReduceLROnPlateau::new().factor(0.5).patience(1).cooldown(2);
        let lrs = replay_lr(&mut r, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 1.0);
        assert_eq!(lrs, vec![1.0, 0.5, 0.5, 0.25, 0.25, 0.125]);
        // min_lr floors the rate and stops further reductions
        let mut r = ReduceLROnPlateau::new()
            .factor(0.1)
            .patience(1)
            .min_lr(0.05);
        let lrs = replay_lr(&mut r, &[1.0, 1.0, 1.0, 1.0], 1.0);
        assert_eq!(lrs, vec![1.0, 0.1, 0.05, 0.05]);
        // Keras' test_ReduceLROnPlateau: factor 0.1, patience 1, cooldown 5,
        // min_delta 10 → nothing improves by 10, lr drops once and cooldown holds it.
        let mut r = ReduceLROnPlateau::new()
            .factor(0.1)
            .patience(1)
            .cooldown(5)
            .min_delta(10.0);
        let lrs = replay_lr(&mut r, &[0.9, 0.8, 0.7, 0.6, 0.5], 0.1);
        assert_eq!(lrs[1], 0.01f32);
        assert!(lrs[2..].iter().all(|l| *l == lrs[1]));
        assert!(ReduceLROnPlateau::new().factor(1.5).validate().is_err());
    }

    #[test]
    fn checkpoint_best_only_and_formats() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let log: Rc<RefCell<Vec<String>>> = Rc::default();
        let l2 = log.clone();
        let mut ck = ModelCheckpoint::new(
            "ck-{epoch:02d}-{val_loss:.2f}",
            Box::new(move |_, p| {
                l2.borrow_mut().push(p.display().to_string());
                Ok(())
            }),
        )
        .save_best_only(true);
        let mut m = model();
        let mut ctl = Control {
            model: &mut m,
            stop_training: false,
            epochs: 4,
            steps: 1,
        };
        ck.on_train_begin(&mut ctl).unwrap();
        for (e, v) in [0.5, 0.6, 0.25, 0.25].iter().enumerate() {
            let mut l = logs(*v);
            ck.on_epoch_end(e, &mut l, &mut ctl).unwrap();
        }
        assert_eq!(*log.borrow(), vec!["ck-01-0.50", "ck-03-0.25"]);
        assert_eq!(ck.saved().len(), 2);
        // every epoch without save_best_only
        let mut ck = ModelCheckpoint::new("x{epoch}", Box::new(|_, _| Ok(())));
        ck.on_train_begin(&mut ctl).unwrap();
        for e in 0..3 {
            ck.on_epoch_end(e, &mut logs(1.0), &mut ctl).unwrap();
        }
        assert_eq!(ck.saved().len(), 3);
        // bad patterns are errors naming the pattern
        let ck = ModelCheckpoint::new("x{nope}", Box::new(|_, _| Ok(())));
        let e = ck.file_path(0, &logs(1.0)).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        let ck = ModelCheckpoint::new("x{val_loss:e}", Box::new(|_, _| Ok(())));
        assert!(ck.file_path(0, &logs(1.0)).is_err());
    }

    #[test]
    fn csv_logger_and_terminate_on_nan() {
        let dir = std::env::temp_dir().join(format!("lstmkit-csvlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.csv");
        let mut m = model();
        let mut ctl = Control {
            model: &mut m,
            stop_training: false,
            epochs: 2,
            steps: 1,
        };
        let mut c = CsvLogger::new(&path);
        c.on_train_begin(&mut ctl).unwrap();
        for e in 0..2 {
            let mut l = logs(0.5 / (e + 1) as f64);
            l.insert("learning_rate".into(), 0.001);
            c.on_epoch_end(e, &mut l, &mut ctl).unwrap();
        }
        c.on_train_end(&Logs::new(), &mut ctl).unwrap();
        let s = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            s,
            "epoch,learning_rate,loss,val_loss\n0,0.001,0.5,0.5\n1,0.001,0.25,0.25\n"
        );
        // append: no second header
        let mut c = CsvLogger::new(&path).append(true);
        c.on_train_begin(&mut ctl).unwrap();
        let mut l = logs(0.1);
        l.insert("learning_rate".into(), 0.001);
        c.on_epoch_end(2, &mut l, &mut ctl).unwrap();
        c.on_train_end(&Logs::new(), &mut ctl).unwrap();
        let s = std::fs::read_to_string(&path).unwrap();
        assert_eq!(s.lines().count(), 4);
        assert!(s.ends_with("2,0.001,0.1,0.1\n"));
        std::fs::remove_dir_all(&dir).unwrap();

        let mut t = TerminateOnNaN::new();
        t.on_train_begin(&mut ctl).unwrap();
        t.on_batch_end(0, &logs(1.0), &mut ctl).unwrap();
        assert!(!ctl.stop_training);
        t.on_batch_end(1, &logs(f64::NAN), &mut ctl).unwrap();
        assert!(ctl.stop_training);
        assert_eq!(t.stopped_at, Some((0, 1)));
        let mut t = TerminateOnNaN::new().raise_error(true);
        assert!(t.on_batch_end(0, &logs(f64::INFINITY), &mut ctl).is_err());
    }
}
