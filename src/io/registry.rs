//! What the Keras file readers and writers need to know about layer classes,
//! derived from the one layer table ([`crate::nn::LAYERS`]): where a layer's
//! variables live in a `.keras` file, which inputs are positional, which
//! options are call arguments; and loosening initialisers for loaded weights.
//! Adding a layer needs nothing here: its row in the table says it all.
//!
//! ```
//! use lstmkit::io::registry::layer_from_config;
//! let cfg = serde_json::json!({"name": "lstm", "units": 8, "return_sequences": true});
//! let layer = layer_from_config("LSTM", &cfg).unwrap();
//! assert_eq!(layer.class_name(), "LSTM");
//! assert_eq!(layer.config()["return_sequences"], true);
//! ```

use serde_json::Value;

pub use crate::nn::{layer_from_config, layer_from_table};

use crate::error::{Error, Result};
use crate::nn::{kind_of_class, VarLayout};
use crate::nn::{
    Activation, Add, Attention, BatchNormalization, Concatenate, Dense, Dropout, Flatten,
    GlobalAveragePooling1D, GlobalMaxPooling1D, Initializer, Layer, LayerNormalization, ScoreMode,
    TimeDistributed,
};
use crate::train::regularizer::Regularizer;

/// Builds one of our layers from a Keras layer `class_name` and its `config`
/// (Keras 3 or tf.keras 2 form; `name`, `trainable` and `dtype` are read by the
/// model loader). Options we do not implement give an error naming the layer
/// and the option.
pub(crate) fn legacy_from_config(class_name: &str, config: &Value) -> Result<Box<dyn Layer>> {
    let c = Cfg::new(class_name, config)?;
    c.check_dtype()?;
    Ok(match class_name {
        "Dense" => Box::new(dense_from_config(&c)?),
        "Attention" => Box::new(attention_from_config(&c)?),
        "Dropout" => Box::new(dropout_from_config(&c)?),
        "BatchNormalization" => Box::new(batch_norm_from_config(&c)?),
        "LayerNormalization" => Box::new(layer_norm_from_config(&c)?),
        "GlobalAveragePooling1D" => {
            check_pooling(&c)?;
            Box::new(GlobalAveragePooling1D::new())
        }
        "GlobalMaxPooling1D" => {
            check_pooling(&c)?;
            Box::new(GlobalMaxPooling1D::new())
        }
        "Flatten" => {
            channels_last(&c)?;
            Box::new(Flatten::new())
        }
        "TimeDistributed" => Box::new(time_distributed_from_config(&c)?),
        "Concatenate" => Box::new(concatenate_from_config(&c)?),
        "Add" => Box::new(Add::new()),
        other => {
            return Err(Error::Config(format!(
                "layer '{}': unsupported layer class '{other}' (supported: {})",
                c.name,
                crate::nn::supported_classes()
            )))
        }
    })
}

/// Builds a layer from an experiment-file table: `kind` is its `type`
/// (see [`crate::nn::LAYERS`]), `args` its other keys (without `type`, `name`,
/// `inputs`) with Keras' argument names and defaults. A wrapped layer
/// (`bidirectional`, `time_distributed`) is a nested table with its own `type`:
/// `layer = { type = "lstm", units = 50 }`. `merge_mode = "none"` stands for
/// Keras' `None`; in `noise_shape`, 0 stands for `None`. Unknown keys are errors
/// naming the layer (`label`) and the key.
///
/// ```
/// use lstmkit::io::registry::layer_from_table;
/// let args: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
///     r#"{"merge_mode": "sum", "layer": {"type": "gru", "units": 8, "return_sequences": true}}"#,
/// ).unwrap();
/// let l = layer_from_table("bidirectional", &args, "bi").unwrap();
/// assert_eq!(l.class_name(), "Bidirectional");
/// assert_eq!(l.config()["layer"]["config"]["units"], 8);
/// ```
pub(crate) fn legacy_from_table(
    kind: &str,
    args: &serde_json::Map<String, Value>,
    label: &str,
) -> Result<Box<dyn Layer>> {
    let (class, cfg) = table_to_keras(kind, args, label)?;
    let layer = legacy_from_config(class, &cfg)?;
    check_table_keys(kind, args, &layer.config(), label)?;
    Ok(layer)
}

fn experiment_class(kind: &str, label: &str) -> Result<&'static str> {
    crate::nn::LAYERS
        .iter()
        .find(|k| k.kind == kind)
        .map(|k| k.class)
        .ok_or_else(|| {
            Error::Config(format!(
                "layer '{label}': unknown type '{kind}' (known: {})",
                crate::nn::LAYERS
                    .iter()
                    .map(|k| k.kind)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

fn table_to_keras(
    kind: &str,
    args: &serde_json::Map<String, Value>,
    label: &str,
) -> Result<(&'static str, Value)> {
    let class = experiment_class(kind, label)?;
    let mut cfg = args.clone();
    cfg.insert("name".into(), Value::String(label.to_string()));
    if let Some(inner) = args.get("layer") {
        let Value::Object(t) = inner else {
            return Err(Error::Config(format!(
                "layer '{label}': 'layer' must be a table like {{ type = \"lstm\", units = 50 }}"
            )));
        };
        let ikind = t.get("type").and_then(Value::as_str).ok_or_else(|| {
            Error::Config(format!("layer '{label}': the wrapped 'layer' needs a type"))
        })?;
        let mut rest = t.clone();
        rest.remove("type");
        let (iclass, icfg) = table_to_keras(ikind, &rest, &format!("{label}/layer"))?;
        cfg.insert(
            "layer".into(),
            serde_json::json!({"class_name": iclass, "config": icfg}),
        );
    }
    Ok((class, Value::Object(cfg)))
}

fn check_table_keys(
    kind: &str,
    args: &serde_json::Map<String, Value>,
    config: &Value,
    label: &str,
) -> Result<()> {
    for (k, v) in args {
        if k == "layer" {
            if let (Value::Object(t), Some(ic)) = (v, config.get("layer")) {
                let mut rest = t.clone();
                let ikind = rest
                    .remove("type")
                    .and_then(|x| x.as_str().map(str::to_string))
                    .unwrap_or_default();
                let icfg = ic.get("config").cloned().unwrap_or(Value::Null);
                check_table_keys(&ikind, &rest, &icfg, &format!("{label}/layer"))?;
                continue;
            }
        }
        if config.get(k).is_none() {
            let mut known: Vec<&str> = config
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            known.retain(|x| *x != "backward_layer");
            return Err(Error::Config(format!(
                "layer '{label}' (type {kind}): unknown option '{k}' (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Where a layer's variables live inside `layers/<group>/` of a Keras 3
/// `model.weights.h5`, in `get_weights()` order: each entry is a group whose
/// datasets are named `0`, `1`, ... (e.g. `cell/vars` for recurrent layers)
/// and the number of variables it holds. `config` is the layer's
/// [`Layer::config`](crate::nn::Layer::config), `n_vars` its variable count.
pub fn keras_var_layout(class_name: &str, config: &Value, n_vars: usize) -> Vec<(String, usize)> {
    /// Variables of a recurrent layer config: kernel, recurrent kernel, bias.
    fn rnn_vars(layer: &Value) -> usize {
        let c = layer.get("config").unwrap_or(layer);
        2 + usize::from(c.get("use_bias").and_then(Value::as_bool).unwrap_or(true))
    }
    let vars = kind_of_class(class_name).map_or(VarLayout::Vars, |k| k.vars);
    match vars {
        VarLayout::Cell => vec![("cell/vars".into(), n_vars)],
        VarLayout::Bidirectional => {
            let fwd = config
                .get("layer")
                .map(rnn_vars)
                .unwrap_or(n_vars / 2)
                .min(n_vars);
            vec![
                ("forward_layer/cell/vars".into(), fwd),
                ("backward_layer/cell/vars".into(), n_vars - fwd),
            ]
        }
        VarLayout::Wrapped => {
            let inner = config.get("layer").unwrap_or(&Value::Null);
            let class = inner
                .get("class_name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let cfg = inner.get("config").unwrap_or(&Value::Null);
            keras_var_layout(class, cfg, n_vars)
                .into_iter()
                .map(|(p, n)| (format!("layer/{p}"), n))
                .collect()
        }
        VarLayout::Vars => vec![("vars".into(), n_vars)],
    }
}

/// For a model whose weights come from a Keras file: replaces by null (Keras'
/// default) every `*_initializer` option, in `config` and the layer configs
/// nested in it, that lstmkit cannot draw from (a class such as
/// `TruncatedNormal`, `Constant` or `VarianceScaling`, or non-default
/// parameters such as `Orthogonal(gain=2)`). The file's weights replace the
/// initial ones, so the initialiser does not change any number; refusing it
/// would refuse a model lstmkit computes exactly. Returns how many were replaced.
pub(crate) fn relax_initializers(config: &mut Value) -> usize {
    let mut n = 0;
    match config {
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if k.ends_with("_initializer") && !v.is_null() {
                    let probe = serde_json::json!({ k.as_str(): v.clone() });
                    let ok = Cfg::new("", &probe)
                        .and_then(|c| c.initializer(k, Initializer::Zeros))
                        .is_ok();
                    if !ok {
                        *v = Value::Null;
                        n += 1;
                    }
                } else {
                    n += relax_initializers(v);
                }
            }
        }
        Value::Array(a) => n += a.iter_mut().map(relax_initializers).sum::<usize>(),
        _ => {}
    }
    n
}

/// How a layer with several inputs is called in a Keras 3 functional config:
/// returns how many of its inputs are positional (the rest are passed as the
/// `initial_state` keyword, as recurrent layers take them).
pub fn positional_inputs(class_name: &str, n_inputs: usize) -> usize {
    kind_of_class(class_name).map_or(n_inputs, |k| k.positional_inputs.min(n_inputs))
}

/// Reads a Keras layer config with error messages naming the layer and option.
pub struct Cfg<'a> {
    /// The Keras class name.
    pub class: &'a str,
    /// The layer name (or `?` when the config has none).
    pub name: String,
    /// The config object.
    pub v: &'a Value,
}

impl<'a> Cfg<'a> {
    /// Wraps a config; it must be a JSON object.
    pub fn new(class: &'a str, v: &'a Value) -> Result<Self> {
        if !v.is_object() {
            return Err(Error::Config(format!(
                "{class} layer: the config must be a JSON object, got {v}"
            )));
        }
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        Ok(Cfg { class, name, v })
    }

    /// An error about option `key`.
    pub fn err(&self, key: &str, msg: impl std::fmt::Display) -> Error {
        Error::Config(format!(
            "layer '{}' ({}): option '{key}' {msg}",
            self.name, self.class
        ))
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.v.get(key).filter(|x| !x.is_null())
    }

    /// A required positive integer.
    pub fn usize(&self, key: &str) -> Result<usize> {
        match self.get(key) {
            None => Err(self.err(key, "is missing")),
            Some(x) => self.as_usize(key, x),
        }
    }

    /// An optional non-negative integer.
    pub fn usize_or(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(x) => self.as_usize(key, x),
        }
    }

    fn as_usize(&self, key: &str, x: &Value) -> Result<usize> {
        if let Some(u) = x.as_u64() {
            return usize::try_from(u).map_err(|_| self.err(key, format!("is too large: {x}")));
        }
        // Keras sometimes writes integers as floats (e.g. 8.0)
        match x.as_f64() {
            Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e15 => Ok(f as usize),
            _ => Err(self.err(key, format!("must be a non-negative integer, got {x}"))),
        }
    }

    /// An optional number.
    pub fn f32_or(&self, key: &str, default: f32) -> Result<f32> {
        match self.get(key) {
            None => Ok(default),
            Some(x) => x
                .as_f64()
                .map(|f| f as f32)
                .ok_or_else(|| self.err(key, format!("must be a number, got {x}"))),
        }
    }

    /// An optional boolean.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(x) => x
                .as_bool()
                .ok_or_else(|| self.err(key, format!("must be true or false, got {x}"))),
        }
    }

    /// An optional string.
    pub fn str_or(&self, key: &str, default: &str) -> Result<String> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(x) => x
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| self.err(key, format!("must be a string, got {x}"))),
        }
    }

    /// An activation: a name, or Keras 3's serialised function
    /// `{"class_name": "function", "config": "relu"}`.
    pub fn activation(&self, key: &str, default: Activation) -> Result<Activation> {
        let name = match self.get(key) {
            None => return Ok(default),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => match o.get("config") {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    let cls = o.get("class_name").and_then(Value::as_str).unwrap_or("?");
                    return Err(
                        self.err(key, format!("is an unsupported activation object '{cls}'"))
                    );
                }
            },
            Some(x) => return Err(self.err(key, format!("must be an activation name, got {x}"))),
        };
        Activation::from_name(&name).map_err(|e| self.err(key, strip(&e)))
    }

    /// An initialiser: a name or `{"class_name": ..., "config": {...}}`.
    /// Parameters we do not implement (e.g. an orthogonal `gain` other than 1)
    /// give an error; `seed` is ignored (lstmkit seeds every layer itself).
    pub fn initializer(&self, key: &str, default: Initializer) -> Result<Initializer> {
        let (cls, cfg) = match self.get(key) {
            None => return Ok(default),
            Some(Value::String(s)) => (s.clone(), None),
            Some(Value::Object(o)) => {
                let cls = o
                    .get("class_name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| self.err(key, "has no class_name"))?;
                (cls.to_string(), o.get("config"))
            }
            Some(x) => return Err(self.err(key, format!("must be an initializer, got {x}"))),
        };
        let init = Initializer::from_name(&cls).map_err(|e| self.err(key, strip(&e)))?;
        if let Some(Value::Object(p)) = cfg {
            for (k, val) in p {
                let ok = match (k.as_str(), init) {
                    ("seed" | "input_axes" | "output_axes", _) => true,
                    ("gain", Initializer::Orthogonal) => val.as_f64() == Some(1.0),
                    ("minval", Initializer::RandomUniform) => val.as_f64() == Some(-0.05),
                    ("maxval", Initializer::RandomUniform) => val.as_f64() == Some(0.05),
                    ("mean", Initializer::RandomNormal) => val.as_f64() == Some(0.0),
                    ("stddev", Initializer::RandomNormal) => val.as_f64() == Some(0.05),
                    _ => val.is_null(),
                };
                if !ok {
                    return Err(self.err(
                        key,
                        format!("{cls} with {k}={val} is not supported (only Keras' default parameters)"),
                    ));
                }
            }
        }
        Ok(init)
    }

    /// A regulariser (null = none).
    pub fn regularizer(&self, key: &str) -> Result<Option<Regularizer>> {
        match self.get(key) {
            None => Ok(None),
            Some(x) => Regularizer::from_keras(x).map_err(|e| self.err(key, strip(&e))),
        }
    }

    /// Options we do not implement: each must be absent, null or false.
    pub fn require_unset(&self, keys: &[&str]) -> Result<()> {
        for k in keys {
            if let Some(x) = self.get(k) {
                if x != &Value::Bool(false) {
                    return Err(self.err(k, format!("= {x} is not supported")));
                }
            }
        }
        Ok(())
    }

    /// Options we do not implement unless zero (e.g. `dropout`).
    pub fn require_zero(&self, keys: &[&str]) -> Result<()> {
        for k in keys {
            let v = self.f32_or(k, 0.0)?;
            if v != 0.0 {
                return Err(self.err(k, format!("= {v} is not supported (only 0)")));
            }
        }
        Ok(())
    }

    /// The layer's dtype must be float32 (Keras 3 `DTypePolicy` or a plain string).
    pub fn check_dtype(&self) -> Result<()> {
        let name = match self.get("dtype") {
            None => return Ok(()),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o
                .get("config")
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("float32")
                .to_string(),
            Some(x) => return Err(self.err("dtype", format!("is not understood: {x}"))),
        };
        if name != "float32" {
            return Err(self.err(
                "dtype",
                format!("= '{name}' is not supported (lstmkit computes in float32)"),
            ));
        }
        Ok(())
    }
}

fn strip(e: &Error) -> String {
    match e {
        Error::Config(s) | Error::Shape(s) | Error::Data(s) | Error::Other(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Keras config keys that lstmkit keeps in a layer's config but Keras passes as
/// call arguments (`inbound_nodes[..]["kwargs"]`): the model reader merges them
/// into the config, the writer moves them back.
pub fn call_kwargs(class_name: &str) -> &'static [&'static str] {
    kind_of_class(class_name).map_or(&[], |k| k.call_kwargs)
}

fn rate(c: &Cfg, key: &str) -> Result<f32> {
    let r = c.f32_or(key, 0.0)?;
    if !(0.0..1.0).contains(&r) {
        return Err(c.err(key, format!("must be in [0, 1), got {r}")));
    }
    Ok(r)
}

fn seed(c: &Cfg) -> Result<Option<u64>> {
    match c.v.get("seed") {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .map(Some)
            .ok_or_else(|| c.err("seed", format!("must be a non-negative integer, got {x}"))),
    }
}

fn only_axis_minus_one(c: &Cfg) -> Result<()> {
    match c.v.get("axis") {
        None | Some(Value::Null) => Ok(()),
        Some(x) if x.as_i64() == Some(-1) => Ok(()),
        Some(Value::Array(a)) if a.len() == 1 && a[0].as_i64() == Some(-1) => Ok(()),
        Some(x) => Err(c.err(
            "axis",
            format!("= {x} is not supported (only -1, the last axis)"),
        )),
    }
}

fn channels_last(c: &Cfg) -> Result<()> {
    let f = c.str_or("data_format", "channels_last")?;
    if f != "channels_last" {
        return Err(c.err(
            "data_format",
            format!("= '{f}' is not supported (channels_last)"),
        ));
    }
    Ok(())
}

/// `keras.layers.Attention` (with the call arguments merged in, see [`call_kwargs`]).
fn attention_from_config(c: &Cfg) -> Result<Attention> {
    let mut a = Attention::new();
    a.use_scale = c.bool_or("use_scale", false)?;
    a.score_mode = ScoreMode::from_name(&c.str_or("score_mode", "dot")?)
        .map_err(|e| c.err("score_mode", strip(&e)))?;
    a.dropout = rate(c, "dropout")?;
    a.seed = seed(c)?;
    a.use_causal_mask = c.bool_or("use_causal_mask", false)?;
    a.return_attention_scores = c.bool_or("return_attention_scores", false)?;
    Ok(a)
}

/// `keras.layers.Dropout`.
fn dropout_from_config(c: &Cfg) -> Result<Dropout> {
    let mut d = Dropout::new(rate(c, "rate")?);
    d.seed = seed(c)?;
    match c.v.get("noise_shape") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            let mut ns = Vec::new();
            for x in a {
                ns.push(match x {
                    // null (Keras' None) or 0 (TOML has no null): the input's size
                    Value::Null => None,
                    x if x.as_u64() == Some(0) => None,
                    x => Some(x.as_u64().ok_or_else(|| {
                        c.err(
                            "noise_shape",
                            format!("entries must be integers or null, got {x}"),
                        )
                    })? as usize),
                });
            }
            d.noise_shape = Some(ns);
        }
        Some(x) => return Err(c.err("noise_shape", format!("must be a list, got {x}"))),
    }
    Ok(d)
}

/// `keras.layers.BatchNormalization`.
fn batch_norm_from_config(c: &Cfg) -> Result<BatchNormalization> {
    c.require_unset(&[
        "beta_constraint",
        "gamma_constraint",
        "renorm",
        "renorm_clipping",
    ])?;
    only_axis_minus_one(c)?;
    // `synchronized` only matters across several devices; `renorm_momentum` only with renorm
    c.bool_or("synchronized", false)?;
    c.f32_or("renorm_momentum", 0.99)?;
    let mut b = BatchNormalization::new();
    b.momentum = c.f32_or("momentum", 0.99)?;
    b.epsilon = c.f32_or("epsilon", 1e-3)?;
    b.center = c.bool_or("center", true)?;
    b.scale = c.bool_or("scale", true)?;
    b.beta_initializer = c.initializer("beta_initializer", Initializer::Zeros)?;
    b.gamma_initializer = c.initializer("gamma_initializer", Initializer::Ones)?;
    b.moving_mean_initializer = c.initializer("moving_mean_initializer", Initializer::Zeros)?;
    b.moving_variance_initializer =
        c.initializer("moving_variance_initializer", Initializer::Ones)?;
    b.beta_regularizer = c.regularizer("beta_regularizer")?;
    b.gamma_regularizer = c.regularizer("gamma_regularizer")?;
    Ok(b)
}

/// `keras.layers.LayerNormalization`.
fn layer_norm_from_config(c: &Cfg) -> Result<LayerNormalization> {
    c.require_unset(&["beta_constraint", "gamma_constraint", "rms_scaling"])?;
    only_axis_minus_one(c)?;
    let mut l = LayerNormalization::new();
    l.epsilon = c.f32_or("epsilon", 1e-3)?;
    l.center = c.bool_or("center", true)?;
    l.scale = c.bool_or("scale", true)?;
    l.beta_initializer = c.initializer("beta_initializer", Initializer::Zeros)?;
    l.gamma_initializer = c.initializer("gamma_initializer", Initializer::Ones)?;
    l.beta_regularizer = c.regularizer("beta_regularizer")?;
    l.gamma_regularizer = c.regularizer("gamma_regularizer")?;
    Ok(l)
}

/// `keras.layers.TimeDistributed`.
fn time_distributed_from_config(c: &Cfg) -> Result<TimeDistributed> {
    let inner =
        c.v.get("layer")
            .filter(|v| !v.is_null())
            .ok_or_else(|| c.err("layer", "is missing"))?;
    let class = inner
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| c.err("layer", "has no class_name"))?;
    let cfg = inner.get("config").cloned().unwrap_or(Value::Null);
    let l = layer_from_config(class, &cfg).map_err(|e| c.err("layer", strip(&e)))?;
    Ok(TimeDistributed::from_boxed(l))
}

/// `keras.layers.Concatenate`.
fn concatenate_from_config(c: &Cfg) -> Result<Concatenate> {
    let axis = match c.v.get("axis") {
        None | Some(Value::Null) => -1,
        Some(x) => x
            .as_i64()
            .ok_or_else(|| c.err("axis", format!("must be an integer, got {x}")))?,
    };
    Ok(Concatenate::new(axis))
}

/// Global poolings (`keepdims` must be false).
fn check_pooling(c: &Cfg) -> Result<()> {
    channels_last(c)?;
    if c.bool_or("keepdims", false)? {
        return Err(c.err("keepdims", "= true is not supported"));
    }
    Ok(())
}

/// `keras.layers.Dense`.
fn dense_from_config(c: &Cfg) -> Result<Dense> {
    c.require_unset(&[
        "kernel_constraint",
        "bias_constraint",
        "activity_regularizer",
        "lora_rank",
        "quantization_config",
    ])?;
    let mut d = Dense::new(c.usize("units")?);
    if d.units == 0 {
        return Err(c.err("units", "must be > 0"));
    }
    d.activation = c.activation("activation", Activation::Linear)?;
    d.use_bias = c.bool_or("use_bias", true)?;
    d.kernel_initializer = c.initializer("kernel_initializer", Initializer::GlorotUniform)?;
    d.bias_initializer = c.initializer("bias_initializer", Initializer::Zeros)?;
    d.kernel_regularizer = c.regularizer("kernel_regularizer")?;
    d.bias_regularizer = c.regularizer("bias_regularizer")?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lstm_options_round_trip() {
        let cfg = json!({
            "name": "enc", "units": 5, "activation": "relu", "recurrent_activation": "hard_sigmoid",
            "use_bias": false, "unit_forget_bias": false,
            "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": 3}},
            "recurrent_initializer": "glorot_uniform", "bias_initializer": "ones",
            "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.02}},
            "recurrent_regularizer": {"class_name": "L1", "config": {"l1": 0.5}},
            "bias_regularizer": {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}},
            "return_sequences": true, "return_state": true, "go_backwards": true, "stateful": true,
            "dropout": 0.25, "recurrent_dropout": 0.5, "implementation": 1, "unroll": true,
            "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
        });
        let l = layer_from_config("LSTM", &cfg).unwrap();
        let c = l.config();
        assert_eq!(c["units"], 5);
        assert_eq!(c["activation"], "relu");
        assert_eq!(c["recurrent_activation"], "hard_sigmoid");
        assert_eq!(c["use_bias"], false);
        assert_eq!(c["unit_forget_bias"], false);
        assert_eq!(c["kernel_initializer"], "he_normal");
        assert_eq!(c["recurrent_initializer"], "glorot_uniform");
        assert_eq!(c["bias_initializer"], "ones");
        assert_eq!(c["return_sequences"], true);
        assert_eq!(c["return_state"], true);
        assert_eq!(c["go_backwards"], true);
        assert_eq!(c["stateful"], true);
        assert_eq!(c["dropout"], 0.25);
        assert_eq!(c["recurrent_dropout"], 0.5);
        assert_eq!(c["kernel_regularizer"]["class_name"], "L2");
        assert_eq!(c["recurrent_regularizer"]["class_name"], "L1");
        assert_eq!(c["bias_regularizer"]["class_name"], "L1L2");
        // our own config reads back to the same config
        let again = layer_from_config("LSTM", &c).unwrap().config();
        assert_eq!(again, c);
        assert_eq!(l.num_outputs(), 3);
    }

    #[test]
    fn dense_options_round_trip() {
        let cfg = json!({"name": "out", "units": 4, "activation": "tanh", "use_bias": false,
                         "kernel_initializer": "lecun_uniform",
                         "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.001}}});
        let c = layer_from_config("Dense", &cfg).unwrap().config();
        assert_eq!(c["units"], 4);
        assert_eq!(c["activation"], "tanh");
        assert_eq!(c["use_bias"], false);
        assert_eq!(c["kernel_initializer"], "lecun_uniform");
        assert_eq!(layer_from_config("Dense", &c).unwrap().config(), c);
    }

    #[test]
    fn initializers_lstmkit_cannot_draw_from_are_relaxed_for_loaded_weights() {
        let mut cfg = json!({"name": "bi", "layer": {"class_name": "LSTM", "config": {
            "units": 3,
            "kernel_initializer": {"class_name": "TruncatedNormal", "config": {"stddev": 0.2}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 2.0}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}}}});
        assert!(layer_from_config("Bidirectional", &cfg).is_err());
        assert_eq!(relax_initializers(&mut cfg), 2);
        let c = &cfg["layer"]["config"];
        assert!(c["kernel_initializer"].is_null() && c["recurrent_initializer"].is_null());
        assert_eq!(
            c["bias_initializer"]["class_name"], "Zeros",
            "supported ones stay"
        );
        assert!(layer_from_config("Bidirectional", &cfg).is_ok());
    }

    fn err(class: &str, cfg: Value) -> String {
        match layer_from_config(class, &cfg) {
            Ok(_) => panic!("{cfg} should be refused"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unsupported_options_name_layer_and_option() {
        let e = err(
            "LSTM",
            json!({"name": "l1", "units": 4, "kernel_constraint": {"class_name": "MaxNorm"}}),
        );
        assert!(e.contains("'l1'") && e.contains("kernel_constraint"), "{e}");
        let e = err("LSTM", json!({"name": "l2", "units": 4, "dropout": 1.5}));
        assert!(e.contains("'l2'") && e.contains("dropout"), "{e}");
        let e = err(
            "LSTM",
            json!({"name": "l3", "units": 4, "activation": "mish"}),
        );
        assert!(
            e.contains("'l3'") && e.contains("activation") && e.contains("mish"),
            "{e}"
        );
        let e = err(
            "GRU",
            json!({"name": "l4", "units": 4, "recurrent_activation": "swish"}),
        );
        assert!(
            e.contains("'l4'") && e.contains("recurrent_activation"),
            "{e}"
        );
        let e = err(
            "LSTM",
            json!({"name": "l4", "units": 4, "recurrent_activation": "mish"}),
        );
        assert!(
            e.contains("'l4'") && e.contains("recurrent_activation"),
            "{e}"
        );
        let e = err(
            "LSTM",
            json!({"name": "l5", "units": 4, "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 2.0}}}),
        );
        assert!(e.contains("gain"), "{e}");
        let e = err("LSTM", json!({"name": "l6"}));
        assert!(e.contains("units") && e.contains("missing"), "{e}");
        let e = err(
            "Dense",
            json!({"name": "d", "units": 2, "dtype": "float16"}),
        );
        assert!(e.contains("dtype") && e.contains("float16"), "{e}");
        let e = err(
            "Dense",
            json!({"name": "d", "units": 2, "activity_regularizer": {"class_name": "L2"}}),
        );
        assert!(e.contains("activity_regularizer"), "{e}");
        let e = err("Conv2D", json!({"name": "conv"}));
        assert!(
            e.contains("'conv'") && e.contains("Conv2D") && e.contains("Conv1D,"),
            "{e}"
        );
        let e = err("Dense", json!({"name": "d", "units": "four"}));
        assert!(e.contains("units"), "{e}");
    }
}
