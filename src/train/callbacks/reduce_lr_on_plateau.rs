//! `keras.callbacks.ReduceLROnPlateau`.

use super::{Callback, CallbackState, Control, Mode, Tracker};
use crate::error::{Error, Result};
use crate::train::history::Logs;

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
    t: Tracker,
    wait: usize,
    cooldown_counter: usize,
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
            t: Tracker::new("ReduceLROnPlateau", "val_loss", 1e-4),
            wait: 0,
            cooldown_counter: 0,
        }
    }
    setters! {
        monitor: &str => String,
        factor: f64,
        patience: usize,
        mode: Mode,
        min_delta: f64,
        cooldown: usize,
        min_lr: f64,
        verbose: bool,
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
        let resume = self
            .t
            .begin(&self.monitor, self.mode, self.min_delta, None)?;
        self.cooldown_counter = 0;
        self.wait = 0;
        if let Some(st) = resume {
            self.t.restore_best(&st)?;
            self.wait = self.t.field(&st, "wait")?;
            self.cooldown_counter = self.t.field(&st, "cooldown_counter")?;
        }
        Ok(())
    }

    fn resume_state(&self) -> Option<CallbackState> {
        let values = serde_json::json!({
            "wait": self.wait,
            "cooldown_counter": self.cooldown_counter,
        });
        Some(self.t.state(values, Vec::new()))
    }

    fn set_resume_state(&mut self, state: CallbackState) -> Result<()> {
        self.t.hold(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.t.resolve()?;
        if let Some(lr) = ctl.learning_rate() {
            logs.insert("learning_rate".into(), crate::train::history::lr_to_f64(lr));
        }
        let Some(current) = self.t.value(logs) else {
            return Ok(());
        };
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.t.improves(current) {
            self.t.best = Some(current);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::callbacks::test_util::{control, logs, model};

    fn replay_lr(r: &mut ReduceLROnPlateau, seq: &[f64], lr0: f32) -> Vec<f32> {
        let mut m = model();
        m.optimizer_mut().unwrap().learning_rate = lr0;
        let mut ctl = control(&mut m, seq.len());
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
}
