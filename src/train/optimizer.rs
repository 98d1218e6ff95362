//! Optimisers with Keras 3's exact update rules, gradient clipping and a
//! learning rate that callbacks may change between epochs.
//!
//! ```
//! use lstmkit::train::Optimizer;
//! let opt = Optimizer::adam(1e-3).clipnorm(1.0).unwrap();
//! assert_eq!(opt.learning_rate, 1e-3);
//! ```

use crate::error::{Error, Result};
use crate::nn::activation::simd_level;
use crate::nn::Param;

/// The update rule and its hyper-parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum.
    Sgd {
        /// Momentum factor (0 = plain SGD).
        momentum: f32,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Adam (Keras: ε added to √v after folding the bias correction into the step size).
    Adam {
        /// β₁.
        beta_1: f32,
        /// β₂.
        beta_2: f32,
        /// ε.
        epsilon: f32,
        /// AMSGrad variant.
        amsgrad: bool,
        /// Decoupled weight decay (Keras' `weight_decay`; AdamW sets it).
        weight_decay: f32,
    },
    /// RMSprop (Keras: ε inside the square root).
    RmsProp {
        /// Decay of the squared-gradient average.
        rho: f32,
        /// Momentum factor.
        momentum: f32,
        /// ε.
        epsilon: f32,
        /// Centered variant.
        centered: bool,
    },
}

/// An optimiser: rule, learning rate, clipping and per-variable state.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Optimizer {
    /// The rule.
    pub kind: Kind,
    /// Current learning rate (callbacks may change it).
    pub learning_rate: f32,
    /// Clip each variable's gradient to this L2 norm.
    pub clipnorm: Option<f32>,
    /// Clip all gradients together to this global L2 norm.
    pub global_clipnorm: Option<f32>,
    /// Clip each gradient element to [−v, v].
    pub clipvalue: Option<f32>,
    /// Number of updates applied so far (Keras' `iterations`).
    pub iterations: u64,
    /// Per trainable variable, the slot buffers (momentum, velocity, ...).
    pub slots: Vec<Vec<Vec<f32>>>,
}

impl Optimizer {
    fn with(kind: Kind, lr: f32) -> Self {
        Optimizer {
            kind,
            learning_rate: lr,
            clipnorm: None,
            global_clipnorm: None,
            clipvalue: None,
            iterations: 0,
            slots: Vec::new(),
        }
    }
    /// `keras.optimizers.Adam(learning_rate)` with Keras' defaults.
    pub fn adam(lr: f32) -> Self {
        Self::adam_with_decay(lr, 0.0)
    }
    /// `keras.optimizers.AdamW(learning_rate)` (weight_decay 0.004).
    pub fn adamw(lr: f32) -> Self {
        Self::adam_with_decay(lr, 0.004)
    }
    fn adam_with_decay(lr: f32, weight_decay: f32) -> Self {
        Self::with(
            Kind::Adam {
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-7,
                amsgrad: false,
                weight_decay,
            },
            lr,
        )
    }
    /// `keras.optimizers.SGD(learning_rate, momentum, nesterov)`.
    pub fn sgd(lr: f32, momentum: f32, nesterov: bool) -> Self {
        Self::with(Kind::Sgd { momentum, nesterov }, lr)
    }
    /// `keras.optimizers.RMSprop(learning_rate)` with Keras' defaults.
    pub fn rmsprop(lr: f32) -> Self {
        Self::with(
            Kind::RmsProp {
                rho: 0.9,
                momentum: 0.0,
                epsilon: 1e-7,
                centered: false,
            },
            lr,
        )
    }

    /// Builds from a name and learning rate (`adam`, `adamw`, `sgd`, `rmsprop`).
    pub fn from_name(name: &str, lr: Option<f32>) -> Result<Self> {
        Ok(match name.to_lowercase().as_str() {
            "adam" => Self::adam(lr.unwrap_or(1e-3)),
            "adamw" => Self::adamw(lr.unwrap_or(1e-3)),
            "sgd" => Self::sgd(lr.unwrap_or(0.01), 0.0, false),
            "rmsprop" => Self::rmsprop(lr.unwrap_or(1e-3)),
            other => {
                return Err(Error::Config(format!(
                    "unknown optimizer '{other}' (known: adam, adamw, sgd, rmsprop)"
                )))
            }
        })
    }

    /// The Keras class name.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            Kind::Sgd { .. } => "SGD",
            Kind::Adam { weight_decay, .. } if *weight_decay > 0.0 => "AdamW",
            Kind::Adam { .. } => "Adam",
            Kind::RmsProp { .. } => "RMSprop",
        }
    }

    fn only_one_clip(&self) -> Result<()> {
        let n = [self.clipnorm, self.global_clipnorm, self.clipvalue]
            .iter()
            .filter(|c| c.is_some())
            .count();
        if n > 1 {
            return Err(Error::Config(
                "only one of clipnorm, global_clipnorm and clipvalue can be set (as in Keras)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Sets `clipnorm` (per-variable norm clipping).
    pub fn clipnorm(mut self, v: f32) -> Result<Self> {
        self.clipnorm = Some(v);
        self.only_one_clip()?;
        Ok(self)
    }
    /// Sets `global_clipnorm`.
    pub fn global_clipnorm(mut self, v: f32) -> Result<Self> {
        self.global_clipnorm = Some(v);
        self.only_one_clip()?;
        Ok(self)
    }
    /// Sets `clipvalue`.
    pub fn clipvalue(mut self, v: f32) -> Result<Self> {
        self.clipvalue = Some(v);
        self.only_one_clip()?;
        Ok(self)
    }

    fn n_slots(&self) -> usize {
        match &self.kind {
            Kind::Sgd { momentum, .. } => usize::from(*momentum > 0.0),
            Kind::Adam { amsgrad, .. } => 2 + usize::from(*amsgrad),
            Kind::RmsProp {
                momentum, centered, ..
            } => 1 + usize::from(*momentum > 0.0) + usize::from(*centered),
        }
    }

    /// Clips the gradients in place as configured (Keras' `_clip_gradients`).
    pub fn clip_gradients(&self, grads: &mut [&mut [f32]]) {
        if let Some(c) = self.clipnorm {
            for g in grads.iter_mut() {
                let n = g
                    .iter()
                    .map(|x| (*x as f64) * (*x as f64))
                    .sum::<f64>()
                    .sqrt() as f32;
                if n > 0.0 {
                    let s = c / n.max(c);
                    for x in g.iter_mut() {
                        *x *= s;
                    }
                }
            }
        } else if let Some(c) = self.global_clipnorm {
            let n = grads
                .iter()
                .flat_map(|g| g.iter())
                .map(|x| (*x as f64) * (*x as f64))
                .sum::<f64>()
                .sqrt() as f32;
            if n > 0.0 {
                let s = c / n.max(c);
                for g in grads.iter_mut() {
                    for x in g.iter_mut() {
                        *x *= s;
                    }
                }
            }
        } else if let Some(v) = self.clipvalue {
            for g in grads.iter_mut() {
                for x in g.iter_mut() {
                    *x = x.clamp(-v, v);
                }
            }
        }
    }

    /// Applies one update to the trainable parameters (non-trainable ones are skipped).
    pub fn apply(&mut self, params: &mut [&mut Param]) -> Result<()> {
        self.only_one_clip()?;
        let mut train: Vec<&mut Param> = params
            .iter_mut()
            .filter(|p| p.trainable)
            .map(|p| &mut **p)
            .collect();
        let ns = self.n_slots();
        if self.slots.is_empty() {
            self.slots = train
                .iter()
                .map(|p| vec![vec![0.0; p.value.len()]; ns])
                .collect();
        }
        if self.slots.len() != train.len()
            || self
                .slots
                .iter()
                .zip(&train)
                .any(|(s, p)| s.iter().any(|v| v.len() != p.value.len()))
        {
            return Err(Error::Config(format!(
                "optimizer state holds {} variables but the model has {} trainable ones",
                self.slots.len(),
                train.len()
            )));
        }
        {
            let mut grads: Vec<&mut [f32]> =
                train.iter_mut().map(|p| &mut p.grad.data[..]).collect();
            self.clip_gradients(&mut grads);
        }
        self.iterations += 1;
        let t = self.iterations as f64;
        let lr = self.learning_rate;
        for (p, slots) in train.iter_mut().zip(self.slots.iter_mut()) {
            let w = &mut p.value.data;
            let g = &p.grad.data;
            match self.kind {
                Kind::Sgd { momentum, nesterov } => {
                    if momentum > 0.0 {
                        let m = &mut slots[0];
                        for k in 0..w.len() {
                            m[k] = momentum * m[k] - lr * g[k];
                            if nesterov {
                                w[k] += momentum * m[k] - lr * g[k];
                            } else {
                                w[k] += m[k];
                            }
                        }
                    } else {
                        for k in 0..w.len() {
                            w[k] -= lr * g[k];
                        }
                    }
                }
                Kind::Adam {
                    beta_1,
                    beta_2,
                    epsilon,
                    amsgrad,
                    weight_decay,
                } => {
                    if weight_decay > 0.0 {
                        for x in w.iter_mut() {
                            *x -= *x * weight_decay * lr;
                        }
                    }
                    let b1p = (beta_1 as f64).powf(t) as f32;
                    let b2p = (beta_2 as f64).powf(t) as f32;
                    let alpha = lr * (1.0 - b2p).sqrt() / (1.0 - b1p);
                    let (c1, c2) = (keras_complement(beta_1), keras_complement(beta_2));
                    let (m, rest) = slots.split_at_mut(1);
                    let (v, vhat) = rest.split_at_mut(1);
                    let vhat = if amsgrad {
                        Some(&mut vhat[0][..])
                    } else {
                        None
                    };
                    adam_simd(
                        simd_level(),
                        w,
                        g,
                        &mut m[0],
                        &mut v[0],
                        vhat,
                        c1,
                        c2,
                        alpha,
                        epsilon,
                    );
                }
                Kind::RmsProp {
                    rho,
                    momentum,
                    epsilon,
                    centered,
                } => {
                    let (vel, rest) = slots.split_at_mut(1);
                    let vel = &mut vel[0];
                    let (mom, rest2) = if momentum > 0.0 {
                        let (a, b) = rest.split_at_mut(1);
                        (Some(&mut a[0]), b)
                    } else {
                        (None, rest)
                    };
                    let mut avg = if centered { Some(&mut rest2[0]) } else { None };
                    let mut mom = mom;
                    let c = keras_complement(rho);
                    for k in 0..w.len() {
                        vel[k] = rho * vel[k] + c * (g[k] * g[k]);
                        let denom = if let Some(a) = avg.as_deref_mut() {
                            a[k] = rho * a[k] + c * g[k];
                            vel[k] - a[k] * a[k] + epsilon
                        } else {
                            vel[k] + epsilon
                        };
                        let inc = lr * g[k] / denom.sqrt();
                        if let Some(m) = mom.as_deref_mut() {
                            m[k] = momentum * m[k] + inc;
                            w[k] -= m[k];
                        } else {
                            w[k] -= inc;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `1 - b` as Keras computes it: Keras keeps hyper-parameters such as
/// `beta_2 = 0.999` as Python floats, so `1 - beta_2` is formed in float64 from
/// the decimal the user wrote and only then rounded to float32. Computing it
/// from the float32 `b` instead is off by up to 1.3e-5 relative (for 0.999),
/// which visibly bends Adam trajectories. The f32's shortest decimal form
/// recovers the value the user wrote.
pub fn keras_complement(b: f32) -> f32 {
    let decimal: f64 = b.to_string().parse().unwrap_or(b as f64);
    (1.0 - decimal) as f32
}

/// The Adam element loop (Keras' formula), inlined into SIMD-compiled wrappers.
#[inline(always)]
fn adam_loop(
    w: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vhat: Option<&mut [f32]>,
    c1: f32,
    c2: f32,
    alpha: f32,
    eps: f32,
) {
    let n = w.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    match vhat {
        None => {
            for k in 0..n {
                m[k] += (g[k] - m[k]) * c1;
                v[k] += (g[k] * g[k] - v[k]) * c2;
                w[k] -= alpha * m[k] / (v[k].sqrt() + eps);
            }
        }
        Some(vh) => {
            let vh = &mut vh[..n];
            for k in 0..n {
                m[k] += (g[k] - m[k]) * c1;
                v[k] += (g[k] * g[k] - v[k]) * c2;
                vh[k] = vh[k].max(v[k]);
                w[k] -= alpha * m[k] / (vh[k].sqrt() + eps);
            }
        }
    }
}

crate::nn::rnn::common::simd_variants!(adam_loop, adam_avx512, adam_avx2, adam_simd,
    (w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], vhat: Option<&mut [f32]>, c1: f32, c2: f32, alpha: f32, eps: f32));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complements_are_formed_in_float64_like_keras() {
        // Python: np.float32(1 - 0.999) == 0.0010000000474974513
        assert_eq!(keras_complement(0.999), 0.001_f32);
        assert_eq!(keras_complement(0.9), 0.1_f32);
        assert_ne!(1.0 - 0.999_f32, 0.001_f32);
    }

    fn param(w: &[f32], g: &[f32]) -> Param {
        let mut p = Param::new("w", &[w.len()], w.to_vec());
        p.grad.data.copy_from_slice(g);
        p
    }

    #[test]
    fn adam_matches_hand_computation() {
        let mut o = Optimizer::adam(0.1);
        let mut p = param(&[1.0, -2.0], &[0.5, -0.25]);
        o.apply(&mut [&mut p]).unwrap();
        // step 1: m = 0.1 g, v = 0.001 g², alpha = 0.1·sqrt(0.001)/0.1
        // Keras forms alpha from float32 beta powers: 1 - 0.999f32^t, not 1 - 0.999
        let alpha = (0.1f32 * (1.0f32 - 0.999f32).sqrt() / (1.0f32 - 0.9f32)) as f64;
        for (k, (w0, g)) in [(1.0f64, 0.5f64), (-2.0, -0.25)].iter().enumerate() {
            let m = 0.1 * g;
            let v = 0.001 * g * g;
            let want = w0 - alpha * m / (v.sqrt() + 1e-7);
            assert!((p.value.data[k] as f64 - want).abs() < 1e-6, "{k}");
        }
        // step 2 with the same gradient
        let w1 = p.value.data.clone();
        o.apply(&mut [&mut p]).unwrap();
        let alpha2 =
            (0.1f32 * (1.0f32 - 0.999f32 * 0.999f32).sqrt() / (1.0f32 - 0.9f32 * 0.9f32)) as f64;
        let g = 0.5f64;
        let m = 0.1 * g * 0.9 + 0.1 * g;
        let v = 0.001 * g * g * 0.999 + 0.001 * g * g;
        let want = w1[0] as f64 - alpha2 * m / (v.sqrt() + 1e-7);
        assert!((p.value.data[0] as f64 - want).abs() < 1e-6);
    }

    #[test]
    fn sgd_momentum_nesterov_and_rmsprop() {
        let mut o = Optimizer::sgd(0.1, 0.9, false);
        let mut p = param(&[1.0], &[2.0]);
        o.apply(&mut [&mut p]).unwrap(); // m = -0.2, w = 0.8
        assert!((p.value.data[0] - 0.8).abs() < 1e-7);
        o.apply(&mut [&mut p]).unwrap(); // m = -0.18-0.2 = -0.38, w = 0.42
        assert!((p.value.data[0] - 0.42).abs() < 1e-6);
        let mut o = Optimizer::sgd(0.1, 0.9, true);
        let mut p = param(&[1.0], &[2.0]);
        o.apply(&mut [&mut p]).unwrap(); // m = -0.2, w += 0.9·(−0.2) − 0.2 = 1 − 0.38
        assert!((p.value.data[0] - 0.62).abs() < 1e-6);
        let mut o = Optimizer::rmsprop(0.01);
        let mut p = param(&[1.0], &[2.0]);
        o.apply(&mut [&mut p]).unwrap(); // v = 0.1·4 = 0.4, w −= 0.01·2/sqrt(0.4+1e-7)
        let want = 1.0 - 0.01 * 2.0 / (0.4f64 + 1e-7).sqrt();
        assert!((p.value.data[0] as f64 - want).abs() < 1e-6);
        let mut plain = Optimizer::sgd(0.5, 0.0, false);
        let mut p = param(&[1.0, 2.0], &[1.0, -1.0]);
        plain.apply(&mut [&mut p]).unwrap();
        assert_eq!(p.value.data, vec![0.5, 2.5]);
    }

    #[test]
    fn adamw_decays_before_the_step() {
        let mut o = Optimizer::adamw(0.1);
        let mut p = param(&[2.0], &[0.0]);
        o.apply(&mut [&mut p]).unwrap();
        assert!((p.value.data[0] - (2.0 - 2.0 * 0.004 * 0.1)).abs() < 1e-7);
    }

    #[test]
    fn clipping_rules() {
        let o = Optimizer::sgd(1.0, 0.0, false).clipnorm(1.0).unwrap();
        let mut a = vec![3.0f32, 4.0];
        let mut b = vec![0.1f32, 0.0];
        o.clip_gradients(&mut [&mut a, &mut b]);
        assert!((a[0] - 0.6).abs() < 1e-6 && (a[1] - 0.8).abs() < 1e-6);
        assert_eq!(b, vec![0.1, 0.0]);
        let o = Optimizer::sgd(1.0, 0.0, false)
            .global_clipnorm(1.0)
            .unwrap();
        let mut a = vec![3.0f32];
        let mut b = vec![4.0f32];
        o.clip_gradients(&mut [&mut a, &mut b]);
        assert!((a[0] - 0.6).abs() < 1e-6 && (b[0] - 0.8).abs() < 1e-6);
        let o = Optimizer::sgd(1.0, 0.0, false).clipvalue(0.5).unwrap();
        let mut a = vec![3.0f32, -0.2, -9.0];
        o.clip_gradients(&mut [&mut a]);
        assert_eq!(a, vec![0.5, -0.2, -0.5]);
        assert!(Optimizer::adam(0.1)
            .clipnorm(1.0)
            .unwrap()
            .clipvalue(1.0)
            .is_err());
    }

    #[test]
    fn non_trainable_are_skipped() {
        let mut o = Optimizer::sgd(1.0, 0.0, false);
        let mut p = param(&[1.0], &[1.0]);
        p.trainable = false;
        let mut q = param(&[1.0], &[1.0]);
        o.apply(&mut [&mut p, &mut q]).unwrap();
        assert_eq!(p.value.data[0], 1.0);
        assert_eq!(q.value.data[0], 0.0);
    }
}
