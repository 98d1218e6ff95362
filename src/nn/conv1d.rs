//! `Conv1D`: Keras' 1-D convolution over the time axis of (B, T, C) inputs
//! (`data_format="channels_last"`), as im2col plus one GEMM each way.
//!
//! Layout (Keras'): kernel (kernel_size, C, filters), bias (filters). Output
//! length per padding, with k' = dilation_rate·(kernel_size − 1) + 1:
//! `valid` ⌊(T − k')/strides⌋ + 1; `same` ⌈T/strides⌉ with TensorFlow's split of
//! the padding (the smaller half on the left); `causal` k' − 1 zeros on the
//! left, then `valid` (⌈T/strides⌉ steps, output t sees inputs ≤ t·strides).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::config::{self, ChannelsLast, Unsupported};
use super::{Activation, Grad, Layer, Param, Shape, Unary};
use crate::error::{Error, Result};
use crate::nn::gemm;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Keras' `padding` of a 1-D convolution or pooling (read case-insensitively, as Keras does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Padding {
    /// No padding: only windows that fit.
    #[default]
    Valid,
    /// ⌈T/strides⌉ outputs, the padding split as TensorFlow does.
    Same,
    /// Zeros on the left only (Conv1D only).
    Causal,
}

impl Padding {
    /// Keras' name.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
            Padding::Causal => "causal",
        }
    }

    /// (output length, left padding) of a window of `window` steps (dilation
    /// included) moved by `strides` over `t` steps; `None` when `valid` leaves
    /// no window.
    pub fn geometry(self, t: usize, window: usize, strides: usize) -> Option<(usize, usize)> {
        match self {
            Padding::Valid => (t >= window).then(|| ((t - window) / strides + 1, 0)),
            Padding::Same => {
                let out = t.div_ceil(strides);
                let total = ((out.max(1) - 1) * strides + window).saturating_sub(t);
                Some((out, total / 2))
            }
            Padding::Causal => Some((t.div_ceil(strides), window - 1)),
        }
    }
}

impl Serialize for Padding {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Padding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Padding::Valid),
            Value::String(p) => match p.to_lowercase().as_str() {
                "valid" => Ok(Padding::Valid),
                "same" => Ok(Padding::Same),
                "causal" => Ok(Padding::Causal),
                _ => Err(de::Error::custom(format!(
                    "= '{p}' is not supported (valid, same, causal)"
                ))),
            },
            x => Err(de::Error::custom(format!("must be a string, got {x}"))),
        }
    }
}

/// An integer option of a 1-D layer (`#[serde(with = "one_list")]`): read as
/// an integer or a list of one, written as Keras does, a list of one (`[3]`).
pub(crate) mod one_list {
    use serde::{Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &usize, s: S) -> std::result::Result<S::Ok, S::Error> {
        [*v].serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<usize, D::Error> {
        crate::nn::config::usize_or_one(d)
    }
}

fn one() -> usize {
    1
}

kernel_bias_config! {
/// `keras.layers.Conv1D`'s options, with Keras' names and defaults.
///
/// ```
/// use lstmkit::nn::conv1d::{Conv1DConfig, Padding};
/// let c = Conv1DConfig::new(16, 3);
/// assert_eq!((c.strides, c.dilation_rate, c.padding), (1, 1, Padding::Valid));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv1DConfig {
    /// Output channels (≥ 1).
    #[serde(deserialize_with = "config::usize_lenient")]
    pub filters: usize,
    /// Window length (≥ 1; Keras writes `[3]`).
    #[serde(with = "one_list")]
    pub kernel_size: usize,
    /// Step between windows (≥ 1).
    #[serde(default = "one", with = "one_list")]
    pub strides: usize,
    /// `valid`, `same` or `causal`.
    #[serde(default)]
    pub padding: Padding,
    /// Only `channels_last` (B, T, C).
    #[serde(default)]
    pub data_format: ChannelsLast,
    /// Spacing of the kernel taps (≥ 1; not together with strides > 1, as in Keras).
    #[serde(default = "one", with = "one_list")]
    pub dilation_rate: usize,
    /// Channel groups (only 1).
    #[serde(default = "one", deserialize_with = "config::usize_lenient")]
    pub groups: usize,
    /// Activation of the output.
    #[serde(default)]
    pub activation: Activation,
    /// Not implemented.
    #[serde(default, skip_serializing)]
    pub activity_regularizer: Unsupported,
}
}

impl Conv1DConfig {
    /// `filters` output channels, windows of `kernel_size` steps, Keras' defaults.
    pub fn new(filters: usize, kernel_size: usize) -> Self {
        config::defaults(serde_json::json!({ "filters": filters, "kernel_size": kernel_size }))
    }

    /// Checks the options: the error names the option (`option 'groups' = 2 ...`).
    pub fn check(&self) -> std::result::Result<(), String> {
        for (key, v) in [
            ("filters", self.filters),
            ("kernel_size", self.kernel_size),
            ("strides", self.strides),
            ("dilation_rate", self.dilation_rate),
        ] {
            if v == 0 {
                return Err(format!("option '{key}' must be at least 1 (got 0)"));
            }
        }
        if self.groups != 1 {
            return Err(format!(
                "option 'groups' = {} is not supported (only 1)",
                self.groups
            ));
        }
        if self.strides > 1 && self.dilation_rate > 1 {
            return Err(format!(
                "option 'strides' = {} together with dilation_rate = {} is not supported (as in Keras)",
                self.strides, self.dilation_rate
            ));
        }
        Ok(())
    }
}

impl Conv1DConfig {
    fn check_named(&self, name: &str) -> Result<()> {
        self.check()
            .map_err(|m| Error::Config(format!("layer '{name}' (Conv1D): {m}")))
    }
}

layer_config!(Conv1DConfig => Conv1D, "Conv1D", "conv1d", check = Conv1DConfig::check_named);

/// A Keras-compatible 1-D convolution.
///
/// ```
/// use lstmkit::model::Sequential;
/// use lstmkit::nn::conv1d::{Conv1D, Padding};
/// use lstmkit::nn::{Activation, Dense, LSTM};
/// use lstmkit::Tensor;
/// let mut m = Sequential::new(&[12, 2])
///     .add(Conv1D::new(8, 3).padding(Padding::Causal).activation(Activation::Relu))
///     .add(LSTM::new(4))
///     .add(Dense::new(1))
///     .build(1)
///     .unwrap();
/// assert_eq!(m.get_weights()[0].shape, vec![3, 2, 8]);
/// assert_eq!(m.predict(&Tensor::zeros(&[5, 12, 2])).unwrap().shape, vec![5, 1]);
/// ```
pub struct Conv1D {
    /// The options.
    pub config: Conv1DConfig,
    kernel: Param,
    bias: Param,
    in_channels: usize,
    cols: Vec<f32>,  // (B·T_out, k·C) input windows of the last forward
    pre: Vec<f32>,   // (B·T_out, filters) pre-activations (non-linear activation only)
    dz: Vec<f32>,    // (B·T_out, filters) gradient at the pre-activations
    dcols: Vec<f32>, // (B·T_out, k·C) gradient at the windows
}

impl Conv1D {
    /// `filters` output channels, windows of `kernel_size` steps, Keras' defaults.
    pub fn new(filters: usize, kernel_size: usize) -> Self {
        Conv1D::from_config(Conv1DConfig::new(filters, kernel_size))
    }

    /// The layer of a config (checked when built).
    pub fn from_config(config: Conv1DConfig) -> Self {
        Conv1D {
            config,
            kernel: Param::default(),
            bias: Param::default(),
            in_channels: 0,
            cols: Vec::new(),
            pre: Vec::new(),
            dz: Vec::new(),
            dcols: Vec::new(),
        }
    }
    setters! { config =>
        /// Sets `strides`.
        strides: usize,
        /// Sets `padding`.
        padding: Padding,
        /// Sets `dilation_rate`.
        dilation_rate: usize,
        /// Sets the activation.
        activation: Activation,
        /// Sets `use_bias`.
        use_bias: bool,
    }

    /// Window length with the dilation: d·(k − 1) + 1.
    fn window(&self) -> usize {
        self.config.dilation_rate * (self.config.kernel_size - 1) + 1
    }

    /// (output length, left padding) for `t` input steps.
    fn geometry(&self, t: usize) -> Result<(usize, usize)> {
        let c = &self.config;
        c.padding
            .geometry(t, self.window(), c.strides)
            .ok_or_else(|| {
                Error::Shape(format!(
                    "Conv1D: {t} steps are fewer than the window of kernel_size {} \
                     with dilation_rate {} ({} steps) under padding 'valid'",
                    c.kernel_size,
                    c.dilation_rate,
                    self.window()
                ))
            })
    }
}

impl Layer for Conv1D {
    config_methods!();

    fn build(&mut self, input_shapes: &[Shape], rng: &mut Rng) -> Result<Vec<Shape>> {
        self.config
            .check()
            .map_err(|m| Error::Config(format!("Conv1D: {m}")))?;
        let (t, ch) = super::steps_channels("Conv1D", input_shapes)?;
        if ch == 0 {
            return Err(Error::Shape(
                "Conv1D needs a known number of input channels".into(),
            ));
        }
        let c = &self.config;
        let (k, f) = (c.kernel_size, c.filters);
        self.kernel
            .ensure("kernel", &[k, ch, f], c.kernel_regularizer, || {
                c.kernel_initializer.fill_shape(&[k, ch, f], rng)
            });
        if c.use_bias {
            self.bias.ensure("bias", &[f], c.bias_regularizer, || {
                c.bias_initializer.fill_shape(&[f], rng)
            });
        }
        self.in_channels = ch;
        // an unknown number of steps (0) stays unknown
        let t_out = if t == 0 { 0 } else { self.geometry(t)?.0 };
        Ok(vec![vec![t_out, f]])
    }

    unary_passes!();

    fn flops(&self, input_shapes: &[Shape]) -> u64 {
        let t = input_shapes.first().and_then(|s| s.first()).copied();
        let t_out = t.and_then(|t| self.geometry(t).ok()).map_or(0, |g| g.0);
        let c = &self.config;
        2 * (t_out * c.kernel_size * self.in_channels * c.filters) as u64
    }

    kernel_bias_params!();
}

impl Unary for Conv1D {
    fn forward1(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let ch = self.in_channels;
        if x.ndim() != 3 || x.shape[2] != ch {
            return Err(Error::Shape(format!(
                "Conv1D expects (batch, steps, {ch}), got input shape {:?}",
                x.shape
            )));
        }
        let (b, t) = (x.shape[0], x.shape[1]);
        let (t_out, left) = self.geometry(t)?;
        let c = &self.config;
        let (k, f, s, d) = (c.kernel_size, c.filters, c.strides, c.dilation_rate);
        let (rows, kc) = (b * t_out, k * ch);
        // im2col: row (bi, to) holds the k taps x[bi, to·s − left + j·d, :]
        self.cols.resize(rows * kc, 0.0);
        for bi in 0..b {
            for to in 0..t_out {
                let row = &mut self.cols[(bi * t_out + to) * kc..(bi * t_out + to + 1) * kc];
                for j in 0..k {
                    let dst = &mut row[j * ch..(j + 1) * ch];
                    match (to * s + j * d).checked_sub(left).filter(|&ti| ti < t) {
                        Some(ti) => dst.copy_from_slice(&x.data[(bi * t + ti) * ch..][..ch]),
                        None => dst.fill(0.0),
                    }
                }
            }
        }
        y.resize_uninit(&[b, t_out, f]);
        let beta = if c.use_bias {
            for r in y.data.chunks_exact_mut(f) {
                r.copy_from_slice(&self.bias.value.data);
            }
            1.0
        } else {
            0.0
        };
        gemm::gemm_nn(
            rows,
            kc,
            f,
            &self.cols,
            &self.kernel.value.data,
            beta,
            &mut y.data,
        );
        c.activation.apply_cached(&mut self.pre, &mut y.data);
        Ok(())
    }

    fn backward1(&mut self, x: &Tensor, y: &Tensor, dy: &Tensor, dx: Grad<'_>) -> Result<()> {
        let ch = self.in_channels;
        let (b, t) = (x.shape[0], x.shape[1]);
        let (t_out, left) = self.geometry(t)?;
        let c = &self.config;
        let (k, f, s, d) = (c.kernel_size, c.filters, c.strides, c.dilation_rate);
        let (rows, kc) = (b * t_out, k * ch);
        if self.cols.len() != rows * kc || dy.len() != rows * f {
            return Err(Error::Shape(format!(
                "Conv1D backward: input {:?} and output gradient {:?} do not match the last forward",
                x.shape, dy.shape
            )));
        }
        let dz = c
            .activation
            .backprop_cached(&self.pre, &y.data, &dy.data, &mut self.dz);
        // dW (k·C × f) += colsᵀ · dz
        gemm::gemm_tn(kc, rows, f, &self.cols, dz, 1.0, &mut self.kernel.grad.data);
        if c.use_bias {
            let db = &mut self.bias.grad.data;
            for r in dz.chunks_exact(f) {
                for (g, v) in db.iter_mut().zip(r) {
                    *g += v;
                }
            }
        }
        if let Some(dx) = dx {
            // dcols (rows × k·C) = dz · Wᵀ, then col2im: each tap adds into its input step
            self.dcols.resize(rows * kc, 0.0);
            gemm::gemm_nt(
                rows,
                f,
                kc,
                dz,
                &self.kernel.value.data,
                0.0,
                &mut self.dcols,
            );
            let gx = &mut dx.data;
            gx.fill(0.0);
            for bi in 0..b {
                for to in 0..t_out {
                    let row = &self.dcols[(bi * t_out + to) * kc..(bi * t_out + to + 1) * kc];
                    for j in 0..k {
                        if let Some(ti) = (to * s + j * d).checked_sub(left).filter(|&ti| ti < t) {
                            let dst = &mut gx[(bi * t + ti) * ch..][..ch];
                            for (g, v) in dst.iter_mut().zip(&row[j * ch..(j + 1) * ch]) {
                                *g += v;
                            }
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

    /// Keras' output lengths (checked against Keras 3.15 for these cases).
    #[test]
    fn output_lengths_follow_keras() {
        let g = |p: Padding, t, w, s| p.geometry(t, w, s);
        assert_eq!(g(Padding::Valid, 10, 3, 1), Some((8, 0)));
        assert_eq!(g(Padding::Valid, 10, 3, 2), Some((4, 0)));
        assert_eq!(g(Padding::Valid, 2, 3, 1), None);
        assert_eq!(g(Padding::Same, 10, 3, 1), Some((10, 1)));
        assert_eq!(g(Padding::Same, 10, 4, 1), Some((10, 1)));
        assert_eq!(g(Padding::Same, 10, 3, 2), Some((5, 0)));
        assert_eq!(g(Padding::Same, 9, 3, 2), Some((5, 1)));
        assert_eq!(g(Padding::Causal, 10, 5, 1), Some((10, 4)));
        assert_eq!(g(Padding::Causal, 10, 3, 3), Some((4, 2)));
    }

    /// Against a direct loop over Keras' formula for causal, dilated windows.
    #[test]
    fn forward_matches_direct_convolution() {
        let (b, t, ch, f, k) = (2, 7, 3, 4, 3);
        for (pad, s, d) in [
            (Padding::Causal, 1, 2),
            (Padding::Same, 2, 1),
            (Padding::Valid, 3, 1),
        ] {
            let mut l = Conv1D::new(f, k).padding(pad).strides(s).dilation_rate(d);
            l.build(&[vec![t, ch]], &mut Rng::new(1)).unwrap();
            for (i, v) in l.bias.value.data.iter_mut().enumerate() {
                *v = 0.1 * i as f32;
            }
            let x = Tensor::new(
                &[b, t, ch],
                (0..b * t * ch)
                    .map(|i| ((i * 17 % 11) as f32 - 5.0) / 4.0)
                    .collect(),
            )
            .unwrap();
            let mut y = vec![Tensor::default()];
            l.forward(&[&x], &mut y, false).unwrap();
            let (t_out, left) = pad.geometry(t, d * (k - 1) + 1, s).unwrap();
            assert_eq!(y[0].shape, vec![b, t_out, f]);
            let w = &l.kernel.value.data;
            for bi in 0..b {
                for to in 0..t_out {
                    for o in 0..f {
                        let mut acc = l.bias.value.data[o] as f64;
                        for j in 0..k {
                            let ti = (to * s + j * d) as isize - left as isize;
                            if ti < 0 || ti >= t as isize {
                                continue;
                            }
                            for c in 0..ch {
                                acc += x.data[(bi * t + ti as usize) * ch + c] as f64
                                    * w[(j * ch + c) * f + o] as f64;
                            }
                        }
                        let got = y[0].data[(bi * t_out + to) * f + o] as f64;
                        assert!((got - acc).abs() < 1e-5, "{pad:?} {got} {acc}");
                    }
                }
            }
        }
    }

    #[test]
    fn options_are_checked_naming_the_option() {
        let e = |c: Conv1DConfig| c.check().unwrap_err();
        let mut c = Conv1DConfig::new(4, 3);
        c.groups = 2;
        assert!(e(c).contains("'groups'"));
        let c = Conv1DConfig::new(4, 0);
        assert!(e(c).contains("'kernel_size'"));
        let mut c = Conv1DConfig::new(4, 3);
        c.strides = 2;
        c.dilation_rate = 2;
        assert!(e(c).contains("dilation_rate"));
        let mut l = Conv1D::new(2, 5);
        let err = l.build(&[vec![3, 1]], &mut Rng::new(0)).unwrap_err();
        assert!(err.to_string().contains("valid"), "{err}");
    }
}
