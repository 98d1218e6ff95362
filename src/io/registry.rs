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

use crate::error::Result;

pub use crate::nn::{layer_from_config, layer_from_table};

use crate::nn::{kind_of_class, VarLayout};

/// A layer's variables with their places in Keras' layout
/// ([`keras_var_layout`]): `(group, index in it, variable)`, in order. An error
/// names the layer (`name`) when the layout does not cover its variables exactly.
pub fn keras_vars<'a>(
    name: &str,
    layer: &'a dyn crate::nn::Layer,
) -> Result<Vec<(String, usize, &'a crate::nn::Param)>> {
    let params = layer.params();
    let layout = keras_var_layout(layer.class_name(), &layer.config(), params.len());
    let mismatch = |what: &str| {
        crate::error::Error::Other(format!(
            "layer '{name}': weight layout does not {what} its variables"
        ))
    };
    let mut it = params.into_iter();
    let mut out = Vec::new();
    for (sub, count) in layout {
        for k in 0..count {
            out.push((sub.clone(), k, it.next().ok_or_else(|| mismatch("match"))?));
        }
    }
    if it.next().is_some() {
        return Err(mismatch("cover all"));
    }
    Ok(out)
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
                    if crate::nn::config::initializer_from(v).is_err() {
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

/// Keras config keys that lstmkit keeps in a layer's config but Keras passes as
/// call arguments (`inbound_nodes[..]["kwargs"]`): the model reader merges them
/// into the config, the writer moves them back.
pub fn call_kwargs(class_name: &str) -> &'static [&'static str] {
    kind_of_class(class_name).map_or(&[], |k| k.call_kwargs)
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
        // (class, config, what the error must name)
        let cases: [(&str, Value, &[&str]); 12] = [
            (
                "LSTM",
                json!({"name": "l1", "units": 4, "kernel_constraint": {"class_name": "MaxNorm"}}),
                &["'l1'", "kernel_constraint"],
            ),
            (
                "LSTM",
                json!({"name": "l2", "units": 4, "dropout": 1.5}),
                &["'l2'", "dropout"],
            ),
            (
                "LSTM",
                json!({"name": "l3", "units": 4, "activation": "mish"}),
                &["'l3'", "activation", "mish"],
            ),
            (
                "GRU",
                json!({"name": "l4", "units": 4, "recurrent_activation": "swish"}),
                &["'l4'", "recurrent_activation"],
            ),
            (
                "LSTM",
                json!({"name": "l4", "units": 4, "recurrent_activation": "mish"}),
                &["'l4'", "recurrent_activation"],
            ),
            (
                "LSTM",
                json!({"name": "l5", "units": 4, "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 2.0}}}),
                &["gain"],
            ),
            ("LSTM", json!({"name": "l6"}), &["units", "missing"]),
            (
                "Dense",
                json!({"name": "d", "units": 2, "dtype": "float16"}),
                &["dtype", "float16"],
            ),
            (
                "Dense",
                json!({"name": "d", "units": 2, "activity_regularizer": {"class_name": "L2"}}),
                &["activity_regularizer"],
            ),
            (
                "Conv2D",
                json!({"name": "conv"}),
                &["'conv'", "Conv2D", "Conv1D,"],
            ),
            ("Dense", json!({"name": "d", "units": "four"}), &["units"]),
            ("Dense", json!({"name": "d", "units": 0}), &["'d'", "units"]),
        ];
        for (class, cfg, words) in cases {
            let e = err(class, cfg);
            for w in words {
                assert!(e.contains(w), "{class}: '{w}' not in: {e}");
            }
        }
    }
}
