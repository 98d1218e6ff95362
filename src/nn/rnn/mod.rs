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
pub mod weights;

pub use base::{Cell, Rnn, RnnOptions, Seq};
pub use bidirectional::{Bidirectional, MergeMode};
pub use gru::{GruCell, GruConfig, GRU};
pub use lstm::{LstmCell, LstmConfig, LSTM};
pub use simple_rnn::{SimpleRNN, SimpleRnnCell, SimpleRnnConfig};
pub use weights::{WeightConfig, Weights};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::nn::config;
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
    Ok(Box::new(read::<C>(v, src)?))
}

fn read_recurrent<C: Cell>(v: &Value, src: Source) -> Result<Box<dyn Recurrent>> {
    Ok(Box::new(read::<C>(v, src)?))
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
        options: options::<C>,
    }
}

/// A recurrent type's options: the base's, the weights' and the cell's.
fn options<C: Cell>() -> Vec<&'static str> {
    [
        config::field_names::<RnnOptions>(),
        config::field_names::<WeightConfig>(),
        config::field_names::<C::Config>(),
    ]
    .concat()
}

/// Reads a recurrent layer's config: the cell's options, the weight options
/// and the base's, from one Keras config or experiment table (an unknown key
/// is named with the list of all three).
pub fn read<C: Cell>(v: &Value, src: Source) -> Result<Rnn<C>> {
    let class = C::CLASS;
    let Value::Object(o) = v else {
        return Err(Error::Config(format!(
            "{class} layer: the config must be a JSON object, got {v}"
        )));
    };
    let name = match src {
        Source::Keras => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        Source::Table(label) => label.to_string(),
    };
    let parts = [
        config::field_names::<RnnOptions>(),
        config::field_names::<WeightConfig>(),
        config::field_names::<C::Config>(),
    ];
    let mut maps = [(); 3].map(|_| serde_json::Map::new());
    for (k, x) in o {
        match parts.iter().position(|p| p.contains(&k.as_str())) {
            Some(i) => {
                maps[i].insert(k.clone(), x.clone());
            }
            // a Keras config's other keys (`name`, `dtype`, extras left at
            // their defaults) are for the cell reader to check
            None if matches!(src, Source::Keras) => {
                maps[2].insert(k.clone(), x.clone());
            }
            None => {
                let mut known: Vec<&str> = parts.concat();
                known.sort_unstable();
                return Err(Error::Config(format!(
                    "layer '{name}' ({class}): unknown option '{k}' (known: {})",
                    known.join(", ")
                )));
            }
        }
    }
    let [base, weights, cell] = maps.map(Value::Object);
    let named = |mut v: Value| {
        if let Value::Object(m) = &mut v {
            m.insert("name".into(), Value::String(name.clone()));
        }
        v
    };
    let l = match src {
        Source::Keras => {
            let mut l = Rnn::<C>::with_cell(config::read_keras(class, &cell)?);
            l.weight_config = config::read_keras(class, &named(weights))?;
            l.options = config::read_keras(class, &named(base))?;
            l
        }
        Source::Table(label) => {
            let mut l = Rnn::<C>::with_cell(config::read_table(class, label, &cell)?);
            l.weight_config = config::read_table(class, label, &weights)?;
            l.options = config::read_table(class, label, &base)?;
            l
        }
    };
    l.cell
        .validate()
        .map_err(|e| Error::Config(format!("layer '{name}' ({class}): {}", e.detail())))?;
    Ok(l)
}
