//! Recurrent layers, as Keras' `layers/rnn/`: one base ([`Rnn`], Keras'
//! `RNN`) that owns sequencing, states, dropout masks and threads, and one
//! cell per layer kind ([`LstmCell`], [`GruCell`], [`SimpleRnnCell`]) that
//! owns its weights and fused step math. [`Bidirectional`] wraps any of them
//! through the [`Recurrent`] trait.
//!
//! Adding a recurrent layer means its cell file and one row in
//! [`crate::nn::LAYERS`] (`rnn::row::<MyCell>()`).

pub mod base;
pub mod bidirectional;
pub mod common;
pub mod gru;
pub mod lstm;
pub mod simple_rnn;

pub use base::{Cell, Rnn, RnnOptions, Seq};
pub use bidirectional::{Bidirectional, MergeMode};
pub use gru::{GruCell, GruConfig, GRU};
pub use lstm::{LstmCell, LstmConfig, LSTM};
pub use simple_rnn::{SimpleRNN, SimpleRnnCell, SimpleRnnConfig};

use serde_json::Value;

use crate::error::Result;
use crate::nn::{Layer, LayerKind, Source, VarLayout};

/// A recurrent layer that [`Bidirectional`] can wrap.
pub trait Recurrent: Layer {
    /// The base options.
    fn options(&self) -> &RnnOptions;
    /// A fresh layer with the same configuration, `go_backwards` flipped and no weights.
    fn reversed_copy(&self) -> Box<dyn Recurrent>;
    /// The experiment-file type, which Keras also uses to name the halves (`forward_lstm`).
    fn kind(&self) -> &'static str;
    /// As a plain layer.
    fn as_layer(&self) -> &dyn Layer;
    /// As a plain layer, mutably.
    fn as_layer_mut(&mut self) -> &mut dyn Layer;
}

impl<C: Cell> Recurrent for Rnn<C> {
    fn options(&self) -> &RnnOptions {
        &self.options
    }
    fn reversed_copy(&self) -> Box<dyn Recurrent> {
        let mut l = self.clone_config();
        l.options.go_backwards = !l.options.go_backwards;
        Box::new(l)
    }
    fn kind(&self) -> &'static str {
        C::KIND
    }
    fn as_layer(&self) -> &dyn Layer {
        self
    }
    fn as_layer_mut(&mut self) -> &mut dyn Layer {
        self
    }
}

fn read_layer<C: Cell>(v: &Value, src: Source) -> Result<Box<dyn Layer>> {
    Ok(Box::new(base::read::<C>(v, src)?))
}

fn read_recurrent<C: Cell>(v: &Value, src: Source) -> Result<Box<dyn Recurrent>> {
    Ok(Box::new(base::read::<C>(v, src)?))
}

/// The table row of a recurrent layer.
pub const fn row<C: Cell>() -> LayerKind {
    LayerKind {
        class: C::CLASS,
        kind: C::KIND,
        read: read_layer::<C>,
        vars: VarLayout::Cell,
        positional_inputs: 1,
        call_kwargs: &[],
        recurrent: Some(read_recurrent::<C>),
    }
}
