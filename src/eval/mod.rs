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
//! In a panel (an id column), every series is scored on its own test windows
//! with its own MASE scale (its training part's in-sample naive error) and
//! its own baselines ([`Evaluation::per_series`]); the overall metrics pool
//! every window, but MASE, which is the mean of the series' MASEs.
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
    /// A panel's series, each scored alone (empty for one series).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_series: Vec<SeriesEvaluation>,
    /// With `[intervals]`: the intervals' scores on the test windows
    /// ([`crate::intervals::validation::test_metrics`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<serde_json::Value>,
}

/// The metrics of one series of a panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesEvaluation {
    /// Its id.
    pub id: String,
    /// Its test windows.
    pub n_test_windows: usize,
    /// The model on them.
    pub test: Report,
    /// The baselines on them.
    pub baselines: Baselines,
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
    let w = p.pipeline.output_width();
    if pred_levels.len() != p.test_truth.len() {
        return Err(Error::Shape(format!(
            "{} predictions for {} test values",
            pred_levels.len(),
            p.test_truth.len()
        )));
    }
    let levels: Vec<&[f64]> = (0..targets.len()).map(|t| p.target_levels(t)).collect();
    let mut per_series = Vec::new();
    let (test, baselines) = if !p.is_panel() {
        let n_train = p.series.first().map_or(p.n_train_rows, |s| s.n_train);
        let view = SeriesScore {
            levels: &levels,
            anchors: &p.test.anchors,
            n_train,
            truth: &p.test_truth,
            pred: pred_levels,
        };
        view.score(targets, h, season, m)?
    } else {
        let mut naive_all = Vec::with_capacity(pred_levels.len());
        let mut seasonal_all = Vec::with_capacity(pred_levels.len());
        for s in p.series.iter().filter(|s| !s.test.is_empty()) {
            let local: Vec<&[f64]> = levels.iter().map(|l| &l[s.rows.clone()]).collect();
            let anchors: Vec<usize> = p.test.anchors[s.test.clone()]
                .iter()
                .map(|a| a - s.rows.start)
                .collect();
            let span = s.test.start * w..s.test.end * w;
            let view = SeriesScore {
                levels: &local,
                anchors: &anchors,
                n_train: s.n_train,
                truth: &p.test_truth[span.clone()],
                pred: &pred_levels[span],
            };
            let (test, b) = view.score(targets, h, season, m).map_err(|e| match e {
                Error::Data(msg) => Error::Data(format!("series '{}': {msg}", s.id)),
                e => e,
            })?;
            naive_all.extend(baselines::naive(&local, &anchors, h)?);
            if let Some(season) = season {
                seasonal_all.extend(baselines::seasonal_naive(&local, &anchors, h, season)?);
            }
            per_series.push(SeriesEvaluation {
                id: s.id.clone(),
                n_test_windows: s.test.len(),
                test,
                baselines: b,
            });
        }
        let none = vec![None; targets.len()];
        let truth = &p.test_truth;
        let mut test = metrics::report(truth, pred_levels, targets, h, &none)?;
        let mut naive = metrics::report(truth, &naive_all, targets, h, &none)?;
        let mut seasonal_naive = match season {
            Some(_) => Some(metrics::report(truth, &seasonal_all, targets, h, &none)?),
            None => None,
        };
        pool_mase(&mut test, per_series.iter().map(|s| &s.test));
        pool_mase(&mut naive, per_series.iter().map(|s| &s.baselines.naive));
        if let Some(sn) = seasonal_naive.as_mut() {
            pool_mase(
                sn,
                per_series
                    .iter()
                    .filter_map(|s| s.baselines.seasonal_naive.as_ref()),
            );
        }
        (
            test,
            Baselines {
                naive,
                seasonal_naive,
                drift: None,
                mean: None,
                ets: None,
                theta: None,
            },
        )
    };
    let mut baselines = baselines;
    let mut baseline_notes = Vec::new();
    if p.is_panel() {
        baseline_notes.push(
            "drift, mean, ETS and Theta are scored on single series, not yet per series of a panel"
                .to_string(),
        );
    } else {
        let n_train = p.series.first().map_or(p.n_train_rows, |s| s.n_train);
        let scales: Vec<Option<f64>> = levels
            .iter()
            .map(|l| naive_scale(&l[..n_train.min(l.len())], m))
            .collect();
        let (others, notes) = baselines::statistical_for(p, m)?;
        baseline_notes = notes;
        let score = |name: &str| -> Result<Option<Report>> {
            match others.get(name) {
                Some(f) => Ok(Some(metrics::report(
                    &p.test_truth,
                    f,
                    targets,
                    h,
                    &scales,
                )?)),
                None => Ok(None),
            }
        };
        baselines.drift = score("drift")?;
        baselines.mean = score("mean")?;
        baselines.ets = score("ets")?;
        baselines.theta = score("theta")?;
    }
    Ok(Evaluation {
        test,
        baselines,
        n_test_windows: p.test.len(),
        horizon: h,
        targets: targets.clone(),
        season,
        mase_m: m,
        per_series,
        baseline_notes,
        intervals: None,
    })
}

/// One series' test windows in original units: the levels of its targets
/// (its own rows), the anchors in them, its training rows, truths and predictions.
struct SeriesScore<'a> {
    levels: &'a [&'a [f64]],
    anchors: &'a [usize],
    n_train: usize,
    truth: &'a [f64],
    pred: &'a [f64],
}

impl SeriesScore<'_> {
    /// The model's report and the baselines', with this series' MASE scale.
    fn score(
        &self,
        targets: &[String],
        h: usize,
        season: Option<usize>,
        m: usize,
    ) -> Result<(Report, Baselines)> {
        let scales: Vec<Option<f64>> = self
            .levels
            .iter()
            .map(|l| naive_scale(&l[..self.n_train], m))
            .collect();
        let report = |pred: &[f64]| metrics::report(self.truth, pred, targets, h, &scales);
        let test = report(self.pred)?;
        let naive = report(&baselines::naive(self.levels, self.anchors, h)?)?;
        let seasonal_naive = match season {
            Some(s) => Some(report(&baselines::seasonal_naive(
                self.levels,
                self.anchors,
                h,
                s,
            )?)?),
            None => None,
        };
        Ok((
            test,
            Baselines {
                naive,
                seasonal_naive,
                drift: None,
                mean: None,
                ets: None,
                theta: None,
            },
        ))
    }
}

/// A pooled report's MASE: per target and step, the mean of the series' MASEs
/// (each on its own scale); overall, the mean over targets.
fn pool_mase<'a>(pooled: &mut Report, series: impl Iterator<Item = &'a Report> + Clone) {
    let mean = |v: Vec<Option<f64>>| -> Option<f64> {
        let v: Vec<f64> = v.into_iter().flatten().collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    for (t, tr) in pooled.per_target.iter_mut().enumerate() {
        tr.metrics.mase = mean(
            series
                .clone()
                .map(|r| r.per_target.get(t).and_then(|x| x.metrics.mase))
                .collect(),
        );
        for (k, step) in tr.per_step.iter_mut().enumerate() {
            step.mase = mean(
                series
                    .clone()
                    .map(|r| {
                        r.per_target
                            .get(t)
                            .and_then(|x| x.per_step.get(k))
                            .and_then(|m| m.mase)
                    })
                    .collect(),
            );
        }
    }
    let nt = pooled.per_target.len().max(1);
    pooled.overall.mase = pooled
        .per_target
        .iter()
        .map(|t| t.metrics.mase)
        .sum::<Option<f64>>()
        .map(|s| s / nt as f64);
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}"))
        .unwrap_or_else(|| "undefined".into())
}

impl Evaluation {
    /// A plain-text table: model vs baselines (MAE, RMSE, R², MAPE, MASE),
    /// and a line saying which baseline beats the model on RMSE, if any.
    pub fn table(&self) -> String {
        let mut rows = vec![("model", &self.test)];
        rows.extend(self.baselines.named());
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
        if !self.per_series.is_empty() {
            out.push_str(&format!(
                "(MASE over {} series: the mean of each series' MASE on its own scale)\n",
                self.per_series.len()
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

    /// A panel's per-series table: test windows, then MASE and RMSE of the
    /// model and the baselines (empty for one series).
    pub fn series_table(&self) -> String {
        if self.per_series.is_empty() {
            return String::new();
        }
        let seasonal = self.baselines.seasonal_naive.is_some();
        let mut out = format!(
            "{:<24} {:>7} {:>9} {:>9}{} {:>10} {:>10}\n",
            "series",
            "windows",
            "MASE",
            "naive",
            if seasonal {
                format!(" {:>9}", "seasonal")
            } else {
                String::new()
            },
            "RMSE",
            "naive RMSE"
        );
        for s in &self.per_series {
            out.push_str(&format!(
                "{:<24} {:>7} {:>9} {:>9}{} {:>10.4} {:>10.4}\n",
                s.id,
                s.n_test_windows,
                fmt_opt(s.test.overall.mase),
                fmt_opt(s.baselines.naive.overall.mase),
                match &s.baselines.seasonal_naive {
                    Some(r) => format!(" {:>9}", fmt_opt(r.overall.mase)),
                    None => String::new(),
                },
                s.test.overall.rmse,
                s.baselines.naive.overall.rmse
            ));
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
