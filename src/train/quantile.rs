//! Quantile regression: the monotone quantile head and the pinball loss.
//!
//! **Output layout.** A quantile model with `Q` levels `tau_0 < ... < tau_{Q-1}`
//! and `S` output steps has `S * Q` raw outputs per sample, grouped by step:
//! raw `[s*Q .. (s+1)*Q]` are `[b, r_1, ..., r_{Q-1}]` for step `s`. The head
//! maps them to quantiles `q_0 = b`, `q_j = b + sum_{k=1..=j} softplus(r_k)`,
//! so predicted quantiles never cross (a monotone parameterisation, not sorting).
//! The pinball loss is averaged over samples, steps and levels.

use crate::error::{Error, Result};

/// Most quantile levels one model can have.
pub const MAX_QUANTILES: usize = 8;

/// Strictly increasing quantile levels in (0, 1); `Copy` so `Loss` stays `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuantileLevels {
    n: u8,
    q: [f32; MAX_QUANTILES],
}

impl QuantileLevels {
    /// Checks and stores `levels` (1 to 8, strictly increasing, each in (0, 1)).
    pub fn new(levels: &[f32]) -> Result<Self> {
        if levels.is_empty() || levels.len() > MAX_QUANTILES {
            return Err(Error::Config(format!(
                "quantiles: give 1 to {MAX_QUANTILES} levels, got {}",
                levels.len()
            )));
        }
        for (i, &t) in levels.iter().enumerate() {
            if !(t > 0.0 && t < 1.0) {
                return Err(Error::Config(format!(
                    "quantiles[{i}] = {t}: each level must lie strictly between 0 and 1"
                )));
            }
            if i > 0 && t <= levels[i - 1] {
                return Err(Error::Config(format!(
                    "quantiles[{i}] = {t}: levels must be strictly increasing"
                )));
            }
        }
        let mut q = [0.0; MAX_QUANTILES];
        q[..levels.len()].copy_from_slice(levels);
        Ok(QuantileLevels {
            n: levels.len() as u8,
            q,
        })
    }

    /// The levels.
    pub fn levels(&self) -> &[f32] {
        &self.q[..self.n as usize]
    }

    /// Number of levels.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    /// Always false (construction requires at least one level).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Index of the median level (the one nearest 0.5), fed back in recursive forecasts.
    pub fn median_index(&self) -> usize {
        let l = self.levels();
        (0..l.len())
            .min_by(|&a, &b| (l[a] - 0.5).abs().total_cmp(&(l[b] - 0.5).abs()))
            .unwrap_or(0)
    }
}

fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Applies the monotone head to raw outputs (layout in the module docs); `raw.len()`
/// must be a multiple of the number of levels.
pub fn head_forward(raw: &[f32], nq: usize, out: &mut Vec<f32>) -> Result<()> {
    if nq == 0 || !raw.len().is_multiple_of(nq) {
        return Err(Error::Shape(format!(
            "quantile head: {} raw outputs is not a multiple of {nq} quantile levels",
            raw.len()
        )));
    }
    out.clear();
    out.reserve(raw.len());
    for g in raw.chunks_exact(nq) {
        let mut acc = g[0];
        out.push(acc);
        for &r in &g[1..] {
            acc += softplus(r);
            out.push(acc);
        }
    }
    Ok(())
}

/// Backward of the head: given dL/dq (same layout), writes dL/draw into `graw`.
pub fn head_backward(raw: &[f32], gq: &[f32], nq: usize, graw: &mut [f32]) {
    for ((r, g), o) in raw
        .chunks_exact(nq)
        .zip(gq.chunks_exact(nq))
        .zip(graw.chunks_exact_mut(nq))
    {
        // suffix sums: dL/db = sum_j g_j; dL/dr_k = sigmoid(r_k) * sum_{j>=k} g_j
        let mut suffix = 0.0f32;
        for k in (1..nq).rev() {
            suffix += g[k];
            o[k] = sigmoid(r[k]) * suffix;
        }
        o[0] = suffix + g[0];
    }
}

/// Pinball loss of raw model outputs (`target.len() * Q` values) against `target`,
/// averaged over every target element and level; writes dL/draw into `grad`.
pub fn pinball_raw(
    levels: &QuantileLevels,
    raw: &[f32],
    target: &[f32],
    grad: &mut [f32],
) -> Result<f32> {
    let nq = levels.len();
    if raw.len() != target.len() * nq {
        return Err(Error::Shape(format!(
            "quantile loss: {} outputs do not match {} targets x {nq} quantile levels",
            raw.len(),
            target.len()
        )));
    }
    let mut q = Vec::new();
    head_forward(raw, nq, &mut q)?;
    let inv = 1.0 / (raw.len().max(1) as f32);
    let mut gq = vec![0.0f32; raw.len()];
    let mut total = 0.0f64;
    for (i, &y) in target.iter().enumerate() {
        for (j, &tau) in levels.levels().iter().enumerate() {
            let u = y - q[i * nq + j];
            total += f64::from(if u >= 0.0 { tau * u } else { (tau - 1.0) * u });
            gq[i * nq + j] = if u > 0.0 {
                -tau * inv
            } else if u < 0.0 {
                (1.0 - tau) * inv
            } else {
                0.0
            };
        }
    }
    head_backward(raw, &gq, nq, grad);
    Ok((total / raw.len().max(1) as f64) as f32)
}

/// The same loss in f64 (for finite-difference checks with less rounding noise).
pub fn pinball_raw_f64(levels: &QuantileLevels, raw: &[f32], target: &[f32]) -> f64 {
    let nq = levels.len();
    let sp = |x: f64| if x > 20.0 { x } else { x.exp().ln_1p() };
    let mut total = 0.0f64;
    for (g, &y) in raw.chunks_exact(nq).zip(target) {
        let mut acc = f64::from(g[0]);
        for (j, &tau) in levels.levels().iter().enumerate() {
            if j > 0 {
                acc += sp(f64::from(g[j]));
            }
            let u = f64::from(y) - acc;
            let tau = f64::from(tau);
            total += if u >= 0.0 { tau * u } else { (tau - 1.0) * u };
        }
    }
    total / raw.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_checked() {
        assert!(QuantileLevels::new(&[]).is_err());
        assert!(QuantileLevels::new(&[0.5, 0.5]).is_err());
        assert!(QuantileLevels::new(&[0.9, 0.1]).is_err());
        assert!(QuantileLevels::new(&[0.0, 0.5]).is_err());
        assert!(QuantileLevels::new(&[0.5, 1.0]).is_err());
        let l = QuantileLevels::new(&[0.1, 0.5, 0.9]).unwrap();
        assert_eq!(l.levels(), &[0.1, 0.5, 0.9]);
        assert_eq!(l.median_index(), 1);
    }

    #[test]
    fn head_never_crosses_even_for_extreme_raw_values() {
        let raw = [3.0, -50.0, -80.0, -1.0, 40.0, 0.0];
        let mut q = Vec::new();
        head_forward(&raw, 3, &mut q).unwrap();
        for g in q.chunks_exact(3) {
            assert!(g[0] <= g[1] && g[1] <= g[2], "{g:?}");
        }
        assert!(head_forward(&raw, 4, &mut q).is_err());
    }

    #[test]
    fn head_backward_matches_finite_differences() {
        let raw = [0.3f32, -0.7, 1.2, -0.4, 0.9, -2.0];
        let w = [0.5f32, -1.5, 2.0, 0.25, 1.0, -0.75];
        let f = |r: &[f32]| {
            let mut q = Vec::new();
            head_forward(r, 3, &mut q).unwrap();
            q.iter().zip(&w).map(|(a, b)| f64::from(a * b)).sum::<f64>()
        };
        let mut g = [0.0f32; 6];
        head_backward(&raw, &w, 3, &mut g);
        for i in 0..raw.len() {
            let (mut p, mut m) = (raw, raw);
            p[i] += 1e-3;
            m[i] -= 1e-3;
            let fd = (f(&p) - f(&m)) / 2e-3;
            assert!((fd - f64::from(g[i])).abs() < 1e-3, "{i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn pinball_value_and_finite_difference_gradient() {
        let l = QuantileLevels::new(&[0.1, 0.5, 0.9]).unwrap();
        // one target, raw = base 0, increments softplus(0) = ln 2 each
        let raw = [0.0f32, 0.0, 0.0];
        let mut g = [0.0f32; 3];
        let v = pinball_raw(&l, &raw, &[1.0], &mut g).unwrap();
        let ln2 = std::f32::consts::LN_2;
        let want = (0.1 * 1.0 + 0.5 * (1.0 - ln2) + 0.1 * (2.0 * ln2 - 1.0)) / 3.0;
        assert!((v - want).abs() < 1e-6, "{v} vs {want}");
        assert!(pinball_raw(&l, &raw, &[1.0, 2.0], &mut g).is_err());

        let raw = [0.2f32, -0.3, 0.8, -1.1, 0.4, 0.1, 0.6, -0.9, 0.2];
        let y = [0.9f32, -2.0, 1.3];
        let mut g = [0.0f32; 9];
        let v = pinball_raw(&l, &raw, &y, &mut g).unwrap();
        assert!((f64::from(v) - pinball_raw_f64(&l, &raw, &y)).abs() < 1e-6);
        for i in 0..raw.len() {
            let (mut p, mut m) = (raw, raw);
            p[i] += 1e-3;
            m[i] -= 1e-3;
            let fd = (pinball_raw_f64(&l, &p, &y) - pinball_raw_f64(&l, &m, &y)) / 2e-3;
            assert!((fd - f64::from(g[i])).abs() < 1e-4, "{i}: {fd} vs {}", g[i]);
        }
    }
}
