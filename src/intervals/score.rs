//! Scores of intervals and quantiles against the truth (`y` truth, `[l, u]`
//! the interval at level `1 - α`, `n` values):
//! * `coverage = #{l <= y <= u} / n` (a fraction; nominal: the level);
//! * `width = Σ (u - l) / n`;
//! * `winkler = Σ (u - l) + (2/α)(l - y)₊ + (2/α)(y - u)₊ / n` (Winkler's
//!   interval score, Gneiting & Raftery 2007; lower is better, and it is
//!   minimised in expectation by the true `α/2` and `1 - α/2` quantiles);
//! * `msis = winkler / scale`, with `scale` the in-sample seasonal-naive MAE
//!   of MASE (M4's mean scaled interval score); absent without a scale;
//! * `pinball(τ) = Σ max(τ (y - q), (τ - 1)(y - q)) / n` for a quantile
//!   forecast `q` at level `τ`;
//! * `crps ≈ (2 / Q) Σ_τ pinball(τ)` over `Q` quantile levels (the CRPS is
//!   twice the pinball loss integrated over `τ ∈ (0, 1)`).
//!
//! ```
//! use lstmkit::intervals::score::interval_scores;
//! let s = interval_scores(&[1.0, 5.0], &[0.0, 0.0], &[2.0, 2.0], 0.8, Some(2.0));
//! assert_eq!(s.coverage, 0.5);
//! assert_eq!(s.width, 2.0);
//! // the miss costs 2/0.2 × 3 = 30
//! assert!((s.winkler - (2.0 + 2.0 + 30.0) / 2.0).abs() < 1e-12);
//! assert_eq!(s.msis, Some(s.winkler / 2.0));
//! ```

use serde::{Deserialize, Serialize};

/// The scores of one set of intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalScores {
    /// Fraction of truths inside.
    pub coverage: f64,
    /// Mean width.
    pub width: f64,
    /// Mean Winkler (interval) score.
    pub winkler: f64,
    /// Winkler over the in-sample naive scale.
    pub msis: Option<f64>,
    /// Values scored.
    pub n: usize,
}

/// Scores of intervals `[lower, upper]` at `level` against `truth`.
pub fn interval_scores(
    truth: &[f64],
    lower: &[f64],
    upper: &[f64],
    level: f64,
    scale: Option<f64>,
) -> IntervalScores {
    let alpha = 1.0 - level;
    let n = truth.len().min(lower.len()).min(upper.len());
    let (mut inside, mut width, mut wink) = (0usize, 0.0, 0.0);
    for i in 0..n {
        let (y, l, u) = (truth[i], lower[i], upper[i]);
        if y >= l && y <= u {
            inside += 1;
        }
        width += u - l;
        wink += winkler(y, l, u, alpha);
    }
    let nf = n.max(1) as f64;
    let winkler = wink / nf;
    IntervalScores {
        coverage: inside as f64 / nf,
        width: width / nf,
        winkler,
        msis: scale
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(|s| winkler / s),
        n,
    }
}

/// Winkler's score of one interval at `1 - alpha`.
pub fn winkler(y: f64, l: f64, u: f64, alpha: f64) -> f64 {
    let mut s = u - l;
    if y < l {
        s += 2.0 / alpha * (l - y);
    }
    if y > u {
        s += 2.0 / alpha * (y - u);
    }
    s
}

/// Mean pinball loss of quantile forecasts `q` at level `tau`.
pub fn pinball(truth: &[f64], q: &[f64], tau: f64) -> f64 {
    let n = truth.len().min(q.len());
    let s: f64 = (0..n)
        .map(|i| {
            let d = truth[i] - q[i];
            (tau * d).max((tau - 1.0) * d)
        })
        .sum();
    s / n.max(1) as f64
}

/// CRPS estimated from quantile forecasts: `quantiles[j]` holds the forecasts
/// at level `taus[j]`, one per truth.
pub fn crps_from_quantiles(truth: &[f64], quantiles: &[Vec<f64>], taus: &[f64]) -> f64 {
    if taus.is_empty() {
        return f64::NAN;
    }
    let s: f64 = quantiles
        .iter()
        .zip(taus)
        .map(|(q, &t)| pinball(truth, q, t))
        .sum();
    2.0 * s / taus.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // inside, below, above
        let y = [1.0, -1.0, 4.0];
        let l = [0.0, 0.0, 0.0];
        let u = [2.0, 2.0, 2.0];
        let s = interval_scores(&y, &l, &u, 0.9, None);
        assert!((s.coverage - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(s.width, 2.0);
        let w = (2.0 + (2.0 + 20.0 * 1.0) + (2.0 + 20.0 * 2.0)) / 3.0;
        assert!((s.winkler - w).abs() < 1e-12, "{} vs {w}", s.winkler);
        assert_eq!(s.msis, None);
        assert_eq!(s.n, 3);
        // pinball: τ = 0.9, y - q = 1 → 0.9; y - q = -1 → 0.1
        assert!((pinball(&[1.0, -1.0], &[0.0, 0.0], 0.9) - 0.5).abs() < 1e-15);
        // CRPS of a point mass at q, with τ = 0.5 alone: 2 × 0.5|y - q| = |y - q|
        assert!((crps_from_quantiles(&[3.0], &[vec![1.0]], &[0.5]) - 2.0).abs() < 1e-15);
    }

    #[test]
    fn winkler_prefers_the_true_quantiles() {
        // uniform truths on [0, 1): the true 80% interval is [0.1, 0.9]
        let y: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let score =
            |a: f64, b: f64| interval_scores(&y, &vec![a; 1000], &vec![b; 1000], 0.8, None).winkler;
        let right = score(0.1, 0.9);
        assert!(right < score(0.2, 0.8), "too narrow must score worse");
        assert!(right < score(0.0, 1.0), "too wide must score worse");
        assert!(right < score(0.15, 0.95), "shifted must score worse");
    }
}
