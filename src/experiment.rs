//! Experiment files: one TOML file describing the data, the model, how to
//! compile and fit it and which callbacks to use; [`Experiment::run`] trains
//! and scores it next to the baselines.
//!
//! ```toml
//! [data]                      # lstmkit::data::DataSpec
//! path = "co2_weekly.csv"     # relative to the experiment file
//! target = "co2"
//! timesteps = 10
//! validation_split = 0.2
//!
//! [[layers]]                  # a functional graph: each layer takes the previous
//! type = "lstm"               # layer by default, or `inputs = ["name", ...]`
//! units = 50                  # ("input" = the model input)
//! activation = "relu"
//! kernel_regularizer = { l2 = 0.01 }
//!
//! [[layers]]
//! type = "dense"
//! units = 1
//!
//! [compile]                   # optimizer, learning_rate, loss, clipnorm | global_clipnorm | clipvalue
//! optimizer = "adam"
//! learning_rate = 0.001
//!
//! [fit]                       # epochs, batch_size, shuffle, seed, verbose
//! epochs = 100
//!
//! [callbacks.early_stopping]  # also reduce_lr_on_plateau, model_checkpoint, csv_logger, terminate_on_nan
//! patience = 10
//! restore_best_weights = true
//! ```
//!
//! Unknown keys are errors naming the key, its line and the file; values out
//! of range are errors naming the key and the allowed range. Defaults are
//! Keras' (e.g. `epochs = 1`, `batch_size = 32`, callbacks' own defaults).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{prepare, DataSpec, Pipeline, Prepared};
use crate::error::{Error, Result};
use crate::eval::{evaluate, Evaluation};
use crate::model::{auto_name, Graph, Model, Src};
use crate::nn::{Activation, Dense, Initializer, Layer, LSTM};
use crate::resume::ResumePoint;
use crate::tensor::Tensor;
use crate::train::{
    Callback, CallbackState, CsvLogger, EarlyStopping, FitOptions, History, Loss, Mode,
    ModelCheckpoint, Optimizer, ReduceLROnPlateau, Regularizer, TerminateOnNaN,
};

/// A parsed experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The data pipeline (see [`DataSpec`]).
    pub data: DataSpec,
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
    /// Optimiser, loss, clipping.
    #[serde(default)]
    pub compile: CompileSpec,
    /// Training loop settings.
    #[serde(default)]
    pub fit: FitSpec,
    /// Callbacks.
    #[serde(default)]
    pub callbacks: CallbacksSpec,
}

/// A weight penalty: `{ l2 = 0.01 }`, `{ l1 = 0.001 }` or both.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegSpec {
    /// L1 factor.
    #[serde(default)]
    pub l1: f32,
    /// L2 factor.
    #[serde(default)]
    pub l2: f32,
}

impl RegSpec {
    fn to_reg(self, key: &str, layer: &str) -> Result<Regularizer> {
        if !(self.l1 >= 0.0 && self.l2 >= 0.0 && self.l1.is_finite() && self.l2.is_finite()) {
            return Err(Error::Config(format!(
                "layer '{layer}': {key} needs l1, l2 >= 0 (got l1 = {}, l2 = {})",
                self.l1, self.l2
            )));
        }
        Ok(Regularizer::l1_l2(self.l1, self.l2))
    }
}

/// One `[[layers]]` entry, selected by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerSpec {
    /// `keras.layers.LSTM`.
    Lstm(LstmSpec),
    /// `keras.layers.Dense`.
    Dense(DenseSpec),
    /// `keras.layers.GRU` (Keras' arguments, e.g. `units`, `reset_after`, `dropout`).
    Gru(KerasArgs),
    /// `keras.layers.Bidirectional`: `layer = { type = "lstm", units = 50 }`,
    /// `merge_mode` = concat | sum | mul | ave | none.
    Bidirectional(KerasArgs),
    /// `keras.layers.Attention` on `inputs = [query, value]` or `[query, value, key]`
    /// (`use_scale`, `score_mode`, `dropout`, `use_causal_mask`, `return_attention_scores`).
    Attention(KerasArgs),
    /// `keras.layers.Dropout` (`rate`, `noise_shape` with 0 for None).
    Dropout(KerasArgs),
    /// `keras.layers.BatchNormalization` (`momentum`, `epsilon`, `center`, `scale`).
    BatchNormalization(KerasArgs),
    /// `keras.layers.LayerNormalization` (`epsilon`, `center`, `scale`).
    LayerNormalization(KerasArgs),
    /// `keras.layers.GlobalAveragePooling1D`.
    #[serde(rename = "global_average_pooling1d")]
    GlobalAveragePooling1d(KerasArgs),
    /// `keras.layers.GlobalMaxPooling1D`.
    #[serde(rename = "global_max_pooling1d")]
    GlobalMaxPooling1d(KerasArgs),
    /// `keras.layers.Flatten`.
    Flatten(KerasArgs),
    /// `keras.layers.TimeDistributed`: `layer = { type = "dense", units = 1 }`.
    TimeDistributed(KerasArgs),
    /// `keras.layers.Concatenate` (`axis`, default −1) over several `inputs`.
    Concatenate(KerasArgs),
    /// `keras.layers.Add` over several `inputs`.
    Add(KerasArgs),
}

/// The entry of a layer type given by Keras' own arguments (checked by
/// [`crate::io::registry::layer_from_table`]: unknown keys are errors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KerasArgs {
    /// Layer name (default: Keras' automatic name, e.g. `gru`, `gru_1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Input layers by name (`"input"` = the model input); default: the previous layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<String>>,
    /// The layer's arguments, with Keras' names.
    #[serde(flatten)]
    pub args: serde_json::Map<String, serde_json::Value>,
}

fn d_tanh() -> String {
    "tanh".into()
}
fn d_sigmoid() -> String {
    "sigmoid".into()
}
fn d_linear() -> String {
    "linear".into()
}
fn d_true() -> bool {
    true
}

/// `type = "lstm"`: Keras' LSTM arguments and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmSpec {
    /// Layer name (default: Keras' automatic `lstm`, `lstm_1`, ...).
    #[serde(default)]
    pub name: Option<String>,
    /// Input layers by name (`"input"` = the model input); default: the previous layer.
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
    /// Hidden units (≥ 1).
    pub units: usize,
    /// Cell activation (default tanh).
    #[serde(default = "d_tanh")]
    pub activation: String,
    /// Gate activation (default sigmoid).
    #[serde(default = "d_sigmoid")]
    pub recurrent_activation: String,
    /// Output every timestep (needed before another recurrent layer).
    #[serde(default)]
    pub return_sequences: bool,
    /// Read the sequence backwards.
    #[serde(default)]
    pub go_backwards: bool,
    /// Use a bias.
    #[serde(default = "d_true")]
    pub use_bias: bool,
    /// Forget-gate bias initialised to 1.
    #[serde(default = "d_true")]
    pub unit_forget_bias: bool,
    /// Kernel penalty.
    #[serde(default)]
    pub kernel_regularizer: Option<RegSpec>,
    /// Recurrent kernel penalty.
    #[serde(default)]
    pub recurrent_regularizer: Option<RegSpec>,
    /// Input dropout rate (training only; one mask per sequence, as Keras 3).
    #[serde(default)]
    pub dropout: f32,
    /// Recurrent dropout rate (training only; one mask per sequence and gate).
    #[serde(default)]
    pub recurrent_dropout: f32,
    /// Bias penalty.
    #[serde(default)]
    pub bias_regularizer: Option<RegSpec>,
}

/// `type = "dense"`: Keras' Dense arguments and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseSpec {
    /// Layer name (default: `dense`, `dense_1`, ...).
    #[serde(default)]
    pub name: Option<String>,
    /// Input layers by name; default: the previous layer.
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
    /// Output width (≥ 1).
    pub units: usize,
    /// Activation (default linear).
    #[serde(default = "d_linear")]
    pub activation: String,
    /// Use a bias.
    #[serde(default = "d_true")]
    pub use_bias: bool,
    /// Kernel initialiser (default glorot_uniform).
    #[serde(default)]
    pub kernel_initializer: Option<String>,
    /// Kernel penalty.
    #[serde(default)]
    pub kernel_regularizer: Option<RegSpec>,
    /// Bias penalty.
    #[serde(default)]
    pub bias_regularizer: Option<RegSpec>,
}

impl LayerSpec {
    /// The generic entries: (experiment type, arguments).
    fn keras_args(&self) -> Option<(&'static str, &KerasArgs)> {
        Some(match self {
            LayerSpec::Lstm(_) | LayerSpec::Dense(_) => return None,
            LayerSpec::Gru(a) => ("gru", a),
            LayerSpec::Bidirectional(a) => ("bidirectional", a),
            LayerSpec::Attention(a) => ("attention", a),
            LayerSpec::Dropout(a) => ("dropout", a),
            LayerSpec::BatchNormalization(a) => ("batch_normalization", a),
            LayerSpec::LayerNormalization(a) => ("layer_normalization", a),
            LayerSpec::GlobalAveragePooling1d(a) => ("global_average_pooling1d", a),
            LayerSpec::GlobalMaxPooling1d(a) => ("global_max_pooling1d", a),
            LayerSpec::Flatten(a) => ("flatten", a),
            LayerSpec::TimeDistributed(a) => ("time_distributed", a),
            LayerSpec::Concatenate(a) => ("concatenate", a),
            LayerSpec::Add(a) => ("add", a),
        })
    }
    fn name(&self) -> Option<&str> {
        match self {
            LayerSpec::Lstm(s) => s.name.as_deref(),
            LayerSpec::Dense(s) => s.name.as_deref(),
            other => other.keras_args().and_then(|(_, a)| a.name.as_deref()),
        }
    }
    fn inputs(&self) -> Option<&[String]> {
        match self {
            LayerSpec::Lstm(s) => s.inputs.as_deref(),
            LayerSpec::Dense(s) => s.inputs.as_deref(),
            other => other.keras_args().and_then(|(_, a)| a.inputs.as_deref()),
        }
    }
    fn class_name(&self) -> &'static str {
        match self {
            LayerSpec::Lstm(_) => "LSTM",
            LayerSpec::Dense(_) => "Dense",
            other => {
                let kind = other.keras_args().map(|(k, _)| k).unwrap_or("");
                crate::nn::LAYERS
                    .iter()
                    .find(|k| k.kind == kind)
                    .map_or("Layer", |k| k.class)
            }
        }
    }

    /// Builds the layer (arguments checked; `label` names it in errors).
    pub fn build(&self, label: &str) -> Result<Box<dyn Layer>> {
        let act = |key: &str, v: &str| {
            Activation::from_name(v)
                .map_err(|e| Error::Config(format!("layer '{label}': {key}: {}", strip_config(&e))))
        };
        let units = |u: usize| {
            if u == 0 {
                Err(Error::Config(format!(
                    "layer '{label}': units must be at least 1 (got 0)"
                )))
            } else {
                Ok(u)
            }
        };
        Ok(match self {
            LayerSpec::Lstm(s) => {
                let mut l = LSTM::new(units(s.units)?)
                    .activation(act("activation", &s.activation)?)
                    .recurrent_activation(act("recurrent_activation", &s.recurrent_activation)?)
                    .return_sequences(s.return_sequences)
                    .go_backwards(s.go_backwards)
                    .use_bias(s.use_bias)
                    .unit_forget_bias(s.unit_forget_bias)
                    .dropout(s.dropout)
                    .recurrent_dropout(s.recurrent_dropout);
                if let Some(r) = s.kernel_regularizer {
                    l = l.kernel_regularizer(r.to_reg("kernel_regularizer", label)?);
                }
                if let Some(r) = s.recurrent_regularizer {
                    l = l.recurrent_regularizer(r.to_reg("recurrent_regularizer", label)?);
                }
                if let Some(r) = s.bias_regularizer {
                    l = l.bias_regularizer(r.to_reg("bias_regularizer", label)?);
                }
                Box::new(l)
            }
            LayerSpec::Dense(s) => {
                let mut l = Dense::new(units(s.units)?)
                    .activation(act("activation", &s.activation)?)
                    .use_bias(s.use_bias);
                if let Some(i) = &s.kernel_initializer {
                    l = l.kernel_initializer(Initializer::from_name(i).map_err(|e| {
                        Error::Config(format!(
                            "layer '{label}': kernel_initializer: {}",
                            strip_config(&e)
                        ))
                    })?);
                }
                if let Some(r) = s.kernel_regularizer {
                    l = l.kernel_regularizer(r.to_reg("kernel_regularizer", label)?);
                }
                if let Some(r) = s.bias_regularizer {
                    l = l.bias_regularizer(r.to_reg("bias_regularizer", label)?);
                }
                Box::new(l)
            }
            other => match other.keras_args() {
                Some((kind, a)) => crate::io::registry::layer_from_table(kind, &a.args, label)?,
                None => {
                    return Err(Error::Other(format!(
                        "layer '{label}': no builder for {}",
                        other.class_name()
                    )))
                }
            },
        })
    }
}

fn strip_config(e: &Error) -> String {
    match e {
        Error::Config(s) => s.clone(),
        other => other.to_string(),
    }
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
            .map_err(|e| cfg(strip_config(&e)))?;
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
            o = o.clipnorm(v).map_err(|e| cfg(strip_config(&e)))?;
        }
        if let Some(v) = self.global_clipnorm {
            o = o.global_clipnorm(v).map_err(|e| cfg(strip_config(&e)))?;
        }
        if let Some(v) = self.clipvalue {
            o = o.clipvalue(v).map_err(|e| cfg(strip_config(&e)))?;
        }
        Ok(o)
    }

    /// The loss, checked.
    pub fn loss(&self) -> Result<Loss> {
        Loss::from_name(&self.loss)
            .map_err(|e| Error::Config(format!("compile: {}", strip_config(&e))))
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

/// Command-line overrides of an experiment's values.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `fit.epochs`.
    pub epochs: Option<usize>,
    /// `fit.batch_size`.
    pub batch_size: Option<usize>,
    /// `fit.seed`.
    pub seed: Option<u64>,
    /// `compile.learning_rate`.
    pub learning_rate: Option<f32>,
    /// Silence the progress output.
    pub quiet: bool,
}

/// What [`Experiment::run`] returns.
pub struct Outcome {
    /// The trained model (best weights restored when asked).
    pub model: Model,
    /// Per-epoch history.
    pub history: History,
    /// The prepared data.
    pub prepared: Prepared,
    /// Model outputs on the test windows (model space).
    pub test_pred: Tensor,
    /// Test metrics next to the baselines, original units.
    pub evaluation: Evaluation,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// Epoch (1-based) with the lowest monitored loss (`val_loss`, else `loss`).
    pub best_epoch: usize,
    /// Seconds spent in `fit` (all parts of a resumed run).
    pub train_seconds: f64,
    /// The weights at the end of the last epoch when the model holds others
    /// (best weights restored): where a resumed run continues from.
    pub last_weights: Option<Vec<Tensor>>,
    /// The callbacks' state at the end (by `[callbacks.*]` name), for a resume.
    pub callback_states: BTreeMap<String, CallbackState>,
}

/// A model as JSON: the layer specs, the weights and the fitted data
/// pipeline (used by `lstmkit tune`; `lstmkit train` writes the native format).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedModel {
    /// Always `lstmkit-experiment-model`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Per-sample input shape.
    pub input_shape: Vec<usize>,
    /// The layers.
    pub layers: Vec<LayerSpec>,
    /// Weights in `Model::get_weights` order: (shape, values).
    pub weights: Vec<(Vec<usize>, Vec<f32>)>,
    /// The fitted data pipeline (scaler, windows, differencing).
    pub pipeline: Pipeline,
}

const SAVED_FORMAT: &str = "lstmkit-experiment-model";

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

impl SavedModel {
    /// Captures a model, its layer specs and pipeline.
    pub fn new(model: &Model, layers: &[LayerSpec], pipeline: &Pipeline) -> Self {
        SavedModel {
            format: SAVED_FORMAT.into(),
            version: 1,
            input_shape: model.input_shape().to_vec(),
            layers: layers.to_vec(),
            weights: model
                .get_weights()
                .into_iter()
                .map(|t| (t.shape, t.data))
                .collect(),
            pipeline: pipeline.clone(),
        }
    }

    /// Writes it as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let js = serde_json::to_vec(self)
            .map_err(|e| Error::Other(format!("{}: cannot serialise: {e}", path.display())))?;
        write_atomic(path, &js)
    }

    /// Reads a saved model file.
    pub fn load(path: &Path) -> Result<SavedModel> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let s: SavedModel = serde_json::from_slice(&bytes)
            .map_err(|e| Error::format(path, format!("not an lstmkit model file: {e}")))?;
        if s.format != SAVED_FORMAT || s.version != 1 {
            return Err(Error::format(
                path,
                format!("unknown format '{}' version {}", s.format, s.version),
            ));
        }
        Ok(s)
    }

    /// Rebuilds the model with its weights.
    pub fn model(&self) -> Result<Model> {
        let mut m = build_graph(&self.layers, &self.input_shape, 0)?;
        let w: Vec<Tensor> = self
            .weights
            .iter()
            .map(|(s, d)| Tensor::new(s, d.clone()))
            .collect::<Result<_>>()?;
        m.set_weights(&w)?;
        Ok(m)
    }
}

/// Builds the functional graph of `layers` on inputs of shape `input_shape`.
pub fn build_graph(layers: &[LayerSpec], input_shape: &[usize], seed: u64) -> Result<Model> {
    if layers.is_empty() {
        return Err(Error::Config(
            "layers: at least one [[layers]] entry".into(),
        ));
    }
    let mut g = Graph::new(input_shape).name("model");
    let mut names: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, Src> = HashMap::new();
    let mut last = Src::Input;
    for (i, spec) in layers.iter().enumerate() {
        let name = match spec.name() {
            Some(n) => {
                if n == "input" || names.iter().any(|x| x == n) {
                    return Err(Error::Config(format!(
                        "layers[{i}]: the name '{n}' is {}",
                        if n == "input" {
                            "reserved for the model input"
                        } else {
                            "used twice"
                        }
                    )));
                }
                n.to_string()
            }
            None => auto_name(spec.class_name(), &names),
        };
        let inputs: Vec<Src> = match spec.inputs() {
            None => vec![last],
            Some(list) => {
                if list.is_empty() {
                    return Err(Error::Config(format!(
                        "layer '{name}': inputs is empty (omit it to use the previous layer)"
                    )));
                }
                list.iter()
                    .map(|n| {
                        if n == "input" {
                            Ok(Src::Input)
                        } else {
                            by_name.get(n).copied().ok_or_else(|| {
                                Error::Config(format!(
                                    "layer '{name}': input '{n}' is not an earlier layer (known: input{})",
                                    names.iter().map(|x| format!(", {x}")).collect::<String>()
                                ))
                            })
                        }
                    })
                    .collect::<Result<_>>()?
            }
        };
        let layer = spec.build(&name)?;
        let src = g.add_boxed(Some(&name), layer, &inputs);
        by_name.insert(name.clone(), src);
        names.push(name);
        last = src;
    }
    g.build(last, seed)
}

impl Experiment {
    /// Parses an experiment from TOML text; `source` names it in errors.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Experiment> {
        let e: Experiment = toml::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let hint = unknown_key_line(text, &msg, e.span().map(|s| s.start))
                .map(|(k, l)| format!("\n(the key `{k}` is at line {l})"))
                .unwrap_or_default();
            Error::Config(format!("{source}: {}{hint}", msg.trim_end()))
        })?;
        e.validate()
            .map_err(|e| Error::Config(format!("{source}: {}", strip_config(&e))))?;
        Ok(e)
    }

    /// Reads an experiment file.
    pub fn load(path: &Path) -> Result<Experiment> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks every value that does not need the data.
    pub fn validate(&self) -> Result<()> {
        self.data.validate()?;
        if self.layers.is_empty() {
            return Err(Error::Config(
                "layers: at least one [[layers]] entry".into(),
            ));
        }
        for (i, l) in self.layers.iter().enumerate() {
            let label = l
                .name()
                .map(|s| s.to_string())
                .unwrap_or(format!("layers[{i}]"));
            l.build(&label)?;
        }
        self.compile.optimizer()?;
        self.compile.loss()?;
        if self.fit.epochs == 0 {
            return Err(Error::Config("fit.epochs must be at least 1".into()));
        }
        if self.fit.batch_size == 0 {
            return Err(Error::Config("fit.batch_size must be at least 1".into()));
        }
        if self.fit.verbose > 2 {
            return Err(Error::Config(format!(
                "fit.verbose must be 0, 1 or 2 (got {})",
                self.fit.verbose
            )));
        }
        if let Some(es) = &self.callbacks.early_stopping {
            if !es.min_delta.is_finite() {
                return Err(Error::Config(
                    "callbacks.early_stopping.min_delta must be finite".into(),
                ));
            }
        }
        if let Some(r) = &self.callbacks.reduce_lr_on_plateau {
            self.reduce_lr(r).validate().map_err(|e| {
                Error::Config(format!(
                    "callbacks.reduce_lr_on_plateau: {}",
                    strip_config(&e)
                ))
            })?;
        }
        Ok(())
    }

    fn reduce_lr(&self, r: &ReduceLrSpec) -> ReduceLROnPlateau {
        ReduceLROnPlateau::new()
            .monitor(&r.monitor)
            .factor(r.factor)
            .patience(r.patience)
            .mode(r.mode)
            .min_delta(r.min_delta)
            .cooldown(r.cooldown)
            .min_lr(r.min_lr)
    }

    /// Applies command-line overrides (checked).
    pub fn apply(&mut self, o: &Overrides) -> Result<()> {
        if let Some(e) = o.epochs {
            self.fit.epochs = e;
        }
        if let Some(b) = o.batch_size {
            self.fit.batch_size = b;
        }
        if let Some(s) = o.seed {
            self.fit.seed = s;
        }
        if let Some(lr) = o.learning_rate {
            self.compile.learning_rate = Some(lr);
        }
        if o.quiet {
            self.fit.verbose = 0;
        }
        self.validate()
    }

    /// Builds and compiles the model for the prepared data; checks that its
    /// output width matches `horizon × targets`.
    pub fn build_model(&self, pipeline: &Pipeline) -> Result<Model> {
        let mut m = build_graph(&self.layers, &pipeline.input_shape(), self.fit.seed)?;
        let out: usize = m.output_shape().iter().product();
        let rank_ok = m.output_shape().len() == 1;
        if !rank_ok || out != pipeline.output_width() {
            return Err(Error::Config(format!(
                "the last layer outputs {} but the data needs {} value(s) per window \
                 (horizon {} x {} target(s)): end with a dense layer of {} unit(s){}",
                crate::nn::fmt_shape(&m.output_shape()),
                pipeline.output_width(),
                pipeline.window.horizon,
                pipeline.n_targets(),
                pipeline.output_width(),
                if rank_ok {
                    ""
                } else {
                    " on a non-sequence input (return_sequences = false on the last recurrent layer)"
                }
            )));
        }
        m.compile(self.compile.optimizer()?, self.compile.loss()?);
        Ok(m)
    }

    /// The callbacks of `[callbacks.*]` except `early_stopping`; files go to `out_dir`.
    pub fn callbacks(&self, out_dir: &Path, pipeline: &Pipeline) -> Vec<Box<dyn Callback>> {
        self.named_callbacks(out_dir, pipeline, false)
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    /// [`Experiment::callbacks`] with their `[callbacks.*]` names; `resuming`
    /// makes the CSV logger append to the earlier run's file.
    pub fn named_callbacks(
        &self,
        out_dir: &Path,
        pipeline: &Pipeline,
        resuming: bool,
    ) -> Vec<(&'static str, Box<dyn Callback>)> {
        let c = &self.callbacks;
        let mut v: Vec<(&'static str, Box<dyn Callback>)> = Vec::new();
        if let Some(t) = &c.terminate_on_nan {
            v.push((
                "terminate_on_nan",
                Box::new(TerminateOnNaN::new().raise_error(t.raise_error)),
            ));
        }
        if let Some(r) = &c.reduce_lr_on_plateau {
            v.push(("reduce_lr_on_plateau", Box::new(self.reduce_lr(r))));
        }
        if let Some(k) = &c.model_checkpoint {
            let extras = self.extras(pipeline, None);
            let pattern = out_dir.join(&k.filepath).to_string_lossy().to_string();
            v.push((
                "model_checkpoint",
                Box::new(
                    ModelCheckpoint::new(
                        &pattern,
                        Box::new(move |m: &Model, p: &Path| crate::io::native::save(m, p, &extras)),
                    )
                    .monitor(&k.monitor)
                    .save_best_only(k.save_best_only)
                    .mode(k.mode),
                ),
            ));
        }
        if let Some(l) = &c.csv_logger {
            v.push((
                "csv_logger",
                Box::new(
                    CsvLogger::new(out_dir.join(&l.filename))
                        .separator(l.separator)
                        .append(l.append || resuming),
                ),
            ));
        }
        v
    }

    /// What the native model file stores besides the model: the `[data]`
    /// spec with the fitted pipeline, the history, and this experiment.
    pub fn extras(
        &self,
        pipeline: &Pipeline,
        history: Option<&History>,
    ) -> crate::io::native::Extras {
        crate::io::native::Extras {
            data: Some(crate::io::native::Extras::data_blob(
                Some(&self.data),
                pipeline,
            )),
            history: history.and_then(|h| serde_json::to_value(h).ok()),
            train: Some(serde_json::json!({ "experiment": serde_json::to_value(self).ok() })),
            tensors: Default::default(),
        }
    }

    /// The `[callbacks.early_stopping]` callback, if configured (kept apart from
    /// [`Experiment::callbacks`] so that callers can read its best epoch).
    pub fn early_stopping(&self) -> Option<EarlyStopping> {
        self.callbacks.early_stopping.as_ref().map(|e| {
            EarlyStopping::new()
                .monitor(&e.monitor)
                .min_delta(e.min_delta)
                .patience(e.patience)
                .mode(e.mode)
                .baseline(e.baseline)
                .restore_best_weights(e.restore_best_weights)
                .start_from_epoch(e.start_from_epoch)
        })
    }

    /// Prepares the data (relative paths from `base_dir`), builds, trains and
    /// scores the model. Callback files go to `out_dir`.
    pub fn run(&self, base_dir: &Path, out_dir: &Path) -> Result<Outcome> {
        let prepared = prepare(&self.data, base_dir)?;
        self.run_prepared(prepared, out_dir, |_| {})
    }

    /// [`Experiment::run`] on already prepared data; `before_fit` sees the
    /// built model (e.g. to print its summary).
    pub fn run_prepared(
        &self,
        prepared: Prepared,
        out_dir: &Path,
        before_fit: impl FnOnce(&Model),
    ) -> Result<Outcome> {
        self.run_from(prepared, out_dir, None, before_fit)
    }

    /// [`Experiment::run_prepared`], continuing from `resume` when given: its
    /// model (weights of the last epoch, optimiser state, random stream) trains
    /// on from epoch `resume.history.len()` to `fit.epochs`, the callbacks pick
    /// up their saved state, and the histories are joined — so a run cut in two
    /// ends with the same bits as one run straight through.
    pub fn run_from(
        &self,
        prepared: Prepared,
        out_dir: &Path,
        resume: Option<ResumePoint>,
        before_fit: impl FnOnce(&Model),
    ) -> Result<Outcome> {
        if prepared.test.is_empty() {
            return Err(Error::Config(
                "data.test_split = 0 leaves no test windows to score the model on".into(),
            ));
        }
        let resuming = resume.is_some();
        let (mut model, earlier, mut states, seconds_before) = match resume {
            Some(r) => (r.model, r.history, r.callbacks, r.train_seconds),
            None => (
                self.build_model(&prepared.pipeline)?,
                History::default(),
                BTreeMap::new(),
                0.0,
            ),
        };
        before_fit(&model);
        let mut opts = FitOptions::new()
            .epochs(self.fit.epochs)
            .batch_size(self.fit.batch_size)
            .shuffle(self.fit.shuffle)
            .reshuffle_each_epoch(self.fit.reshuffle_each_epoch)
            .seed(self.fit.seed)
            .initial_epoch(earlier.next_epoch())
            .verbose(self.fit.verbose);
        if !prepared.val.is_empty() {
            opts = opts.validation_data(prepared.val.x.clone(), prepared.val.y.clone());
        }
        let mut cbs = self.named_callbacks(out_dir, &prepared.pipeline, resuming);
        let mut es = self.early_stopping();
        for (name, cb) in cbs.iter_mut() {
            if let Some(st) = states.remove(*name) {
                cb.set_resume_state(st)?;
            }
        }
        if let Some(e) = es.as_mut() {
            if let Some(st) = states.remove("early_stopping") {
                e.set_resume_state(st)?;
            }
        }
        let mut last = LastWeights(None);
        let t0 = std::time::Instant::now();
        let new_history = {
            let mut refs: Vec<&mut dyn Callback> = Vec::new();
            for (_, b) in cbs.iter_mut() {
                refs.push(b.as_mut());
            }
            refs.push(&mut last);
            if let Some(e) = es.as_mut() {
                refs.push(e);
            }
            model.fit_with_callbacks(&prepared.train.x, &prepared.train.y, &opts, &mut refs)?
        };
        let train_seconds = seconds_before + t0.elapsed().as_secs_f64();
        let mut history = earlier;
        history.extend(&new_history);
        let mut callback_states = BTreeMap::new();
        for (name, cb) in cbs.iter() {
            if let Some(st) = cb.resume_state() {
                callback_states.insert(name.to_string(), st);
            }
        }
        if let Some(st) = es.as_ref().and_then(|e| e.resume_state()) {
            callback_states.insert("early_stopping".to_string(), st);
        }
        let key = if prepared.val.is_empty() {
            "loss"
        } else {
            "val_loss"
        };
        let best_epoch = match &es {
            Some(e) if e.restore_best_weights && e.best().is_some() => e.best_epoch() + 1,
            _ => history
                .best_epoch(key)
                .map(|e| e + 1)
                .unwrap_or(history.len()),
        };
        let test_pred = model.predict(&prepared.test.x)?;
        let evaluation = evaluate(&prepared, &test_pred)?;
        // the weights training continues from, when they are not the model's own
        let last_weights = last.0.filter(|w| *w != model.get_weights());
        Ok(Outcome {
            model,
            epochs_run: history.len(),
            history,
            prepared,
            test_pred,
            evaluation,
            best_epoch,
            train_seconds,
            last_weights,
            callback_states,
        })
    }
}

/// Records the weights at the end of training, before `EarlyStopping` puts the
/// best epoch's back: a resumed run continues from these.
struct LastWeights(Option<Vec<Tensor>>);

impl Callback for LastWeights {
    fn on_train_end(
        &mut self,
        _logs: &crate::train::Logs,
        ctl: &mut crate::train::Control,
    ) -> Result<()> {
        self.0 = Some(ctl.model.get_weights());
        Ok(())
    }
}

/// For an "unknown field `k`" error inside a table whose span starts at
/// byte `from` (serde loses the key's own position in tagged tables), finds
/// the line (1-based) where `k = ...` is written.
fn unknown_key_line(text: &str, msg: &str, from: Option<usize>) -> Option<(String, usize)> {
    let start = msg.find("unknown field `")? + "unknown field `".len();
    let key = &msg[start..start + msg[start..].find('`')?];
    let from = from.unwrap_or(0).min(text.len());
    let first_line = text[..from].matches('\n').count();
    text.lines()
        .enumerate()
        .skip(first_line)
        .find(|(_, l)| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|(i, _)| (key.to_string(), i + 1))
}

/// The folder relative data paths are resolved from: the experiment file's folder.
pub fn base_dir_of(config: &Path) -> PathBuf {
    config
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../examples/m1_co2.toml");

    #[test]
    fn the_issue_example_parses_with_keras_defaults() {
        let e = Experiment::from_toml_str(EXAMPLE, "m1_co2.toml").unwrap();
        assert_eq!(e.data.timesteps, 10);
        assert_eq!(e.layers.len(), 2);
        assert_eq!(e.fit.epochs, 100);
        let es = e.callbacks.early_stopping.as_ref().unwrap();
        assert_eq!((es.patience, es.restore_best_weights), (10, true));
        assert_eq!(es.min_delta, 0.0);
        let r = e.callbacks.reduce_lr_on_plateau.as_ref().unwrap();
        assert_eq!(
            (r.factor, r.patience, r.min_delta, r.cooldown),
            (0.2, 5, 1e-4, 0)
        );
        let o = e.compile.optimizer().unwrap();
        assert_eq!(o.learning_rate, 1e-3);
    }

    fn err(text: &str) -> String {
        Experiment::from_toml_str(text, "exp.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let bad = EXAMPLE.replace("units = 50", "units = 50\nunits_typo = 3");
        let e = err(&bad);
        assert!(
            e.contains("exp.toml") && e.contains("units_typo") && e.contains("line"),
            "{e}"
        );
        let e = err(&EXAMPLE.replace("[fit]", "[fit]\nepoch = 3"));
        assert!(e.contains("epoch") && e.contains("line"), "{e}");
        let e = err(&EXAMPLE.replace("patience = 10", "patience = 10\npatiense = 1"));
        assert!(e.contains("patiense"), "{e}");
        let e = err(&EXAMPLE.replace("factor = 0.2", "factor = 1.5"));
        assert!(e.contains("factor") && e.contains("1.5"), "{e}");
        let e = err(&EXAMPLE.replace("learning_rate = 0.001", "learning_rate = -1.0"));
        assert!(e.contains("learning_rate"), "{e}");
        let e = err(&EXAMPLE.replace("units = 50", "units = 0"));
        assert!(e.contains("units"), "{e}");
        let e = err(&EXAMPLE.replace("activation = \"relu\"", "activation = \"relux\""));
        assert!(e.contains("relux"), "{e}");
        let e = err(&EXAMPLE.replace("type = \"lstm\"", "type = \"lstmm\""));
        assert!(e.contains("lstmm"), "{e}");
        let e = err(&EXAMPLE.replace("optimizer = \"adam\"", "optimizer = \"adamm\""));
        assert!(e.contains("adamm"), "{e}");
        let e = err(&EXAMPLE.replace("loss = \"mse\"", "loss = \"msee\""));
        assert!(e.contains("msee"), "{e}");
        let e = err(&EXAMPLE.replace("epochs = 100", "epochs = 0"));
        assert!(e.contains("epochs"), "{e}");
        let e = err(&EXAMPLE.replace(
            "loss = \"mse\"",
            "loss = \"mse\"\nclipnorm = 1.0\nclipvalue = 1.0",
        ));
        assert!(e.contains("only one"), "{e}");
        let e = err(&EXAMPLE.replace("units = 50", "units = 50\nkernel_regularizer = {l3 = 1}"));
        assert!(e.contains("l3"), "{e}");
    }

    #[test]
    fn functional_graph_names_and_inputs() {
        let text = r#"
[data]
path = "x.csv"
target = "y"
[[layers]]
type = "lstm"
name = "enc"
units = 4
return_sequences = true
kernel_regularizer = { l2 = 0.01 }
[[layers]]
type = "lstm"
units = 3
[[layers]]
type = "dense"
units = 1
inputs = ["lstm"]
"#;
        let e = Experiment::from_toml_str(text, "g.toml").unwrap();
        let m = build_graph(&e.layers, &[10, 1], 1).unwrap();
        let names: Vec<&str> = m.nodes().iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, vec!["enc", "lstm", "dense"]);
        assert!(m.regularization_loss() > 0.0);
        let bad = text.replace("inputs = [\"lstm\"]", "inputs = [\"nope\"]");
        let e = Experiment::from_toml_str(&bad, "g.toml").unwrap();
        let msg = build_graph(&e.layers, &[10, 1], 1)
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains("nope") && msg.contains("enc"), "{msg}");
        // an input that is the model input works too
        let skip = text.replace("inputs = [\"lstm\"]", "inputs = [\"input\"]");
        let e = Experiment::from_toml_str(&skip, "g.toml").unwrap();
        let m = build_graph(&e.layers, &[10, 1], 1).unwrap();
        assert_eq!(m.output_shape(), vec![10, 1]);
    }

    #[test]
    fn native_file_round_trip_with_pipeline() {
        let mut frame_y: Vec<f64> = (0..80).map(|i| (i as f64 * 0.4).sin()).collect();
        frame_y[0] = 0.0;
        let frame =
            crate::data::Frame::from_columns("inline", vec![("y".to_string(), frame_y)]).unwrap();
        let mut spec = DataSpec::new("inline", &["y"]);
        spec.timesteps = 5;
        let p = crate::data::prepare_frame(&spec, frame).unwrap();
        let text = "[data]\npath = \"inline\"\ntarget = \"y\"\ntimesteps = 5\n[[layers]]\ntype = \"lstm\"\nunits = 3\n[[layers]]\ntype = \"dense\"\nunits = 1\n";
        let e = Experiment::from_toml_str(text, "t.toml").unwrap();
        let mut m = e.build_model(&p.pipeline).unwrap();
        let dir = std::env::temp_dir().join(format!("lstmkit-saved-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.lstmkit");
        crate::io::native::save(&m, &path, &e.extras(&p.pipeline, None)).unwrap();
        let (mut m2, extras) = crate::io::native::load(&path).unwrap();
        assert_eq!(
            m.predict(&p.test.x).unwrap(),
            m2.predict(&p.test.x).unwrap()
        );
        assert_eq!(extras.pipeline().unwrap().unwrap(), p.pipeline);
        std::fs::remove_dir_all(&dir).unwrap();
        // wrong output width is a clear error
        let wide = text.replace("units = 1", "units = 2");
        let e = Experiment::from_toml_str(&wide, "t.toml").unwrap();
        let msg = e.build_model(&p.pipeline).err().unwrap().to_string();
        assert!(msg.contains("1 value(s) per window"), "{msg}");
    }
}
