//! `LayerNormalization` over the last axis (Keras' defaults: axis −1, epsilon 1e-3,
//! center and scale): `y = (x − mean)/sqrt(var + epsilon)·gamma + beta`, with the
//! mean and (biased) variance of each sample's last axis. Same in training and inference.

use super::{Initializer, Layer, Param, Shape};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

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
    /// Added to the variance (1e-3).
    pub epsilon: f32,
    /// Add beta.
    pub center: bool,
    /// Multiply by gamma.
    pub scale: bool,
    /// Initialiser of beta (zeros).
    pub beta_initializer: Initializer,
    /// Initialiser of gamma (ones).
    pub gamma_initializer: Initializer,
    /// Penalty on beta.
    pub beta_regularizer: Option<Regularizer>,
    /// Penalty on gamma.
    pub gamma_regularizer: Option<Regularizer>,
    gamma: Param,
    beta: Param,
    c: usize,
    xhat: Vec<f32>,
    inv_std: Vec<f32>,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerNormalization {
    /// Keras' defaults.
    pub fn new() -> Self {
        LayerNormalization {
            epsilon: 1e-3,
            center: true,
            scale: true,
            beta_initializer: Initializer::Zeros,
            gamma_initializer: Initializer::Ones,
            beta_regularizer: None,
            gamma_regularizer: None,
            gamma: Param::default(),
            beta: Param::default(),
            c: 0,
            xhat: Vec::new(),
            inv_std: Vec::new(),
        }
    }
    /// Sets epsilon.
    pub fn epsilon(mut self, e: f32) -> Self {
        self.epsilon = e;
        self
    }
    /// Sets `center`.
    pub fn center(mut self, v: bool) -> Self {
        self.center = v;
        self
    }
    /// Sets `scale`.
    pub fn scale(mut self, v: bool) -> Self {
        self.scale = v;
        self
    }
}

impl Layer for LayerNormalization {
    fn class_name(&self) -> &'static str {
        "LayerNormalization"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 1 {
            return Err(Error::Shape(format!(
                "LayerNormalization takes one input, got {}",
                input_shapes.len()
            )));
        }
        let s = &input_shapes[0];
        let c = match s.last() {
            Some(&c) if c > 0 => c,
            _ => {
                return Err(Error::Shape(format!(
                    "LayerNormalization needs a known last axis, got {}",
                    super::fmt_shape(s)
                )))
            }
        };
        if self.scale && self.gamma.value.shape != [c] {
            self.gamma = Param::new("gamma", &[c], self.gamma_initializer.fill(1, c, rng));
        }
        if self.center && self.beta.value.shape != [c] {
            self.beta = Param::new("beta", &[c], self.beta_initializer.fill(1, c, rng));
        }
        self.gamma.regularizer = self.gamma_regularizer;
        self.beta.regularizer = self.beta_regularizer;
        self.c = c;
        Ok(vec![s.clone()])
    }

    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        _training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        let c = self.c;
        if x.shape.last() != Some(&c) {
            return Err(Error::Shape(format!(
                "LayerNormalization expects last axis {c}, got {:?}",
                x.shape
            )));
        }
        let rows = x.len() / c;
        let y = &mut outputs[0];
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
            let inv = 1.0 / (var as f32 + self.epsilon).sqrt();
            self.inv_std[r] = inv;
            let (hr, yr) = (
                &mut self.xhat[r * c..(r + 1) * c],
                &mut y.data[r * c..(r + 1) * c],
            );
            for j in 0..c {
                let h = (xr[j] - mean as f32) * inv;
                hr[j] = h;
                let g = if self.scale {
                    self.gamma.value.data[j]
                } else {
                    1.0
                };
                let b = if self.center {
                    self.beta.value.data[j]
                } else {
                    0.0
                };
                yr[j] = h * g + b;
            }
        }
        Ok(())
    }

    fn backward(
        &mut self,
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [Tensor],
    ) -> Result<()> {
        let x = inputs[0];
        let c = self.c;
        let rows = x.len() / c;
        let gy = &grad_outputs[0].data;
        for r in 0..rows {
            let (gr, hr) = (&gy[r * c..(r + 1) * c], &self.xhat[r * c..(r + 1) * c]);
            for j in 0..c {
                if self.scale {
                    self.gamma.grad.data[j] += gr[j] * hr[j];
                }
                if self.center {
                    self.beta.grad.data[j] += gr[j];
                }
            }
        }
        if grad_inputs[0].len() != x.len() {
            return Ok(());
        }
        let gx = &mut grad_inputs[0].data;
        for r in 0..rows {
            let (gr, hr) = (&gy[r * c..(r + 1) * c], &self.xhat[r * c..(r + 1) * c]);
            let mut s1 = 0.0f32;
            let mut s2 = 0.0f32;
            for j in 0..c {
                let g = gr[j]
                    * if self.scale {
                        self.gamma.value.data[j]
                    } else {
                        1.0
                    };
                s1 += g;
                s2 += g * hr[j];
            }
            let (m1, m2) = (s1 / c as f32, s2 / c as f32);
            let inv = self.inv_std[r];
            let o = &mut gx[r * c..(r + 1) * c];
            for j in 0..c {
                let g = gr[j]
                    * if self.scale {
                        self.gamma.value.data[j]
                    } else {
                        1.0
                    };
                o[j] = inv * (g - m1 - hr[j] * m2);
            }
        }
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        let mut v = Vec::new();
        if self.scale {
            v.push(&self.gamma);
        }
        if self.center {
            v.push(&self.beta);
        }
        v
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut v = Vec::new();
        if self.scale {
            v.push(&mut self.gamma);
        }
        if self.center {
            v.push(&mut self.beta);
        }
        v
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "axis": -1,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer.name(),
            "gamma_initializer": self.gamma_initializer.name(),
            "beta_regularizer": self.beta_regularizer.map(|r| r.to_keras()),
            "gamma_regularizer": self.gamma_regularizer.map(|r| r.to_keras()),
        })
    }
}
