//! The `[[layers]]` entries of an experiment ([`LayerSpec`]), building one
//! layer from its entry through the layer table ([`LayerSpec::build`]) and
//! the functional graph from all of them ([`build_graph`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{auto_name, Graph, Model, Src};
use crate::nn::Layer;

/// One `[[layers]]` entry: its `type` (a row of the layer table,
/// [`crate::nn::LAYERS`]), an optional `name` and `inputs`, and the layer's
/// options with Keras' names and defaults. Every type goes through the same
/// path — the layer's own config type, as a Keras file does — so every
/// recurrent type accepts the same base options (`stateful`,
/// `return_state`, ...) and an unknown key is an error naming the layer and
/// the key. Weight penalties are Keras' form or `{ l1 = .., l2 = .. }`.
///
/// ```
/// let spec: lstmkit::experiment::LayerSpec =
///     toml::from_str("type = \"lstm\"\nunits = 8\nstateful = true").unwrap();
/// let l = spec.build("enc").unwrap();
/// assert_eq!(l.config()["stateful"], true);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    /// The layer type (`lstm`, `dense`, `conv1d`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Layer name (default: Keras' automatic name, e.g. `lstm`, `lstm_1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Input layers by name (`"input"` = the model input); default: the previous layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<String>>,
    /// The layer's options, with Keras' names.
    #[serde(flatten)]
    pub args: serde_json::Map<String, serde_json::Value>,
}

impl LayerSpec {
    /// The layer name, when given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The input layers, when given.
    pub fn inputs(&self) -> Option<&[String]> {
        self.inputs.as_deref()
    }
    /// The Keras class of its type (`Layer` for an unknown type).
    pub fn class_name(&self) -> &'static str {
        crate::nn::LAYERS
            .iter()
            .find(|k| k.kind == self.kind)
            .map_or("Layer", |k| k.class)
    }

    /// Builds the layer (options checked; `label` names it in errors).
    pub fn build(&self, label: &str) -> Result<Box<dyn Layer>> {
        crate::nn::layer_from_table(&self.kind, &self.args, label)
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
