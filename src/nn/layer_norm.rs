//! `LayerNormalization` over the last axis (Keras' defaults: axis −1, epsilon 1e-3,
//! center and scale): `y = (x − mean)/sqrt(var + epsilon)·gamma + beta`, with the
//! mean and (biased) variance of each sample's last axis. Same in training and inference.

use serde::{Deserialize, Serialize};

use super::config::Unsupported;
use super::{Grad, Layer, Param, Shape, Unary};
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Channel `j` of gamma (or beta), or `off` (1, or 0 for beta) when the layer
/// has none (`scale`, or `center`, false): the normalisation layers' shared affine.
#[inline]
pub(super) fn affine(p: &Param, on: bool, j: usize, off: f32) -> f32 {
    if on {
        p.value.data[j]
    } else {
        off
    }
}

affine_norm_config! {
/// `keras.layers.LayerNormalization`'s options, with Keras' names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerNormalizationConfig {
    /// Not implemented (RMS normalisation).
    #[serde(default, skip_serializing)]
    pub rms_scaling: Unsupported,
}
}

layer_config!(LayerNormalizationConfig => LayerNormalization, "LayerNormalization", "layer_normalization");

/// Keras' `LayerNormalization` (axis −1).
///
/// ```
/// use lstmkit::nn::{Layer, LayerNormalization};
/// use lstmkit::rng::Rng;
/// use lstmkit::Tensor;
/// let mut ln = LayerNormalization::new();
/// ln.build(&[vec![2]], &mut Rng::new(0)).unwrap();
/// let x = Tensor::new(&[1, 2], vec![1.0, 3.0]).unwrap();
/// let mut y = vec![Tensor::default()];
/// ln.forward(&[&x], &mut y, false).unwrap();
/// assert!((y[0].data[0] + 1.0).abs() < 1e-3 && (y[0].data[1] - 1.0).abs() < 1e-3);
/// ```
pub struct LayerNormalization {
    /// The options.
    pub config: LayerNormalizationConfig,
    gamma: Param,
    beta: Param,
    c: usize,
    xhat: Vec<f32>,
    inv_std: Vec<f32>,
}

new_with_defaults!(LayerNormalization: LayerNormalizationConfig, "Keras' defaults.");

impl LayerNormalization {
    /// A LayerNormalization layer with these options.
    pub fn from_config(config: LayerNormalizationConfig) -> Self {
        LayerNormalization {
            config,
            gamma: Param::default(),
            beta: Param::default(),
            c: 0,
            xhat: Vec::new(),
            inv_std: Vec::new(),
        }
    }
    setters! { config =>
        /// Sets epsilon.
        epsilon: f32,
        /// Sets `center`.
        center: bool,
        /// Sets `scale`.
        scale: bool,
    }
}

impl Layer for LayerNormalization {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        let s = super::one_input("LayerNormalization", input_shapes)?;
        let c = super::known_last_axis("LayerNormalization", s)?;
        let cfg = &self.config;
        if cfg.scale {
            self.gamma.ensure("gamma", &[c], cfg.gamma_regularizer, || {
                cfg.gamma_initializer.fill(1, c, rng)
            });
        }
        if cfg.center {
            self.beta.ensure("beta", &[c], cfg.beta_regularizer, || {
                cfg.beta_initializer.fill(1, c, rng)
            });
        }
        self.c = c;
        Ok(vec![s.clone()])
    }

    unary_passes!();

    fn params(&self) -> Vec<&Param> {
        let c = &self.config;
        super::present([(&self.gamma, c.scale), (&self.beta, c.center)])
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let c = &self.config;
        super::present([(&mut self.gamma, c.scale), (&mut self.beta, c.center)])
    }
}

impl Unary for LayerNormalization {
    // x: (rows.., c) → y = (x - mean) / sqrt(var + eps) · gamma + beta, per row
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let c = self.c;
        let rows = super::rows_of("LayerNormalization", x, c)?;
        y.resize_uninit(&x.shape);
        self.xhat.resize(x.len(), 0.0);
        self.inv_std.resize(rows, 0.0);
        for r in 0..rows {
            let xr = &x.data[r * c..(r + 1) * c];
            let mean = xr.iter().map(|v| *v as f64).sum::<f64>() / c as f64;
            let var = xr
                .iter()
                .map(|v| (*v as f64 - mean) * (*v as f64 - mean))
                .sum::<f64>()
                / c as f64;
            let inv = 1.0 / (var as f32 + self.config.epsilon).sqrt();
            self.inv_std[r] = inv;
            let (hr, yr) = (
                &mut self.xhat[r * c..(r + 1) * c],
                &mut y.data[r * c..(r + 1) * c],
            );
            for j in 0..c {
                let h = (xr[j] - mean as f32) * inv;
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
        for r in 0..rows {
            let (gr, hr) = (&gy[r * c..(r + 1) * c], &self.xhat[r * c..(r + 1) * c]);
            for j in 0..c {
                if self.config.scale {
                    self.gamma.grad.data[j] += gr[j] * hr[j];
                }
                if self.config.center {
                    self.beta.grad.data[j] += gr[j];
                }
            }
        }
        let Some(dx) = dx else { return Ok(()) };
        let gx = &mut dx.data;
        for r in 0..rows {
            let (gr, hr) = (&gy[r * c..(r + 1) * c], &self.xhat[r * c..(r + 1) * c]);
            let mut s1 = 0.0f32;
            let mut s2 = 0.0f32;
            for j in 0..c {
                let g = gr[j] * affine(&self.gamma, self.config.scale, j, 1.0);
                s1 += g;
                s2 += g * hr[j];
            }
            let (m1, m2) = (s1 / c as f32, s2 / c as f32);
            let inv = self.inv_std[r];
            let o = &mut gx[r * c..(r + 1) * c];
            for j in 0..c {
                let g = gr[j] * affine(&self.gamma, self.config.scale, j, 1.0);
                o[j] = inv * (g - m1 - hr[j] * m2);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::LayerNormalizationConfig;
    use crate::nn::config_check::{check_config, float32, init, refused};
    use serde_json::json;

    #[test]
    fn layer_normalization_config_reads_writes_and_refuses() {
        check_config::<LayerNormalizationConfig>(
            json!({"name": "ln", "trainable": true, "dtype": float32(), "axis": [-1],
                   "epsilon": 1e-5, "center": true, "scale": false, "rms_scaling": false,
                   "beta_initializer": init("Ones"), "gamma_initializer": init("Ones"),
                   "beta_regularizer": null,
                   "gamma_regularizer": {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}},
                   "beta_constraint": null, "gamma_constraint": null}),
            json!({"axis": -1, "epsilon": 1e-5f32, "center": true, "scale": false,
                   "beta_initializer": "ones", "gamma_initializer": "ones",
                   "beta_regularizer": null,
                   "gamma_regularizer": {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}}}),
        );
        for (cfg, key) in [
            (json!({"name": "ln", "axis": 0}), "axis"),
            (json!({"name": "ln", "rms_scaling": true}), "rms_scaling"),
            (
                json!({"name": "ln", "beta_initializer": "truncated_normal"}),
                "beta_initializer",
            ),
        ] {
            let e = refused("LayerNormalization", cfg);
            assert!(e.contains("'ln'") && e.contains(&format!("'{key}'")), "{e}");
        }
    }
}
