//! Reading Keras model configs: Sequential and Functional, Keras 3 and
//! tf.keras 2 forms, nested models inlined into one graph.

use serde_json::{json, Value};

use super::{LayerSpec, ParsedConfig, WeightLoc};
use crate::error::{Error, Result};
use crate::io::registry;
use crate::nn::Shape;

pub(super) fn cfg_err(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

pub(super) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `[null, 10, 1]` → `[10, 1]` (a null becomes 0 = any size).
pub(super) fn batch_shape(v: &Value, what: &str) -> Result<Shape> {
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

pub(super) fn input_layer_shape(layer: &Value, name: &str) -> Result<Shape> {
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
pub(super) fn history(h: &Value, user: &str) -> Result<(String, usize)> {
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

pub(super) fn is_keras_tensor(v: &Value) -> bool {
    str_field(v, "class_name") == Some("__keras_tensor__")
}

/// Appends every Keras 3 tensor in `v` (nested lists allowed); anything else is an error.
pub(super) fn collect_tensors(v: &Value, user: &str, out: &mut Vec<(String, usize)>) -> Result<()> {
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

pub(super) fn contains_tensor(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(contains_tensor),
        Value::Object(o) => is_keras_tensor(v) || o.values().any(contains_tensor),
        _ => false,
    }
}

/// The inputs of one call (`inbound_nodes[0]`), Keras 3 or tf.keras 2 form.
pub(super) fn node_inputs(node: &Value, user: &str) -> Result<Vec<(String, usize)>> {
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
pub(super) fn single_ref(v: &Value, what: &str) -> Result<(String, usize)> {
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

pub(super) fn layer_name(layer: &Value) -> Option<String> {
    str_field(layer, "name")
        .or_else(|| layer.get("config").and_then(|c| str_field(c, "name")))
        .map(str::to_string)
}

/// How deep models may nest.
pub(super) const MAX_NESTING: usize = 16;

pub(super) fn is_model_class(class: &str) -> bool {
    matches!(class, "Sequential" | "Functional" | "Model")
}

/// Parses a model config; `depth` > 0 for a nested model (whose input shape
/// comes from its caller and may be absent).
pub(super) fn parse_model(v: &Value, depth: usize) -> Result<ParsedConfig> {
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
pub(super) fn inline_nested(
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
pub(super) fn resolve_aliases(
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

pub(super) fn parse_sequential(
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
pub(super) fn renumber_nested_calls(config: &Value, layers: &[Value]) -> (Value, Vec<Value>) {
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

pub(super) fn parse_functional(
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
