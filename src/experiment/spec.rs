//! The sections of an experiment file besides `[data]` and `[[layers]]`:
//! `[compile]`, `[fit]` and `[callbacks.*]`, with Keras' defaults.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::train::{Loss, Mode, Optimizer};

fn d_true() -> bool {
    true
}
fn d_optimizer() -> String {
    "adam".into()
}
fn d_loss() -> String {
    "mse".into()
}

/// `[compile]`: optimiser (`adam`, `adamw`, `sgd`, `rmsprop`), learning rate
/// (default: the optimiser's Keras default), loss (`mse`, `mae`, `huber`) and
/// at most one of `clipnorm`, `global_clipnorm`, `clipvalue`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileSpec {
    /// Optimiser name.
    #[serde(default = "d_optimizer")]
    pub optimizer: String,
    /// Learning rate.
    #[serde(default)]
    pub learning_rate: Option<f32>,
    /// Loss name.
    #[serde(default = "d_loss")]
    pub loss: String,
    /// SGD / RMSprop momentum.
    #[serde(default)]
    pub momentum: Option<f32>,
    /// Per-variable gradient norm clipping.
    #[serde(default)]
    pub clipnorm: Option<f32>,
    /// Global gradient norm clipping.
    #[serde(default)]
    pub global_clipnorm: Option<f32>,
    /// Element-wise gradient clipping.
    #[serde(default)]
    pub clipvalue: Option<f32>,
}

impl Default for CompileSpec {
    fn default() -> Self {
        CompileSpec {
            optimizer: d_optimizer(),
            learning_rate: None,
            loss: d_loss(),
            momentum: None,
            clipnorm: None,
            global_clipnorm: None,
            clipvalue: None,
        }
    }
}

impl CompileSpec {
    /// The optimiser, checked.
    pub fn optimizer(&self) -> Result<Optimizer> {
        let cfg = |m: String| Error::Config(format!("compile: {m}"));
        if let Some(lr) = self.learning_rate {
            if !(lr > 0.0 && lr.is_finite()) {
                return Err(cfg(format!("learning_rate must be > 0 (got {lr})")));
            }
        }
        let mut o = Optimizer::from_name(&self.optimizer, self.learning_rate)
            .map_err(|e| cfg(e.detail()))?;
        if let Some(m) = self.momentum {
            if !(0.0..1.0).contains(&m) {
                return Err(cfg(format!("momentum must be in [0, 1) (got {m})")));
            }
            match &mut o.kind {
                crate::train::optimizer::Kind::Sgd { momentum, .. }
                | crate::train::optimizer::Kind::RmsProp { momentum, .. } => *momentum = m,
                _ => {
                    return Err(cfg(format!(
                        "momentum applies to sgd and rmsprop, not '{}'",
                        self.optimizer
                    )))
                }
            }
        }
        for (key, v) in [
            ("clipnorm", self.clipnorm),
            ("global_clipnorm", self.global_clipnorm),
            ("clipvalue", self.clipvalue),
        ] {
            if let Some(v) = v {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(cfg(format!("{key} must be > 0 (got {v})")));
                }
            }
        }
        if let Some(v) = self.clipnorm {
            o = o.clipnorm(v).map_err(|e| cfg(e.detail()))?;
        }
        if let Some(v) = self.global_clipnorm {
            o = o.global_clipnorm(v).map_err(|e| cfg(e.detail()))?;
        }
        if let Some(v) = self.clipvalue {
            o = o.clipvalue(v).map_err(|e| cfg(e.detail()))?;
        }
        Ok(o)
    }

    /// The loss, checked.
    pub fn loss(&self) -> Result<Loss> {
        Loss::from_name(&self.loss).map_err(|e| Error::Config(format!("compile: {}", e.detail())))
    }
}

fn d_epochs() -> usize {
    1
}
fn d_batch() -> usize {
    32
}
fn d_seed() -> u64 {
    42
}
fn d_verbose() -> u8 {
    1
}

/// `[fit]`: Keras' `fit` arguments (validation comes from `data.validation_split`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitSpec {
    /// Epochs (Keras' default 1).
    #[serde(default = "d_epochs")]
    pub epochs: usize,
    /// Batch size (default 32).
    #[serde(default = "d_batch")]
    pub batch_size: usize,
    /// Shuffle the training windows each epoch (default true).
    #[serde(default = "d_true")]
    pub shuffle: bool,
    /// Draw a new permutation each epoch (default true, Keras' documented
    /// semantics); false reuses one permutation for every epoch, which is
    /// what seeded Keras 3 on TensorFlow does.
    #[serde(default = "d_true")]
    pub reshuffle_each_epoch: bool,
    /// Seed of the weights and of the shuffling (default 42).
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    #[serde(default = "d_verbose")]
    pub verbose: u8,
}

impl Default for FitSpec {
    fn default() -> Self {
        FitSpec {
            epochs: d_epochs(),
            batch_size: d_batch(),
            shuffle: true,
            reshuffle_each_epoch: true,
            seed: d_seed(),
            verbose: d_verbose(),
        }
    }
}

fn d_val_loss() -> String {
    "val_loss".into()
}

/// `[callbacks.early_stopping]` (Keras' arguments and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingSpec {
    /// Watched value.
    #[serde(default = "d_val_loss")]
    pub monitor: String,
    /// Minimum improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// Epochs without improvement.
    #[serde(default)]
    pub patience: usize,
    /// `auto`, `min` or `max`.
    #[serde(default)]
    pub mode: Mode,
    /// Value to beat.
    #[serde(default)]
    pub baseline: Option<f64>,
    /// Restore the best epoch's weights.
    #[serde(default)]
    pub restore_best_weights: bool,
    /// Warm-up epochs.
    #[serde(default)]
    pub start_from_epoch: usize,
}

fn d_factor() -> f64 {
    0.1
}
fn d_patience10() -> usize {
    10
}
fn d_min_delta_lr() -> f64 {
    1e-4
}

/// `[callbacks.reduce_lr_on_plateau]` (Keras' arguments and defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReduceLrSpec {
    /// Watched value.
    #[serde(default = "d_val_loss")]
    pub monitor: String,
    /// Multiplier (0 < factor < 1).
    #[serde(default = "d_factor")]
    pub factor: f64,
    /// Epochs without improvement.
    #[serde(default = "d_patience10")]
    pub patience: usize,
    /// `auto`, `min` or `max`.
    #[serde(default)]
    pub mode: Mode,
    /// Minimum improvement.
    #[serde(default = "d_min_delta_lr")]
    pub min_delta: f64,
    /// Epochs to wait after a reduction.
    #[serde(default)]
    pub cooldown: usize,
    /// Lower bound.
    #[serde(default)]
    pub min_lr: f64,
}

fn d_ckpt() -> String {
    "checkpoint-{epoch:03d}.lstmkit".into()
}

/// `[callbacks.model_checkpoint]`: path pattern relative to the output folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSpec {
    /// Path pattern (`{epoch:03d}`, `{val_loss:.4f}`, ...).
    #[serde(default = "d_ckpt")]
    pub filepath: String,
    /// Watched value.
    #[serde(default = "d_val_loss")]
    pub monitor: String,
    /// Save only improvements.
    #[serde(default)]
    pub save_best_only: bool,
    /// `auto`, `min` or `max`.
    #[serde(default)]
    pub mode: Mode,
}

fn d_log() -> String {
    "training.log.csv".into()
}
fn d_sep() -> char {
    ','
}

/// `[callbacks.csv_logger]`: file relative to the output folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvLoggerSpec {
    /// File name.
    #[serde(default = "d_log")]
    pub filename: String,
    /// Separator.
    #[serde(default = "d_sep")]
    pub separator: char,
    /// Append.
    #[serde(default)]
    pub append: bool,
}

/// `[callbacks.terminate_on_nan]`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminateOnNanSpec {
    /// Fail instead of stopping.
    #[serde(default)]
    pub raise_error: bool,
}

/// `[callbacks.*]`: each present table enables that callback.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksSpec {
    /// EarlyStopping.
    #[serde(default)]
    pub early_stopping: Option<EarlyStoppingSpec>,
    /// ReduceLROnPlateau.
    #[serde(default)]
    pub reduce_lr_on_plateau: Option<ReduceLrSpec>,
    /// ModelCheckpoint.
    #[serde(default)]
    pub model_checkpoint: Option<CheckpointSpec>,
    /// CSVLogger.
    #[serde(default)]
    pub csv_logger: Option<CsvLoggerSpec>,
    /// TerminateOnNaN.
    #[serde(default)]
    pub terminate_on_nan: Option<TerminateOnNanSpec>,
}
