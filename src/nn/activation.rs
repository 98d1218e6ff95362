//! Activation functions with Keras 3's names and formulas, their derivatives,
//! and vectorisable slice kernels (runtime AVX-512 / AVX2 dispatch).

use crate::error::{Error, Result};

/// An element-wise activation, named as in Keras.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// `linear` (identity, Keras' default for Dense).
    #[default]
    Linear,
    /// `tanh`.
    Tanh,
    /// `relu`.
    Relu,
    /// `sigmoid`: 1 / (1 + e^-x).
    Sigmoid,
    /// `hard_sigmoid` (Keras 3): relu6(x + 3) / 6.
    HardSigmoid,
    /// `hard_sigmoid` as Keras 2 / tf.keras 2 compute it: clip(0.2·x + 0.5, 0, 1).
    /// Models read from Keras 2 files get it where they name `hard_sigmoid`;
    /// lstmkit calls it `hard_sigmoid_keras2` (Keras 3 has no such function).
    HardSigmoidKeras2,
    /// `elu` with alpha 1.
    Elu,
    /// `selu`.
    Selu,
    /// `softsign`: x / (1 + |x|).
    Softsign,
    /// `softplus`: ln(1 + e^x).
    Softplus,
    /// `swish` / `silu`: x·σ(x).
    Swish,
    /// `gelu` (exact, erf form: Keras 3's default `approximate=False`).
    Gelu,
}

const SELU_SCALE: f32 = 1.050_701;
const SELU_ALPHA: f32 = 1.673_263_2;

impl Activation {
    /// Parses a Keras activation name.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "linear" | "None" | "none" | "" => Activation::Linear,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "hard_sigmoid" => Activation::HardSigmoid,
            "hard_sigmoid_keras2" => Activation::HardSigmoidKeras2,
            "elu" => Activation::Elu,
            "selu" => Activation::Selu,
            "softsign" => Activation::Softsign,
            "softplus" => Activation::Softplus,
            "swish" | "silu" => Activation::Swish,
            "gelu" => Activation::Gelu,
            other => {
                return Err(Error::Config(format!(
                    "unknown activation '{other}' (known: linear, tanh, relu, sigmoid, hard_sigmoid, hard_sigmoid_keras2, elu, selu, softsign, softplus, swish, silu, gelu)"
                )))
            }
        })
    }

    /// The Keras name.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::HardSigmoidKeras2 => "hard_sigmoid_keras2",
            Activation::Elu => "elu",
            Activation::Selu => "selu",
            Activation::Softsign => "softsign",
            Activation::Softplus => "softplus",
            Activation::Swish => "swish",
            Activation::Gelu => "gelu",
        }
    }

    /// f(x).
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Linear => x,
            Activation::Tanh => tanh_f32(x),
            Activation::Relu => x.max(0.0),
            Activation::Sigmoid => sigmoid_f32(x),
            Activation::HardSigmoid => ((x + 3.0) * (1.0 / 6.0)).clamp(0.0, 1.0),
            Activation::HardSigmoidKeras2 => (x * 0.2 + 0.5).clamp(0.0, 1.0),
            Activation::Elu => {
                if x > 0.0 {
                    x
                } else {
                    exp_f32(x) - 1.0
                }
            }
            Activation::Selu => {
                if x > 0.0 {
                    SELU_SCALE * x
                } else {
                    SELU_SCALE * SELU_ALPHA * (exp_f32(x) - 1.0)
                }
            }
            Activation::Softsign => x / (1.0 + x.abs()),
            Activation::Softplus => {
                // ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)
                x.max(0.0) + ln1p_f32(exp_f32(-x.abs()))
            }
            Activation::Swish => x * sigmoid_f32(x),
            Activation::Gelu => 0.5 * x * (1.0 + erf_f32(x * std::f32::consts::FRAC_1_SQRT_2)),
        }
    }

    /// f'(x), given the input `x` and the output `y = f(x)`.
    #[inline(always)]
    pub fn deriv(self, x: f32, y: f32) -> f32 {
        match self {
            Activation::Linear => 1.0,
            Activation::Tanh => 1.0 - y * y,
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => y * (1.0 - y),
            Activation::HardSigmoid => {
                if x > -3.0 && x < 3.0 {
                    1.0 / 6.0
                } else {
                    0.0
                }
            }
            Activation::HardSigmoidKeras2 => {
                if x > -2.5 && x < 2.5 {
                    0.2
                } else {
                    0.0
                }
            }
            Activation::Elu => {
                if x > 0.0 {
                    1.0
                } else {
                    y + 1.0
                }
            }
            Activation::Selu => {
                if x > 0.0 {
                    SELU_SCALE
                } else {
                    y + SELU_SCALE * SELU_ALPHA
                }
            }
            Activation::Softsign => {
                let d = 1.0 + x.abs();
                1.0 / (d * d)
            }
            Activation::Softplus => sigmoid_f32(x),
            Activation::Swish => {
                let s = sigmoid_f32(x);
                s + x * s * (1.0 - s)
            }
            Activation::Gelu => {
                let cdf = 0.5 * (1.0 + erf_f32(x * std::f32::consts::FRAC_1_SQRT_2));
                let pdf = (-0.5 * x * x).exp() * 0.398_942_3;
                cdf + x * pdf
            }
        }
    }

    /// Whether f'(x) needs x: swish and gelu are not monotonic, so their
    /// output does not determine their input. For every other activation
    /// [`Activation::deriv_from_output`] gives f'(x) from y = f(x) alone.
    pub fn deriv_needs_input(self) -> bool {
        matches!(self, Activation::Swish | Activation::Gelu)
    }

    /// f'(x) from the output y = f(x) alone (NaN for swish and gelu, see
    /// [`Activation::deriv_needs_input`]). At a kink (relu, elu, selu at 0,
    /// the hard sigmoids at their ends) it takes the side [`Activation::deriv`] takes.
    ///
    /// ```
    /// use lstmkit::nn::Activation;
    /// let y = Activation::Tanh.apply(0.3);
    /// assert!((Activation::Tanh.deriv_from_output(y) - Activation::Tanh.deriv(0.3, y)).abs() < 1e-6);
    /// ```
    #[inline(always)]
    pub fn deriv_from_output(self, y: f32) -> f32 {
        match self {
            Activation::Linear => 1.0,
            Activation::Tanh => 1.0 - y * y,
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => y * (1.0 - y),
            Activation::HardSigmoid | Activation::HardSigmoidKeras2 => {
                if y > 0.0 && y < 1.0 {
                    if self == Activation::HardSigmoid {
                        1.0 / 6.0
                    } else {
                        0.2
                    }
                } else {
                    0.0
                }
            }
            Activation::Elu => {
                if y > 0.0 {
                    1.0
                } else {
                    y + 1.0
                }
            }
            Activation::Selu => {
                if y > 0.0 {
                    SELU_SCALE
                } else {
                    y + SELU_SCALE * SELU_ALPHA
                }
            }
            Activation::Softsign => {
                let d = 1.0 - y.abs();
                d * d
            }
            // σ(x) with y = ln(1 + e^x): 1 − e^−y
            Activation::Softplus => 1.0 - exp_f32(-y),
            Activation::Swish | Activation::Gelu => f32::NAN,
        }
    }

    /// Applies f in place to every element.
    pub fn apply_slice(self, v: &mut [f32]) {
        if self == Activation::Linear {
            return;
        }
        dispatch_apply(self, v)
    }

    /// Applies f in place after a product, keeping the pre-activations in
    /// `pre` for [`Activation::backprop_cached`] (nothing kept for linear).
    pub(crate) fn apply_cached(self, pre: &mut Vec<f32>, y: &mut [f32]) {
        if self != Activation::Linear {
            pre.clear();
            pre.extend_from_slice(y);
            self.apply_slice(y);
        }
    }

    /// The gradient before the activation, dz = dy ⊙ f'(pre): `dy` itself for
    /// linear, else written into the reused buffer `dz`.
    pub(crate) fn backprop_cached<'a>(
        self,
        pre: &[f32],
        y: &[f32],
        dy: &'a [f32],
        dz: &'a mut Vec<f32>,
    ) -> &'a [f32] {
        if self == Activation::Linear {
            return dy;
        }
        dz.clear();
        dz.extend_from_slice(dy);
        self.backprop_slice(pre, y, dz);
        dz
    }

    /// `grad[k] *= f'(x[k], y[k])` for every element.
    pub fn backprop_slice(self, x: &[f32], y: &[f32], grad: &mut [f32]) {
        if self == Activation::Linear {
            return;
        }
        for ((g, &xi), &yi) in grad.iter_mut().zip(x).zip(y) {
            *g *= self.deriv(xi, yi);
        }
    }
}

/// In-place activation loop, inlined into SIMD-compiled callers.
#[inline(always)]
pub(crate) fn apply_loop(act: Activation, v: &mut [f32]) {
    macro_rules! each {
        ($f:expr) => {
            for x in v.iter_mut() {
                *x = $f(*x);
            }
        };
    }
    match act {
        Activation::Linear => {}
        Activation::Tanh => each!(tanh_f32),
        Activation::Relu => each!(|x: f32| x.max(0.0)),
        Activation::Sigmoid => each!(sigmoid_f32),
        a => each!(|x| a.apply(x)),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn apply_avx512(act: Activation, v: &mut [f32]) {
    apply_loop(act, v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_avx2(act: Activation, v: &mut [f32]) {
    apply_loop(act, v)
}

fn dispatch_apply(act: Activation, v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        match simd_level() {
            // SAFETY: the CPU supports the features these functions are compiled for.
            SimdLevel::Avx512 => return unsafe { apply_avx512(act, v) },
            SimdLevel::Avx2 => return unsafe { apply_avx2(act, v) },
            SimdLevel::Scalar => {}
        }
    }
    apply_loop(act, v)
}

/// `g[k] *= f'(x[k], y[k])`, with vectorisable loops for the common activations;
/// inlined into SIMD-compiled callers.
#[inline(always)]
pub(crate) fn deriv_loop(act: Activation, x: &[f32], y: &[f32], g: &mut [f32]) {
    match act {
        Activation::Linear => {}
        Activation::Tanh => {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= 1.0 - y * y;
            }
        }
        Activation::Sigmoid => {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= y * (1.0 - y);
            }
        }
        Activation::Relu => {
            for (g, &x) in g.iter_mut().zip(x) {
                *g = if x > 0.0 { *g } else { 0.0 };
            }
        }
        a => {
            for ((g, &x), &y) in g.iter_mut().zip(x).zip(y) {
                *g *= a.deriv(x, y);
            }
        }
    }
}

/// The widest SIMD instruction set this CPU offers (detected once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdLevel {
    /// AVX-512F/DQ/VL + AVX2 + FMA.
    Avx512,
    /// AVX2 + FMA.
    Avx2,
    /// Neither.
    Scalar,
}

/// Detects (once) the SIMD level used by the kernels. `LSTMKIT_SIMD=scalar|avx2`
/// caps it, for testing the fallbacks.
pub fn simd_level() -> SimdLevel {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = std::env::var("LSTMKIT_SIMD").unwrap_or_default();
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
            let avx512 = avx2
                && is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl");
            if cap == "scalar" {
                return SimdLevel::Scalar;
            }
            if avx512 && cap != "avx2" {
                return SimdLevel::Avx512;
            }
            if avx2 {
                return SimdLevel::Avx2;
            }
        }
        let _ = cap;
        SimdLevel::Scalar
    })
}

/// e^x for f32 (Cephes polynomial; branch-free so loops vectorise). Relative error ≈ 2 ulp.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    let fx = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - fx * 0.693_359_4 + fx * 2.121_944_4e-4;
    let z = r * r;
    let y = (((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2)
        * r
        + 1.666_666_5e-1)
        * r
        + 0.5)
        * z
        + r
        + 1.0;
    // 2^fx by bit manipulation; the magic-number conversion (instead of `as i32`,
    // whose saturation rules block vectorisation) is exact for |fx| < 2^22.
    let n = (fx + 12_582_912.0).to_bits().wrapping_sub(0x4B40_0000);
    y * f32::from_bits(n.wrapping_add(127) << 23)
}

/// Logistic sigmoid.
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// Hyperbolic tangent: 1 − 2 / (e^{2x} + 1) (absolute error ≈ 1e-7).
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    1.0 - 2.0 / (exp_f32(2.0 * x) + 1.0)
}

#[inline(always)]
fn ln1p_f32(x: f32) -> f32 {
    (x as f64).ln_1p() as f32
}

/// erf (Abramowitz–Stegun 7.1.26, |error| ≤ 1.5e-7).
#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    let s = x.signum();
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_8) * t - 0.284_496_74) * t
            + 0.254_829_6)
            * t
            * exp_f32(-a * a);
    s * y
}

#[cfg(test)]
mod tests {
    use super::*;
    const ALL: [Activation; 12] = [
        Activation::Linear,
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::HardSigmoid,
        Activation::HardSigmoidKeras2,
        Activation::Elu,
        Activation::Selu,
        Activation::Softsign,
        Activation::Softplus,
        Activation::Swish,
        Activation::Gelu,
    ];

    fn reference(a: Activation, x: f64) -> f64 {
        match a {
            Activation::Linear => x,
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::HardSigmoid => ((x + 3.0) / 6.0).clamp(0.0, 1.0),
            Activation::HardSigmoidKeras2 => (0.2 * x + 0.5).clamp(0.0, 1.0),
            Activation::Elu => {
                if x > 0.0 {
                    x
                } else {
                    x.exp() - 1.0
                }
            }
            Activation::Selu => {
                let (s, al) = (1.0507009873554805, 1.6732632423543772);
                if x > 0.0 {
                    s * x
                } else {
                    s * al * (x.exp() - 1.0)
                }
            }
            Activation::Softsign => x / (1.0 + x.abs()),
            Activation::Softplus => (1.0 + x.exp()).ln(),
            Activation::Swish => x / (1.0 + (-x).exp()),
            Activation::Gelu => {
                // erf via a high-precision series for the reference
                let z = x / 2f64.sqrt();
                let mut sum = 0.0;
                let mut term = z;
                let mut n = 0.0;
                while term.abs() > 1e-17 && n < 200.0 {
                    sum += term / (2.0 * n + 1.0);
                    n += 1.0;
                    term *= -z * z / n;
                }
                0.5 * x * (1.0 + 2.0 / std::f64::consts::PI.sqrt() * sum)
            }
        }
    }

    #[test]
    fn values_match_f64_reference() {
        for a in ALL {
            for k in -60..=60 {
                let x = k as f64 * 0.1;
                let got = a.apply(x as f32) as f64;
                let want = reference(a, x);
                assert!(
                    (got - want).abs() <= 2e-6 * (1.0 + want.abs()),
                    "{a:?}({x}) = {got}, want {want}"
                );
            }
        }
    }

    #[test]
    fn slice_kernel_equals_scalar() {
        let xs: Vec<f32> = (0..100).map(|k| (k as f32 - 50.0) * 0.13).collect();
        for a in ALL {
            let mut v = xs.clone();
            a.apply_slice(&mut v);
            for (x, y) in xs.iter().zip(&v) {
                assert_eq!(a.apply(*x).to_bits(), y.to_bits(), "{a:?} at {x}");
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for a in ALL {
            for k in -40..=40 {
                let x = k as f64 * 0.15 + 0.013;
                if (a == Activation::HardSigmoid && (x.abs() - 3.0).abs() < 0.01)
                    || (a == Activation::HardSigmoidKeras2 && (x.abs() - 2.5).abs() < 0.01)
                {
                    continue;
                }
                let h = 1e-5;
                let fd = (reference(a, x + h) - reference(a, x - h)) / (2.0 * h);
                let y = a.apply(x as f32);
                let d = a.deriv(x as f32, y) as f64;
                assert!(
                    (d - fd).abs() < 2e-4 * (1.0 + fd.abs()),
                    "{a:?}'({x}) = {d}, fd {fd}"
                );
            }
        }
    }

    #[test]
    fn derivative_from_output_equals_derivative() {
        for a in ALL.into_iter().filter(|a| !a.deriv_needs_input()) {
            for k in -40..=40 {
                let x = k as f32 * 0.15 + 0.013;
                let y = a.apply(x);
                let (want, got) = (a.deriv(x, y), a.deriv_from_output(y));
                assert!(
                    (want - got).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{a:?}'({x}): {got} from the output, {want} from the input"
                );
            }
        }
        assert!(Activation::Swish.deriv_needs_input() && Activation::Gelu.deriv_needs_input());
    }

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for a in ALL {
            assert_eq!(Activation::from_name(a.name()).unwrap(), a);
        }
        let e = Activation::from_name("mish").unwrap_err().to_string();
        assert!(e.contains("mish"));
    }
}
