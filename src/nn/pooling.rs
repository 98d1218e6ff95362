//! `GlobalAveragePooling1D` and `GlobalMaxPooling1D`: reduce (B, T, F) over time to (B, F)
//! (Keras' `data_format="channels_last"`, `keepdims=False`).

use super::{Layer, Shape};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn check_3d(name: &str, input_shapes: &[Shape]) -> Result<Shape> {
    if input_shapes.len() != 1 {
        return Err(Error::Shape(format!(
            "{name} takes one input, got {}",
            input_shapes.len()
        )));
    }
    let s = &input_shapes[0];
    if s.len() != 2 {
        return Err(Error::Shape(format!(
            "{name} expects a 3-D input (batch, steps, features) but receives {}{}",
            super::fmt_shape(s),
            if s.len() == 1 {
                ": the previous layer returns only its last step; set return_sequences=true on it"
            } else {
                ""
            }
        )));
    }
    Ok(vec![s[1]])
}

/// Mean over the time axis.
///
/// ```
/// use lstmkit::nn::{GlobalAveragePooling1D, Layer};
/// use lstmkit::rng::Rng;
/// use lstmkit::Tensor;
/// let mut p = GlobalAveragePooling1D::new();
/// assert_eq!(p.build(&[vec![3, 2]], &mut Rng::new(0)).unwrap(), vec![vec![2]]);
/// let x = Tensor::new(&[1, 3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// let mut y = vec![Tensor::default()];
/// p.forward(&[&x], &mut y, false).unwrap();
/// assert_eq!(y[0].data, vec![3.0, 4.0]);
/// ```
#[derive(Default)]
pub struct GlobalAveragePooling1D {}

impl GlobalAveragePooling1D {
    /// A new pooling layer.
    pub fn new() -> Self {
        GlobalAveragePooling1D {}
    }
}

impl Layer for GlobalAveragePooling1D {
    fn class_name(&self) -> &'static str {
        "GlobalAveragePooling1D"
    }
    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        Ok(vec![check_3d("GlobalAveragePooling1D", input_shapes)?])
    }
    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        _training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        if x.ndim() != 3 {
            return Err(Error::Shape(format!(
                "GlobalAveragePooling1D expects a 3-D input, got {:?}",
                x.shape
            )));
        }
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let y = &mut outputs[0];
        y.resize_zeroed(&[b, f]);
        let inv = 1.0 / t.max(1) as f32;
        for bi in 0..b {
            let o = &mut y.data[bi * f..(bi + 1) * f];
            for s in 0..t {
                let r = &x.data[(bi * t + s) * f..(bi * t + s + 1) * f];
                for j in 0..f {
                    o[j] += r[j];
                }
            }
            o.iter_mut().for_each(|v| *v *= inv);
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
        if grad_inputs[0].len() != x.len() {
            return Ok(());
        }
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let inv = 1.0 / t.max(1) as f32;
        let g = &grad_outputs[0].data;
        let gx = &mut grad_inputs[0].data;
        for bi in 0..b {
            for s in 0..t {
                let o = &mut gx[(bi * t + s) * f..(bi * t + s + 1) * f];
                for j in 0..f {
                    o[j] = g[bi * f + j] * inv;
                }
            }
        }
        Ok(())
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({"data_format": "channels_last", "keepdims": false})
    }
}

/// Maximum over the time axis (the gradient goes to the first maximal step).
///
/// ```
/// use lstmkit::nn::{GlobalMaxPooling1D, Layer};
/// use lstmkit::rng::Rng;
/// use lstmkit::Tensor;
/// let mut p = GlobalMaxPooling1D::new();
/// p.build(&[vec![3, 1]], &mut Rng::new(0)).unwrap();
/// let x = Tensor::new(&[1, 3, 1], vec![1.0, 5.0, 2.0]).unwrap();
/// let mut y = vec![Tensor::default()];
/// p.forward(&[&x], &mut y, false).unwrap();
/// assert_eq!(y[0].data, vec![5.0]);
/// ```
#[derive(Default)]
pub struct GlobalMaxPooling1D {
    arg: Vec<usize>,
}

impl GlobalMaxPooling1D {
    /// A new pooling layer.
    pub fn new() -> Self {
        GlobalMaxPooling1D { arg: Vec::new() }
    }
}

impl Layer for GlobalMaxPooling1D {
    fn class_name(&self) -> &'static str {
        "GlobalMaxPooling1D"
    }
    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        Ok(vec![check_3d("GlobalMaxPooling1D", input_shapes)?])
    }
    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        _training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        if x.ndim() != 3 || x.shape[1] == 0 {
            return Err(Error::Shape(format!(
                "GlobalMaxPooling1D expects a 3-D input with at least one step, got {:?}",
                x.shape
            )));
        }
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let y = &mut outputs[0];
        y.resize_uninit(&[b, f]);
        self.arg.resize(b * f, 0);
        for bi in 0..b {
            for j in 0..f {
                let mut best = x.data[bi * t * f + j];
                let mut arg = 0;
                for s in 1..t {
                    let v = x.data[(bi * t + s) * f + j];
                    if v > best {
                        best = v;
                        arg = s;
                    }
                }
                y.data[bi * f + j] = best;
                self.arg[bi * f + j] = arg;
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
        if grad_inputs[0].len() != x.len() {
            return Ok(());
        }
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let gx = &mut grad_inputs[0].data;
        gx.fill(0.0);
        for bi in 0..b {
            for j in 0..f {
                let s = self.arg[bi * f + j];
                gx[(bi * t + s) * f + j] = grad_outputs[0].data[bi * f + j];
            }
        }
        Ok(())
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({"data_format": "channels_last", "keepdims": false})
    }
}
