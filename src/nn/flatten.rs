//! `Flatten`: (B, d1, d2, ...) → (B, d1·d2·…).

use serde::{Deserialize, Serialize};

use super::config::ChannelsLast;
use super::{Grad, Layer, Shape, Unary};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// `keras.layers.Flatten`'s options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlattenConfig {
    /// Only `channels_last`.
    #[serde(default)]
    pub data_format: ChannelsLast,
}

layer_config!(FlattenConfig => Flatten, "Flatten", "flatten");

/// Keras' `Flatten` (channels_last).
///
/// ```
/// use lstmkit::nn::{Flatten, Layer};
/// use lstmkit::rng::Rng;
/// let mut f = Flatten::new();
/// assert_eq!(f.build(&[vec![10, 3]], &mut Rng::new(0)).unwrap(), vec![vec![30]]);
/// ```
#[derive(Default)]
pub struct Flatten {
    /// The options.
    pub config: FlattenConfig,
}

impl Flatten {
    /// A new flatten layer.
    pub fn new() -> Self {
        Self::default()
    }
    /// A flatten layer with these options.
    pub fn from_config(config: FlattenConfig) -> Self {
        Flatten { config }
    }
}

impl Layer for Flatten {
    config_methods!();
    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        let s = super::one_input("Flatten", input_shapes)?;
        if s.contains(&0) {
            return Err(Error::Shape(format!(
                "Flatten needs every non-batch dimension known, got {}",
                super::fmt_shape(s)
            )));
        }
        Ok(vec![vec![s.iter().product()]])
    }
    unary_passes!();
}

impl Unary for Flatten {
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let b = x.batch();
        let n = x.len().checked_div(b).unwrap_or(0);
        y.resize_uninit(&[b, n]);
        y.data.copy_from_slice(&x.data);
        Ok(())
    }
    fn backward1(&mut self, _x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        if let Some(dx) = dx {
            dx.data.copy_from_slice(&dy.data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::FlattenConfig;
    use crate::nn::config_check::{check_config, float32, refused};
    use serde_json::json;

    #[test]
    fn flatten_config_reads_writes_and_refuses() {
        check_config::<FlattenConfig>(
            json!({"name": "fl", "trainable": true, "dtype": float32(), "data_format": "channels_last"}),
            json!({"data_format": "channels_last"}),
        );
        let e = refused(
            "Flatten",
            json!({"name": "fl", "data_format": "channels_first"}),
        );
        assert!(
            e.contains("'fl'") && e.contains("'data_format'") && e.contains("channels_first"),
            "{e}"
        );
    }
}
