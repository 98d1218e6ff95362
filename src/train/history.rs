//! The per-epoch record of a `fit` call (Keras' `History`).

use std::collections::BTreeMap;

/// Values reported at the end of a batch or an epoch (`loss`, `val_loss`,
/// `learning_rate`, ...), as in Keras' `logs` dictionary.
pub type Logs = BTreeMap<String, f64>;

/// An f32 learning rate as the decimal it prints as (`0.001`, not
/// `0.0010000000474974513`), for logs and files.
pub fn lr_to_f64(v: f32) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(v as f64)
}

/// What `fit` returns: one entry per epoch run, in order.
///
/// ```
/// use lstmkit::train::History;
/// let mut h = History::default();
/// h.push(0, 0.5, Some(0.6), 1e-3, 0.1);
/// h.push(1, 0.4, Some(0.55), 1e-3, 0.1);
/// assert_eq!(h.best_epoch("val_loss"), Some(1));
/// assert!(h.to_csv().starts_with("epoch,loss,val_loss,learning_rate,seconds\n0,"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// Epoch index (0-based, as Keras' `epoch` argument; Keras prints it 1-based).
    pub epoch: Vec<usize>,
    /// Training loss: the sample-weighted mean of the batch losses of the epoch
    /// (Keras' running mean), regularisation penalties included.
    pub loss: Vec<f64>,
    /// Validation loss in inference mode after the epoch (`None` without validation data).
    pub val_loss: Vec<Option<f64>>,
    /// The learning rate used during the epoch (before any callback changed it at its end).
    pub learning_rate: Vec<f64>,
    /// Wall-clock seconds of the epoch (training + validation).
    pub seconds: Vec<f64>,
}

impl History {
    /// Appends one epoch.
    pub fn push(&mut self, epoch: usize, loss: f64, val_loss: Option<f64>, lr: f64, seconds: f64) {
        self.epoch.push(epoch);
        self.loss.push(loss);
        self.val_loss.push(val_loss);
        self.learning_rate.push(lr);
        self.seconds.push(seconds);
    }

    /// Appends the epochs of `other` (a later part of the same run).
    pub fn extend(&mut self, other: &History) {
        self.epoch.extend_from_slice(&other.epoch);
        self.loss.extend_from_slice(&other.loss);
        self.val_loss.extend_from_slice(&other.val_loss);
        self.learning_rate.extend_from_slice(&other.learning_rate);
        self.seconds.extend_from_slice(&other.seconds);
    }

    /// The epoch (0-based) after the last one recorded: where a resumed run starts.
    pub fn next_epoch(&self) -> usize {
        self.epoch.last().map_or(0, |e| e + 1)
    }

    /// Number of epochs recorded.
    pub fn len(&self) -> usize {
        self.epoch.len()
    }

    /// True when no epoch was recorded.
    pub fn is_empty(&self) -> bool {
        self.epoch.is_empty()
    }

    /// The values of `loss` or `val_loss` (NaN where absent).
    pub fn series(&self, key: &str) -> Option<Vec<f64>> {
        match key {
            "loss" => Some(self.loss.clone()),
            "val_loss" => Some(
                self.val_loss
                    .iter()
                    .map(|v| v.unwrap_or(f64::NAN))
                    .collect(),
            ),
            "learning_rate" | "lr" => Some(self.learning_rate.clone()),
            "seconds" => Some(self.seconds.clone()),
            _ => None,
        }
    }

    /// The epoch (0-based) with the lowest finite value of `key` (`loss` or
    /// `val_loss`); the first one on ties.
    pub fn best_epoch(&self, key: &str) -> Option<usize> {
        let s = self.series(key)?;
        let mut best: Option<(usize, f64)> = None;
        for (i, v) in s.iter().enumerate() {
            if v.is_finite() && best.is_none_or(|(_, b)| *v < b) {
                best = Some((self.epoch[i], *v));
            }
        }
        best.map(|(e, _)| e)
    }

    /// Total seconds over all epochs.
    pub fn total_seconds(&self) -> f64 {
        self.seconds.iter().sum()
    }

    /// CSV with a header `epoch,loss,val_loss,learning_rate,seconds`
    /// (`val_loss` left empty when absent; floats in shortest round-trip form).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("epoch,loss,val_loss,learning_rate,seconds\n");
        for i in 0..self.len() {
            let vl = self.val_loss[i].map(|v| v.to_string()).unwrap_or_default();
            s.push_str(&format!(
                "{},{},{},{},{}\n",
                self.epoch[i], self.loss[i], vl, self.learning_rate[i], self.seconds[i]
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn csv_and_best_epoch() {
        let mut h = History::default();
        h.push(0, 1.0, None, 0.1, 0.5);
        h.push(1, 0.5, None, 0.1, 0.5);
        assert_eq!(h.best_epoch("loss"), Some(1));
        assert_eq!(h.best_epoch("val_loss"), None);
        assert_eq!(h.best_epoch("nope"), None);
        assert_eq!(
            h.to_csv(),
            "epoch,loss,val_loss,learning_rate,seconds\n0,1,,0.1,0.5\n1,0.5,,0.1,0.5\n"
        );
        let js = serde_json::to_string(&h).unwrap();
        let back: History = serde_json::from_str(&js).unwrap();
        assert_eq!(back, h);
        assert_eq!(h.total_seconds(), 1.0);
    }
}
