//! Evaluation in original units, always next to baselines on the same test windows.
//!
//! [`evaluate`] turns the model's test-window outputs into levels
//! ([`Prepared::to_original_units`]) and scores them ([`metrics`]) next to the
//! naive (last value) forecast and, when `data.season` is set, the seasonal
//! naive one ([`baselines`]). MASE's scale is the in-sample naive error on the
//! training part, with `m = season` (1 without a season).
//!
//! The serialised [`Evaluation`] is what `metrics.json` holds:
//! `test.{mae,rmse,r2,mape,smape,mase}`, `baselines.naive.{...}`,
//! `baselines.seasonal_naive.{...}` (when a season is set), `n_test_windows`, ...
//!
//! ```
//! use lstmkit::data::{prepare_frame, DataSpec, Frame};
//! use lstmkit::eval::evaluate;
//! let y: Vec<f64> = (0..60).map(|i| (i as f64 * 0.5).sin() * 3.0 + 20.0).collect();
//! let frame = Frame::from_columns("inline", vec![("y".to_string(), y)]).unwrap();
//! let mut spec = DataSpec::new("inline", &["y"]);
//! spec.timesteps = 4;
//! let p = prepare_frame(&spec, frame).unwrap();
//! // A perfect model: its outputs are the scaled truths.
//! let ev = evaluate(&p, &p.test.y).unwrap();
//! assert!(ev.test.overall.rmse < 1e-5);
//! assert!(ev.baselines.naive.overall.rmse > 0.1);
//! assert_eq!(ev.n_test_windows, 12 - 4);
//! println!("{}", ev.table());
//! ```

pub mod baselines;
pub mod metrics;

use serde::{Deserialize, Serialize};

pub use metrics::{compute, naive_scale, Metrics, Report, TargetReport};

use crate::data::Prepared;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Baseline reports on the test windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Naive (last value).
    pub naive: Report,
    /// Seasonal naive (only with a season).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasonal_naive: Option<Report>,
}

/// Model metrics next to the baselines, original units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The model on the test windows.
    pub test: Report,
    /// Baselines on the same windows.
    pub baselines: Baselines,
    /// Number of test windows.
    pub n_test_windows: usize,
    /// Steps predicted per window.
    pub horizon: usize,
    /// Target names.
    pub targets: Vec<String>,
    /// Season used for the seasonal naive baseline (and MASE's `m`), if any.
    pub season: Option<usize>,
    /// `m` of MASE's in-sample naive scale.
    pub mase_m: usize,
}

/// Scores the model outputs `pred` (scaled, differenced when asked: exactly
/// what the model returns on `p.test.x`) on the test windows.
pub fn evaluate(p: &Prepared, pred: &Tensor) -> Result<Evaluation> {
    let levels = p.to_original_units(pred)?;
    evaluate_levels(p, &levels)
}

/// Scores test-window predictions already in original units (layout of `p.test_truth`).
pub fn evaluate_levels(p: &Prepared, pred_levels: &[f64]) -> Result<Evaluation> {
    if p.test.is_empty() {
        return Err(Error::Data(
            "no test windows to evaluate on (data.test_split = 0?)".into(),
        ));
    }
    let season = p.spec.season;
    let m = season.unwrap_or(1);
    let targets = &p.pipeline.targets;
    let h = p.pipeline.window.horizon;
    let scales: Vec<Option<f64>> = (0..targets.len())
        .map(|t| naive_scale(&p.target_levels(t)[..p.n_train_rows], m))
        .collect();
    let truth = &p.test_truth;
    let test = metrics::report(truth, pred_levels, targets, h, &scales)?;
    let naive = metrics::report(truth, &baselines::naive_for(p)?, targets, h, &scales)?;
    let seasonal_naive = match season {
        Some(s) => Some(metrics::report(
            truth,
            &baselines::seasonal_naive_for(p, s)?,
            targets,
            h,
            &scales,
        )?),
        None => None,
    };
    Ok(Evaluation {
        test,
        baselines: Baselines {
            naive,
            seasonal_naive,
        },
        n_test_windows: p.test.len(),
        horizon: h,
        targets: targets.clone(),
        season,
        mase_m: m,
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}"))
        .unwrap_or_else(|| "undefined".into())
}

impl Evaluation {
    /// A plain-text table: model vs baselines (MAE, RMSE, R², MAPE, MASE),
    /// and a line saying which baseline beats the model on RMSE, if any.
    pub fn table(&self) -> String {
        let mut rows = vec![("model", &self.test), ("naive", &self.baselines.naive)];
        if let Some(s) = &self.baselines.seasonal_naive {
            rows.push(("seasonal naive", s));
        }
        // MASE's scale is named in its column: the in-sample naive error with lag m
        let mase = format!("MASE(m={})", self.mase_m);
        let mut out = format!(
            "test windows: {}, horizon {}, target(s): {}\n{:<16} {:>10} {:>10} {:>8} {:>9} {:>10}\n",
            self.n_test_windows,
            self.horizon,
            self.targets.join(", "),
            "",
            "MAE",
            "RMSE",
            "R2",
            "MAPE%",
            mase
        );
        for (name, r) in &rows {
            let m = &r.overall;
            out.push_str(&format!(
                "{:<16} {:>10.4} {:>10.4} {:>8.4} {:>9} {:>10}\n",
                name,
                m.mae,
                m.rmse,
                m.r2,
                fmt_opt(m.mape),
                fmt_opt(m.mase)
            ));
        }
        if rows.iter().any(|(_, r)| r.overall.mape.is_none()) {
            out.push_str("MAPE undefined: the test series has zeros (sMAPE is in metrics.json)\n");
        }
        if rows.iter().any(|(_, r)| r.overall.mase.is_none()) {
            out.push_str(&format!(
                "MASE undefined: the naive forecast with lag {} is exact on the training part (its error, MASE's scale, is 0)\n",
                self.mase_m
            ));
        }
        out.push_str(&format!(
            "MASE(m={m}): MAE over the mean absolute error of the lag-{m} naive forecast on the training part{}\n",
            if self.season.is_some() {
                " (m = data.season)"
            } else {
                " (set data.season for a seasonal scale)"
            },
            m = self.mase_m
        ));
        let model = self.test.overall.rmse;
        for (name, r) in rows.iter().skip(1) {
            if r.overall.rmse < model {
                out.push_str(&format!(
                    "note: the {name} baseline beats the model (RMSE {:.4} < {:.4})\n",
                    r.overall.rmse, model
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{prepare_frame, DataSpec, Frame};

    fn prepared(y: Vec<f64>, season: Option<usize>) -> Prepared {
        let frame = Frame::from_columns("inline", vec![("y".to_string(), y)]).unwrap();
        let mut spec = DataSpec::new("inline", &["y"]);
        spec.timesteps = 4;
        spec.season = season;
        prepare_frame(&spec, frame).unwrap()
    }

    #[test]
    fn the_table_says_why_a_metric_is_undefined_and_names_the_mase_scale() {
        // a series with zeros in its test part: MAPE cannot be computed
        let y: Vec<f64> = (0..80)
            .map(|i| ((i % 4) as f64 - 1.5).abs().floor())
            .collect();
        assert!(y[64..].contains(&0.0));
        let p = prepared(y, Some(4));
        let ev = evaluate(&p, &p.test.y).unwrap();
        let t = ev.table();
        assert!(
            t.contains("MAPE undefined: the test series has zeros"),
            "{t}"
        );
        assert!(!t.contains(" - "), "{t}");
        assert!(
            t.contains("MASE(m=4)") && t.contains("m = data.season"),
            "{t}"
        );
        // no zeros, no season: MASE's lag is 1 and the table says how to change it
        let y: Vec<f64> = (0..80).map(|i| 10.0 + (i as f64 * 0.4).sin()).collect();
        let p = prepared(y, None);
        let t = evaluate(&p, &p.test.y).unwrap().table();
        assert!(!t.contains("MAPE undefined"), "{t}");
        assert!(
            t.contains("MASE(m=1)") && t.contains("set data.season"),
            "{t}"
        );
    }
}
