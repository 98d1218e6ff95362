//! The backtest's plots (through [`crate::plot::plot_series`]): to stay
//! readable they show the model and the best baselines by overall MASE
//! (MAE when no MASE); `backtest.csv` holds every forecaster.
//!
//! * `backtest.png`: the first series' actual values from a little before
//!   its first origin to its end, and the forecasts made for each row at one
//!   step ahead (the last step with `last_points_only`), model and the three
//!   best baselines;
//! * `backtest_steps.png`: MAE per forecast step, model and the four best
//!   baselines (with `last_points_only`, one step: the absolute error of each
//!   forecast row instead).

use std::path::Path;

use serde_json::Value;

use super::report::{columns, Backtest};
use crate::error::{Error, Result};
use crate::plot::{plot_series, Series};

/// The baselines ranked by overall MASE (MAE without one), best first.
fn ranked_baselines(metrics: &Value) -> Vec<String> {
    let mut v: Vec<(String, f64)> = metrics["overall"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "model")
                .map(|(k, m)| {
                    let score = m["mase"].as_f64().or_else(|| m["mae"].as_f64());
                    (k.clone(), score.unwrap_or(f64::INFINITY))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v.into_iter().map(|(k, _)| k).collect()
}

fn column_index(name: &str) -> Option<usize> {
    columns().iter().position(|c| *c == name)
}

/// Writes both plots into `dir`.
pub fn write_plots(bt: &Backtest, metrics: &Value, dir: &Path) -> Result<()> {
    let s = bt
        .series
        .first()
        .ok_or_else(|| Error::Data("backtest: no series to plot".into()))?;
    let best = ranked_baselines(metrics);
    let step = if bt.last_points_only { bt.horizon } else { 1 };
    let lead = (bt.horizon * 4).max(20).min(s.first_origin);
    let from = s.first_origin - lead;
    let n = s.values.len();
    let mut names: Vec<String> = vec!["model".into()];
    names.extend(best.iter().take(3).cloned());
    let mut lines: Vec<Vec<f64>> = vec![vec![f64::NAN; n - from]; names.len()];
    for r in bt
        .rows
        .iter()
        .filter(|r| r.series == s.label && r.step == step)
    {
        let row = r.row;
        if row < from || row >= n {
            continue;
        }
        for (li, name) in names.iter().enumerate() {
            let v = match column_index(name) {
                Some(0) => Some(r.model),
                Some(c) => r.baselines[c - 1],
                None => None,
            };
            lines[li][row - from] = v.unwrap_or(f64::NAN);
        }
    }
    // the model's intervals at that step: a fan of shaded bands
    let nl = bt.levels.len();
    let mut bands: Vec<(Vec<f64>, Vec<f64>)> =
        vec![(vec![f64::NAN; n - from], vec![f64::NAN; n - from]); nl];
    for r in bt
        .rows
        .iter()
        .filter(|r| r.series == s.label && r.step == step && r.row >= from && r.row < n)
    {
        for (l, b) in bands.iter_mut().enumerate() {
            if let Some((lo, hi)) = r.intervals.get(l).copied().flatten() {
                b.0[r.row - from] = lo;
                b.1[r.row - from] = hi;
            }
        }
    }
    let actual = s.values[from..].to_vec();
    let mut series = vec![Series::new("actual", &actual)];
    for (i, (name, l)) in names.iter().zip(&lines).enumerate() {
        let mut one = Series::new(name, l);
        if i == 0 {
            for (lo, hi) in &bands {
                one = one.band(lo, hi);
            }
        }
        series.push(one);
    }
    let labels = s.times.as_ref().map(|t| t[from..].to_vec());
    plot_series(
        &dir.join("backtest.png"),
        &format!(
            "Backtest of {}: forecasts {step} step(s) ahead from {} origins{}",
            s.label,
            bt.origins,
            if nl > 0 {
                format!(
                    " (model's {}% intervals shaded)",
                    bt.levels
                        .iter()
                        .map(|l| crate::intervals::level_name(*l))
                        .collect::<Vec<_>>()
                        .join("/")
                )
            } else {
                String::new()
            }
        ),
        &s.label,
        labels.as_deref(),
        &series,
    )?;

    // MAE per step; with one step (last_points_only), the absolute error per origin
    let per_step = metrics["per_step"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<String> = vec!["model".into()];
    names.extend(best.iter().take(4).cloned());
    let (title, y_label, x_labels, lines): (String, &str, Vec<String>, Vec<Vec<f64>>) =
        if per_step.len() == 1 {
            let rows: Vec<&super::report::ForecastRow> =
                bt.rows.iter().filter(|r| r.series == s.label).collect();
            let lines = names
                .iter()
                .map(|name| {
                    rows.iter()
                        .map(|r| {
                            let v = match column_index(name) {
                                Some(0) => Some(r.model),
                                Some(c) => r.baselines[c - 1],
                                None => None,
                            };
                            v.map_or(f64::NAN, |v| (v - r.actual).abs())
                        })
                        .collect()
                })
                .collect();
            (
                format!("Backtest: absolute error {step} step(s) ahead, per forecast row"),
                "absolute error",
                rows.iter().map(|r| r.time.clone()).collect(),
                lines,
            )
        } else {
            let lines = names
                .iter()
                .map(|name| {
                    per_step
                        .iter()
                        .map(|b| b[name.as_str()]["mae"].as_f64().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect();
            (
                "Backtest: MAE per forecast step".into(),
                "MAE",
                per_step
                    .iter()
                    .map(|b| b["step"].as_u64().unwrap_or(0).to_string())
                    .collect(),
                lines,
            )
        };
    let series: Vec<Series> = names
        .iter()
        .zip(&lines)
        .map(|(n, l)| Series::new(n, l))
        .collect();
    plot_series(
        &dir.join("backtest_steps.png"),
        &title,
        y_label,
        Some(&x_labels),
        &series,
    )
}
