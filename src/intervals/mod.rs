//! Prediction intervals: split conformal intervals for any forecaster, and
//! the scores that check them ([`score`]).
//!
//! # Split conformal, per horizon step
//! With `n` calibration scores `s_i = |y_i - ŷ_i|` of one horizon step (the
//! absolute errors of forecasts the model never trained on), the interval
//! at level `1 - α` of a new forecast `ŷ` is `ŷ ± q`, where `q` is the
//! `k`-th smallest score, `k = ⌈(n + 1)(1 - α)⌉` — the finite-sample
//! corrected quantile `⌈(n + 1)(1 - α)⌉ / n` of the scores, not the plain
//! empirical quantile `1 - α` (which under-covers for small `n`). When
//! `k > n` (fewer than `(1 - α) / α` scores: 19 for 95%, 4 for 80%) no
//! interval is given ([`conformal_quantile`] returns `None`) rather than an
//! infinite one. For exchangeable errors the coverage is then at least
//! `1 - α`.
//!
//! Where the scores come from (`calibration`):
//! * `"validation"` (`lstmkit train` / `forecast`): the validation windows
//!   (`data.validation_split`), per step; in a panel per series when the
//!   series has enough validation windows, else pooled over the series.
//!   With `steps` beyond `data.horizon`, each validation window's history
//!   is forecast `steps` steps ahead the way `lstmkit forecast` does it
//!   (recursively), with the actual rows inside the training part.
//! * `"backtest"` (`lstmkit backtest`): at each origin, the errors of the
//!   earlier origins' forecasts whose actual value is known at that origin
//!   (row `< origin`), per step; `cal_length` keeps only the last N.
//!   Origins before enough scores exist get no interval.
//!
//! `aci_gamma` (backtests only) adapts `α` online (Gibbs & Candès 2021,
//! adaptive conformal inference): after each outcome of step `k` becomes
//! known, `α_k ← α_k + γ (α - err)` with `err` 1 when that forecast's
//! interval missed; the interval uses the score rank `⌈(n + 1)(1 - α_k)⌉`,
//! clipped to `1..=n`.
//!
//! # Differences from Darts and NeuralForecast
//! * Darts' `ConformalNaiveModel` (symmetric) uses the same absolute
//!   errors of historical forecasts and the same rank `⌈(n + 1) q⌉`, but
//!   when that rank exceeds `n` it uses the largest score; lstmkit gives no
//!   interval until there are enough scores (ACI clips as Darts does).
//! * NeuralForecast's `PredictionIntervals` calibrates on `n_windows`
//!   cross-validation windows at the end of the training data (a refit per
//!   window) and takes `np.quantile` of the absolute errors without the
//!   finite-sample correction; lstmkit calibrates on the validation windows
//!   of the one fit (no refit) or on the backtest's own earlier origins.
//! * Darts' `ConformalQRModel` conformalises quantile outputs; lstmkit's
//!   conformal intervals wrap point forecasts only.

pub mod score;
pub mod validation;

pub use validation::StoredCalibration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One interval of a forecast: `lower` and `upper` in the layout of the point
/// values (step-major, `[k * targets + t]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Nominal coverage, in (0, 1).
    pub level: f64,
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds.
    pub upper: Vec<f64>,
}

/// Where the calibration scores come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Calibration {
    /// The validation windows of the training.
    Validation,
    /// The earlier origins of a backtest.
    Backtest,
}

/// How intervals are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalMethod {
    /// Split conformal on absolute errors.
    Conformal,
}

fn d_levels() -> Vec<f64> {
    vec![0.8, 0.95]
}
fn d_method() -> IntervalMethod {
    IntervalMethod::Conformal
}

/// The `[intervals]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalSpec {
    /// `"conformal"`.
    #[serde(default = "d_method")]
    pub method: IntervalMethod,
    /// Nominal levels, each in (0, 1) (default `[0.8, 0.95]`).
    #[serde(default = "d_levels")]
    pub levels: Vec<f64>,
    /// `"validation"` or `"backtest"` (default: `"validation"` for `train`,
    /// `"backtest"` for `lstmkit backtest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Validation calibration: steps calibrated (default `data.horizon`);
    /// more than `data.horizon` calibrates a recursive forecast of that many
    /// steps from each validation window, as `lstmkit forecast` makes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Backtest calibration: only the last N scores of each step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_length: Option<usize>,
    /// Backtest calibration: adaptive conformal step size γ (0: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aci_gamma: Option<f64>,
}

impl Default for IntervalSpec {
    fn default() -> Self {
        IntervalSpec {
            method: IntervalMethod::Conformal,
            levels: d_levels(),
            calibration: None,
            steps: None,
            cal_length: None,
            aci_gamma: None,
        }
    }
}

impl IntervalSpec {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.levels.is_empty() {
            return Err(Error::Config("intervals.levels: at least one level".into()));
        }
        for &l in &self.levels {
            if !(l > 0.0 && l < 1.0) {
                return Err(Error::Config(format!(
                    "intervals.levels: each level must be in (0, 1), got {l}"
                )));
            }
        }
        let mut seen: Vec<String> = Vec::new();
        for &l in &self.levels {
            let name = level_name(l);
            if seen.contains(&name) {
                return Err(Error::Config(format!(
                    "intervals.levels: {l} is given twice (columns lower_{name}, upper_{name})"
                )));
            }
            seen.push(name);
        }
        if self.steps == Some(0) {
            return Err(Error::Config("intervals.steps must be at least 1".into()));
        }
        if self.cal_length == Some(0) {
            return Err(Error::Config(
                "intervals.cal_length must be at least 1".into(),
            ));
        }
        if let Some(g) = self.aci_gamma {
            if !(g.is_finite() && (0.0..1.0).contains(&g)) {
                return Err(Error::Config(format!(
                    "intervals.aci_gamma must be in [0, 1), got {g}"
                )));
            }
        }
        Ok(())
    }

    /// The calibration source, `default` when not set.
    pub fn calibration_or(&self, default: Calibration) -> Calibration {
        self.calibration.unwrap_or(default)
    }
}

/// A level as it names columns and JSON keys: `0.8` → `80`, `0.975` → `97.5`.
pub fn level_name(level: f64) -> String {
    let p = (level * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{}", p as i64)
    } else {
        format!("{p}")
    }
}

/// The fewest scores a conformal interval at `level` needs: the least `n`
/// with `⌈(n + 1) level⌉ <= n`.
pub fn min_scores(level: f64) -> usize {
    (1usize..)
        .find(|&n| rank(n, level) <= n)
        .unwrap_or(usize::MAX)
}

/// `⌈(n + 1) level⌉`, guarded against `(n + 1) level` landing just above an integer.
fn rank(n: usize, level: f64) -> usize {
    let x = ((n + 1) as f64 * level * 1e8).round() / 1e8;
    x.ceil() as usize
}

/// The split conformal quantile of `scores` at `level`: the
/// `⌈(n + 1) level⌉`-th smallest finite score; `None` when that rank exceeds
/// the number of scores.
pub fn conformal_quantile(scores: &[f64], level: f64) -> Option<f64> {
    let mut s: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    sorted_quantile(&s, level)
}

/// [`conformal_quantile`] of scores already sorted ascending (all finite).
pub fn sorted_quantile(sorted: &[f64], level: f64) -> Option<f64> {
    let n = sorted.len();
    let k = rank(n, level);
    (k >= 1 && k <= n).then(|| sorted[k - 1])
}

/// The score of sorted `sorted` at rank `⌈(n + 1)(1 - α)⌉` clipped to
/// `1..=n` (ACI: `α` may leave (0, 1)); `None` without scores.
fn clipped_quantile(sorted: &[f64], alpha: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let level = (1.0 - alpha).clamp(0.0, 1.0);
    let k = rank(n, level).clamp(1, n);
    Some(sorted[k - 1])
}

/// Calibration scores per horizon step (and target), from residuals
/// `truth - pred`: `scores[k * targets + t]` holds the absolute errors of
/// step `k`, target `t`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Steps calibrated.
    pub steps: usize,
    /// Targets.
    pub targets: usize,
    /// Sorted absolute errors, per step and target.
    pub scores: Vec<Vec<f64>>,
}

impl Scores {
    /// Scores of windows laid out step-major (`(windows, steps * targets)`,
    /// as `Prepared::test_truth`); non-finite errors are left out.
    pub fn from_windows(
        truth: &[f64],
        pred: &[f64],
        steps: usize,
        targets: usize,
    ) -> Result<Scores> {
        let w = steps * targets;
        if w == 0 || truth.len() != pred.len() || !truth.len().is_multiple_of(w) {
            return Err(Error::Shape(format!(
                "calibration: {} truths, {} predictions for {steps} step(s) x {targets} target(s)",
                truth.len(),
                pred.len()
            )));
        }
        let mut scores = vec![Vec::new(); w];
        for (row_t, row_p) in truth.chunks(w).zip(pred.chunks(w)) {
            for j in 0..w {
                let e = (row_t[j] - row_p[j]).abs();
                if e.is_finite() {
                    scores[j].push(e);
                }
            }
        }
        for s in &mut scores {
            s.sort_by(f64::total_cmp);
        }
        Ok(Scores {
            steps,
            targets,
            scores,
        })
    }

    /// The fewest scores of any step and target.
    pub fn min_len(&self) -> usize {
        self.scores.iter().map(Vec::len).min().unwrap_or(0)
    }

    /// The half-width of step `k`, target `t` at `level` (`None`: too few scores).
    pub fn half_width(&self, k: usize, t: usize, level: f64) -> Option<f64> {
        self.scores
            .get(k * self.targets + t)
            .and_then(|s| sorted_quantile(s, level))
    }

    /// Intervals around `point` (`steps' × targets`, step-major, `steps' <=
    /// steps`) at each level; an error names the level and step short of scores.
    pub fn intervals(&self, point: &[f64], levels: &[f64]) -> Result<Vec<Interval>> {
        let nt = self.targets.max(1);
        let steps = point.len() / nt;
        if steps > self.steps {
            return Err(Error::Config(format!(
                "intervals: {steps} step(s) asked, but the calibration covers {} (the \
                 validation windows' horizon)",
                self.steps
            )));
        }
        levels
            .iter()
            .map(|&level| {
                let mut lower = Vec::with_capacity(point.len());
                let mut upper = Vec::with_capacity(point.len());
                for (j, &p) in point.iter().enumerate() {
                    let (k, t) = (j / nt, j % nt);
                    let q = self.half_width(k, t, level).ok_or_else(|| {
                        Error::Data(format!(
                            "intervals: {} calibration score(s) at step {}, but a {}% conformal \
                             interval needs at least {} (more validation windows: a larger \
                             data.validation_split or more data)",
                            self.scores[k * nt + t].len(),
                            k + 1,
                            level_name(level),
                            min_scores(level)
                        ))
                    })?;
                    lower.push(p - q);
                    upper.push(p + q);
                }
                Ok(Interval {
                    level,
                    lower,
                    upper,
                })
            })
            .collect()
    }
}

/// A sorted window of scores: insert the newest, drop the oldest beyond `cap`.
struct Window {
    sorted: Vec<f64>,
    order: std::collections::VecDeque<f64>,
    cap: Option<usize>,
}

impl Window {
    fn new(cap: Option<usize>) -> Self {
        Window {
            sorted: Vec::new(),
            order: Default::default(),
            cap,
        }
    }
    fn push(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let i = self.sorted.partition_point(|x| *x < v);
        self.sorted.insert(i, v);
        self.order.push_back(v);
        if let Some(c) = self.cap {
            while self.order.len() > c {
                if let Some(old) = self.order.pop_front() {
                    let i = self.sorted.partition_point(|x| *x < old);
                    self.sorted.remove(i);
                }
            }
        }
    }
}

/// Backtest conformal intervals of one forecaster on one series and one
/// horizon step: origins `origins` (ascending), the forecasts `pred` made at
/// them for rows `origins[i] + step`, the actual values `actual` of those
/// rows. The interval at origin `i` is calibrated on the errors of the
/// earlier origins whose row is before `origins[i]` (known there), the last
/// `cal_length` of them; with `aci_gamma`, `α` adapts as outcomes arrive.
/// Returns, per level, `Some((lower, upper))` per origin, `None` where too few
/// scores (or no forecast) exist.
pub fn backtest_step(
    origins: &[usize],
    step: usize,
    pred: &[Option<f64>],
    actual: &[f64],
    levels: &[f64],
    cal_length: Option<usize>,
    aci_gamma: Option<f64>,
) -> Vec<Vec<Option<(f64, f64)>>> {
    let n = origins.len();
    let gamma = aci_gamma.filter(|g| *g > 0.0);
    let mut out = vec![vec![None; n]; levels.len()];
    let mut window = Window::new(cal_length);
    // ACI: the α of each level, and the outcomes not yet seen
    let mut alphas: Vec<f64> = levels.iter().map(|l| 1.0 - l).collect();
    let mut known = 0usize;
    for i in 0..n {
        // outcomes known at origin i: rows origins[j] + step < origins[i]
        while known < i && origins[known] + step < origins[i] {
            if let Some(p) = pred[known] {
                let y = actual[known];
                if let Some(g) = gamma {
                    for (l, a) in alphas.iter_mut().enumerate() {
                        if let Some((lo, hi)) = out[l][known] {
                            let miss = if y < lo || y > hi { 1.0 } else { 0.0 };
                            *a += g * ((1.0 - levels[l]) - miss);
                        }
                    }
                }
                window.push((y - p).abs());
            }
            known += 1;
        }
        let Some(p) = pred[i] else { continue };
        for (l, &level) in levels.iter().enumerate() {
            let q = if gamma.is_some() {
                if window.sorted.len() >= min_scores(level) {
                    clipped_quantile(&window.sorted, alphas[l])
                } else {
                    None
                }
            } else {
                sorted_quantile(&window.sorted, level)
            };
            out[l][i] = q.map(|q| (p - q, p + q));
        }
    }
    out
}

#[cfg(test)]
mod tests;
