//! Losses, averaged over every element (Keras' `sum_over_batch_size` with equal shapes).

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::train::quantile::{self, QuantileLevels};

/// A regression loss.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    Mae,
    /// Huber loss with threshold `delta` (Keras default 1.0).
    Huber {
        /// Switch point between the quadratic and linear parts.
        delta: f32,
    },
    /// Pinball loss over quantile levels, through the monotone quantile head
    /// (the model has `Q` raw outputs per target value; layout in [`crate::train::quantile`]).
    Quantile {
        /// The quantile levels, strictly increasing.
        levels: QuantileLevels,
    },
}

impl Loss {
    /// Parses a Keras loss name (`mse`, `mean_squared_error`, `mae`, `huber`, ...).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name.to_lowercase().as_str() {
            "mse" | "mean_squared_error" | "meansquarederror" => Loss::Mse,
            "mae" | "mean_absolute_error" | "meanabsoluteerror" => Loss::Mae,
            "huber" | "huber_loss" => Loss::Huber { delta: 1.0 },
            "quantile" | "pinball" => {
                return Err(Error::Config(
                    "loss 'quantile' needs its quantile levels: the library builds it with \
                     Loss::quantile(&[0.1, 0.5, 0.9]); experiment files do not offer it yet"
                        .into(),
                ))
            }
            other => {
                return Err(Error::Config(format!(
                    "unknown loss '{other}' (known: mse, mae, huber, quantile)"
                )))
            }
        })
    }

    /// The pinball (quantile) loss at `levels` (1 to 8, strictly increasing, in (0, 1)).
    pub fn quantile(levels: &[f32]) -> Result<Self> {
        Ok(Loss::Quantile {
            levels: QuantileLevels::new(levels)?,
        })
    }

    /// Raw model outputs per target value: the number of quantile levels, else 1.
    pub fn outputs_per_target(&self) -> usize {
        match self {
            Loss::Quantile { levels } => levels.len(),
            _ => 1,
        }
    }

    /// Keras name.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::Huber { .. } => "huber",
            Loss::Quantile { .. } => "quantile",
        }
    }

    /// Loss value; writes dL/dpred into `grad` (resized).
    pub fn value_and_grad(&self, pred: &Tensor, target: &Tensor, grad: &mut Tensor) -> Result<f32> {
        // the elementwise losses; the quantile loss works on whole rows
        enum Pointwise {
            Mse,
            Mae,
            Huber(f32),
        }
        let pointwise = match self {
            Loss::Mse => Pointwise::Mse,
            Loss::Mae => Pointwise::Mae,
            Loss::Huber { delta } => Pointwise::Huber(*delta),
            Loss::Quantile { levels } => {
                grad.resize_uninit(&pred.shape);
                return quantile::pinball_raw(levels, &pred.data, &target.data, &mut grad.data);
            }
        };
        if pred.len() != target.len() {
            return Err(Error::Shape(format!(
                "prediction shape {:?} does not match target shape {:?}",
                pred.shape, target.shape
            )));
        }
        let n = pred.len().max(1) as f64;
        grad.resize_uninit(&pred.shape);
        let inv = (1.0 / n) as f32;
        let mut total = 0.0f64;
        for ((g, &p), &t) in grad.data.iter_mut().zip(&pred.data).zip(&target.data) {
            let d = p - t;
            match pointwise {
                Pointwise::Mse => {
                    total += (d as f64) * (d as f64);
                    *g = 2.0 * d * inv;
                }
                Pointwise::Mae => {
                    total += d.abs() as f64;
                    *g = if d > 0.0 {
                        inv
                    } else if d < 0.0 {
                        -inv
                    } else {
                        0.0
                    };
                }
                Pointwise::Huber(delta) => {
                    let a = d.abs();
                    if a <= delta {
                        total += 0.5 * (d as f64) * (d as f64);
                        *g = d * inv;
                    } else {
                        total += (delta * a - 0.5 * delta * delta) as f64;
                        *g = delta * d.signum() * inv;
                    }
                }
            }
        }
        Ok((total / n) as f32)
    }

    /// Loss value only.
    pub fn value(&self, pred: &Tensor, target: &Tensor) -> Result<f32> {
        let mut g = Tensor::default();
        self.value_and_grad(pred, target, &mut g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn values_and_finite_difference_gradients() {
        let p = Tensor::new(&[2, 2], vec![0.5, -1.0, 2.5, 0.1]).unwrap();
        let t = Tensor::new(&[2, 2], vec![0.0, 0.0, 0.0, 0.3]).unwrap();
        let mse = Loss::Mse.value(&p, &t).unwrap();
        assert!((mse - (0.25 + 1.0 + 6.25 + 0.04) / 4.0).abs() < 1e-6);
        let mae = Loss::Mae.value(&p, &t).unwrap();
        assert!((mae - (0.5 + 1.0 + 2.5 + 0.2) / 4.0).abs() < 1e-6);
        let hub = Loss::Huber { delta: 1.0 }.value(&p, &t).unwrap();
        assert!((hub - (0.125 + 0.5 + 2.0 + 0.02) / 4.0).abs() < 1e-6);
        for loss in [Loss::Mse, Loss::Mae, Loss::Huber { delta: 1.0 }] {
            let mut g = Tensor::default();
            loss.value_and_grad(&p, &t, &mut g).unwrap();
            for i in 0..4 {
                let mut pp = p.clone();
                let mut pm = p.clone();
                pp.data[i] += 1e-3;
                pm.data[i] -= 1e-3;
                let fd = (loss.value(&pp, &t).unwrap() - loss.value(&pm, &t).unwrap()) / 2e-3;
                assert!(
                    (fd - g.data[i]).abs() < 1e-3,
                    "{loss:?} {i}: {fd} vs {}",
                    g.data[i]
                );
            }
        }
        assert!(Loss::Mse.value(&p, &Tensor::zeros(&[3])).is_err());
        assert!(Loss::from_name("cosine").is_err());
        let e = Loss::from_name("quantile").unwrap_err().to_string();
        assert!(e.contains("Loss::quantile"), "{e}");
        let q = Loss::quantile(&[0.1, 0.5, 0.9]).unwrap();
        assert_eq!((q.name(), q.outputs_per_target()), ("quantile", 3));
        assert_eq!(Loss::Mse.outputs_per_target(), 1);
        // quantile loss: the model has 3 raw outputs per target value
        assert!(q.value(&p, &t).is_err());
        let raw = Tensor::new(&[2, 6], vec![0.1; 12]).unwrap();
        let mut g = Tensor::default();
        let v = q.value_and_grad(&raw, &t, &mut g).unwrap();
        assert!(v.is_finite() && g.shape == vec![2, 6]);
    }
}
