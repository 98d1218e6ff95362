//! `Flatten`: (B, d1, d2, ...) → (B, d1·d2·…).

use super::{Layer, Shape};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Keras' `Flatten` (channels_last).
///
/// ```
/// use lstmkit::nn::{Flatten, Layer};
/// use lstmkit::rng::Rng;
/// let mut f = Flatten::new();
/// assert_eq!(f.build(&[vec![10, 3]], &mut Rng::new(0)).unwrap(), vec![vec![30]]);
/// ```
#[derive(Default)]
pub struct Flatten {}

impl Flatten {
    /// A new flatten layer.
    pub fn new() -> Self {
        Flatten {}
    }
}

impl Layer for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }
    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        if input_shapes.len() != 1 {
            return Err(Error::Shape(format!(
                "Flatten takes one input, got {}",
                input_shapes.len()
            )));
        }
        let s = &input_shapes[0];
        if s.contains(&0) {
            return Err(Error::Shape(format!(
                "Flatten needs every non-batch dimension known, got {}",
                super::fmt_shape(s)
            )));
        }
        Ok(vec![vec![s.iter().product()]])
    }
    fn forward(
        &mut self,
        inputs: &[&Tensor],
        outputs: &mut [Tensor],
        _training: bool,
    ) -> Result<()> {
        let x = inputs[0];
        let b = x.batch();
        let n = x.len().checked_div(b).unwrap_or(0);
        outputs[0].resize_uninit(&[b, n]);
        outputs[0].data.copy_from_slice(&x.data);
        Ok(())
    }
    fn backward(
        &mut self,
        inputs: &[&Tensor],
        _outputs: &[&Tensor],
        grad_outputs: &[&Tensor],
        grad_inputs: &mut [Tensor],
    ) -> Result<()> {
        if grad_inputs[0].len() == inputs[0].len() {
            grad_inputs[0].data.copy_from_slice(&grad_outputs[0].data);
        }
        Ok(())
    }
    fn config(&self) -> serde_json::Value {
        serde_json::json!({"data_format": "channels_last"})
    }
}
