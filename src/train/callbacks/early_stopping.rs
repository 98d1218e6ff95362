//! `keras.callbacks.EarlyStopping`.

use super::{Callback, CallbackState, Control, Mode, Tracker};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::train::history::Logs;

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
    t: Tracker,
    wait: usize,
    stopped_epoch: usize,
    best_weights: Option<Vec<Tensor>>,
    best_epoch: usize,
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
            t: Tracker::new("EarlyStopping", "val_loss", 0.0),
            wait: 0,
            stopped_epoch: 0,
            best_weights: None,
            best_epoch: 0,
        }
    }
    setters! {
        monitor: &str => String,
        min_delta: f64,
        patience: usize,
        mode: Mode,
        baseline: Option<f64>,
        restore_best_weights: bool,
        start_from_epoch: usize,
        verbose: bool,
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
        self.t.best
    }
    /// Epochs since the last improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _ctl: &mut Control) -> Result<()> {
        let resume = self
            .t
            .begin(&self.monitor, self.mode, self.min_delta, None)?;
        self.wait = 0;
        self.stopped_epoch = 0;
        self.best_weights = None;
        self.best_epoch = 0;
        if let Some(st) = resume {
            self.wait = self.t.field(&st, "wait")?;
            self.stopped_epoch = self.t.field(&st, "stopped_epoch")?;
            self.t.restore_best(&st)?;
            self.best_epoch = self.t.field(&st, "best_epoch")?;
            let has: bool = self.t.field(&st, "has_best_weights")?;
            self.best_weights = has.then_some(st.tensors);
        }
        Ok(())
    }

    fn resume_state(&self) -> Option<CallbackState> {
        let values = serde_json::json!({
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_epoch": self.best_epoch,
            "has_best_weights": self.best_weights.is_some(),
        });
        Some(
            self.t
                .state(values, self.best_weights.clone().unwrap_or_default()),
        )
    }

    fn set_resume_state(&mut self, state: CallbackState) -> Result<()> {
        self.t.hold(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut Control) -> Result<()> {
        self.t.resolve()?;
        let Some(current) = self.t.value(logs) else {
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
        if self.t.improves(current) {
            self.t.best = Some(current);
            self.best_epoch = epoch;
            if self.restore_best_weights {
                self.best_weights = Some(ctl.model.get_weights());
            }
            if self.baseline.is_none() || self.t.beats(current, self.baseline) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::train::callbacks::test_util::{control, logs, model};

    /// Replays a scripted val_loss sequence; returns the epoch at which the
    /// callback stopped training (None if it ran through).
    fn replay_es(es: &mut EarlyStopping, seq: &[f64], m: &mut Model) -> Option<usize> {
        let mut ctl = control(m, seq.len());
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
        let mut ctl = control(&mut m, 5);
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
        let mut ctl = control(&mut m, 5);
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
}
