//! The standard Theta method (Assimakopoulos & Nikolopoulos 2000) in the
//! state-space form of Fiorucci et al. (2016), as StatsForecast's
//! `Theta` (model "STM", `θ = 2`): simple exponential smoothing plus half
//! the slope of a line fitted to the data.
//!
//! * Seasonality: when `m >= 4`, there are two full cycles and the lag-`m`
//!   autocorrelation is significant ([`super::decompose::is_seasonal`]), the
//!   series is divided by classical multiplicative seasonal indices
//!   (additive ones when a value is not positive or an index is below 0.01)
//!   and the forecasts multiplied back.
//! * On the adjusted series `y` (`n` rows): `Bₙ`, `Aₙ` are the slope and
//!   intercept of the least-squares line over `t = 1..n`; the one-step
//!   forecast at row `i` is
//!   `μᵢ = ℓᵢ₋₁ + (1 - 1/θ)(Aₙ(1-α)ⁱ + Bₙ(1 - (1-α)ⁱ⁺¹)/α)`, and
//!   `ℓᵢ = αyᵢ + (1-α)ℓᵢ₋₁` with `ℓ₀ = αy₀ + (1-α)ℓ*` from the initial
//!   level `ℓ*`; forecasts feed `μ` back as the observation.
//! * `ℓ*` and `α ∈ [0.1, 0.99]` minimise `Σ_{i≥3} (yᵢ - μᵢ)²` by Nelder–Mead
//!   from `(y₀/2, 0.5)`.

use serde::Serialize;

use super::decompose::{is_seasonal, seasonal_indices, Kind};
use super::optim::{nelder_mead, NelderMead};
use crate::error::{Error, Result};

/// A fitted standard Theta model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Theta {
    /// Smoothing of the level.
    pub alpha: f64,
    /// The initial level `ℓ*`.
    pub level0: f64,
    /// θ (2 for the standard method).
    pub theta: f64,
    /// Intercept of the fitted line.
    pub an: f64,
    /// Slope of the fitted line.
    pub bn: f64,
    /// The decomposition used, with its `m` indices (index `i` for rows `i, i+m, ...`).
    pub season: Option<(Kind, Vec<f64>)>,
    /// Rows it was fitted on.
    pub n_fit: usize,
}

impl Theta {
    fn adjust(&self, y: &[f64]) -> Vec<f64> {
        match &self.season {
            None => y.to_vec(),
            Some((kind, idx)) => y
                .iter()
                .enumerate()
                .map(|(t, v)| match kind {
                    Kind::Additive => v - idx[t % idx.len()],
                    Kind::Multiplicative => v / idx[t % idx.len()],
                })
                .collect(),
        }
    }

    fn mu(&self, level: f64, i: usize) -> f64 {
        let a = self.alpha;
        let q = (1.0 - a).powi(i.min(i32::MAX as usize) as i32);
        level + (1.0 - 1.0 / self.theta) * (self.an * q + self.bn * (1.0 - q * (1.0 - a)) / a)
    }

    /// The level after the (adjusted) rows `y`, and `Σ_{i≥3} e²`.
    fn run(&self, y: &[f64]) -> (f64, f64) {
        let a = self.alpha;
        let mut level = a * y[0] + (1.0 - a) * self.level0;
        let mut sse = 0.0;
        for (i, &v) in y.iter().enumerate().skip(1) {
            let e = v - self.mu(level, i);
            if i >= 3 {
                sse += e * e;
            }
            level = a * v + (1.0 - a) * level;
        }
        (level, sse)
    }

    /// Forecasts `h` steps after `history`, which begins with the rows the
    /// model was fitted on (later rows update the level with the fitted `α`).
    pub fn forecast(&self, history: &[f64], h: usize) -> Vec<f64> {
        if history.is_empty() {
            return vec![f64::NAN; h];
        }
        let n = history.len();
        let (mut level, _) = self.run(&self.adjust(history));
        (0..h)
            .map(|k| {
                let mu = self.mu(level, n + k);
                level = self.alpha * mu + (1.0 - self.alpha) * level;
                match &self.season {
                    None => mu,
                    Some((Kind::Additive, idx)) => mu + idx[(n + k) % idx.len()],
                    Some((Kind::Multiplicative, idx)) => mu * idx[(n + k) % idx.len()],
                }
            })
            .collect()
    }

    /// Fits the standard Theta model with season `m` (1: none) to `y`.
    pub fn fit(y: &[f64], m: usize) -> Result<Theta> {
        let n = y.len();
        if n < 4 {
            return Err(Error::Data(format!(
                "Theta: {n} rows are too few (4 needed)"
            )));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!("Theta: value {i} is {}", y[i])));
        }
        let season = if is_seasonal(y, m) {
            let positive = y.iter().all(|v| *v > 0.0);
            let mult = if positive {
                seasonal_indices(y, m, Kind::Multiplicative)
                    .filter(|s| s.iter().all(|v| *v >= 0.01))
            } else {
                None
            };
            match mult {
                Some(s) => Some((Kind::Multiplicative, s)),
                None => seasonal_indices(y, m, Kind::Additive).map(|s| (Kind::Additive, s)),
            }
        } else {
            None
        };
        let mut model = Theta {
            alpha: 0.5,
            level0: 0.0,
            theta: 2.0,
            an: 0.0,
            bn: 0.0,
            season,
            n_fit: n,
        };
        let ya = model.adjust(y);
        let nf = n as f64;
        let mean = ya.iter().sum::<f64>() / nf;
        let mean_ty = ya
            .iter()
            .enumerate()
            .map(|(t, v)| (t + 1) as f64 * v)
            .sum::<f64>()
            / nf;
        model.bn = 6.0 * (2.0 * mean_ty - (1.0 + nf) * mean) / (nf * nf - 1.0);
        model.an = mean - (nf + 1.0) * model.bn / 2.0;
        let scale = ya.iter().map(|v| v.abs()).sum::<f64>() / nf;
        let scale = if scale == 0.0 { 1e-10 } else { scale };
        let obj = |x: &[f64]| {
            let mut t = model.clone();
            t.level0 = x[0];
            t.alpha = x[1];
            t.run(&ya).1 / scale
        };
        let best = nelder_mead(
            obj,
            &[ya[0] / 2.0, 0.5],
            &[-1e10, 0.1],
            &[1e10, 0.99],
            NelderMead::default(),
        );
        model.level0 = best.x[0];
        model.alpha = best.x[1];
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_continued_with_half_its_slope_plus_the_level() {
        let y: Vec<f64> = (0..40).map(|t| 10.0 + 2.0 * t as f64).collect();
        let th = Theta::fit(&y, 1).unwrap();
        assert!((th.bn - 2.0).abs() < 1e-9, "{th:?}");
        assert!(th.season.is_none());
        let f = th.forecast(&y, 3);
        // SES lags a line; θ = 2 adds back half the slope per step and more: rising forecasts
        assert!(f[0] > y[39] && f[1] > f[0] && f[2] > f[1], "{f:?}");
        assert!(Theta::fit(&[1.0, 2.0], 1).is_err());
        assert!(Theta::fit(&[1.0, 2.0, f64::INFINITY, 3.0], 1).is_err());
    }

    #[test]
    fn a_seasonal_series_is_decomposed() {
        let pat = [1.3, 0.8, 1.1, 0.8];
        let y: Vec<f64> = (0..48).map(|t| (50.0 + t as f64) * pat[t % 4]).collect();
        let th = Theta::fit(&y, 4).unwrap();
        let (kind, idx) = th.season.clone().unwrap();
        assert_eq!(kind, Kind::Multiplicative);
        assert!((idx[0] - 1.3).abs() < 0.05, "{idx:?}");
        let f = th.forecast(&y, 4);
        for (k, v) in f.iter().enumerate() {
            let truth = (50.0 + (48 + k) as f64) * pat[k];
            assert!((v - truth).abs() / truth < 0.03, "{k}: {v} vs {truth}");
        }
    }
}
