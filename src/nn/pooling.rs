//! `GlobalAveragePooling1D` and `GlobalMaxPooling1D`: reduce (B, T, F) over time to (B, F)
//! (Keras' `data_format="channels_last"`, `keepdims=False`).

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::config::{self, ChannelsLast};
use super::{Grad, Layer, LayerConfig, Shape, Unary};
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The options of `keras.layers.GlobalAveragePooling1D` and
/// `GlobalMaxPooling1D` (the same two; `P` says which layer they configure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct GlobalPooling1DConfig<P> {
    /// Only `channels_last` (B, T, F).
    #[serde(default)]
    pub data_format: ChannelsLast,
    /// Keep the pooled axis (only false).
    #[serde(default)]
    pub keepdims: bool,
    #[serde(skip)]
    pool: PhantomData<P>,
}

impl<P> Default for GlobalPooling1DConfig<P> {
    fn default() -> Self {
        GlobalPooling1DConfig {
            data_format: ChannelsLast,
            keepdims: false,
            pool: PhantomData,
        }
    }
}

/// Which layer a [`GlobalPooling1DConfig`] configures.
pub trait GlobalPool: Clone + std::fmt::Debug + PartialEq + Send + 'static {
    /// Keras' class name.
    const CLASS: &'static str;
    /// The experiment-file `type`.
    const KIND: &'static str;
    /// The layer.
    fn layer(config: GlobalPooling1DConfig<Self>) -> Box<dyn Layer>;
}

/// [`GlobalAveragePooling1D`]'s marker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Average;
/// [`GlobalMaxPooling1D`]'s marker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Max;

impl GlobalPool for Average {
    const CLASS: &'static str = "GlobalAveragePooling1D";
    const KIND: &'static str = "global_average_pooling1d";
    fn layer(config: GlobalPooling1DConfig<Self>) -> Box<dyn Layer> {
        Box::new(GlobalAveragePooling1D { config })
    }
}

impl GlobalPool for Max {
    const CLASS: &'static str = "GlobalMaxPooling1D";
    const KIND: &'static str = "global_max_pooling1d";
    fn layer(config: GlobalPooling1DConfig<Self>) -> Box<dyn Layer> {
        Box::new(GlobalMaxPooling1D {
            config,
            arg: Vec::new(),
        })
    }
}

/// `keras.layers.GlobalAveragePooling1D`'s options.
pub type GlobalAveragePooling1DConfig = GlobalPooling1DConfig<Average>;
/// `keras.layers.GlobalMaxPooling1D`'s options.
pub type GlobalMaxPooling1DConfig = GlobalPooling1DConfig<Max>;

impl<P: GlobalPool> LayerConfig for GlobalPooling1DConfig<P> {
    const CLASS: &'static str = P::CLASS;
    const KIND: &'static str = P::KIND;
    fn build(self, name: &str) -> Result<Box<dyn Layer>> {
        if self.keepdims {
            return Err(config::option_error(
                P::CLASS,
                name,
                "keepdims",
                "= true is not supported",
            ));
        }
        Ok(P::layer(self))
    }
}

fn check_3d(name: &str, input_shapes: &[Shape]) -> Result<Shape> {
    Ok(vec![super::steps_channels(name, input_shapes)?.1])
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
pub struct GlobalAveragePooling1D {
    /// The options.
    pub config: GlobalAveragePooling1DConfig,
}

impl GlobalAveragePooling1D {
    /// A new pooling layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Layer for GlobalAveragePooling1D {
    config_methods!();
    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        Ok(vec![check_3d("GlobalAveragePooling1D", input_shapes)?])
    }
    unary_passes!();
}

impl Unary for GlobalAveragePooling1D {
    // x: (b, t, f) → y: (b, f), the mean over steps
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let (b, t, f) = super::batch_steps_features("GlobalAveragePooling1D", x, 0)?;
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
    fn backward1(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let Some(dx) = dx else { return Ok(()) };
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        let inv = 1.0 / t.max(1) as f32;
        for bi in 0..b {
            for s in 0..t {
                let o = &mut dx.data[(bi * t + s) * f..(bi * t + s + 1) * f];
                for j in 0..f {
                    o[j] = dy.data[bi * f + j] * inv;
                }
            }
        }
        Ok(())
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
    /// The options.
    pub config: GlobalMaxPooling1DConfig,
    arg: Vec<usize>,
}

impl GlobalMaxPooling1D {
    /// A new pooling layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Layer for GlobalMaxPooling1D {
    config_methods!();
    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        Ok(vec![check_3d("GlobalMaxPooling1D", input_shapes)?])
    }
    unary_passes!();
}

impl Unary for GlobalMaxPooling1D {
    // x: (b, t, f) → y: (b, f), the max over steps (its step kept for backward)
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let (b, t, f) = super::batch_steps_features("GlobalMaxPooling1D", x, 1)?;
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
    fn backward1(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let Some(dx) = dx else { return Ok(()) };
        let (b, t, f) = (x.shape[0], x.shape[1], x.shape[2]);
        dx.data.fill(0.0);
        for bi in 0..b {
            for j in 0..f {
                let s = self.arg[bi * f + j];
                dx.data[(bi * t + s) * f + j] = dy.data[bi * f + j];
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{GlobalAveragePooling1DConfig, GlobalMaxPooling1DConfig};
    use crate::nn::config_check::{check_config, float32, refused};
    use serde_json::json;

    fn refusals(class: &str) {
        for (cfg, key) in [
            (json!({"name": "p", "keepdims": true}), "keepdims"),
            (
                json!({"name": "p", "data_format": "channels_first"}),
                "data_format",
            ),
            (json!({"name": "p", "data_format": 1}), "data_format"),
        ] {
            let e = refused(class, cfg);
            assert!(e.contains("'p'") && e.contains(&format!("'{key}'")), "{e}");
        }
    }

    #[test]
    fn global_average_pooling_config_reads_writes_and_refuses() {
        check_config::<GlobalAveragePooling1DConfig>(
            json!({"name": "p", "trainable": true, "dtype": float32(),
                   "data_format": "channels_last", "keepdims": false}),
            json!({"data_format": "channels_last", "keepdims": false}),
        );
        refusals("GlobalAveragePooling1D");
    }

    #[test]
    fn global_max_pooling_config_reads_writes_and_refuses() {
        check_config::<GlobalMaxPooling1DConfig>(
            json!({"name": "p", "trainable": true, "dtype": float32(),
                   "data_format": "channels_last", "keepdims": false}),
            json!({"data_format": "channels_last", "keepdims": false}),
        );
        refusals("GlobalMaxPooling1D");
    }
}
