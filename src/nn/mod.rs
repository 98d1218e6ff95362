//! Layers. Each layer owns its forward and backward pass, side by side.
//!
//! The contract every layer follows ([`Layer`]):
//! * `build` receives the per-sample input shapes (no batch axis), creates the
//!   weights (Keras' initialisers, Keras' variable order) and returns the
//!   per-sample output shapes;
//! * `forward` reads the inputs and writes every output tensor (it may resize
//!   them; their allocations are reused between batches), caching what the
//!   backward pass needs inside the layer;
//! * `backward` receives the inputs, outputs and output gradients of the last
//!   forward call, *adds* the parameter gradients into [`Param::grad`] and
//!   *writes* the gradient of each input whose tensor in `grad_inputs` has been
//!   sized like that input (an empty tensor means "not needed").

/// Keras-style builder setters on a layer's options: `name(v)` sets
/// `self.<path>.name = v.into()` (so a regulariser setter takes the
/// `Regularizer` and stores `Some`).
macro_rules! setters {
    ($($path:ident).+ => ) => {};
    ($($path:ident).+ => $(#[$m:meta])* $name:ident: $ty:ty $(, $($rest:tt)*)?) => {
        $(#[$m])*
        pub fn $name(mut self, v: $ty) -> Self {
            self.$($path).+.$name = v.into();
            self
        }
        setters! { $($path).+ => $($($rest)*)? }
    };
}

/// `Layer::class_name` and `Layer::config` of a layer whose options live in
/// `self.config` (a [`LayerConfig`]).
macro_rules! config_methods {
    () => {
        fn class_name(&self) -> &'static str {
            $crate::nn::class_of(&self.config)
        }
        fn config(&self) -> serde_json::Value {
            $crate::nn::config::write(&self.config)
        }
    };
}

/// `impl LayerConfig` for an options type whose layer is built by
/// `Layer::from_config(options)` once `check` (if given) accepts them.
macro_rules! layer_config {
    ($cfg:ty => $layer:ident, $class:literal, $kind:literal $(, check = $check:path)? $(; $($extra:tt)*)?) => {
        impl $crate::nn::LayerConfig for $cfg {
            const CLASS: &'static str = $class;
            const KIND: &'static str = $kind;
            $($($extra)*)?
            fn build(self, _name: &str) -> $crate::error::Result<Box<dyn $crate::nn::Layer>> {
                $($check(&self, _name)?;)?
                Ok(Box::new($layer::from_config(self)))
            }
        }
    };
}

/// `Default` and `new()` of a layer whose options all have defaults:
/// `Self::from_config(<its config>::default())`.
macro_rules! new_with_defaults {
    ($layer:ident: $cfg:ty, $doc:literal) => {
        impl Default for $layer {
            fn default() -> Self {
                Self::new()
            }
        }
        impl $layer {
            #[doc = $doc]
            pub fn new() -> Self {
                Self::from_config(<$cfg>::default())
            }
        }
    };
}

/// `Layer::forward` and `Layer::backward` of a one-input, one-output layer
/// from its [`Unary`] passes.
macro_rules! unary_passes {
    () => {
        fn forward(
            &mut self,
            inputs: &[&$crate::tensor::Tensor],
            outputs: &mut [$crate::tensor::Tensor],
            training: bool,
        ) -> $crate::error::Result<()> {
            $crate::nn::Unary::forward1(self, inputs[0], &mut outputs[0], training)
        }
        fn backward(
            &mut self,
            inputs: &[&$crate::tensor::Tensor],
            outputs: &[&$crate::tensor::Tensor],
            grad_outputs: &[&$crate::tensor::Tensor],
            grad_inputs: &mut [$crate::tensor::Tensor],
        ) -> $crate::error::Result<()> {
            let (x, dx) = (inputs[0], &mut grad_inputs[0]);
            let dx = (dx.len() == x.len()).then_some(dx);
            $crate::nn::Unary::backward1(self, x, outputs[0], grad_outputs[0], dx)
        }
    };
}

/// `Layer::params` / `params_mut` of a layer with `kernel` and, when
/// `config.use_bias`, `bias` (Keras' order).
macro_rules! kernel_bias_params {
    () => {
        fn params(&self) -> Vec<&$crate::nn::Param> {
            $crate::nn::present([(&self.kernel, true), (&self.bias, self.config.use_bias)])
        }
        fn params_mut(&mut self) -> Vec<&mut $crate::nn::Param> {
            $crate::nn::present([
                (&mut self.kernel, true),
                (&mut self.bias, self.config.use_bias),
            ])
        }
    };
}

#[macro_use]
mod options;

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod config;
#[cfg(test)]
pub(crate) mod config_check;
pub mod conv1d;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod gemm;
pub mod init;
pub mod kernel;
pub mod layer_norm;
pub mod merge;
pub mod peak;
pub mod pooling;
pub mod pooling1d;
pub mod rnn;
pub mod time_distributed;

pub use activation::Activation;
pub use attention::{Attention, ScoreMode};
pub use batch_norm::BatchNormalization;
pub use conv1d::{Conv1D, Conv1DConfig};
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use init::Initializer;
pub use layer_norm::LayerNormalization;
pub use merge::{Add, Concatenate};
pub use pooling::{GlobalAveragePooling1D, GlobalMaxPooling1D};
pub use pooling1d::{AveragePooling1D, MaxPooling1D, Pooling1DConfig};
pub use rnn::{Bidirectional, MergeMode, Recurrent, SimpleRNN, GRU, LSTM};
pub use time_distributed::TimeDistributed;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

/// The tensors a pass reads: a layer's inputs, its outputs or their gradients.
pub type Tensors<'a, 'b> = &'a [&'b Tensor];

/// The input gradients a backward pass writes, one per input.
pub type Grads<'a> = &'a mut [Tensor];

/// A per-sample shape (the batch axis left out).
pub type Shape = Vec<usize>;

/// A weight variable with its gradient.
#[derive(Clone, Debug, Default)]
pub struct Param {
    /// Keras' variable name (`kernel`, `recurrent_kernel`, `bias`, `gamma`, ...).
    pub name: String,
    /// Current value.
    pub value: Tensor,
    /// Accumulated gradient (same shape as `value`).
    pub grad: Tensor,
    /// Updated by the optimiser (false for e.g. BatchNormalization's moving statistics).
    pub trainable: bool,
    /// Optional weight penalty added to the loss.
    pub regularizer: Option<Regularizer>,
}

impl Param {
    /// A trainable parameter with the given shape and values.
    pub fn new(name: &str, shape: &[usize], data: Vec<f32>) -> Self {
        Param {
            name: name.to_string(),
            value: Tensor {
                shape: shape.to_vec(),
                data,
            },
            grad: Tensor::zeros(shape),
            trainable: true,
            regularizer: None,
        }
    }

    /// Keeps the variable when it already has `shape`, else makes it anew from
    /// `fill()` (`build` called again on a built layer keeps its weights); sets
    /// its penalty either way.
    pub fn ensure(
        &mut self,
        name: &str,
        shape: &[usize],
        regularizer: Option<Regularizer>,
        fill: impl FnOnce() -> Vec<f32>,
    ) {
        if self.value.shape != shape {
            *self = Param::new(name, shape, fill());
        }
        self.regularizer = regularizer;
    }

    /// Replaces the value, checking the shape; `owner` names the layer in the error.
    pub fn set(&mut self, owner: &str, value: &Tensor) -> Result<()> {
        if value.shape != self.value.shape {
            return Err(crate::Error::Shape(format!(
                "layer '{owner}': weight '{}' has shape {:?}, got {:?}",
                self.name, self.value.shape, value.shape
            )));
        }
        self.value.data.copy_from_slice(&value.data);
        Ok(())
    }
}

/// A layer: explicit forward and backward passes over batched tensors.
pub trait Layer: Send {
    /// Keras class name (`LSTM`, `Dense`, ...).
    fn class_name(&self) -> &'static str;

    /// Creates the weights for the given per-sample input shapes and returns the
    /// per-sample output shapes. Called once per model build; when weights already
    /// exist with matching shapes they are kept.
    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>>;

    /// Forward pass. `outputs` has one tensor per output.
    fn forward(&mut self, inputs: Tensors, outputs: &mut [Tensor], training: bool) -> Result<()>;

    /// Backward pass (see the module docs for the contract): `xs`, `ys` the
    /// inputs and outputs of the last forward, `dys` the outputs' gradients,
    /// `dxs` the inputs' gradients to write (an empty tensor: not needed).
    fn backward(&mut self, xs: Tensors, ys: Tensors, dys: Tensors, dxs: Grads) -> Result<()>;

    /// All variables, trainable or not, in Keras' `get_weights()` order.
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    /// Mutable access to the variables, same order as [`Layer::params`].
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }

    /// The layer's Keras-style configuration (without `name`).
    fn config(&self) -> serde_json::Value;

    /// Floating-point operations of the forward pass for one sample with these
    /// per-sample input shapes, counted from the layer's matrix products
    /// (a multiply-add is 2; element-wise work is left out, so layers without
    /// products count 0). A training step costs about three times this
    /// (the backward pass does two products per forward one).
    fn flops(&self, _input_shapes: &[Shape]) -> u64 {
        0
    }

    /// Number of outputs (1 unless e.g. an RNN with `return_state`).
    fn num_outputs(&self) -> usize {
        1
    }

    /// Clears recurrent state (stateful RNNs).
    fn reset_states(&mut self) {}

    /// Saves the layer's run-time state that is not a weight (RNG streams, stateful
    /// RNN states) for exact resumption.
    fn runtime_state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Restores what [`Layer::runtime_state`] saved.
    fn set_runtime_state(&mut self, _state: &serde_json::Value) -> Result<()> {
        Ok(())
    }
}

/// The input gradient a unary layer's backward pass writes, `None` when the
/// layer below does not need it (parameter gradients are added either way).
pub(crate) type Grad<'a> = Option<&'a mut Tensor>;

/// The passes of a layer with one input and one output, the common kind; its
/// `impl Layer` gets `forward` and `backward` from `unary_passes!()`.
pub(crate) trait Unary {
    /// x: (batch, ...) → y, resized by the layer (its allocation is reused).
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()>;
    /// x, y: the last forward's; dy: like y; dx: like x, written when `Some`.
    fn backward1(&mut self, x: &Tensor, y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()>;
}

/// The Keras class of a config type's layer.
pub fn class_of<C: LayerConfig>(_config: &C) -> &'static str {
    C::CLASS
}

/// The one input shape of a single-input layer.
pub(crate) fn one_input<'a>(class: &str, input_shapes: &'a [Shape]) -> Result<&'a Shape> {
    match input_shapes {
        [s] => Ok(s),
        _ => Err(Error::Shape(format!(
            "{class} takes one input, got {}",
            input_shapes.len()
        ))),
    }
}

/// The last axis of a per-sample shape, which must be known (> 0).
pub(crate) fn known_last_axis(class: &str, s: &[usize]) -> Result<usize> {
    match s.last() {
        Some(&c) if c > 0 => Ok(c),
        _ => Err(Error::Shape(format!(
            "{class} needs a known last axis, got {}",
            fmt_shape(s)
        ))),
    }
}

/// The rows of an input whose last axis must be `width` (as built).
pub(crate) fn rows_of(class: &str, x: &Tensor, width: usize) -> Result<usize> {
    if x.shape.last() != Some(&width) {
        return Err(Error::Shape(format!(
            "{class} expects last axis {width}, got input shape {:?}",
            x.shape
        )));
    }
    Ok(x.len().checked_div(width).unwrap_or(0))
}

/// `(steps, channels)` of the one 3-D input (batch, steps, channels) of a
/// layer over time; a 2-D input gets the `return_sequences` hint.
pub(crate) fn steps_channels(class: &str, input_shapes: &[Shape]) -> Result<(usize, usize)> {
    let s = one_input(class, input_shapes)?;
    match s.as_slice() {
        &[t, ch] => Ok((t, ch)),
        _ => Err(Error::Shape(format!(
            "{class} expects a 3-D input (batch, steps, channels) but receives {}{}",
            fmt_shape(s),
            if s.len() == 1 {
                ": the previous layer returns only its last step; set return_sequences=true on it"
            } else {
                ""
            }
        ))),
    }
}

/// `(batch, steps, features)` of a batched 3-D input with at least `min_steps` steps.
pub(crate) fn batch_steps_features(
    name: &str,
    x: &Tensor,
    min_steps: usize,
) -> Result<(usize, usize, usize)> {
    match x.shape[..] {
        [b, t, f] if t >= min_steps => Ok((b, t, f)),
        _ => Err(Error::Shape(format!(
            "{name} expects a 3-D input{}, got {:?}",
            if min_steps > 0 {
                " with at least one step"
            } else {
                ""
            },
            x.shape
        ))),
    }
}

/// The variables a layer has, in Keras' order: each `(variable, present)`
/// pair kept when present (`[(&kernel, true), (&bias, use_bias)]`). Serves
/// `params` and `params_mut` alike.
pub(crate) fn present<T, const N: usize>(vars: [(T, bool); N]) -> Vec<T> {
    vars.into_iter()
        .filter_map(|(v, keep)| keep.then_some(v))
        .collect()
}

/// Formats a per-sample shape the Keras way: `(None, 10, 1)`.
pub fn fmt_shape(shape: &[usize]) -> String {
    let mut s = String::from("(None");
    for d in shape {
        s.push_str(", ");
        if *d == 0 {
            s.push_str("None");
        } else {
            s.push_str(&d.to_string());
        }
    }
    s.push(')');
    s
}

/// How a layer's variables are grouped inside `layers/<name>/` of a Keras 3
/// `model.weights.h5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarLayout {
    /// All in `vars` (Dense, normalisation layers, ...).
    Vars,
    /// In `cell/vars` (recurrent layers: Keras keeps them on the cell).
    Cell,
    /// The forward layer's in `forward_layer/cell/vars`, then the backward layer's.
    Bidirectional,
    /// Under `layer/` as the wrapped layer lays them out (TimeDistributed).
    Wrapped,
}

/// Where a layer config comes from: a Keras file (its extra options left at
/// their defaults are dropped) or an experiment-file table (every key must be
/// an option; `label` names the layer in errors).
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// A Keras layer config (with `name`, `dtype`, ...).
    Keras,
    /// An experiment `[[layers]]` table without `type`, `name` and `inputs`.
    Table(&'a str),
}

/// A layer's config type: Keras' argument names and defaults, from which the
/// layer is built and its Keras config written.
pub trait LayerConfig: serde::Serialize + serde::de::DeserializeOwned {
    /// Keras' class name.
    const CLASS: &'static str;
    /// The experiment-file `type`.
    const KIND: &'static str;
    /// Where Keras keeps its variables.
    const VARS: VarLayout = VarLayout::Vars;
    /// How many of its inputs Keras passes positionally (the rest as `initial_state`).
    const POSITIONAL_INPUTS: usize = usize::MAX;
    /// Config keys that Keras passes as call arguments (`inbound_nodes[..]["kwargs"]`).
    const CALL_KWARGS: &'static [&'static str] = &[];
    /// Checks the options and builds the layer (`name` for errors).
    fn build(self, name: &str) -> Result<Box<dyn Layer>>;
}

/// Reads a config into a recurrent layer that [`Bidirectional`] can wrap.
pub type ReadRecurrent = fn(&serde_json::Value, Source) -> Result<Box<dyn Recurrent>>;

/// One row of the layer table.
pub struct LayerKind {
    /// Keras' class name.
    pub class: &'static str,
    /// The experiment-file `type`.
    pub kind: &'static str,
    /// Reads a config and builds the layer.
    pub read: fn(&serde_json::Value, Source) -> Result<Box<dyn Layer>>,
    /// Where Keras keeps the variables.
    pub vars: VarLayout,
    /// Positional inputs in a Keras functional config.
    pub positional_inputs: usize,
    /// Options Keras passes as call arguments.
    pub call_kwargs: &'static [&'static str],
    /// For recurrent layers: reads a config into a layer [`Bidirectional`] can wrap.
    pub recurrent: Option<ReadRecurrent>,
    /// The options an experiment table of this type takes (Keras' argument
    /// names), for documentation and its test (`docs/EXPERIMENT.md`).
    pub options: fn() -> Vec<&'static str>,
}

fn options_of<C: serde::de::DeserializeOwned>() -> Vec<&'static str> {
    config::field_names::<C>().to_vec()
}

fn read_layer<C: LayerConfig>(v: &serde_json::Value, src: Source) -> Result<Box<dyn Layer>> {
    let (cfg, name): (C, String) = match src {
        Source::Keras => (
            config::read_keras(C::CLASS, v)?,
            v.get("name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("?")
                .to_string(),
        ),
        Source::Table(label) => (config::read_table(C::CLASS, label, v)?, label.to_string()),
    };
    cfg.build(&name)
}

/// The table row of a layer config type.
pub const fn row<C: LayerConfig>() -> LayerKind {
    LayerKind {
        class: C::CLASS,
        kind: C::KIND,
        read: read_layer::<C>,
        vars: C::VARS,
        positional_inputs: C::POSITIONAL_INPUTS,
        call_kwargs: C::CALL_KWARGS,
        recurrent: None,
        options: options_of::<C>,
    }
}

/// Every layer kind lstmkit knows, once: the Keras readers and writers, the
/// experiment file and every "supported" list in an error message derive from it.
/// Adding a layer means its file and one row here.
pub const LAYERS: &[LayerKind] = &[
    rnn::row::<rnn::LstmCell>(),
    row::<dense::DenseConfig>(),
    rnn::row::<rnn::GruCell>(),
    row::<rnn::bidirectional::BidirectionalConfig>(),
    row::<attention::AttentionConfig>(),
    row::<dropout::DropoutConfig>(),
    row::<batch_norm::BatchNormalizationConfig>(),
    row::<layer_norm::LayerNormalizationConfig>(),
    row::<pooling::GlobalAveragePooling1DConfig>(),
    row::<pooling::GlobalMaxPooling1DConfig>(),
    row::<flatten::FlattenConfig>(),
    row::<time_distributed::TimeDistributedConfig>(),
    row::<merge::ConcatenateConfig>(),
    row::<merge::AddConfig>(),
    rnn::row::<rnn::SimpleRnnCell>(),
    row::<conv1d::Conv1DConfig>(),
    row::<pooling1d::MaxPooling1DConfig>(),
    row::<pooling1d::AveragePooling1DConfig>(),
];

/// The table row of a Keras class.
pub fn kind_of_class(class: &str) -> Option<&'static LayerKind> {
    LAYERS.iter().find(|k| k.class == class)
}

/// The Keras classes lstmkit reads, for error messages.
pub fn supported_classes() -> String {
    LAYERS
        .iter()
        .map(|k| k.class)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds a layer from a Keras `class_name` and its config (Keras 3 or tf.keras 2
/// form). Options lstmkit does not implement are errors naming the layer and option.
///
/// ```
/// let cfg = serde_json::json!({"name": "lstm", "units": 8, "return_sequences": true});
/// let layer = lstmkit::nn::layer_from_config("LSTM", &cfg).unwrap();
/// assert_eq!(layer.class_name(), "LSTM");
/// assert_eq!(layer.config()["return_sequences"], true);
/// ```
pub fn layer_from_config(class: &str, config: &serde_json::Value) -> Result<Box<dyn Layer>> {
    let kind = kind_of_class(class).ok_or_else(|| {
        let name = config
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?");
        Error::Config(format!(
            "layer '{name}': unsupported layer class '{class}' (supported: {})",
            supported_classes()
        ))
    })?;
    (kind.read)(config, Source::Keras)
}

/// Builds a layer from an experiment-file table: `kind` is its `type`, `args`
/// its other keys (without `type`, `name`, `inputs`) with Keras' argument
/// names and defaults. A wrapped layer is a nested table with its own `type`:
/// `layer = { type = "lstm", units = 50 }`. Unknown keys are errors naming the
/// layer (`label`) and the key.
///
/// ```
/// let args = serde_json::json!({"merge_mode": "sum",
///     "layer": {"type": "gru", "units": 8, "return_sequences": true}});
/// let l = lstmkit::nn::layer_from_table("bidirectional", args.as_object().unwrap(), "bi").unwrap();
/// assert_eq!(l.class_name(), "Bidirectional");
/// assert_eq!(l.config()["layer"]["config"]["units"], 8);
/// ```
pub fn layer_from_table(
    kind: &str,
    args: &serde_json::Map<String, serde_json::Value>,
    label: &str,
) -> Result<Box<dyn Layer>> {
    let row = LAYERS.iter().find(|k| k.kind == kind).ok_or_else(|| {
        Error::Config(format!(
            "layer '{label}': unknown type '{kind}' (known: {})",
            LAYERS.iter().map(|k| k.kind).collect::<Vec<_>>().join(", ")
        ))
    })?;
    (row.read)(
        &serde_json::Value::Object(args.clone()),
        Source::Table(label),
    )
}
