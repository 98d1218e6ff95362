//! Keras model configs (`model.to_json()`) ↔ [`Model`].
//!
//! Reads Keras 3 `Sequential` and `Functional` configs and tf.keras 2 ones
//! (`Model`/`Functional`/`Sequential`, list-style `inbound_nodes`,
//! `batch_input_shape`); writes the Keras 3 functional form.
//!
//! ```
//! use lstmkit::model::Sequential;
//! use lstmkit::nn::{Dense, LSTM};
//! use lstmkit::Model;
//! let m = Sequential::new(&[10, 3]).add(LSTM::new(4)).add(Dense::new(1)).build(1).unwrap();
//! let cfg = m.to_keras_config();
//! assert_eq!(cfg["class_name"], "Functional");
//! let back = Model::from_keras_config(&cfg, 1).unwrap();
//! assert_eq!(back.to_keras_config(), cfg);
//! ```

mod parse;
mod write;

use parse::{cfg_err, parse_model};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::io::registry;
use crate::model::{Model, Node, Src};
use crate::nn::Shape;

/// One (non-input) layer of a parsed Keras config.
#[derive(Clone, Debug)]
pub(crate) struct LayerSpec {
    pub name: String,
    pub class: String,
    pub config: Value,
    /// (layer name, tensor index) of each input, in call order.
    pub inputs: Vec<(String, usize)>,
    /// Where the layer's variables are in the saved file.
    pub loc: WeightLoc,
}

/// Where a layer's variables are in a saved Keras file. Layers of nested
/// models (a `Sequential` inside a functional model, ...) are inlined into one
/// graph; their variables stay under the nested model's group.
#[derive(Clone, Debug, Default)]
pub(crate) struct WeightLoc {
    /// The layer's name in the file (the model may rename an inlined layer
    /// whose name clashes with another).
    pub name: String,
    /// The enclosing nested models, outermost first: (model name, its
    /// `.keras` group by order in its parent).
    pub scope: Vec<(String, String)>,
    /// The layer's `.keras` group under `layers/` by order in its own
    /// (innermost) model: Keras 3's snake_case class name made unique in
    /// `model.layers` order.
    pub group: String,
}

impl WeightLoc {
    /// The top-level group of a legacy `.h5` file (`model_weights/<this>`)
    /// that holds the layer's variables.
    pub fn h5_group(&self) -> &str {
        self.scope
            .first()
            .map(|s| s.0.as_str())
            .unwrap_or(&self.name)
    }
}

impl ParsedConfig {
    /// The layers by name.
    pub fn by_name(&self) -> std::collections::HashMap<&str, &LayerSpec> {
        self.layers.iter().map(|s| (s.name.as_str(), s)).collect()
    }
}

/// A Keras model config, parsed.
#[derive(Clone, Debug)]
pub(crate) struct ParsedConfig {
    pub name: String,
    pub input_name: String,
    pub input_shape: Shape,
    /// Layers in config order (inputs excluded).
    pub layers: Vec<LayerSpec>,
    /// The model output: (layer name, tensor index).
    pub output: (String, usize),
}

/// Parses a Keras model config (`Sequential` or `Functional`/`Model`).
/// Nested models are inlined (their layers become layers of the graph).
pub(crate) fn parse(v: &Value) -> Result<ParsedConfig> {
    parse_model(v, 0)
}

/// Prepares a config whose weights come from the same file: initialisers
/// lstmkit cannot draw from are read as Keras' defaults (see
/// [`registry::relax_initializers`]); they change no number.
pub(crate) fn weights_from_file(p: &mut ParsedConfig) {
    for l in p.layers.iter_mut() {
        registry::relax_initializers(&mut l.config);
    }
}

/// Orders the layers so that each comes after its inputs (stable: config order when valid).
fn topo_order(p: &ParsedConfig) -> Result<Vec<usize>> {
    let n = p.layers.len();
    let mut placed = vec![false; n];
    let mut done: std::collections::HashSet<&str> = std::collections::HashSet::new();
    done.insert(p.input_name.as_str());
    let known: std::collections::HashSet<&str> = p
        .layers
        .iter()
        .map(|l| l.name.as_str())
        .chain([p.input_name.as_str()])
        .collect();
    for l in &p.layers {
        for (src, _) in &l.inputs {
            if !known.contains(src.as_str()) {
                return Err(cfg_err(format!(
                    "layer '{}' takes its input from '{src}', which is not in the model",
                    l.name
                )));
            }
        }
    }
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&i| {
            !placed[i]
                && p.layers[i]
                    .inputs
                    .iter()
                    .all(|(s, _)| done.contains(s.as_str()))
        });
        match next {
            Some(i) => {
                placed[i] = true;
                done.insert(p.layers[i].name.as_str());
                order.push(i);
            }
            None => {
                let stuck = (0..n)
                    .find(|&i| !placed[i])
                    .map(|i| p.layers[i].name.clone());
                return Err(cfg_err(format!(
                    "the layer graph has a cycle (at '{}')",
                    stuck.unwrap_or_default()
                )));
            }
        }
    }
    Ok(order)
}

/// Builds the model of a parsed config (weights initialised from `seed`).
pub(crate) fn build(p: &ParsedConfig, seed: u64) -> Result<Model> {
    let order = topo_order(p)?;
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut nodes = Vec::with_capacity(order.len());
    let mut frozen = Vec::new();
    // (node, axis): normalisation layers whose axis is written as a
    // non-negative index (tf.keras 2 writes `[2]` for the last axis of a
    // sequence); checked against the input rank once shapes are known.
    let mut fixed_axes: Vec<(usize, i64)> = Vec::new();
    for &i in &order {
        let spec = &p.layers[i];
        let mut config = std::borrow::Cow::Borrowed(&spec.config);
        if matches!(
            spec.class.as_str(),
            "BatchNormalization" | "LayerNormalization"
        ) {
            if let Some(k) = non_negative_axis(spec.config.get("axis")) {
                fixed_axes.push((nodes.len(), k));
                if let Value::Object(o) = config.to_mut() {
                    o.insert("axis".into(), json!(-1));
                }
            }
        }
        let layer = registry::layer_from_config(&spec.class, &config).map_err(|e| {
            // make sure the layer's name is in the message
            match e {
                Error::Config(s) if !s.contains(&format!("'{}'", spec.name)) => {
                    Error::Config(format!("layer '{}': {s}", spec.name))
                }
                e => e,
            }
        })?;
        let inputs = spec
            .inputs
            .iter()
            .map(|(src, k)| {
                if src == &p.input_name {
                    if *k != 0 {
                        return Err(cfg_err(format!(
                            "layer '{}' asks for tensor {k} of the input",
                            spec.name
                        )));
                    }
                    Ok(Src::Input)
                } else {
                    Ok(Src::Node(index[src.as_str()], *k))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let trainable = spec
            .config
            .get("trainable")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !trainable {
            frozen.push(nodes.len());
        }
        index.insert(spec.name.as_str(), nodes.len());
        nodes.push(Node {
            name: spec.name.clone(),
            layer,
            inputs,
            output_shapes: Vec::new(),
        });
    }
    if p.layers.iter().any(|l| l.name == p.input_name) {
        return Err(cfg_err(format!(
            "the input and a layer are both named '{}'",
            p.input_name
        )));
    }
    let (oname, ok) = &p.output;
    let output = match index.get(oname.as_str()) {
        Some(&j) => Src::Node(j, *ok),
        None => {
            return Err(cfg_err(format!(
                "the model output '{oname}' is not a layer of the model"
            )))
        }
    };
    let mut m = Model::from_nodes(p.name.clone(), p.input_shape.clone(), nodes, output, seed)?;
    for (j, k) in fixed_axes {
        let n = &m.nodes()[j];
        let rank = match n.inputs.first() {
            Some(Src::Node(s, o)) => m.nodes()[*s].output_shapes[*o].len(),
            _ => m.input_shape().len(),
        };
        // axis 0 is the batch; the last axis of a (batch, d1, .., dr) tensor is r
        if k != rank as i64 {
            return Err(cfg_err(format!(
                "layer '{}' ({}): option 'axis' = {k} is not supported: its input has {} axes \
                 and only the last one ({rank}, or -1) is",
                n.name,
                n.layer.class_name(),
                rank + 1
            )));
        }
    }
    m.input_name = p.input_name.clone();
    for j in frozen {
        for prm in m.nodes_mut()[j].layer.params_mut() {
            prm.trainable = false;
        }
    }
    Ok(m)
}

/// Keras 2 (and tf.keras 2) compute `hard_sigmoid` as clip(0.2·x + 0.5, 0, 1),
/// Keras 3 as relu6(x + 3) / 6: in a config read from a Keras 2 file, every
/// `activation` / `recurrent_activation` named `hard_sigmoid` (nested wrapped
/// layers included) becomes [`Activation::HardSigmoidKeras2`](crate::nn::Activation::HardSigmoidKeras2).
pub(crate) fn keras2_activations(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                let is_act = k == "activation" || k == "recurrent_activation";
                match x {
                    Value::String(s) if is_act && s == "hard_sigmoid" => {
                        *s = "hard_sigmoid_keras2".into();
                    }
                    _ => keras2_activations(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(keras2_activations),
        _ => {}
    }
}

/// `2` or `[2]` → `Some(2)`; -1, lists of several axes or anything else → `None`.
fn non_negative_axis(v: Option<&Value>) -> Option<i64> {
    let k = match v? {
        Value::Array(a) if a.len() == 1 => a[0].as_i64()?,
        x => x.as_i64()?,
    };
    (k >= 0).then_some(k)
}

#[cfg(test)]
mod tests;
