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

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod bidirectional;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod gemm;
pub mod gru;
pub mod init;
pub mod kernel;
pub mod layer_norm;
pub mod lstm;
pub mod merge;
pub mod pooling;
pub(crate) mod rnn_common;
pub mod time_distributed;

pub use activation::Activation;
pub use attention::{Attention, ScoreMode};
pub use batch_norm::BatchNormalization;
pub use bidirectional::{Bidirectional, MergeMode, Recurrent};
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use gru::GRU;
pub use init::Initializer;
pub use layer_norm::LayerNormalization;
pub use lstm::LSTM;
pub use merge::{Add, Concatenate};
pub use pooling::{GlobalAveragePooling1D, GlobalMaxPooling1D};
pub use time_distributed::TimeDistributed;

use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

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
    fn forward(&mut self, inputs: &[&Tensor], outputs: &mut [Tensor], training: bool)
        -> Result<()>;

    /// Backward pass (see the module docs for the contract).
    fn backward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [Tensor],
    ) -> Result<()>;

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
