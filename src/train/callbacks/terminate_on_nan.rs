//! `keras.callbacks.TerminateOnNaN`.

use super::{Callback, Control};
use crate::error::{Error, Result};
use crate::train::history::Logs;

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
    setters! {
        raise_error: bool,
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
    use crate::train::callbacks::test_util::{control, logs, model};

    #[test]
    fn terminate_on_nan_stops_or_fails() {
        let mut m = model();
        let mut ctl = control(&mut m, 2);
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
