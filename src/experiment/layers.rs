//! The `[[layers]]` entries of an experiment ([`LayerSpec`] and the types of
//! its variants), building one layer from its entry ([`LayerSpec::build`]) and
//! the functional graph from all of them ([`build_graph`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{auto_name, Graph, Model, Src};
use crate::nn::{Activation, Layer, LSTM};
use crate::train::Regularizer;

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
    /// `keras.layers.Dense` (Keras' arguments: `units`, `activation`, `use_bias`,
    /// initialisers, regularisers as `{ l1 = .., l2 = .. }`).
    Dense(KerasArgs),
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

impl LayerSpec {
    /// The generic entries: (experiment type, arguments).
    fn keras_args(&self) -> Option<(&'static str, &KerasArgs)> {
        Some(match self {
            LayerSpec::Lstm(_) => return None,
            LayerSpec::Dense(a) => ("dense", a),
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
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            LayerSpec::Lstm(s) => s.name.as_deref(),
            other => other.keras_args().and_then(|(_, a)| a.name.as_deref()),
        }
    }
    fn inputs(&self) -> Option<&[String]> {
        match self {
            LayerSpec::Lstm(s) => s.inputs.as_deref(),
            other => other.keras_args().and_then(|(_, a)| a.inputs.as_deref()),
        }
    }
    fn class_name(&self) -> &'static str {
        match self {
            LayerSpec::Lstm(_) => "LSTM",
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

pub(crate) fn strip_config(e: &Error) -> String {
    match e {
        Error::Config(s) => s.clone(),
        other => other.to_string(),
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
