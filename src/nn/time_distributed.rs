//! `TimeDistributed(layer)`: applies `layer` to every time step of (B, T, ...)
//! independently, by running it on (B·T, ...) (Keras' `keras.layers.TimeDistributed`).
//! The variables are the inner layer's.

use serde::{Deserialize, Serialize};

use super::config::{self, NestedLayer};
use super::{Grad, Layer, LayerConfig, Param, Shape, Unary, VarLayout};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// `keras.layers.TimeDistributed`'s options: the wrapped layer, as Keras'
/// `{"class_name": ..., "config": {...}}` or an experiment table with its own
/// `type` (`layer = { type = "dense", units = 3 }`, named `NAME/layer` in errors).
/// The built layer keeps the wrapped layer itself and writes this struct from
/// it ([`NestedLayer::of`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeDistributedConfig {
    /// The wrapped layer.
    pub layer: NestedLayer,
}

impl LayerConfig for TimeDistributedConfig {
    const CLASS: &'static str = "TimeDistributed";
    const KIND: &'static str = "time_distributed";
    const VARS: VarLayout = VarLayout::Wrapped;
    fn build(self, name: &str) -> Result<Box<dyn Layer>> {
        let layer = self.layer.build(Self::CLASS, name, "layer")?;
        Ok(Box::new(TimeDistributed::from_boxed(layer)))
    }
}

/// Keras' `TimeDistributed` wrapper (typically around `Dense`).
///
/// ```
/// use lstmkit::model::Sequential;
/// use lstmkit::nn::{Dense, TimeDistributed, LSTM};
/// use lstmkit::Tensor;
/// let mut m = Sequential::new(&[10, 1])
///     .add(LSTM::new(4).return_sequences(true))
///     .add(TimeDistributed::new(Dense::new(2)))
///     .build(1)
///     .unwrap();
/// assert_eq!(m.predict(&Tensor::zeros(&[3, 10, 1])).unwrap().shape, vec![3, 10, 2]);
/// ```
pub struct TimeDistributed {
    /// The wrapped layer.
    pub layer: Box<dyn Layer>,
    x2: Tensor,
    y2: Vec<Tensor>,
    g2: Tensor,
    gin2: Vec<Tensor>,
}

impl TimeDistributed {
    /// Wraps a layer.
    pub fn new(layer: impl Layer + 'static) -> Self {
        Self::from_boxed(Box::new(layer))
    }
    /// Wraps a boxed layer.
    pub fn from_boxed(layer: Box<dyn Layer>) -> Self {
        TimeDistributed {
            layer,
            x2: Tensor::default(),
            y2: vec![Tensor::default()],
            g2: Tensor::default(),
            gin2: vec![Tensor::default()],
        }
    }
}

impl Layer for TimeDistributed {
    fn class_name(&self) -> &'static str {
        "TimeDistributed"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 1 || input_shapes[0].len() < 2 {
            return Err(Error::Shape(format!(
                "TimeDistributed takes one input of rank ≥ 3 (batch, steps, ...), got {}",
                input_shapes
                    .iter()
                    .map(|s| super::fmt_shape(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if self.layer.num_outputs() != 1 {
            return Err(Error::Config(format!(
                "TimeDistributed needs a layer with one output, {} has {}",
                self.layer.class_name(),
                self.layer.num_outputs()
            )));
        }
        let s = &input_shapes[0];
        let inner = self.layer.build(&[s[1..].to_vec()], rng)?;
        let mut out = vec![s[0]];
        out.extend_from_slice(&inner[0]);
        Ok(vec![out])
    }

    unary_passes!();

    fn flops(&self, input_shapes: &[Shape]) -> u64 {
        match input_shapes.first() {
            Some(s) if !s.is_empty() => s[0] as u64 * self.layer.flops(&[s[1..].to_vec()]),
            _ => 0,
        }
    }

    fn params(&self) -> Vec<&Param> {
        self.layer.params()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layer.params_mut()
    }

    fn config(&self) -> serde_json::Value {
        config::write(&TimeDistributedConfig {
            layer: NestedLayer::of(&*self.layer),
        })
    }

    fn runtime_state(&self) -> serde_json::Value {
        self.layer.runtime_state()
    }

    fn set_runtime_state(&mut self, state: &serde_json::Value) -> Result<()> {
        self.layer.set_runtime_state(state)
    }
}

impl Unary for TimeDistributed {
    // x: (b, t, ...) → the inner layer on (b·t, ...) → y: (b, t, ...)
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()> {
        if x.ndim() < 3 {
            return Err(Error::Shape(format!(
                "TimeDistributed expects (batch, steps, ...), got {:?}",
                x.shape
            )));
        }
        let (b, t) = (x.shape[0], x.shape[1]);
        let mut shape = vec![b * t];
        shape.extend_from_slice(&x.shape[2..]);
        self.x2.resize_uninit(&shape);
        self.x2.data.copy_from_slice(&x.data);
        self.layer.forward(&[&self.x2], &mut self.y2, training)?;
        let y2 = &self.y2[0];
        let mut oshape = vec![b, t];
        oshape.extend_from_slice(&y2.shape[1..]);
        y.resize_uninit(&oshape);
        y.data.copy_from_slice(&y2.data);
        Ok(())
    }

    fn backward1(&mut self, _x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let ys = self.y2[0].shape.clone();
        self.g2.resize_uninit(&ys);
        self.g2.data.copy_from_slice(&dy.data);
        if dx.is_some() {
            let s = self.x2.shape.clone();
            self.gin2[0].resize_uninit(&s);
        } else {
            self.gin2[0].resize_zeroed(&[0]);
        }
        let y2: Vec<&Tensor> = self.y2.iter().collect();
        self.layer
            .backward(&[&self.x2], &y2, &[&self.g2], &mut self.gin2)?;
        if let Some(dx) = dx {
            dx.data.copy_from_slice(&self.gin2[0].data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TimeDistributedConfig;
    use crate::nn::config_check::{check_config, float32, refused};
    use crate::nn::layer_from_table;
    use serde_json::json;

    #[test]
    fn time_distributed_config_reads_writes_and_refuses() {
        let dense = json!({"units": 4, "activation": "tanh", "use_bias": true,
                           "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                           "kernel_regularizer": null, "bias_regularizer": null});
        check_config::<TimeDistributedConfig>(
            json!({"name": "td", "trainable": true, "dtype": float32(),
                   "layer": {"module": "keras.layers", "class_name": "Dense",
                             "config": {"name": "dense", "trainable": true, "dtype": float32(),
                                        "units": 4, "activation": "tanh"},
                             "registered_name": null}}),
            json!({"layer": {"module": "keras.layers", "class_name": "Dense", "config": dense,
                             "registered_name": null}}),
        );
        // the experiment form, with its own type
        let t = json!({"layer": {"type": "dense", "units": 4, "activation": "tanh"}});
        let l = layer_from_table("time_distributed", t.as_object().unwrap(), "td").unwrap();
        assert_eq!(l.config()["layer"]["config"], dense);
        for (layer, words) in [
            (
                json!({"type": "dense", "units": 3, "foo": 1}),
                ["td/layer", "'foo'"],
            ),
            (
                json!({"type": "densest", "units": 3}),
                ["'layer'", "densest"],
            ),
        ] {
            let t = json!({ "layer": layer });
            let e = match layer_from_table("time_distributed", t.as_object().unwrap(), "td") {
                Ok(_) => panic!("{t} should be refused"),
                Err(e) => e.to_string(),
            };
            assert!(
                e.contains("'td'") && words.iter().all(|w| e.contains(w)),
                "{e}"
            );
        }
        for (cfg, words) in [
            (json!({"name": "td"}), vec!["'td'", "'layer'", "missing"]),
            (
                json!({"name": "td", "layer": null}),
                vec!["'td'", "'layer'", "missing"],
            ),
            (json!({"name": "td", "layer": 3}), vec!["'td'", "'layer'"]),
            (
                json!({"name": "td", "layer": {"class_name": "Conv9D", "config": {}}}),
                vec!["'td'", "'layer'", "Conv9D"],
            ),
            (
                json!({"name": "td", "layer": {"class_name": "Dense", "config": {"name": "inner", "units": 0}}}),
                vec!["'td'", "'layer'", "'inner'", "'units'"],
            ),
        ] {
            let e = refused("TimeDistributed", cfg);
            assert!(words.iter().all(|w| e.contains(w)), "{e}");
        }
    }
}
