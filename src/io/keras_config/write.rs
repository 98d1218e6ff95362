//! Writing a [`Model`] as a Keras 3 functional config.

use serde_json::{json, Value};

use super::{build, parse};
use crate::error::Result;
use crate::io::registry;
use crate::model::{Model, Src};
use crate::nn::Shape;

pub(super) fn shape_json(s: &[usize]) -> Value {
    let mut v = vec![Value::Null];
    v.extend(
        s.iter()
            .map(|&d| if d == 0 { Value::Null } else { json!(d) }),
    );
    Value::Array(v)
}

pub(super) fn dtype_policy() -> Value {
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
