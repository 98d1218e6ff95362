//! `Dropout`: inverted dropout (Keras' `keras.layers.Dropout`).
//!
//! In training each element is zeroed with probability `rate` and the others
//! are scaled by 1/(1−rate); at inference the layer is the identity. The mask
//! stream is seeded from the model's build RNG (deterministic), and its state is
//! saved and restored through [`Layer::runtime_state`] so that a resumed run draws
//! the same masks.

use serde::{de, Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::config;
use super::rnn::common::{check_rate, fill_mask};
use super::{Grad, Layer, Shape, Unary};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// `keras.layers.Dropout`'s options, with Keras' names and defaults.
///
/// ```
/// use lstmkit::nn::dropout::DropoutConfig;
/// // an experiment table writes Keras' None in `noise_shape` as 0
/// let c: DropoutConfig = lstmkit::nn::config::read_table(
///     "Dropout", "drop", &serde_json::json!({"rate": 0.2, "noise_shape": [0, 1, 0]})).unwrap();
/// assert_eq!(c.noise_shape, Some(vec![None, Some(1), None]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutConfig {
    /// Fraction of the inputs dropped, in [0, 1).
    #[serde(default, deserialize_with = "config::rate")]
    pub rate: f32,
    /// Keras' `seed` (kept for the config; lstmkit seeds from the model seed).
    #[serde(default, deserialize_with = "config::seed")]
    pub seed: Option<u64>,
    /// Keras' `noise_shape` (batch axis included; `None` = that axis of the input):
    /// a 1 shares the mask along that axis. Read from a list of integers and
    /// nulls (0 also stands for `None`: TOML has no null).
    #[serde(default, deserialize_with = "noise_shape")]
    pub noise_shape: Option<Vec<Option<usize>>>,
}

/// Reads `noise_shape`: null, or a list of non-negative integers and nulls (0 = null).
fn noise_shape<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<Option<usize>>>, D::Error> {
    let a = match Value::deserialize(d)? {
        Value::Null => return Ok(None),
        Value::Array(a) => a,
        x => return Err(de::Error::custom(format!("must be a list, got {x}"))),
    };
    let entry = |x: &Value| match x {
        Value::Null => Ok(None),
        x => match x.as_u64() {
            Some(0) => Ok(None),
            Some(n) => usize::try_from(n)
                .map(Some)
                .map_err(|_| format!("entry {x} is too large")),
            None => Err(format!("entries must be integers or null, got {x}")),
        },
    };
    a.iter()
        .map(entry)
        .collect::<std::result::Result<Vec<_>, String>>()
        .map(Some)
        .map_err(de::Error::custom)
}

layer_config!(DropoutConfig => Dropout, "Dropout", "dropout");

/// Inverted dropout with Keras' semantics.
///
/// ```
/// use lstmkit::nn::{Dropout, Layer};
/// use lstmkit::rng::Rng;
/// use lstmkit::Tensor;
/// let mut d = Dropout::new(0.5);
/// d.build(&[vec![4]], &mut Rng::new(1)).unwrap();
/// let x = Tensor::new(&[2, 4], vec![1.0; 8]).unwrap();
/// let mut y = vec![Tensor::default()];
/// d.forward(&[&x], &mut y, true).unwrap();
/// assert!(y[0].data.iter().all(|v| *v == 0.0 || *v == 2.0));
/// d.forward(&[&x], &mut y, false).unwrap();
/// assert_eq!(y[0].data, x.data);
/// ```
pub struct Dropout {
    /// The options.
    pub config: DropoutConfig,
    rng: Rng,
    mask: Vec<f32>,
    mask_shape: Vec<usize>,
    applied: bool,
}

impl Dropout {
    /// A dropout layer dropping `rate` of its inputs in training.
    pub fn new(rate: f32) -> Self {
        Self::from_config(DropoutConfig {
            rate,
            ..DropoutConfig::default()
        })
    }

    /// A dropout layer with these options.
    pub fn from_config(config: DropoutConfig) -> Self {
        Dropout {
            config,
            rng: Rng::new(0),
            mask: Vec::new(),
            mask_shape: Vec::new(),
            applied: false,
        }
    }

    setters! { config =>
        /// Sets Keras' `noise_shape`.
        noise_shape: Vec<Option<usize>>,
    }

    /// Index of element `i` (of a tensor of `shape`) in the broadcast mask.
    #[inline]
    fn mask_index(shape: &[usize], mshape: &[usize], mut i: usize) -> usize {
        let mut idx = 0;
        let mut stride = 1;
        for d in (0..shape.len()).rev() {
            let c = i % shape[d];
            i /= shape[d];
            if mshape[d] != 1 {
                idx += c * stride;
            }
            stride *= mshape[d];
        }
        idx
    }
}

impl Layer for Dropout {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        let s = super::one_input("Dropout", input_shapes)?;
        check_rate("Dropout", "rate", self.config.rate)?;
        if let Some(ns) = &self.config.noise_shape {
            if ns.len() != s.len() + 1 {
                return Err(Error::Shape(format!(
                    "Dropout noise_shape {ns:?} must have one entry per axis of the input (batch{})",
                    s.iter().map(|d| format!(", {d}")).collect::<String>()
                )));
            }
            for (k, d) in ns.iter().enumerate().skip(1) {
                if let Some(d) = d {
                    if *d != 1 && *d != s[k - 1] {
                        return Err(Error::Shape(format!(
                            "Dropout noise_shape {ns:?} does not broadcast to the input {}",
                            super::fmt_shape(s)
                        )));
                    }
                }
            }
        }
        self.rng = rng.fork();
        Ok(vec![s.clone()])
    }

    unary_passes!();

    fn runtime_state(&self) -> serde_json::Value {
        serde_json::json!({ "rng": self.rng })
    }

    fn set_runtime_state(&mut self, state: &serde_json::Value) -> Result<()> {
        if let Some(r) = state.get("rng") {
            self.rng = serde_json::from_value(r.clone())
                .map_err(|e| Error::Config(format!("Dropout RNG state: {e}")))?;
        }
        Ok(())
    }
}

impl Unary for Dropout {
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()> {
        y.resize_uninit(&x.shape);
        self.applied = training && self.config.rate > 0.0;
        if !self.applied {
            y.data.copy_from_slice(&x.data);
            return Ok(());
        }
        match &self.config.noise_shape {
            None => {
                self.mask.resize(x.len(), 0.0);
                fill_mask(&mut self.mask, self.config.rate, &mut self.rng);
                for ((o, a), m) in y.data.iter_mut().zip(&x.data).zip(&self.mask) {
                    *o = a * m;
                }
            }
            Some(ns) => {
                self.mask_shape.clear();
                for (k, d) in ns.iter().enumerate() {
                    let full = x.shape[k];
                    self.mask_shape.push(match d {
                        Some(1) => 1,
                        _ => full,
                    });
                }
                let n: usize = self.mask_shape.iter().product();
                self.mask.resize(n, 0.0);
                fill_mask(&mut self.mask, self.config.rate, &mut self.rng);
                for i in 0..x.len() {
                    let mi = Self::mask_index(&x.shape, &self.mask_shape, i);
                    y.data[i] = x.data[i] * self.mask[mi];
                }
            }
        }
        Ok(())
    }

    fn backward1(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let g = &dy.data;
        let Some(dx) = dx else { return Ok(()) };
        let gx = &mut dx.data;
        if !self.applied {
            gx.copy_from_slice(g);
        } else if self.config.noise_shape.is_none() {
            for ((o, a), m) in gx.iter_mut().zip(g).zip(&self.mask) {
                *o = a * m;
            }
        } else {
            for i in 0..x.len() {
                gx[i] = g[i] * self.mask[Self::mask_index(&x.shape, &self.mask_shape, i)];
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::DropoutConfig;
    use crate::nn::config_check::{check_config, float32, refused};
    use serde_json::json;

    #[test]
    fn dropout_config_reads_writes_and_refuses() {
        check_config::<DropoutConfig>(
            json!({"name": "drop", "trainable": true, "dtype": float32(), "rate": 0.3,
                   "seed": 5, "noise_shape": [null, 1, 4]}),
            json!({"rate": 0.3f32, "seed": 5, "noise_shape": [null, 1, 4]}),
        );
        check_config::<DropoutConfig>(
            json!({"name": "drop", "rate": 0.2, "seed": null, "noise_shape": null}),
            json!({"rate": 0.2f32, "seed": null, "noise_shape": null}),
        );
        for (cfg, key) in [
            (json!({"name": "drop", "rate": 1.0}), "rate"),
            (json!({"name": "drop", "rate": -0.1}), "rate"),
            (json!({"name": "drop", "rate": 0.1, "seed": -3}), "seed"),
            (
                json!({"name": "drop", "rate": 0.1, "noise_shape": 3}),
                "noise_shape",
            ),
            (
                json!({"name": "drop", "rate": 0.1, "noise_shape": [null, 1.5]}),
                "noise_shape",
            ),
        ] {
            let e = refused("Dropout", cfg);
            assert!(
                e.contains("'drop'") && e.contains(&format!("'{key}'")),
                "{e}"
            );
        }
    }
}
