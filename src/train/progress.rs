//! Keras-style progress output for `fit`.
//!
//! `verbose = 1` on a terminal: a live bar per epoch (indicatif) with the step
//! counter, ETA and running loss, finished with the epoch's line;
//! `verbose = 1` when stdout is not a terminal, or `verbose = 2`: two plain
//! lines per epoch (`Epoch 3/100`, then the summary); `verbose = 0`: nothing.
//!
//! The epoch summary reads like Keras':
//! `23/23 - 0s - 2ms/step - loss: 0.0123 - val_loss: 0.0145 - learning_rate: 1.0000e-03`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Keras' number format in logs: 4 decimals, scientific below 1e-3.
pub fn fmt_value(v: f64) -> String {
    if v.is_finite() && v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

/// The summary of one epoch, without the step counter.
pub fn epoch_summary(loss: f64, val_loss: Option<f64>, lr: f64) -> String {
    let mut s = format!("loss: {}", fmt_value(loss));
    if let Some(v) = val_loss {
        s.push_str(&format!(" - val_loss: {}", fmt_value(v)));
    }
    s.push_str(&format!(" - learning_rate: {}", fmt_value(lr)));
    s
}

fn fmt_time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{}s", secs.round() as u64)
    } else {
        format!("{}ms", (secs * 1e3).round() as u64)
    }
}

/// Progress reporting for one `fit` call.
pub struct Progress {
    verbose: u8,
    live: bool,
    epochs: usize,
    steps: usize,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress for `epochs` epochs of `steps` batches at verbosity `verbose`.
    pub fn new(verbose: u8, epochs: usize, steps: usize) -> Self {
        Progress {
            verbose,
            live: verbose == 1 && std::io::stdout().is_terminal(),
            epochs,
            steps,
            bar: None,
        }
    }

    /// Prints `Epoch N/M` and starts the bar.
    pub fn epoch_begin(&mut self, epoch: usize) {
        if self.verbose == 0 {
            return;
        }
        println!("Epoch {}/{}", epoch + 1, self.epochs);
        if self.live {
            let bar = ProgressBar::with_draw_target(
                Some(self.steps as u64),
                ProgressDrawTarget::stdout(),
            );
            let style = ProgressStyle::with_template(
                "{pos:>4}/{len} [{bar:30.cyan/blue}] ETA {eta} - {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            self.bar = Some(bar);
        }
    }

    /// Advances the bar after a batch.
    pub fn batch_end(&mut self, step: usize, running_loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64 + 1);
            bar.set_message(format!("loss: {}", fmt_value(running_loss)));
        }
    }

    /// Prints the epoch's summary line.
    pub fn epoch_end(
        &mut self,
        _epoch: usize,
        loss: f64,
        val_loss: Option<f64>,
        lr: f64,
        secs: f64,
    ) {
        if self.verbose == 0 {
            return;
        }
        let per_step = secs / self.steps.max(1) as f64;
        let line = format!(
            "{}/{} - {} - {}/step - {}",
            self.steps,
            self.steps,
            fmt_time(secs),
            fmt_time(per_step),
            epoch_summary(loss, val_loss, lr)
        );
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keras_number_format() {
        assert_eq!(fmt_value(0.012345), "0.0123");
        assert_eq!(fmt_value(0.001), "0.0010");
        assert_eq!(fmt_value(0.0002), "2.0000e-4");
        assert_eq!(fmt_value(0.0), "0.0000");
        assert_eq!(fmt_value(f64::NAN), "NaN");
        assert_eq!(
            epoch_summary(0.5, Some(0.25), 0.001),
            "loss: 0.5000 - val_loss: 0.2500 - learning_rate: 0.0010"
        );
        assert_eq!(
            epoch_summary(0.5, None, 1e-4),
            "loss: 0.5000 - learning_rate: 1.0000e-4"
        );
        assert_eq!(fmt_time(0.0123), "12ms");
        assert_eq!(fmt_time(3.4), "3s");
    }
}
