//! `Dropout`: inverted dropout (Keras' `keras.layers.Dropout`).
//!
//! In training each element is zeroed with probability `rate` and the others
//! are scaled by 1/(1−rate); at inference the layer is the identity. The mask
//! stream is seeded from the model's build RNG (deterministic), and its state is
//! saved and restored through [`Layer::runtime_state`] so that a resumed run draws
//! the same masks.

use super::rnn::common::{check_rate, fill_mask};
use super::{Layer, Shape};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

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
    /// Fraction of the inputs dropped, in [0, 1).
    pub rate: f32,
    /// Keras' `noise_shape` (batch axis included; `None` = that axis of the input):
    /// a 1 shares the mask along that axis.
    pub noise_shape: Option<Vec<Option<usize>>>,
    /// Keras' `seed` (kept for the config; lstmkit seeds from the model seed).
    pub seed: Option<u64>,
    rng: Rng,
    mask: Vec<f32>,
    mask_shape: Vec<usize>,
    applied: bool,
}

impl Dropout {
    /// A dropout layer dropping `rate` of its inputs in training.
    pub fn new(rate: f32) -> Self {
        Dropout {
            rate,
            noise_shape: None,
            seed: None,
            rng: Rng::new(0),
            mask: Vec::new(),
            mask_shape: Vec::new(),
            applied: false,
        }
    }

    /// Sets Keras' `noise_shape`.
    pub fn noise_shape(mut self, s: Vec<Option<usize>>) -> Self {
        self.noise_shape = Some(s);
        self
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
    fn class_name(&self) -> &'static str {
        "Dropout"
    }

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 1 {
            return Err(Error::Shape(format!(
                "Dropout takes one input, got {}",
                input_shapes.len()
            )));
        }
        check_rate("Dropout", "rate", self.rate)?;
        if let Some(ns) = &self.noise_shape {
            let s = &input_shapes[0];
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
        Ok(vec![input_shapes[0].clone()])
    }

    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        let y = &mut outputs[0];
        y.resize_uninit(&x.shape);
        self.applied = training && self.rate > 0.0;
        if !self.applied {
            y.data.copy_from_slice(&x.data);
            return Ok(());
        }
        match &self.noise_shape {
            None => {
                self.mask.resize(x.len(), 0.0);
                fill_mask(&mut self.mask, self.rate, &mut self.rng);
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
                fill_mask(&mut self.mask, self.rate, &mut self.rng);
                for i in 0..x.len() {
                    let mi = Self::mask_index(&x.shape, &self.mask_shape, i);
                    y.data[i] = x.data[i] * self.mask[mi];
                }
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
        let g = &grad_outputs[0].data;
        if grad_inputs[0].len() != x.len() {
            return Ok(());
        }
        let gx = &mut grad_inputs[0].data;
        if !self.applied {
            gx.copy_from_slice(g);
        } else if self.noise_shape.is_none() {
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

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        })
    }

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
