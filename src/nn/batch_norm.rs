//! `BatchNormalization` over the last axis (Keras' `axis=-1`).
//!
//! Training: normalise with the batch mean and (biased) variance over every
//! axis but the last, and update the moving statistics with Keras' formula
//! `moving = moving·momentum + batch·(1 − momentum)`. Inference: normalise
//! with the moving statistics. `y = (x − mean)/sqrt(var + epsilon)·gamma + beta`.
//! Variables: gamma, beta (trainable), moving_mean, moving_variance (not trainable).

use super::{Initializer, Layer, Param, Shape};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::regularizer::Regularizer;

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
    /// Moving-average momentum (0.99).
    pub momentum: f32,
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
    /// Initialiser of moving_mean (zeros).
    pub moving_mean_initializer: Initializer,
    /// Initialiser of moving_variance (ones).
    pub moving_variance_initializer: Initializer,
    /// Penalty on beta.
    pub beta_regularizer: Option<Regularizer>,
    /// Penalty on gamma.
    pub gamma_regularizer: Option<Regularizer>,
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

impl Default for BatchNormalization {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchNormalization {
    /// Keras' defaults: momentum 0.99, epsilon 1e-3, center and scale.
    pub fn new() -> Self {
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            beta_initializer: Initializer::Zeros,
            gamma_initializer: Initializer::Ones,
            moving_mean_initializer: Initializer::Zeros,
            moving_variance_initializer: Initializer::Ones,
            beta_regularizer: None,
            gamma_regularizer: None,
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
    /// Sets the momentum.
    pub fn momentum(mut self, m: f32) -> Self {
        self.momentum = m;
        self
    }
    /// Sets epsilon.
    pub fn epsilon(mut self, e: f32) -> Self {
        self.epsilon = e;
        self
    }
    /// Sets `center` (use beta).
    pub fn center(mut self, v: bool) -> Self {
        self.center = v;
        self
    }
    /// Sets `scale` (use gamma).
    pub fn scale(mut self, v: bool) -> Self {
        self.scale = v;
        self
    }
}

impl Layer for BatchNormalization {
    fn class_name(&self) -> &'static str {
        "BatchNormalization"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 1 {
            return Err(Error::Shape(format!(
                "BatchNormalization takes one input, got {}",
                input_shapes.len()
            )));
        }
        let s = &input_shapes[0];
        let c = match s.last() {
            Some(&c) if c > 0 => c,
            _ => {
                return Err(Error::Shape(format!(
                    "BatchNormalization needs a known last axis, got {}",
                    super::fmt_shape(s)
                )))
            }
        };
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            return Err(Error::Config(format!(
                "BatchNormalization epsilon must be > 0, got {}",
                self.epsilon
            )));
        }
        let mk = |name: &str, init: Initializer, rng: &mut Rng, trainable: bool| {
            let mut p = Param::new(name, &[c], init.fill(1, c, rng));
            p.trainable = trainable;
            p
        };
        if self.scale && self.gamma.value.shape != [c] {
            self.gamma = mk("gamma", self.gamma_initializer, rng, true);
        }
        if self.center && self.beta.value.shape != [c] {
            self.beta = mk("beta", self.beta_initializer, rng, true);
        }
        if self.moving_mean.value.shape != [c] {
            self.moving_mean = mk("moving_mean", self.moving_mean_initializer, rng, false);
        }
        if self.moving_var.value.shape != [c] {
            self.moving_var = mk(
                "moving_variance",
                self.moving_variance_initializer,
                rng,
                false,
            );
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
        training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        let c = self.c;
        if x.shape.last() != Some(&c) {
            return Err(Error::Shape(format!(
                "BatchNormalization expects last axis {c}, got {:?}",
                x.shape
            )));
        }
        let rows = x.len() / c;
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
            let m = self.momentum;
            for j in 0..c {
                let mean = self.acc1[j] as f32;
                let var = (self.acc2[j] / rows as f64) as f32;
                self.mean[j] = mean;
                self.inv_std[j] = 1.0 / (var + self.epsilon).sqrt();
                let mm = &mut self.moving_mean.value.data[j];
                *mm = *mm * m + mean * (1.0 - m);
                let mv = &mut self.moving_var.value.data[j];
                *mv = *mv * m + var * (1.0 - m);
            }
        } else {
            for j in 0..c {
                self.mean[j] = self.moving_mean.value.data[j];
                self.inv_std[j] = 1.0 / (self.moving_var.value.data[j] + self.epsilon).sqrt();
            }
        }
        let y = &mut outputs[0];
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
        if self.scale {
            for j in 0..c {
                self.gamma.grad.data[j] += self.acc2[j] as f32;
            }
        }
        if self.center {
            for j in 0..c {
                self.beta.grad.data[j] += self.acc1[j] as f32;
            }
        }
        if grad_inputs[0].len() != x.len() {
            return Ok(());
        }
        let gx = &mut grad_inputs[0].data;
        let n = rows as f32;
        for ((o, gr), hr) in gx
            .chunks_exact_mut(c)
            .zip(gy.chunks_exact(c))
            .zip(self.xhat.chunks_exact(c))
        {
            for j in 0..c {
                let g = if self.scale {
                    self.gamma.value.data[j]
                } else {
                    1.0
                };
                let k = g * self.inv_std[j];
                o[j] = if self.training {
                    k * (gr[j] - (self.acc1[j] as f32) / n - hr[j] * (self.acc2[j] as f32) / n)
                } else {
                    k * gr[j]
                };
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
        v.push(&self.moving_mean);
        v.push(&self.moving_var);
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
        v.push(&mut self.moving_mean);
        v.push(&mut self.moving_var);
        v
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "axis": -1,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer.name(),
            "gamma_initializer": self.gamma_initializer.name(),
            "moving_mean_initializer": self.moving_mean_initializer.name(),
            "moving_variance_initializer": self.moving_variance_initializer.name(),
            "beta_regularizer": self.beta_regularizer.map(|r| r.to_keras()),
            "gamma_regularizer": self.gamma_regularizer.map(|r| r.to_keras()),
            "synchronized": false,
        })
    }
}
