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

fn cfg_err(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `[null, 10, 1]` → `[10, 1]` (a null becomes 0 = any size).
fn batch_shape(v: &Value, what: &str) -> Result<Shape> {
    let arr = v
        .as_array()
        .ok_or_else(|| cfg_err(format!("{what}: the shape must be a list, got {v}")))?;
    if arr.is_empty() {
        return Err(cfg_err(format!("{what}: empty shape")));
    }
    arr[1..]
        .iter()
        .map(|d| match d {
            Value::Null => Ok(0),
            d => d
                .as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| cfg_err(format!("{what}: bad dimension {d} in {v}"))),
        })
        .collect()
}

fn input_layer_shape(layer: &Value, name: &str) -> Result<Shape> {
    let c = layer.get("config").unwrap_or(&Value::Null);
    if let Some(s) = c.get("batch_shape").or_else(|| c.get("batch_input_shape")) {
        if !s.is_null() {
            return batch_shape(s, &format!("input '{name}'"));
        }
    }
    if let Some(s) = c.get("shape").filter(|s| !s.is_null()) {
        // per-sample shape
        let mut full = vec![Value::Null];
        full.extend(s.as_array().cloned().unwrap_or_default());
        return batch_shape(&Value::Array(full), &format!("input '{name}'"));
    }
    Err(cfg_err(format!("input '{name}' has no batch_shape")))
}

/// A Keras history `[layer, node_index, tensor_index]`.
fn history(h: &Value, user: &str) -> Result<(String, usize)> {
    let a = h.as_array().filter(|a| a.len() >= 3).ok_or_else(|| {
        cfg_err(format!(
            "layer '{user}': bad input reference {h} (expected [layer, node, tensor])"
        ))
    })?;
    let name = a[0]
        .as_str()
        .ok_or_else(|| cfg_err(format!("layer '{user}': bad input reference {h}")))?;
    let node = a[1].as_u64().unwrap_or(u64::MAX);
    let idx = a[2].as_u64().unwrap_or(u64::MAX);
    if node != 0 {
        return Err(cfg_err(format!(
            "layer '{user}' uses call {node} of layer '{name}': layers shared between several calls are not supported"
        )));
    }
    if idx == u64::MAX {
        return Err(cfg_err(format!("layer '{user}': bad input reference {h}")));
    }
    Ok((name.to_string(), idx as usize))
}

fn is_keras_tensor(v: &Value) -> bool {
    str_field(v, "class_name") == Some("__keras_tensor__")
}

/// Appends every Keras 3 tensor in `v` (nested lists allowed); anything else is an error.
fn collect_tensors(v: &Value, user: &str, out: &mut Vec<(String, usize)>) -> Result<()> {
    match v {
        Value::Array(a) => a.iter().try_for_each(|x| collect_tensors(x, user, out)),
        x if is_keras_tensor(x) => {
            let h = x
                .get("config")
                .and_then(|c| c.get("keras_history"))
                .ok_or_else(|| {
                    cfg_err(format!("layer '{user}': a tensor without keras_history"))
                })?;
            out.push(history(h, user)?);
            Ok(())
        }
        other => Err(cfg_err(format!(
            "layer '{user}' is called with a non-tensor argument {other}, which is not supported"
        ))),
    }
}

fn contains_tensor(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(contains_tensor),
        Value::Object(o) => is_keras_tensor(v) || o.values().any(contains_tensor),
        _ => false,
    }
}

/// The inputs of one call (`inbound_nodes[0]`), Keras 3 or tf.keras 2 form.
fn node_inputs(node: &Value, user: &str) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    match node {
        Value::Object(o) => {
            if let Some(args) = o.get("args") {
                collect_tensors(args, user, &mut out)?;
            }
            if let Some(Value::Object(kw)) = o.get("kwargs") {
                for (k, val) in kw {
                    match (k.as_str(), val) {
                        ("initial_state", v) if !v.is_null() => collect_tensors(v, user, &mut out)?,
                        ("training", Value::Bool(_)) => {}
                        (_, Value::Null | Value::Bool(false)) => {}
                        (k, v) if contains_tensor(v) => {
                            return Err(cfg_err(format!(
                                "layer '{user}': call argument '{k}' (a tensor) is not supported"
                            )))
                        }
                        (k, v) => {
                            return Err(cfg_err(format!(
                                "layer '{user}': call argument {k}={v} is not supported"
                            )))
                        }
                    }
                }
            }
        }
        Value::Array(entries) => {
            // tf.keras 2: [[layer, node, tensor, kwargs], ...]
            for e in entries {
                out.push(history(e, user)?);
                if let Some(Value::Object(kw)) = e.get(3) {
                    for (k, v) in kw {
                        if !(v.is_null() || v == &Value::Bool(false) || k == "training") {
                            return Err(cfg_err(format!(
                                "layer '{user}': call argument {k}={v} is not supported"
                            )));
                        }
                    }
                }
            }
        }
        other => {
            return Err(cfg_err(format!(
                "layer '{user}': inbound node {other} is not understood"
            )))
        }
    }
    Ok(out)
}

/// `["dense", 0, 0]` or `[["dense", 0, 0]]` → the single tensor; more → error.
fn single_ref(v: &Value, what: &str) -> Result<(String, usize)> {
    let arr = v
        .as_array()
        .ok_or_else(|| cfg_err(format!("model {what} must be a list, got {v}")))?;
    if arr.first().map(Value::is_string).unwrap_or(false) {
        return history(v, what);
    }
    if arr.len() != 1 {
        return Err(cfg_err(format!(
            "the model has {} {what}; lstmkit supports models with exactly one input and one output",
            arr.len()
        )));
    }
    history(&arr[0], what)
}

fn layer_name(layer: &Value) -> Option<String> {
    str_field(layer, "name")
        .or_else(|| layer.get("config").and_then(|c| str_field(c, "name")))
        .map(str::to_string)
}

/// Parses a Keras model config (`Sequential` or `Functional`/`Model`).
/// Nested models are inlined (their layers become layers of the graph).
pub(crate) fn parse(v: &Value) -> Result<ParsedConfig> {
    parse_model(v, 0)
}

/// How deep models may nest.
const MAX_NESTING: usize = 16;

fn is_model_class(class: &str) -> bool {
    matches!(class, "Sequential" | "Functional" | "Model")
}

/// Parses a model config; `depth` > 0 for a nested model (whose input shape
/// comes from its caller and may be absent).
fn parse_model(v: &Value, depth: usize) -> Result<ParsedConfig> {
    if depth > MAX_NESTING {
        return Err(cfg_err(format!(
            "models are nested more than {MAX_NESTING} deep"
        )));
    }
    let class =
        str_field(v, "class_name").ok_or_else(|| cfg_err("the model config has no class_name"))?;
    let config = v
        .get("config")
        .filter(|c| c.is_object())
        .ok_or_else(|| cfg_err("the model config has no 'config' object"))?;
    if !is_model_class(class) {
        return Err(cfg_err(format!(
            "unsupported model class '{class}' (Sequential or Functional)"
        )));
    }
    let model_name = str_field(config, "name").unwrap_or("model").to_string();
    let layers = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| cfg_err("the model config has no 'layers' list"))?;
    match class {
        "Sequential" => parse_sequential(config, model_name, layers, depth),
        _ => parse_functional(config, model_name, layers, depth),
    }
}

/// Inlines the nested model `l` (a layer of the model being parsed, called on
/// `call_in`, its `.keras` group by order `group`) into `specs`; returns the
/// tensor that stands for the nested model's output. Inner layers whose names
/// clash with `taken` are renamed `<model>/<layer>`.
fn inline_nested(
    l: &Value,
    group: String,
    call_in: Vec<(String, usize)>,
    taken: &mut std::collections::HashSet<String>,
    specs: &mut Vec<LayerSpec>,
    depth: usize,
) -> Result<(String, usize)> {
    let inner = parse_model(l, depth + 1)?;
    let mname = inner.name.clone();
    let call_in = match call_in.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(cfg_err(format!(
                "nested model '{mname}' is called with {} inputs; lstmkit supports one",
                call_in.len()
            )))
        }
    };
    let frozen = l
        .get("config")
        .and_then(|c| c.get("trainable"))
        .and_then(Value::as_bool)
        == Some(false);
    let mut rename: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for sp in &inner.layers {
        let mut n = sp.name.clone();
        if taken.contains(&n) {
            n = format!("{mname}/{}", sp.name);
            let mut k = 1;
            while taken.contains(&n) {
                n = format!("{mname}/{}_{k}", sp.name);
                k += 1;
            }
        }
        taken.insert(n.clone());
        rename.insert(sp.name.clone(), n);
    }
    let map_ref = |(src, k): &(String, usize)| -> (String, usize) {
        if src == &inner.input_name {
            call_in.clone()
        } else {
            (rename.get(src).cloned().unwrap_or_else(|| src.clone()), *k)
        }
    };
    for mut sp in inner.layers.iter().cloned() {
        sp.name = rename[&sp.name].clone();
        sp.inputs = sp.inputs.iter().map(map_ref).collect();
        sp.loc.scope.insert(0, (mname.clone(), group.clone()));
        if frozen {
            if let Value::Object(o) = &mut sp.config {
                o.insert("trainable".into(), Value::Bool(false));
            }
        }
        specs.push(sp);
    }
    Ok(map_ref(&inner.output))
}

/// Replaces references to inlined nested models by their outputs.
fn resolve_aliases(
    specs: &mut [LayerSpec],
    output: &mut (String, usize),
    alias: &std::collections::HashMap<String, (String, usize)>,
) -> Result<()> {
    let fix = |r: &mut (String, usize), user: &str| -> Result<()> {
        if let Some(target) = alias.get(&r.0) {
            if r.1 != 0 {
                return Err(cfg_err(format!(
                    "{user} uses output {} of nested model '{}', which has one output",
                    r.1, r.0
                )));
            }
            *r = target.clone();
        }
        Ok(())
    };
    for sp in specs.iter_mut() {
        let user = format!("layer '{}'", sp.name);
        for r in sp.inputs.iter_mut() {
            fix(r, &user)?;
        }
    }
    fix(output, "the model output")
}

fn parse_sequential(
    config: &Value,
    name: String,
    layers: &[Value],
    depth: usize,
) -> Result<ParsedConfig> {
    let mut specs = Vec::new();
    let mut input_shape = None;
    let mut input_name = "input_layer".to_string();
    let mut prev: Option<(String, usize)> = None;
    let mut taken: Vec<String> = Vec::new();
    // `.keras` groups: Keras 3 leaves the InputLayer out of a Sequential's `layers`
    let mut groups: Vec<String> = Vec::new();
    let mut names: std::collections::HashSet<String> =
        layers.iter().filter_map(layer_name).collect();
    for (i, l) in layers.iter().enumerate() {
        let class = str_field(l, "class_name").ok_or_else(|| {
            cfg_err(format!(
                "layer {i} of the Sequential model has no class_name"
            ))
        })?;
        if class == "InputLayer" {
            if i != 0 {
                return Err(cfg_err(
                    "an InputLayer must come first in a Sequential model",
                ));
            }
            let n = layer_name(l).unwrap_or_else(|| "input_layer".into());
            input_shape = Some(input_layer_shape(l, &n)?);
            input_name = n;
            continue;
        }
        let lc = l.get("config").cloned().unwrap_or(Value::Null);
        if specs.is_empty() && input_shape.is_none() {
            for key in ["batch_input_shape", "batch_shape"] {
                if let Some(s) = lc.get(key).filter(|s| !s.is_null()) {
                    input_shape = Some(batch_shape(s, "the first layer's input")?);
                }
            }
        }
        let lname = layer_name(l).unwrap_or_else(|| crate::model::auto_name(class, &taken));
        taken.push(lname.clone());
        names.insert(lname.clone());
        let group = crate::model::auto_name(class, &groups);
        groups.push(group.clone());
        let inputs = match &prev {
            None => vec![(input_name.clone(), 0)],
            Some(p) => vec![p.clone()],
        };
        if is_model_class(class) {
            let out = inline_nested(l, group, inputs, &mut names, &mut specs, depth)?;
            prev = Some(out);
            continue;
        }
        prev = Some((lname.clone(), 0));
        specs.push(LayerSpec {
            name: lname.clone(),
            class: class.to_string(),
            config: lc,
            inputs,
            loc: WeightLoc {
                name: lname,
                scope: Vec::new(),
                group,
            },
        });
    }
    if input_shape.is_none() {
        if let Some(s) = config.get("build_input_shape").filter(|s| !s.is_null()) {
            input_shape = Some(batch_shape(s, "build_input_shape")?);
        }
    }
    if input_shape.is_none() {
        if let Some(s) = layers
            .iter()
            .find(|l| str_field(l, "class_name") != Some("InputLayer"))
            .and_then(|l| l.get("build_config"))
            .and_then(|b| b.get("input_shape"))
            .filter(|s| !s.is_null())
        {
            input_shape = Some(batch_shape(s, "the first layer's build_config")?);
        }
    }
    let input_shape = match input_shape {
        Some(s) => s,
        // a nested model gets its input from its caller
        None if depth > 0 => Vec::new(),
        None => return Err(cfg_err("the Sequential model has no input shape (no InputLayer, batch_input_shape or build_input_shape)")),
    };
    let last = prev.ok_or_else(|| cfg_err("the Sequential model has no layers"))?;
    Ok(ParsedConfig {
        name,
        input_name,
        input_shape,
        layers: specs,
        output: last,
    })
}

/// tf.keras 2 numbers the calls of a nested model from 1 when its first
/// node (made when the nested model was built on its own Input) is not
/// saved; with one call per layer, `[model, 1, k]` means that call. Rewrites
/// those references (in `inbound_nodes` and `output_layers`) to call 0.
fn renumber_nested_calls(config: &Value, layers: &[Value]) -> (Value, Vec<Value>) {
    let models: std::collections::HashSet<String> = layers
        .iter()
        .filter(|l| str_field(l, "class_name").is_some_and(is_model_class))
        .filter(|l| {
            l.get("inbound_nodes")
                .and_then(Value::as_array)
                .is_some_and(|n| n.len() == 1)
        })
        .filter_map(layer_name)
        .collect();
    let fix = |r: &mut Value| {
        if let Some(a) = r.as_array_mut() {
            if a.len() >= 3
                && a[0].as_str().is_some_and(|n| models.contains(n))
                && a[1].as_u64() == Some(1)
            {
                a[1] = json!(0);
            }
        }
    };
    let mut config = config.clone();
    if let Some(o) = config
        .get_mut("output_layers")
        .and_then(Value::as_array_mut)
    {
        if o.first().is_some_and(Value::is_string) {
            fix(config.get_mut("output_layers").unwrap_or(&mut Value::Null));
        } else {
            o.iter_mut().for_each(fix);
        }
    }
    let mut layers = layers.to_vec();
    for l in layers.iter_mut() {
        if let Some(nodes) = l.get_mut("inbound_nodes").and_then(Value::as_array_mut) {
            for node in nodes.iter_mut() {
                if let Some(entries) = node.as_array_mut() {
                    entries.iter_mut().for_each(fix);
                }
            }
        }
    }
    (config, layers)
}

fn parse_functional(
    config: &Value,
    name: String,
    layers: &[Value],
    depth: usize,
) -> Result<ParsedConfig> {
    let (config, layers) = renumber_nested_calls(config, layers);
    let (config, layers) = (&config, layers.as_slice());
    let (in_name, _) = single_ref(
        config
            .get("input_layers")
            .ok_or_else(|| cfg_err("the functional config has no input_layers"))?,
        "inputs",
    )?;
    let mut output = single_ref(
        config
            .get("output_layers")
            .ok_or_else(|| cfg_err("the functional config has no output_layers"))?,
        "outputs",
    )?;
    let mut specs = Vec::new();
    let mut input_shape = None;
    // `.keras` groups: a functional model's `layers` include its InputLayer
    let mut groups: Vec<String> = Vec::new();
    let mut names: std::collections::HashSet<String> =
        layers.iter().filter_map(layer_name).collect();
    let mut alias = std::collections::HashMap::new();
    for (i, l) in layers.iter().enumerate() {
        let class = str_field(l, "class_name")
            .ok_or_else(|| cfg_err(format!("layer {i} of the model has no class_name")))?;
        let lname =
            layer_name(l).ok_or_else(|| cfg_err(format!("layer {i} ({class}) has no name")))?;
        let group = crate::model::auto_name(class, &groups);
        groups.push(group.clone());
        if class == "InputLayer" {
            if lname == in_name {
                input_shape = Some(input_layer_shape(l, &lname)?);
            } else {
                return Err(cfg_err(format!(
                    "input '{lname}' is not the model input '{in_name}': models with several inputs are not supported"
                )));
            }
            continue;
        }
        let nodes = l
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .ok_or_else(|| cfg_err(format!("layer '{lname}' has no inbound_nodes")))?;
        if nodes.len() != 1 {
            return Err(cfg_err(format!(
                "layer '{lname}' is called {} times: shared layers are not supported",
                nodes.len()
            )));
        }
        // call arguments that lstmkit keeps in the layer config (Attention's
        // use_causal_mask, return_attention_scores) move from the node to the config
        let mut node = nodes[0].clone();
        let mut config = l.get("config").cloned().unwrap_or(Value::Null);
        for key in registry::call_kwargs(class) {
            let mut found = None;
            match &mut node {
                Value::Object(o) => {
                    if let Some(Value::Object(kw)) = o.get_mut("kwargs") {
                        found = kw.remove(*key);
                    }
                }
                Value::Array(entries) => {
                    for e in entries.iter_mut() {
                        if let Some(Value::Object(kw)) = e.get_mut(3) {
                            if let Some(v) = kw.remove(*key) {
                                found = Some(v);
                            }
                        }
                    }
                }
                _ => {}
            }
            if let (Some(v), Value::Object(c)) = (found, &mut config) {
                c.insert(key.to_string(), v);
            }
        }
        let inputs = node_inputs(&node, &lname)?;
        if inputs.is_empty() {
            return Err(cfg_err(format!("layer '{lname}' has no inputs")));
        }
        if is_model_class(class) {
            let out = inline_nested(l, group, inputs, &mut names, &mut specs, depth)?;
            alias.insert(lname, out);
            continue;
        }
        specs.push(LayerSpec {
            name: lname.clone(),
            class: class.to_string(),
            config,
            inputs,
            loc: WeightLoc {
                name: lname,
                scope: Vec::new(),
                group,
            },
        });
    }
    resolve_aliases(&mut specs, &mut output, &alias)?;
    let input_shape = input_shape.ok_or_else(|| {
        cfg_err(format!(
            "the model input '{in_name}' is not among the layers"
        ))
    })?;
    Ok(ParsedConfig {
        name,
        input_name: in_name,
        input_shape,
        layers: specs,
        output,
    })
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

fn shape_json(s: &[usize]) -> Value {
    let mut v = vec![Value::Null];
    v.extend(
        s.iter()
            .map(|&d| if d == 0 { Value::Null } else { json!(d) }),
    );
    Value::Array(v)
}

fn dtype_policy() -> Value {
    json!({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null})
}

impl Model {
    /// The model's Keras 3 config, as `model.to_json()` writes it for a
    /// functional model: `layers` (with `inbound_nodes`), `input_layers`,
    /// `output_layers`. [`Model::from_keras_config`] reads it back exactly, and
    /// Keras 3 loads it (`keras.models.model_from_json`).
    pub fn to_keras_config(&self) -> Value {
        let nodes = self.nodes();
        let tensor = |src: Src| -> Value {
            let (name, k, shape) = match src {
                Src::Input => (self.input_name.clone(), 0, self.input_shape().to_vec()),
                Src::Node(j, k) => (nodes[j].name.clone(), k, nodes[j].output_shapes[k].clone()),
            };
            json!({"class_name": "__keras_tensor__", "config": {
                "shape": shape_json(&shape), "dtype": "float32", "keras_history": [name, 0, k]}})
        };
        let in_shape = |src: Src| -> Shape {
            match src {
                Src::Input => self.input_shape().to_vec(),
                Src::Node(j, k) => nodes[j].output_shapes[k].clone(),
            }
        };
        let mut layers = vec![json!({
            "module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": shape_json(self.input_shape()), "dtype": "float32",
                       "sparse": false, "ragged": false, "name": self.input_name, "optional": false},
            "registered_name": null, "name": self.input_name, "inbound_nodes": []
        })];
        for n in nodes {
            let class = n.layer.class_name();
            let params = n.layer.params();
            let trainable = params.is_empty() || params.iter().any(|p| p.trainable);
            let mut config = serde_json::Map::new();
            config.insert("name".into(), json!(n.name));
            config.insert("trainable".into(), json!(trainable));
            config.insert("dtype".into(), dtype_policy());
            if let Value::Object(c) = n.layer.config() {
                for (k, v) in c {
                    config.insert(k, v);
                }
            }
            let npos = registry::positional_inputs(class, n.inputs.len());
            let pos: Vec<Value> = n.inputs[..npos].iter().map(|&s| tensor(s)).collect();
            let args = if npos == 1 {
                pos
            } else {
                vec![Value::Array(pos)]
            };
            let mut kwargs = serde_json::Map::new();
            for key in registry::call_kwargs(class) {
                if let Some(v) = config.remove(*key) {
                    if !(v.is_null() || v == Value::Bool(false)) {
                        kwargs.insert(key.to_string(), v);
                    }
                }
            }
            if n.inputs.len() > npos {
                kwargs.insert(
                    "initial_state".into(),
                    Value::Array(n.inputs[npos..].iter().map(|&s| tensor(s)).collect()),
                );
            }
            let build_config = if n.inputs.len() == 1 {
                json!({"input_shape": shape_json(&in_shape(n.inputs[0]))})
            } else if npos == 1 {
                // a recurrent layer called with initial_state (Keras' build signature)
                json!({"shapes_dict": {
                    "sequences_shape": shape_json(&in_shape(n.inputs[0])),
                    "initial_state_shape": n.inputs[1..].iter().map(|&s| shape_json(&in_shape(s))).collect::<Vec<_>>(),
                }})
            } else {
                json!({"input_shape": n.inputs.iter().map(|&s| shape_json(&in_shape(s))).collect::<Vec<_>>()})
            };
            layers.push(json!({
                "module": "keras.layers", "class_name": class, "config": Value::Object(config),
                "registered_name": null, "build_config": build_config,
                "name": n.name,
                "inbound_nodes": [{"args": args, "kwargs": Value::Object(kwargs)}]
            }));
        }
        let (oname, ok) = match self.output() {
            Src::Node(j, k) => (nodes[j].name.clone(), k),
            Src::Input => (self.input_name.clone(), 0),
        };
        json!({
            "module": "keras.src.models.functional",
            "class_name": "Functional",
            "config": {
                "name": self.name,
                "trainable": true,
                "layers": layers,
                "input_layers": [self.input_name, 0, 0],
                "output_layers": [oname, 0, ok],
            },
            "registered_name": "Functional",
            "build_config": {"input_shape": null}
        })
    }

    /// Builds a model from a Keras model config: Keras 3 `Sequential` or
    /// `Functional` (`model.to_json()`, the `config.json` inside `.keras`), or
    /// tf.keras 2's. Weights are initialised from `seed` (Keras' initialisers).
    /// Multi-input layers (e.g. `Attention()([q, v])`), layer outputs by index
    /// (`return_state`) and `initial_state` are supported; unsupported layers
    /// or options give an error naming them.
    pub fn from_keras_config(config: &Value, seed: u64) -> Result<Model> {
        build(&parse(config)?, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Graph, Sequential};
    use crate::nn::{Activation, Dense, LSTM};

    #[test]
    fn round_trip_functional_with_states_and_frozen_layer() {
        let mut g = Graph::new(&[0, 3]).name("enc_dec");
        let x = g.input();
        let enc = g.add_named(
            "enc",
            LSTM::new(5).return_state(true).activation(Activation::Relu),
            &[x],
        );
        let h = Graph::output_of(enc, 1);
        let c = Graph::output_of(enc, 2);
        let dec = g.add_named("dec", LSTM::new(5).return_sequences(true), &[x, h, c]);
        let y = g.add(Dense::new(2).use_bias(false), &[dec]);
        let mut m = g.build(y, 3).unwrap();
        for p in m.nodes_mut()[0].layer.params_mut() {
            p.trainable = false;
        }
        let cfg = m.to_keras_config();
        let m2 = Model::from_keras_config(&cfg, 99).unwrap();
        assert_eq!(m2.to_keras_config(), cfg);
        assert_eq!(
            m2.nodes()[1].inputs,
            vec![Src::Input, Src::Node(0, 1), Src::Node(0, 2)]
        );
        assert!(m2.nodes()[0].layer.params().iter().all(|p| !p.trainable));
        assert_eq!(m2.input_shape(), &[0, 3]);
        assert_eq!(m2.output_shape(), vec![0, 2]);
        // the decoder is called with initial_state as a keyword, as in Keras
        let dec_node = &cfg["config"]["layers"][2]["inbound_nodes"][0];
        assert_eq!(
            dec_node["kwargs"]["initial_state"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn reads_keras3_sequential() {
        let cfg = json!({"module": "keras", "class_name": "Sequential", "config": {
            "name": "seq", "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 7, 2], "dtype": "float32", "name": "inp"}},
              {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "l", "units": 3, "return_sequences": true}},
              {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "l2", "units": 3}},
              {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 1}}
            ], "build_input_shape": [null, 7, 2]}});
        let m = Model::from_keras_config(&cfg, 0).unwrap();
        assert_eq!(m.name, "seq");
        assert_eq!(m.input_name, "inp");
        assert_eq!(m.input_shape(), &[7, 2]);
        assert_eq!(m.nodes().len(), 3);
        assert_eq!(m.nodes()[2].inputs, vec![Src::Node(1, 0)]);
        // without InputLayer: build_input_shape
        let cfg2 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "LSTM", "config": {"name": "l", "units": 3}}], "build_input_shape": [null, 4, 1]}});
        assert_eq!(
            Model::from_keras_config(&cfg2, 0).unwrap().input_shape(),
            &[4, 1]
        );
        // tf.keras 2: batch_input_shape on the first layer
        let cfg3 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "LSTM", "config": {"name": "l", "units": 3, "batch_input_shape": [null, 6, 2], "time_major": false, "implementation": 2}}]}});
        assert_eq!(
            Model::from_keras_config(&cfg3, 0).unwrap().input_shape(),
            &[6, 2]
        );
        let cfg4 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "LSTM", "config": {"name": "l", "units": 3}}]}});
        let e = Model::from_keras_config(&cfg4, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("input shape"), "{e}");
    }

    #[test]
    fn reads_tf_keras2_functional() {
        let cfg = json!({"class_name": "Functional", "config": {"name": "model", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 1], "dtype": "float32", "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
            {"class_name": "LSTM", "config": {"name": "lstm", "units": 4, "dtype": "float32", "return_sequences": false}, "name": "lstm",
             "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {"class_name": "Dense", "config": {"name": "dense", "units": 1}, "name": "dense", "inbound_nodes": [[["lstm", 0, 0, {}]]]}
        ], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}});
        let m = Model::from_keras_config(&cfg, 0).unwrap();
        assert_eq!(m.input_shape(), &[5, 1]);
        assert_eq!(m.output_shape(), vec![1]);
        assert_eq!(m.input_name, "input_1");
    }

    #[test]
    fn nested_models_are_inlined() {
        let lstm = |name: &str, rs: bool| json!({"class_name": "LSTM", "config": {"name": name, "units": 3, "return_sequences": rs}});
        // Keras 3: a Sequential (no InputLayer) inside a functional model, its
        // inner layer 'dense' clashing with an outer one
        let cfg = json!({"class_name": "Functional", "config": {"name": "outer", "layers": [
            {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [null, 5, 2], "name": "x"}, "inbound_nodes": []},
            {"class_name": "Sequential", "name": "inner", "config": {"name": "inner", "trainable": false, "layers": [
                lstm("lstm_a", true), lstm("lstm_b", false),
                {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
            {"class_name": "Dense", "name": "dense", "config": {"name": "dense", "units": 1},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["inner", 0, 0]}}], "kwargs": {}}]}
        ], "input_layers": [["x", 0, 0]], "output_layers": [["dense", 0, 0]]}});
        let p = parse(&cfg).unwrap();
        let names: Vec<&str> = p.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["lstm_a", "lstm_b", "inner/dense", "dense"]);
        assert_eq!(p.layers[0].inputs, vec![("x".to_string(), 0)]);
        assert_eq!(p.layers[3].inputs, vec![("inner/dense".to_string(), 0)]);
        let l = &p.layers[2].loc;
        assert_eq!(
            (l.name.as_str(), l.group.as_str(), l.h5_group()),
            ("dense", "dense", "inner")
        );
        assert_eq!(
            l.scope,
            vec![("inner".to_string(), "sequential".to_string())]
        );
        assert_eq!(p.layers[1].loc.group, "lstm_1");
        assert_eq!(p.layers[3].loc.group, "dense");
        let m = build(&p, 0).unwrap();
        assert_eq!(m.output_shape(), vec![1]);
        // the nested model was frozen: so are its layers
        assert!(m.nodes()[0].layer.params().iter().all(|p| !p.trainable));
        assert!(m.nodes()[3].layer.params().iter().all(|p| p.trainable));
        // tf.keras 2: list-style nodes, the nested model's call numbered 1
        let cfg2 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "in"}},
            {"class_name": "Functional", "config": {"name": "enc", "layers": [
                {"class_name": "InputLayer", "name": "i2", "config": {"batch_input_shape": [null, 4, 2], "name": "i2"}, "inbound_nodes": []},
                {"class_name": "LSTM", "name": "l", "config": {"name": "l", "units": 3}, "inbound_nodes": [[["i2", 0, 0, {}]]]}],
              "input_layers": [["i2", 0, 0]], "output_layers": [["l", 0, 0]]}},
            {"class_name": "Dense", "config": {"name": "d", "units": 1}}]}});
        let p2 = parse(&cfg2).unwrap();
        assert_eq!(p2.layers[0].loc.group, "lstm");
        assert_eq!(p2.layers[0].loc.scope[0].1, "functional");
        assert_eq!(p2.layers[1].inputs, vec![("l".to_string(), 0)]);
        let cfg3 = json!({"class_name": "Functional", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "name": "in", "config": {"batch_input_shape": [null, 4, 2], "name": "in"}, "inbound_nodes": []},
            {"class_name": "Sequential", "name": "body", "config": {"name": "body", "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "b_in"}}, lstm("l", false)]},
             "inbound_nodes": [[["in", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1}, "inbound_nodes": [[["body", 1, 0, {}]]]}],
          "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}});
        let p3 = parse(&cfg3).unwrap();
        assert_eq!(p3.layers[1].inputs, vec![("l".to_string(), 0)]);
        assert_eq!(p3.layers[0].inputs, vec![("in".to_string(), 0)]);
    }

    #[test]
    fn normalisation_axis_as_an_index() {
        let cfg = |axis: Value| {
            json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "in"}},
                {"class_name": "LayerNormalization", "config": {"name": "ln", "axis": axis}},
                {"class_name": "LSTM", "config": {"name": "l", "units": 3}},
                {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1]}}]}})
        };
        // tf.keras 2 writes the last axis as its index: [2] for (batch, T, F)
        assert!(Model::from_keras_config(&cfg(json!([2])), 0).is_ok());
        assert!(Model::from_keras_config(&cfg(json!(2)), 0).is_ok());
        assert!(Model::from_keras_config(&cfg(json!(-1)), 0).is_ok());
        let e = Model::from_keras_config(&cfg(json!([1])), 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("'ln'") && e.contains("axis"), "{e}");
    }

    #[test]
    fn keras2_hard_sigmoid_is_renamed_everywhere() {
        let mut v = json!({"layers": [{"config": {"activation": "hard_sigmoid", "name": "hard_sigmoid",
            "layer": {"config": {"recurrent_activation": "hard_sigmoid", "activation": "tanh"}}}}]});
        keras2_activations(&mut v);
        let c = &v["layers"][0]["config"];
        assert_eq!(c["activation"], "hard_sigmoid_keras2");
        assert_eq!(c["name"], "hard_sigmoid", "only activations change");
        assert_eq!(
            c["layer"]["config"]["recurrent_activation"],
            "hard_sigmoid_keras2"
        );
        assert_eq!(c["layer"]["config"]["activation"], "tanh");
    }

    #[test]
    fn config_errors_are_clear() {
        let base = Sequential::new(&[4, 1])
            .add(LSTM::new(2))
            .add(Dense::new(1))
            .build(0)
            .unwrap()
            .to_keras_config();
        let mut two_calls = base.clone();
        let n = two_calls["config"]["layers"][2]["inbound_nodes"][0].clone();
        two_calls["config"]["layers"][2]["inbound_nodes"] = json!([n.clone(), n]);
        let e = Model::from_keras_config(&two_calls, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("shared") && e.contains("dense"), "{e}");
        let mut bad_ref = base.clone();
        bad_ref["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] =
            json!(["nope", 0, 0]);
        let e = Model::from_keras_config(&bad_ref, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("nope"), "{e}");
        let mut two_out = base.clone();
        two_out["config"]["output_layers"] = json!([["dense", 0, 0], ["lstm", 0, 0]]);
        let e = Model::from_keras_config(&two_out, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("2 outputs"), "{e}");
        let mut unknown = base.clone();
        unknown["config"]["layers"][1]["class_name"] = json!("ConvLSTM1D");
        let e = Model::from_keras_config(&unknown, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("ConvLSTM1D") && e.contains("lstm"), "{e}");
        let mut kw = base.clone();
        kw["config"]["layers"][1]["inbound_nodes"][0]["kwargs"] = json!({"mask": {"class_name": "__keras_tensor__", "config": {"keras_history": ["input_layer", 0, 0]}}});
        let e = Model::from_keras_config(&kw, 0).err().unwrap().to_string();
        assert!(e.contains("mask"), "{e}");
        let e = Model::from_keras_config(&json!({"class_name": "Foo", "config": {}}), 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("Foo"), "{e}");
        let mut bad_shape = base;
        bad_shape["config"]["layers"][2]["config"]["units"] = json!(0);
        assert!(Model::from_keras_config(&bad_shape, 0).is_err());
    }
}
