//! Regression metrics in original units, per target and horizon step and aggregated.
//!
//! Definitions (`y` truth, `p` prediction, `n` values):
//! * `mae = Σ|y - p| / n`, `rmse = sqrt(Σ(y - p)² / n)`;
//! * `r2 = 1 - Σ(y - p)² / Σ(y - ȳ)²` (scikit-learn's `r2_score`; a constant
//!   truth gives 1 for a perfect prediction, else 0);
//! * `mape = 100 · Σ|y - p| / |y| / n` in **percent**; `None` when a truth is 0;
//! * `smape = 100 · Σ 2|y - p| / (|y| + |p|) / n` in percent (0..200; a term
//!   with `y = p = 0` counts 0);
//! * `mase = mae / scale`, where `scale` is the in-sample mean absolute
//!   error of the (seasonal) naive forecast on the **training part**:
//!   `mean |y[r] - y[r - m]|` ([`naive_scale`]); `None` without a usable scale.
//!
//! A [`Report`] holds the aggregate (`overall`, flattened into the report's
//! JSON object), each target's metrics over all its steps, and each step's.
//! Across several targets, `mae`, `rmse`, `mape` and `smape` pool every value,
//! while `r2` and `mase` are the mean of the per-target values (units differ).
//!
//! ```
//! use lstmkit::eval::metrics::compute;
//! let m = compute(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0], Some(2.0)).unwrap();
//! assert!((m.mae - 2.0 / 3.0).abs() < 1e-12);
//! assert!((m.rmse - (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
//! assert!((m.r2 - (1.0 - 4.0 / 2.0)).abs() < 1e-12);
//! assert!((m.mase.unwrap() - 1.0 / 3.0).abs() < 1e-12);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One set of metrics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Mean absolute percentage error, percent (`None` when a truth is zero).
    pub mape: Option<f64>,
    /// Symmetric MAPE, percent (0..200).
    pub smape: f64,
    /// Mean absolute scaled error (`None` without a training-part naive scale).
    pub mase: Option<f64>,
    /// Number of values scored.
    pub n: usize,
}

/// Metrics of `pred` against `truth`; `mase_scale` from [`naive_scale`].
pub fn compute(truth: &[f64], pred: &[f64], mase_scale: Option<f64>) -> Result<Metrics> {
    if truth.len() != pred.len() {
        return Err(Error::Shape(format!(
            "metrics: {} truths for {} predictions",
            truth.len(),
            pred.len()
        )));
    }
    if truth.is_empty() {
        return Err(Error::Data(
            "metrics: nothing to score (no test window)".into(),
        ));
    }
    if let Some(i) = pred.iter().position(|v| !v.is_finite()) {
        return Err(Error::Data(format!(
            "metrics: prediction {i} is {} (the model diverged?)",
            pred[i]
        )));
    }
    let n = truth.len() as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let (mut sae, mut sse, mut sst, mut sape, mut ssape) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut mape_ok = true;
    for (&y, &p) in truth.iter().zip(pred) {
        let e = y - p;
        sae += e.abs();
        sse += e * e;
        sst += (y - mean) * (y - mean);
        if y == 0.0 {
            mape_ok = false;
        } else {
            sape += (e / y).abs();
        }
        let den = y.abs() + p.abs();
        if den > 0.0 {
            ssape += 2.0 * e.abs() / den;
        }
    }
    let r2 = if sst > 0.0 {
        1.0 - sse / sst
    } else if sse == 0.0 {
        1.0
    } else {
        0.0
    };
    let mae = sae / n;
    Ok(Metrics {
        mae,
        rmse: (sse / n).sqrt(),
        r2,
        mape: mape_ok.then_some(100.0 * sape / n),
        smape: 100.0 * ssape / n,
        mase: mase_scale
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(|s| mae / s),
        n: truth.len(),
    })
}

/// In-sample naive scale for MASE: `mean |y[r] - y[r - m]|` over `r in m..len`
/// (`m = 1`: last value; `m = season`: seasonal naive). `None` when `len <= m`
/// or the scale is 0.
pub fn naive_scale(series: &[f64], m: usize) -> Option<f64> {
    if m == 0 || series.len() <= m {
        return None;
    }
    let s: f64 = (m..series.len())
        .map(|r| (series[r] - series[r - m]).abs())
        .sum();
    let scale = s / (series.len() - m) as f64;
    (scale > 0.0).then_some(scale)
}

/// Metrics of one target: over all its horizon steps, and per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// Target column name.
    pub target: String,
    /// Over all horizon steps.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Per horizon step (`per_step[k]`: `k + 1` steps ahead).
    pub per_step: Vec<Metrics>,
}

/// Metrics of one forecast: aggregated (flattened: `report.mae`, ...), per target, per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Aggregate over targets and steps.
    #[serde(flatten)]
    pub overall: Metrics,
    /// Per target.
    pub per_target: Vec<TargetReport>,
}

/// Scores `pred` against `truth`, both `(windows, horizon * targets)` step-major
/// (`[i * horizon * nt + k * nt + t]`). `mase_scales[t]` is target `t`'s scale.
pub fn report(
    truth: &[f64],
    pred: &[f64],
    targets: &[String],
    horizon: usize,
    mase_scales: &[Option<f64>],
) -> Result<Report> {
    let nt = targets.len();
    let w = nt * horizon;
    if w == 0
        || truth.len() != pred.len()
        || !truth.len().is_multiple_of(w)
        || mase_scales.len() != nt
    {
        return Err(Error::Shape(format!(
            "report: {} truths, {} predictions, {} targets x horizon {}, {} MASE scales",
            truth.len(),
            pred.len(),
            nt,
            horizon,
            mase_scales.len()
        )));
    }
    let pick = |v: &[f64], t: usize, k: Option<usize>| -> Vec<f64> {
        v.chunks(w)
            .flat_map(|row| {
                (0..horizon)
                    .filter(move |kk| k.is_none_or(|k| k == *kk))
                    .map(move |kk| row[kk * nt + t])
            })
            .collect()
    };
    let mut per_target = Vec::with_capacity(nt);
    for (t, name) in targets.iter().enumerate() {
        let metrics = compute(&pick(truth, t, None), &pick(pred, t, None), mase_scales[t])?;
        let per_step = (0..horizon)
            .map(|k| {
                compute(
                    &pick(truth, t, Some(k)),
                    &pick(pred, t, Some(k)),
                    mase_scales[t],
                )
            })
            .collect::<Result<Vec<_>>>()?;
        per_target.push(TargetReport {
            target: name.clone(),
            metrics,
            per_step,
        });
    }
    let mut overall = compute(truth, pred, None)?;
    overall.r2 = per_target.iter().map(|t| t.metrics.r2).sum::<f64>() / nt as f64;
    overall.mase = per_target
        .iter()
        .map(|t| t.metrics.mase)
        .sum::<Option<f64>>()
        .map(|s| s / nt as f64);
    Ok(Report {
        overall,
        per_target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        let m = compute(&y, &p, Some(0.5)).unwrap();
        // scikit-learn's documented examples: MAE 0.5, MSE 0.375, R² 0.9486081370449679.
        assert!((m.mae - 0.5).abs() < 1e-15);
        assert!((m.rmse - 0.375f64.sqrt()).abs() < 1e-15);
        assert!((m.r2 - 0.948_608_137_044_967_9).abs() < 1e-12);
        // MAPE: (0.5/3 + 0.5/0.5 + 0 + 1/7) / 4 * 100.
        let mape = (0.5 / 3.0 + 1.0 + 0.0 + 1.0 / 7.0) / 4.0 * 100.0;
        assert!((m.mape.unwrap() - mape).abs() < 1e-12);
        let smape = (2.0 * 0.5 / 5.5 + 2.0 * 0.5 / 0.5 + 0.0 + 2.0 / 15.0) / 4.0 * 100.0;
        assert!((m.smape - smape).abs() < 1e-12);
        assert!((m.mase.unwrap() - 1.0).abs() < 1e-15);
        assert_eq!(m.n, 4);
    }

    #[test]
    fn edge_cases() {
        let m = compute(&[0.0, 1.0], &[0.0, 1.0], None).unwrap();
        assert_eq!(m.mape, None);
        assert_eq!(m.smape, 0.0);
        assert_eq!(m.r2, 1.0);
        assert_eq!(m.mase, None);
        let m = compute(&[2.0, 2.0], &[2.0, 3.0], Some(0.0)).unwrap();
        assert_eq!(m.r2, 0.0);
        assert_eq!(m.mase, None);
        assert!(compute(&[], &[], None).is_err());
        assert!(compute(&[1.0], &[1.0, 2.0], None).is_err());
        assert!(compute(&[1.0], &[f64::NAN], None).is_err());
    }

    #[test]
    fn naive_scale_values() {
        let s = [1.0, 3.0, 2.0, 6.0];
        assert_eq!(naive_scale(&s, 1), Some((2.0 + 1.0 + 4.0) / 3.0));
        assert_eq!(naive_scale(&s, 2), Some((1.0 + 3.0) / 2.0));
        assert_eq!(naive_scale(&s, 4), None);
        assert_eq!(naive_scale(&[5.0, 5.0], 1), None);
    }

    #[test]
    fn report_splits_targets_and_steps() {
        // 2 windows, horizon 2, targets a, b: row = [a0, b0, a1, b1].
        let truth = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
        let pred = [1.0, 11.0, 3.0, 20.0, 3.0, 30.0, 6.0, 44.0];
        let names = vec!["a".to_string(), "b".to_string()];
        let r = report(&truth, &pred, &names, 2, &[Some(1.0), Some(10.0)]).unwrap();
        let a = &r.per_target[0];
        assert_eq!(a.target, "a");
        assert_eq!(a.per_step[0].mae, 0.0);
        assert_eq!(a.per_step[1].mae, 1.5);
        assert_eq!(a.metrics.mae, 0.75);
        assert_eq!(a.metrics.mase, Some(0.75));
        let b = &r.per_target[1];
        assert_eq!(b.per_step[0].mae, 0.5);
        assert_eq!(b.per_step[1].mae, 2.0);
        assert_eq!(b.metrics.mase, Some(1.25 / 10.0));
        assert_eq!(
            r.overall.mae,
            (0.0 + 1.0 + 1.0 + 0.0 + 0.0 + 0.0 + 2.0 + 4.0) / 8.0
        );
        assert_eq!(r.overall.n, 8);
        assert!((r.overall.mase.unwrap() - (0.75 + 0.125) / 2.0).abs() < 1e-15);
        assert!((r.overall.r2 - (a.metrics.r2 + b.metrics.r2) / 2.0).abs() < 1e-15);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["mae"], serde_json::json!(r.overall.mae));
        assert_eq!(
            json["per_target"][0]["per_step"][1]["mae"],
            serde_json::json!(1.5)
        );
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert!(report(&truth, &pred, &names, 3, &[None, None]).is_err());
    }
}
