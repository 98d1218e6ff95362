//! `Dense`: `y = act(x·W + b)` over the last axis (any leading axes).

use serde::{Deserialize, Serialize};

use super::config::{self, Unsupported};
use super::{Activation, Grad, Initializer, Layer, Param, Shape, Unary};
use crate::error::{Error, Result};
use crate::nn::gemm;
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

kernel_bias_config! {
/// `keras.layers.Dense`'s options, with Keras' names and defaults.
///
/// ```
/// use lstmkit::nn::dense::DenseConfig;
/// let c: DenseConfig = lstmkit::nn::config::read_keras(
///     "Dense", &serde_json::json!({"name": "out", "units": 4, "activation": "relu"})).unwrap();
/// assert_eq!((c.units, c.activation.name(), c.use_bias), (4, "relu", true));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    /// Output width (≥ 1).
    #[serde(deserialize_with = "config::usize_lenient")]
    pub units: usize,
    /// Activation applied to `x·W + b`.
    #[serde(default)]
    pub activation: Activation,
    /// Not implemented.
    #[serde(default, skip_serializing)]
    pub activity_regularizer: Unsupported,
    /// Not implemented (LoRA fine-tuning).
    #[serde(default, skip_serializing)]
    pub lora_rank: Unsupported,
    /// Not implemented (quantised kernels).
    #[serde(default, skip_serializing)]
    pub quantization_config: Unsupported,
}
}

impl DenseConfig {
    /// `units` outputs and Keras' defaults.
    pub fn new(units: usize) -> Self {
        config::defaults(serde_json::json!({ "units": units }))
    }
    fn check(&self, name: &str) -> Result<()> {
        if self.units == 0 {
            return Err(config::option_error("Dense", name, "units", "must be > 0"));
        }
        Ok(())
    }
}

layer_config!(DenseConfig => Dense, "Dense", "dense", check = DenseConfig::check);

/// A fully connected layer, as `keras.layers.Dense`.
///
/// ```
/// use lstmkit::nn::{Dense, Activation};
/// let d = Dense::new(4).activation(Activation::Relu).use_bias(true);
/// assert_eq!(d.config.units, 4);
/// ```
pub struct Dense {
    /// The options.
    pub config: DenseConfig,
    kernel: Param,
    bias: Param,
    in_dim: usize,
    pre: Vec<f32>,
    dz: Vec<f32>,
}

impl Dense {
    /// A Dense layer with `units` outputs and Keras' defaults.
    pub fn new(units: usize) -> Self {
        Self::from_config(DenseConfig::new(units))
    }
    /// A Dense layer with these options.
    pub fn from_config(config: DenseConfig) -> Self {
        Dense {
            config,
            kernel: Param::default(),
            bias: Param::default(),
            in_dim: 0,
            pre: Vec::new(),
            dz: Vec::new(),
        }
    }
    setters! { config =>
        /// Sets the activation.
        activation: Activation,
        /// Sets `use_bias`.
        use_bias: bool,
        /// Sets the kernel regulariser.
        kernel_regularizer: Regularizer,
        /// Sets the bias regulariser.
        bias_regularizer: Regularizer,
        /// Sets the kernel initialiser.
        kernel_initializer: Initializer,
    }
}

impl Layer for Dense {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        let s = super::one_input("Dense", input_shapes)?;
        let Some(&f) = s.last() else {
            return Err(Error::Shape(
                "Dense needs an input of rank ≥ 2 (batch, features)".into(),
            ));
        };
        if f == 0 || self.config.units == 0 {
            return Err(Error::Shape(format!(
                "Dense needs a known input width and units > 0 (input {s:?}, units {})",
                self.config.units
            )));
        }
        let (u, c) = (self.config.units, &self.config);
        self.kernel
            .ensure("kernel", &[f, u], c.kernel_regularizer, || {
                c.kernel_initializer.fill(f, u, rng)
            });
        if c.use_bias {
            self.bias.ensure("bias", &[u], c.bias_regularizer, || {
                c.bias_initializer.fill(1, u, rng)
            });
        }
        self.in_dim = f;
        let mut out = s.clone();
        *out.last_mut().expect("non-empty") = u;
        Ok(vec![out])
    }

    unary_passes!();

    fn flops(&self, input_shapes: &[Shape]) -> u64 {
        let s = input_shapes.first().map_or(&[][..], |s| s.as_slice());
        let rows: usize = s.iter().rev().skip(1).product();
        2 * (rows * self.in_dim * self.config.units) as u64
    }

    kernel_bias_params!();
}

impl Unary for Dense {
    // x: (rows.., f) → y: (rows.., u) = act(x·kernel + bias)
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let f = self.in_dim;
        let rows = super::rows_of("Dense", x, f)?;
        let u = self.config.units;
        // the output shape is the input's with the last axis = units, set in place
        y.shape.clear();
        y.shape.extend_from_slice(&x.shape);
        *y.shape.last_mut().expect("rank ≥ 1") = u;
        y.data.resize(rows * u, 0.0);
        let beta = if self.config.use_bias {
            for r in 0..rows {
                y.data[r * u..(r + 1) * u].copy_from_slice(&self.bias.value.data);
            }
            1.0
        } else {
            0.0
        };
        let kernel = &self.kernel.value.data;
        gemm::gemm_nn(rows, f, u, &x.data, kernel, beta, &mut y.data);
        self.config
            .activation
            .apply_cached(&mut self.pre, &mut y.data);
        Ok(())
    }

    // dz = dy ⊙ act'(pre); dkernel += xᵀ·dz, dbias += Σ dz, dx = dz·kernelᵀ
    fn backward1(&mut self, x: &Tensor, y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let f = self.in_dim;
        let u = self.config.units;
        let rows = x.len() / f;
        let act = self.config.activation;
        let dz = act.backprop_cached(&self.pre, &y.data, &dy.data, &mut self.dz);
        gemm::gemm_tn(f, rows, u, &x.data, dz, 1.0, &mut self.kernel.grad.data);
        if self.config.use_bias {
            let db = &mut self.bias.grad.data;
            for r in 0..rows {
                for (g, d) in db.iter_mut().zip(&dz[r * u..(r + 1) * u]) {
                    *g += d;
                }
            }
        }
        if let Some(dx) = dx {
            let kernel = &self.kernel.value.data;
            gemm::gemm_nt(rows, u, f, dz, kernel, 0.0, &mut dx.data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::DenseConfig;
    use crate::nn::config_check::{check_config, float32, init, refused};
    use serde_json::json;

    #[test]
    fn dense_config_reads_writes_and_refuses() {
        check_config::<DenseConfig>(
            json!({"name": "d", "trainable": true, "dtype": float32(), "units": 4.0,
                   "activation": "relu", "use_bias": false,
                   "kernel_initializer": init("HeNormal"), "bias_initializer": init("Ones"),
                   "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2",
                                          "config": {"l2": 0.01}, "registered_name": null},
                   "bias_regularizer": null, "activity_regularizer": null,
                   "kernel_constraint": null, "bias_constraint": null,
                   "quantization_config": null}),
            json!({"units": 4, "activation": "relu", "use_bias": false,
                   "kernel_initializer": "he_normal", "bias_initializer": "ones",
                   "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01f32}},
                   "bias_regularizer": null}),
        );
        check_config::<DenseConfig>(
            json!({"name": "d", "units": 3}),
            json!({"units": 3, "activation": "linear", "use_bias": true,
                   "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
                   "kernel_regularizer": null, "bias_regularizer": null}),
        );
        for (cfg, key) in [
            (json!({"name": "d", "units": 0}), "units"),
            (json!({"name": "d"}), "units"),
            (
                json!({"name": "d", "units": 2, "lora_rank": 4}),
                "lora_rank",
            ),
            (
                json!({"name": "d", "units": 2, "kernel_constraint": {"class_name": "MaxNorm"}}),
                "kernel_constraint",
            ),
            (
                json!({"name": "d", "units": 2, "use_bias": "yes"}),
                "use_bias",
            ),
            (
                json!({"name": "d", "units": 2, "kernel_regularizer": {"class_name": "L2", "config": {"l2": -1.0}}}),
                "kernel_regularizer",
            ),
        ] {
            let e = refused("Dense", cfg);
            assert!(e.contains("'d'") && e.contains(&format!("'{key}'")), "{e}");
        }
    }
}
