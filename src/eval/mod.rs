//! Evaluation in original units, always next to baselines on the same test windows.
//!
//! [`evaluate`] turns the model's test-window outputs into levels
//! ([`Prepared::to_original_units`]) and scores them ([`metrics`]) next to the
//! baselines of [`crate::baselines`] on the same windows: naive (last value),
//! seasonal naive (with a season), drift, mean, ETS and Theta (fitted on the
//! training part; their states then follow the data up to each window's
//! anchor with the fitted parameters). The season is `data.season`, else the
//! one the time column's step implies ([`crate::baselines::infer_season`]);
//! MASE's scale is the in-sample seasonal-naive error on the training part
//! with `m` = that season (1 without one), stated as `mase_m`.
//!
//! The serialised [`Evaluation`] is what `metrics.json` holds:
//! `test.{mae,rmse,r2,mape,smape,mase}`, `baselines.naive.{...}`,
//! `baselines.seasonal_naive.{...}` (with a season), `baselines.drift`,
//! `baselines.mean`, `baselines.ets`, `baselines.theta` (when they can be
//! fitted: `baseline_notes` says why not, and which ETS model was chosen),
//! `n_test_windows`, ...
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
    /// Drift (the line through the first and last known values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Report>,
    /// The mean of the known values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Report>,
    /// ETS with additive errors, chosen by AICc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ets: Option<Report>,
    /// The standard Theta method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theta: Option<Report>,
}

impl Baselines {
    /// The baselines present, with their report names, in report order.
    pub fn named(&self) -> Vec<(&'static str, &Report)> {
        let mut v = vec![("naive", &self.naive)];
        for (name, r) in [
            ("seasonal naive", &self.seasonal_naive),
            ("drift", &self.drift),
            ("mean", &self.mean),
            ("ets", &self.ets),
            ("theta", &self.theta),
        ] {
            if let Some(r) = r {
                v.push((name, r));
            }
        }
        v
    }
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
    /// Why a baseline is missing, and the ETS model chosen per target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baseline_notes: Vec<String>,
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
    let season = p.spec.season.or_else(|| {
        p.frame
            .time
            .as_deref()
            .and_then(crate::baselines::infer_season)
    });
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
    let (others, baseline_notes) = baselines::statistical_for(p, m)?;
    let score = |name: &str| -> Result<Option<Report>> {
        match others.get(name) {
            Some(f) => Ok(Some(metrics::report(truth, f, targets, h, &scales)?)),
            None => Ok(None),
        }
    };
    let (drift, mean, ets, theta) = (
        score("drift")?,
        score("mean")?,
        score("ets")?,
        score("theta")?,
    );
    Ok(Evaluation {
        test,
        baselines: Baselines {
            naive,
            seasonal_naive,
            drift,
            mean,
            ets,
            theta,
        },
        n_test_windows: p.test.len(),
        horizon: h,
        targets: targets.clone(),
        season,
        mase_m: m,
        baseline_notes,
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into())
}

impl Evaluation {
    /// A plain-text table: model vs baselines (MAE, RMSE, R², MAPE, MASE),
    /// and a line saying which baseline beats the model on RMSE, if any.
    pub fn table(&self) -> String {
        let mut rows = vec![("model", &self.test)];
        rows.extend(self.baselines.named());
        let mut out = format!(
            "test windows: {}, horizon {}, target(s): {}\n{:<16} {:>10} {:>10} {:>8} {:>9} {:>8}\n",
            self.n_test_windows,
            self.horizon,
            self.targets.join(", "),
            "",
            "MAE",
            "RMSE",
            "R2",
            "MAPE%",
            "MASE"
        );
        for (name, r) in &rows {
            let m = &r.overall;
            out.push_str(&format!(
                "{:<16} {:>10.4} {:>10.4} {:>8.4} {:>9} {:>8}\n",
                name,
                m.mae,
                m.rmse,
                m.r2,
                fmt_opt(m.mape),
                fmt_opt(m.mase)
            ));
        }
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
