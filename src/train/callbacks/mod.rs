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

use crate::error::{Error, Result};
use crate::model::Model;
use crate::tensor::Tensor;
use crate::train::history::Logs;

/// Builder setters, one per public field: `fn name(mut self, v: T) -> Self`,
/// documented "Sets `name`."; `name: &str => String` converts the argument.
macro_rules! setters {
    (@value $v:ident) => { $v };
    (@value $v:ident, $into:ty) => { <$into>::from($v) };
    ($($name:ident: $ty:ty $(=> $into:ty)?),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($name), "`.")]
            pub fn $name(mut self, v: $ty) -> Self {
                self.$name = setters!(@value v $(, $into)?);
                self
            }
        )*
    };
}

mod csv_logger;
mod early_stopping;
mod model_checkpoint;
mod reduce_lr_on_plateau;
mod terminate_on_nan;

pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use model_checkpoint::{ModelCheckpoint, SaveFn};
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use terminate_on_nan::TerminateOnNaN;

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

/// What EarlyStopping, ReduceLROnPlateau and ModelCheckpoint share: the
/// [`Monitor`] built from the callback's public arguments at `on_train_begin`,
/// the best value seen, and the state handed over for a resumed run.
#[derive(Clone, Debug)]
struct Tracker {
    /// The callback's name, in messages.
    who: &'static str,
    mon: Monitor,
    best: Option<f64>,
    resume: Option<CallbackState>,
}

impl Tracker {
    /// Before `on_train_begin`: the defaults (`monitor`, mode auto, `min_delta`).
    fn new(who: &'static str, monitor: &str, min_delta: f64) -> Self {
        Tracker {
            who,
            mon: Monitor::new(monitor, Mode::Auto, min_delta),
            best: None,
            resume: None,
        }
    }

    /// At `on_train_begin`: the monitor from the callback's arguments, checked;
    /// `best` starts at `initial`. Returns the state of an earlier run to
    /// continue from, if one was handed over.
    fn begin(
        &mut self,
        monitor: &str,
        mode: Mode,
        min_delta: f64,
        initial: Option<f64>,
    ) -> Result<Option<CallbackState>> {
        self.mon = Monitor::new(monitor, mode, min_delta);
        self.resolve()?;
        self.best = initial;
        Ok(self.resume.take())
    }

    /// The direction of the monitor (an error for `auto` on an unknown metric).
    fn resolve(&mut self) -> Result<()> {
        self.mon.resolve(self.who)
    }

    /// The monitored value of `logs`, if they hold it.
    fn value(&self, logs: &Logs) -> Option<f64> {
        self.mon.value(logs)
    }

    /// `current` improves on `reference` (`None` is always beaten).
    fn beats(&self, current: f64, reference: Option<f64>) -> bool {
        self.mon.is_improvement(current, reference)
    }

    /// `current` improves on the best value seen.
    fn improves(&self, current: f64) -> bool {
        self.beats(current, self.best)
    }

    /// A field of a saved state (an error naming the callback and the key).
    fn field<T: serde::de::DeserializeOwned>(&self, st: &CallbackState, key: &str) -> Result<T> {
        state_field(st, self.who, key)
    }

    /// Takes the best value of a saved state (`best_bits`).
    fn restore_best(&mut self, st: &CallbackState) -> Result<()> {
        self.best = self
            .field::<Option<u64>>(st, "best_bits")?
            .map(f64::from_bits);
        Ok(())
    }

    /// The callback's state for a resumed run: `values` (a JSON object) with
    /// the best value added as `best_bits` (its bits: exact on resume).
    fn state(&self, mut values: serde_json::Value, tensors: Vec<Tensor>) -> CallbackState {
        if let Some(map) = values.as_object_mut() {
            map.insert(
                "best_bits".into(),
                serde_json::json!(self.best.map(f64::to_bits)),
            );
        }
        CallbackState { values, tensors }
    }

    /// Keeps a state from [`Callback::resume_state`] for the next `begin`.
    fn hold(&mut self, state: CallbackState) {
        self.resume = Some(state);
    }
}

/// Test helpers shared by the callbacks' tests.
#[cfg(test)]
mod test_util {
    use super::Control;
    use crate::model::{Model, Sequential};
    use crate::nn::Dense;
    use crate::train::{Logs, Loss, Optimizer};

    /// A compiled one-layer model (Adam 0.1, MSE).
    pub fn model() -> Model {
        let mut m = Sequential::new(&[2]).add(Dense::new(1)).build(1).unwrap();
        m.compile(Optimizer::adam(0.1), Loss::Mse);
        m
    }

    /// Logs with `loss` and `val_loss` both `v`.
    pub fn logs(v: f64) -> Logs {
        let mut l = Logs::new();
        l.insert("val_loss".into(), v);
        l.insert("loss".into(), v);
        l
    }

    /// A fresh control over `m` for `epochs` epochs of one batch.
    pub fn control(m: &mut Model, epochs: usize) -> Control<'_> {
        Control {
            model: m,
            stop_training: false,
            epochs,
            steps: 1,
        }
    }
}
