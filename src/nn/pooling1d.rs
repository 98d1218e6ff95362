//! `MaxPooling1D` and `AveragePooling1D`: windows of `pool_size` steps moved by
//! `strides` (default `pool_size`) over (B, T, C), each channel pooled on its
//! own (`data_format="channels_last"`).
//!
//! `padding="same"` gives ⌈T/strides⌉ outputs with TensorFlow's split of the
//! padding (the smaller half on the left); the padded steps take no part:
//! the maximum is over the real steps of a window, the average divides by
//! their count (as Keras on TensorFlow computes, checked against Keras 3.15).

use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize};

use super::config::{self, ChannelsLast};
use super::conv1d::{one_list, Padding};
use super::{Grad, Layer, LayerConfig, Shape, Unary};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn two() -> usize {
    2
}

/// Keras' optional `strides`: null (= `pool_size`), an integer or a list of one.
fn opt_strides<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<usize>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    config::usize_or_one(v)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The options of `keras.layers.MaxPooling1D` and `AveragePooling1D` (the
/// same; `P` says which layer they configure).
///
/// ```
/// use lstmkit::nn::pooling1d::MaxPooling1DConfig;
/// let c = MaxPooling1DConfig::new(3);
/// assert_eq!((c.pool_size, c.strides(), c.strides), (3, 3, None));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Pooling1DConfig<P> {
    /// Window length (≥ 1; Keras writes `[2]`).
    #[serde(default = "two", with = "one_list")]
    pub pool_size: usize,
    /// Step between windows; `None` is `pool_size` (Keras' default).
    #[serde(default, deserialize_with = "opt_strides")]
    pub strides: Option<usize>,
    /// `valid` or `same`.
    #[serde(default)]
    pub padding: Padding,
    /// Only `channels_last` (B, T, C).
    #[serde(default)]
    pub data_format: ChannelsLast,
    #[serde(skip)]
    pool: PhantomData<P>,
}

impl<P> Pooling1DConfig<P> {
    /// Windows of `pool_size` steps, Keras' defaults (strides = pool_size, valid).
    pub fn new(pool_size: usize) -> Self {
        Pooling1DConfig {
            pool_size,
            strides: None,
            padding: Padding::Valid,
            data_format: ChannelsLast,
            pool: PhantomData,
        }
    }

    /// The step between windows.
    pub fn strides(&self) -> usize {
        self.strides.unwrap_or(self.pool_size)
    }

    /// Checks the options: the error names the option.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.pool_size == 0 {
            return Err("option 'pool_size' must be at least 1 (got 0)".into());
        }
        if self.strides == Some(0) {
            return Err("option 'strides' must be at least 1 (got 0)".into());
        }
        if self.padding == Padding::Causal {
            return Err("option 'padding' = 'causal' is not supported (valid, same)".into());
        }
        Ok(())
    }
}

/// Which layer a [`Pooling1DConfig`] configures.
pub trait Pool: Clone + std::fmt::Debug + PartialEq + Send + 'static {
    /// Keras' class name.
    const CLASS: &'static str;
    /// The experiment-file `type`.
    const KIND: &'static str;
}

/// [`MaxPooling1D`]'s marker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Max;
/// [`AveragePooling1D`]'s marker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Average;

impl Pool for Max {
    const CLASS: &'static str = "MaxPooling1D";
    const KIND: &'static str = "max_pooling1d";
}

impl Pool for Average {
    const CLASS: &'static str = "AveragePooling1D";
    const KIND: &'static str = "average_pooling1d";
}

/// `keras.layers.MaxPooling1D`'s options.
pub type MaxPooling1DConfig = Pooling1DConfig<Max>;
/// `keras.layers.AveragePooling1D`'s options.
pub type AveragePooling1DConfig = Pooling1DConfig<Average>;

impl<P: Pool> LayerConfig for Pooling1DConfig<P> {
    const CLASS: &'static str = P::CLASS;
    const KIND: &'static str = P::KIND;
    fn build(self, name: &str) -> Result<Box<dyn Layer>> {
        self.check()
            .map_err(|m| Error::Config(format!("layer '{name}' ({}): {m}", P::CLASS)))?;
        Ok(Box::new(Pooling1D::from_config(self)))
    }
}

/// A 1-D pooling layer: [`MaxPooling1D`] or [`AveragePooling1D`].
///
/// ```
/// use lstmkit::nn::pooling1d::{AveragePooling1D, MaxPooling1D};
/// use lstmkit::nn::{conv1d::Padding, Layer};
/// use lstmkit::{rng::Rng, Tensor};
/// let x = Tensor::new(&[1, 5, 1], vec![1.0, 5.0, 2.0, 4.0, 3.0]).unwrap();
/// let mut y = vec![Tensor::default()];
/// let mut p = MaxPooling1D::new(2);
/// assert_eq!(p.build(&[vec![5, 1]], &mut Rng::new(0)).unwrap(), vec![vec![2, 1]]);
/// p.forward(&[&x], &mut y, false).unwrap();
/// assert_eq!(y[0].data, vec![5.0, 4.0]);
/// // same: the last window holds one real step, and averages over it alone
/// let mut p = AveragePooling1D::new(2).padding(Padding::Same);
/// p.build(&[vec![5, 1]], &mut Rng::new(0)).unwrap();
/// p.forward(&[&x], &mut y, false).unwrap();
/// assert_eq!(y[0].data, vec![3.0, 3.0, 3.0]);
/// ```
pub struct Pooling1D<P> {
    /// The options.
    pub config: Pooling1DConfig<P>,
    arg: Vec<usize>, // (B, T_out, C) input step of each maximum (MaxPooling1D)
}

/// `keras.layers.MaxPooling1D` (the gradient goes to the first maximal step of a window).
pub type MaxPooling1D = Pooling1D<Max>;
/// `keras.layers.AveragePooling1D`.
pub type AveragePooling1D = Pooling1D<Average>;

impl<P: Pool> Pooling1D<P> {
    /// Windows of `pool_size` steps, Keras' defaults (strides = pool_size, valid).
    pub fn new(pool_size: usize) -> Self {
        Pooling1D::from_config(Pooling1DConfig::new(pool_size))
    }
    /// The layer of a config (checked when built).
    pub fn from_config(config: Pooling1DConfig<P>) -> Self {
        Pooling1D {
            config,
            arg: Vec::new(),
        }
    }
    setters! { config =>
        /// Sets `strides`.
        strides: usize,
        /// Sets `padding` (valid or same).
        padding: Padding,
    }

    fn is_max() -> bool {
        P::CLASS == Max::CLASS
    }

    /// (output length, left padding) for `t` input steps.
    fn geometry(&self, t: usize) -> Result<(usize, usize)> {
        let c = &self.config;
        c.padding
            .geometry(t, c.pool_size, c.strides())
            .ok_or_else(|| {
                Error::Shape(format!(
                    "{}: {t} steps are fewer than pool_size {} under padding 'valid'",
                    P::CLASS,
                    c.pool_size
                ))
            })
    }

    /// The real input steps [lo, hi) of output step `to`.
    fn window(&self, to: usize, left: usize, t: usize) -> (usize, usize) {
        let start = to * self.config.strides();
        let lo = start.saturating_sub(left);
        let hi = (start + self.config.pool_size).saturating_sub(left).min(t);
        (lo, hi)
    }
}

impl<P: Pool> Layer for Pooling1D<P> {
    fn class_name(&self) -> &'static str {
        P::CLASS
    }

    fn build(&mut self, input_shapes: &[Shape], _rng: &mut Rng) -> Result<Vec<Shape>> {
        self.config
            .check()
            .map_err(|m| Error::Config(format!("{}: {m}", P::CLASS)))?;
        let (t, ch) = super::steps_channels(P::CLASS, input_shapes)?;
        let t_out = if t == 0 { 0 } else { self.geometry(t)?.0 };
        Ok(vec![vec![t_out, ch]])
    }

    unary_passes!();

    fn config(&self) -> serde_json::Value {
        let mut v = config::write(&self.config);
        // Keras writes the strides it resolved (pool_size when not given)
        v["strides"] = serde_json::json!([self.config.strides()]);
        v
    }
}

impl<P: Pool> Unary for Pooling1D<P> {
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let (b, t, ch) = super::batch_steps_features(P::CLASS, x, 0)?;
        let (t_out, left) = self.geometry(t)?;
        y.resize_uninit(&[b, t_out, ch]);
        if Self::is_max() {
            self.arg.resize(b * t_out * ch, 0);
        }
        for bi in 0..b {
            for to in 0..t_out {
                let (lo, hi) = self.window(to, left, t);
                let o = (bi * t_out + to) * ch;
                let row = |s: usize| &x.data[(bi * t + s) * ch..][..ch];
                y.data[o..o + ch].copy_from_slice(row(lo));
                if Self::is_max() {
                    self.arg[o..o + ch].fill(lo);
                    for s in lo + 1..hi {
                        for (j, &v) in row(s).iter().enumerate() {
                            if v > y.data[o + j] {
                                y.data[o + j] = v;
                                self.arg[o + j] = s;
                            }
                        }
                    }
                } else {
                    for s in lo + 1..hi {
                        for (a, v) in y.data[o..o + ch].iter_mut().zip(row(s)) {
                            *a += v;
                        }
                    }
                    let inv = 1.0 / (hi - lo) as f32;
                    y.data[o..o + ch].iter_mut().for_each(|a| *a *= inv);
                }
            }
        }
        Ok(())
    }

    fn backward1(&mut self, x: &Tensor, _y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let Some(dx) = dx else { return Ok(()) };
        let (b, t, ch) = (x.shape[0], x.shape[1], x.shape[2]);
        let (t_out, left) = self.geometry(t)?;
        let g = &dy.data;
        if g.len() != b * t_out * ch || (Self::is_max() && self.arg.len() != g.len()) {
            return Err(Error::Shape(format!(
                "{} backward: input {:?} and output gradient {:?} do not match the last forward",
                P::CLASS,
                x.shape,
                dy.shape
            )));
        }
        let gx = &mut dx.data;
        gx.fill(0.0);
        for bi in 0..b {
            for to in 0..t_out {
                let o = (bi * t_out + to) * ch;
                if Self::is_max() {
                    for j in 0..ch {
                        gx[(bi * t + self.arg[o + j]) * ch + j] += g[o + j];
                    }
                } else {
                    let (lo, hi) = self.window(to, left, t);
                    let inv = 1.0 / (hi - lo) as f32;
                    for s in lo..hi {
                        let dst = &mut gx[(bi * t + s) * ch..][..ch];
                        for (d, v) in dst.iter_mut().zip(&g[o..o + ch]) {
                            *d += v * inv;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<P: Pool>(mut p: Pooling1D<P>, x: &[f32]) -> Vec<f32> {
        let t = x.len();
        p.build(&[vec![t, 1]], &mut Rng::new(0)).unwrap();
        let x = Tensor::new(&[1, t, 1], x.to_vec()).unwrap();
        let mut y = vec![Tensor::default()];
        p.forward(&[&x], &mut y, false).unwrap();
        y.remove(0).data
    }

    /// Values Keras 3.15 (TensorFlow) gives for these inputs.
    #[test]
    fn same_padding_follows_keras() {
        let x = [1.0, -2.0, 3.0, 4.0, -5.0, 6.0, 7.0];
        // pool 3, strides 2, same: 4 outputs, padding 2 split 1 left / 1 right
        let max = run(MaxPooling1D::new(3).strides(2).padding(Padding::Same), &x);
        assert_eq!(max, vec![1.0, 4.0, 6.0, 7.0]);
        let avg = run(
            AveragePooling1D::new(3).strides(2).padding(Padding::Same),
            &x,
        );
        let want = [-0.5, 5.0 / 3.0, 5.0 / 3.0, 6.5];
        for (a, w) in avg.iter().zip(want) {
            assert!((a - w).abs() < 1e-6, "{avg:?}");
        }
        // negative values under a padded step: max ignores the padding
        let max = run(
            MaxPooling1D::new(2).padding(Padding::Same),
            &[-1.0, -2.0, -3.0],
        );
        assert_eq!(max, vec![-1.0, -3.0]);
    }

    #[test]
    fn config_writes_resolved_strides_and_refuses_causal() {
        let p = MaxPooling1D::new(3);
        let c = p.config();
        assert_eq!(c["strides"], serde_json::json!([3]));
        assert_eq!(c["pool_size"], serde_json::json!([3]));
        assert_eq!(c["padding"], "valid");
        let mut cfg = AveragePooling1DConfig::new(2);
        cfg.padding = Padding::Causal;
        assert!(cfg.check().unwrap_err().contains("'padding'"));
    }
}
