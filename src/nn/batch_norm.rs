//! `BatchNormalization` over the last axis (Keras' `axis=-1`).
//!
//! Training: normalise with the batch mean and (biased) variance over every
//! axis but the last, and update the moving statistics with Keras' formula
//! `moving = moving·momentum + batch·(1 − momentum)`. Inference: normalise
//! with the moving statistics. `y = (x − mean)/sqrt(var + epsilon)·gamma + beta`.
//! Variables: gamma, beta (trainable), moving_mean, moving_variance (not trainable).

use serde::{Deserialize, Serialize};

use super::config::{self, Ignored, Unsupported};
use super::layer_norm::affine;
use super::{Grad, Initializer, Layer, Param, Shape, Unary};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

fn momentum() -> f32 {
    0.99
}

affine_norm_config! {
/// `keras.layers.BatchNormalization`'s options, with Keras' names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormalizationConfig {
    /// Moving-average momentum.
    #[serde(default = "momentum")]
    pub momentum: f32,
    /// Initialiser of moving_mean.
    #[serde(default = "config::zeros")]
    pub moving_mean_initializer: Initializer,
    /// Initialiser of moving_variance.
    #[serde(default = "config::ones")]
    pub moving_variance_initializer: Initializer,
    /// Keras' synchronised statistics across devices (one device here: changes nothing).
    #[serde(default)]
    pub synchronized: bool,
    /// Not implemented (batch renormalisation).
    #[serde(default, skip_serializing)]
    pub renorm: Unsupported,
    /// Not implemented (batch renormalisation).
    #[serde(default, skip_serializing)]
    pub renorm_clipping: Unsupported,
    /// Used only with `renorm`: a number, read and not kept.
    #[serde(default, skip_serializing, deserialize_with = "config::ignored_number")]
    pub renorm_momentum: Ignored,
}
}

layer_config!(BatchNormalizationConfig => BatchNormalization, "BatchNormalization", "batch_normalization");

/// Keras' `BatchNormalization` (axis −1).
///
/// ```
/// use lstmkit::nn::{BatchNormalization, Layer};
/// use lstmkit::rng::Rng;
/// use lstmkit::Tensor;
/// let mut bn = BatchNormalization::new();
/// bn.build(&[vec![2]], &mut Rng::new(0)).unwrap();
/// let x = Tensor::new(&[2, 2], vec![0.0, 10.0, 2.0, 30.0]).unwrap();
/// let mut y = vec![Tensor::default()];
/// bn.forward(&[&x], &mut y, true).unwrap();
/// assert!((y[0].data[0] + 1.0).abs() < 1e-3 && (y[0].data[2] - 1.0).abs() < 1e-3);
/// // moving_mean moved 1 % towards the batch mean (1, 20)
/// let mm = &bn.params()[2].value.data;
/// assert!((mm[0] - 0.01).abs() < 1e-6 && (mm[1] - 0.2).abs() < 1e-6);
/// ```
pub struct BatchNormalization {
    /// The options.
    pub config: BatchNormalizationConfig,
    gamma: Param,
    beta: Param,
    moving_mean: Param,
    moving_var: Param,
    c: usize,
    training: bool,
    xhat: Vec<f32>,
    inv_std: Vec<f32>,
    mean: Vec<f32>,
    acc1: Vec<f64>,
    acc2: Vec<f64>,
}

new_with_defaults!(BatchNormalization: BatchNormalizationConfig, "Keras' defaults: momentum 0.99, epsilon 1e-3, center and scale.");

impl BatchNormalization {
    /// A BatchNormalization layer with these options.
    pub fn from_config(config: BatchNormalizationConfig) -> Self {
        BatchNormalization {
            config,
            gamma: Param::default(),
            beta: Param::default(),
            moving_mean: Param::default(),
            moving_var: Param::default(),
            c: 0,
            training: false,
            xhat: Vec::new(),
            inv_std: Vec::new(),
            mean: Vec::new(),
            acc1: Vec::new(),
            acc2: Vec::new(),
        }
    }
    setters! { config =>
        /// Sets the momentum.
        momentum: f32,
        /// Sets epsilon.
        epsilon: f32,
        /// Sets `center` (use beta).
        center: bool,
        /// Sets `scale` (use gamma).
        scale: bool,
    }
}

impl Layer for BatchNormalization {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        let s = super::one_input("BatchNormalization", input_shapes)?;
        let c = super::known_last_axis("BatchNormalization", s)?;
        if self.config.epsilon.is_nan() || self.config.epsilon <= 0.0 {
            return Err(Error::Config(format!(
                "BatchNormalization epsilon must be > 0, got {}",
                self.config.epsilon
            )));
        }
        let cfg = &self.config;
        let vars: [(&mut Param, &str, Initializer, Option<Regularizer>, bool); 4] = [
            (
                &mut self.gamma,
                "gamma",
                cfg.gamma_initializer,
                cfg.gamma_regularizer,
                cfg.scale,
            ),
            (
                &mut self.beta,
                "beta",
                cfg.beta_initializer,
                cfg.beta_regularizer,
                cfg.center,
            ),
            (
                &mut self.moving_mean,
                "moving_mean",
                cfg.moving_mean_initializer,
                None,
                true,
            ),
            (
                &mut self.moving_var,
                "moving_variance",
                cfg.moving_variance_initializer,
                None,
                true,
            ),
        ];
        for (i, (p, name, init, reg, wanted)) in vars.into_iter().enumerate() {
            if wanted {
                p.ensure(name, &[c], reg, || init.fill(1, c, rng));
                p.trainable = i < 2; // the moving statistics are not trained
            }
        }
        self.c = c;
        Ok(vec![s.clone()])
    }

    unary_passes!();

    fn params(&self) -> Vec<&Param> {
        let c = &self.config;
        super::present([
            (&self.gamma, c.scale),
            (&self.beta, c.center),
            (&self.moving_mean, true),
            (&self.moving_var, true),
        ])
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let c = &self.config;
        super::present([
            (&mut self.gamma, c.scale),
            (&mut self.beta, c.center),
            (&mut self.moving_mean, true),
            (&mut self.moving_var, true),
        ])
    }
}

impl Unary for BatchNormalization {
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()> {
        let c = self.c;
        let rows = super::rows_of("BatchNormalization", x, c)?;
        self.training = training;
        self.mean.resize(c, 0.0);
        self.inv_std.resize(c, 0.0);
        if training {
            if rows == 0 {
                return Err(Error::Shape("BatchNormalization got an empty batch".into()));
            }
            self.acc1.clear();
            self.acc1.resize(c, 0.0);
            self.acc2.clear();
            self.acc2.resize(c, 0.0);
            for r in x.data.chunks_exact(c) {
                for j in 0..c {
                    self.acc1[j] += r[j] as f64;
                }
            }
            for j in 0..c {
                self.acc1[j] /= rows as f64;
            }
            for r in x.data.chunks_exact(c) {
                for j in 0..c {
                    let d = r[j] as f64 - self.acc1[j];
                    self.acc2[j] += d * d;
                }
            }
            let m = self.config.momentum;
            for j in 0..c {
                let mean = self.acc1[j] as f32;
                let var = (self.acc2[j] / rows as f64) as f32;
                self.mean[j] = mean;
                self.inv_std[j] = 1.0 / (var + self.config.epsilon).sqrt();
                let mm = &mut self.moving_mean.value.data[j];
                *mm = *mm * m + mean * (1.0 - m);
                let mv = &mut self.moving_var.value.data[j];
                *mv = *mv * m + var * (1.0 - m);
            }
        } else {
            for j in 0..c {
                self.mean[j] = self.moving_mean.value.data[j];
                self.inv_std[j] =
                    1.0 / (self.moving_var.value.data[j] + self.config.epsilon).sqrt();
            }
        }
        y.resize_uninit(&x.shape);
        self.xhat.resize(x.len(), 0.0);
        for ((yr, xr), hr) in y
            .data
            .chunks_exact_mut(c)
            .zip(x.data.chunks_exact(c))
            .zip(self.xhat.chunks_exact_mut(c))
        {
            for j in 0..c {
                let h = (xr[j] - self.mean[j]) * self.inv_std[j];
                hr[j] = h;
                yr[j] = h * affine(&self.gamma, self.config.scale, j, 1.0)
                    + affine(&self.beta, self.config.center, j, 0.0);
            }
        }
        Ok(())
    }

    fn backward1(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let c = self.c;
        let rows = x.len() / c;
        let gy = &dy.data;
        // Σ dy and Σ dy·xhat per channel
        self.acc1.clear();
        self.acc1.resize(c, 0.0);
        self.acc2.clear();
        self.acc2.resize(c, 0.0);
        for (gr, hr) in gy.chunks_exact(c).zip(self.xhat.chunks_exact(c)) {
            for j in 0..c {
                self.acc1[j] += gr[j] as f64;
                self.acc2[j] += (gr[j] * hr[j]) as f64;
            }
        }
        if self.config.scale {
            for j in 0..c {
                self.gamma.grad.data[j] += self.acc2[j] as f32;
            }
        }
        if self.config.center {
            for j in 0..c {
                self.beta.grad.data[j] += self.acc1[j] as f32;
            }
        }
        let Some(dx) = dx else { return Ok(()) };
        let gx = &mut dx.data;
        let n = rows as f32;
        for ((o, gr), hr) in gx
            .chunks_exact_mut(c)
            .zip(gy.chunks_exact(c))
            .zip(self.xhat.chunks_exact(c))
        {
            for j in 0..c {
                let k = affine(&self.gamma, self.config.scale, j, 1.0) * self.inv_std[j];
                o[j] = if self.training {
                    k * (gr[j] - (self.acc1[j] as f32) / n - hr[j] * (self.acc2[j] as f32) / n)
                } else {
                    k * gr[j]
                };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::BatchNormalizationConfig;
    use crate::nn::config_check::{check_config, float32, init, refused};
    use serde_json::json;

    #[test]
    fn batch_normalization_config_reads_writes_and_refuses() {
        check_config::<BatchNormalizationConfig>(
            json!({"name": "bn", "trainable": true, "dtype": float32(), "axis": [-1],
                   "momentum": 0.9, "epsilon": 1e-5, "center": false, "scale": true,
                   "beta_initializer": init("Zeros"), "gamma_initializer": init("Ones"),
                   "moving_mean_initializer": init("Zeros"),
                   "moving_variance_initializer": init("Ones"),
                   "beta_regularizer": {"class_name": "L1", "config": {"l1": 0.5}},
                   "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null,
                   "synchronized": false, "renorm_momentum": 0.5}),
            json!({"axis": -1, "momentum": 0.9f32, "epsilon": 1e-5f32, "center": false,
                   "scale": true, "beta_initializer": "zeros", "gamma_initializer": "ones",
                   "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
                   "beta_regularizer": {"class_name": "L1", "config": {"l1": 0.5}},
                   "gamma_regularizer": null, "synchronized": false}),
        );
        check_config::<BatchNormalizationConfig>(
            json!({"name": "bn"}),
            json!({"axis": -1, "momentum": 0.99f32, "epsilon": 1e-3f32, "center": true,
                   "scale": true, "beta_initializer": "zeros", "gamma_initializer": "ones",
                   "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
                   "beta_regularizer": null, "gamma_regularizer": null, "synchronized": false}),
        );
        for (cfg, key) in [
            (json!({"name": "bn", "axis": 1}), "axis"),
            (json!({"name": "bn", "axis": [1, 2]}), "axis"),
            (json!({"name": "bn", "renorm": true}), "renorm"),
            (
                json!({"name": "bn", "renorm_clipping": {"rmax": 3}}),
                "renorm_clipping",
            ),
            (
                json!({"name": "bn", "renorm_momentum": "fast"}),
                "renorm_momentum",
            ),
            (json!({"name": "bn", "synchronized": 3}), "synchronized"),
            (
                json!({"name": "bn", "gamma_constraint": {"class_name": "NonNeg"}}),
                "gamma_constraint",
            ),
            (json!({"name": "bn", "momentum": "high"}), "momentum"),
        ] {
            let e = refused("BatchNormalization", cfg);
            assert!(e.contains("'bn'") && e.contains(&format!("'{key}'")), "{e}");
        }
    }
}
