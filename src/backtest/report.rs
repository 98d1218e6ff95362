//! A finished backtest: its forecast rows (`backtest.csv`) and their scores
//! (`backtest_metrics.json`).
//!
//! Metrics are in original units over the rows written (all steps, or the
//! last one with `last_points_only`): `mae`, `rmse`, `mape` (percent; absent
//! when an actual is 0), `smape` (percent) and `mase`, the MAE over the
//! in-sample seasonal-naive MAE of the series' rows before its first origin
//! (`m` = the season used, 1 without one). Over several series, `mase` is
//! the mean of the series' values, the others pool all rows.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::baselines::NAMES;
use crate::error::{Error, Result};
use crate::eval::metrics::{compute, naive_scale, Metrics};

/// One forecast value and what it is compared with.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastRow {
    /// The series (target) label.
    pub series: String,
    /// The origin: its time, or its row number without a time column.
    pub origin: String,
    /// The forecast row's time (or row number).
    pub time: String,
    /// The forecast row's position in the series.
    pub row: usize,
    /// Steps ahead, 1-based.
    pub step: usize,
    /// The true value.
    pub actual: f64,
    /// The model's forecast.
    pub model: f64,
    /// The baselines' forecasts, in [`NAMES`] order (`None`: not available).
    pub baselines: [Option<f64>; 6],
}

/// One series of a backtest, for scores and plots.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSummary {
    /// Its label.
    pub label: String,
    /// Its values (original units, all rows).
    pub values: Vec<f64>,
    /// Its time labels, if any.
    pub times: Option<Vec<String>>,
    /// Its first origin.
    pub first_origin: usize,
    /// The seasonal period used (1: none).
    pub season: usize,
    /// MASE's scale: the seasonal-naive MAE on the rows before the first origin.
    pub mase_scale: Option<f64>,
    /// Notes (moved start, ETS model chosen, missing baselines).
    pub notes: Vec<String>,
}

/// A finished backtest.
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    /// Every forecast value, series by series, origin by origin, step by step.
    pub rows: Vec<ForecastRow>,
    /// The series.
    pub series: Vec<SeriesSummary>,
    /// Forecast origins, all series together.
    pub origins: usize,
    /// Model trainings run.
    pub retrains: usize,
    /// Steps per forecast.
    pub horizon: usize,
    /// Only the last step was kept.
    pub last_points_only: bool,
    /// Wall time of the whole backtest.
    pub seconds: f64,
    /// Of which training.
    pub train_seconds: f64,
}

/// The forecasters' names as columns: `model`, then [`NAMES`].
pub fn columns() -> Vec<&'static str> {
    std::iter::once("model").chain(NAMES).collect()
}

fn value(r: &ForecastRow, c: usize) -> Option<f64> {
    if c == 0 {
        Some(r.model)
    } else {
        r.baselines[c - 1]
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Backtest {
    /// `backtest.csv`: `series,origin,time,step,actual,model,naive,...`
    /// (an empty cell where a baseline is not available).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("series,origin,time,step,actual");
        for c in columns() {
            out.push(',');
            out.push_str(c);
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{},{}",
                csv_cell(&r.series),
                csv_cell(&r.origin),
                csv_cell(&r.time),
                r.step,
                r.actual
            ));
            for c in 0..columns().len() {
                out.push(',');
                if let Some(v) = value(r, c) {
                    out.push_str(&v.to_string());
                }
            }
            out.push('\n');
        }
        out
    }

    /// Metrics of forecaster column `c` over `rows` with MASE scale `scale`;
    /// `None` when it has no value on some row.
    fn score(rows: &[&ForecastRow], c: usize, scale: Option<f64>) -> Result<Option<Metrics>> {
        let mut truth = Vec::with_capacity(rows.len());
        let mut pred = Vec::with_capacity(rows.len());
        for r in rows {
            match value(r, c) {
                Some(v) if v.is_finite() => {
                    truth.push(r.actual);
                    pred.push(v);
                }
                _ => return Ok(None),
            }
        }
        if truth.is_empty() {
            return Ok(None);
        }
        compute(&truth, &pred, scale).map(Some)
    }

    fn block(rows: &[&ForecastRow], scales: &BTreeMap<&str, Option<f64>>) -> Result<Value> {
        let mut obj = Map::new();
        for (c, name) in columns().into_iter().enumerate() {
            // pooled errors; MASE the mean of the per-series values
            let Some(m) = Self::score(rows, c, None)? else {
                continue;
            };
            let mut mases = Vec::new();
            for (label, scale) in scales {
                let mine: Vec<&ForecastRow> = rows
                    .iter()
                    .copied()
                    .filter(|r| r.series == *label)
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                mases.push(Self::score(&mine, c, *scale)?.and_then(|m| m.mase));
            }
            let mase = if mases.iter().all(Option::is_some) && !mases.is_empty() {
                Some(mases.iter().flatten().sum::<f64>() / mases.len() as f64)
            } else {
                None
            };
            obj.insert(
                name.to_string(),
                json!({"mae": m.mae, "rmse": m.rmse, "mape": m.mape, "smape": m.smape, "mase": mase, "n": m.n}),
            );
        }
        Ok(Value::Object(obj))
    }

    /// `backtest_metrics.json`: `overall.<name>.{mae,rmse,mape,smape,mase}`,
    /// `per_step[k]` (the same for step `k + 1`), `per_series.<label>`,
    /// `origins`, `retrains`, `seconds`, `horizon`, `season`, `notes`.
    pub fn metrics(&self) -> Result<Value> {
        if self.rows.is_empty() {
            return Err(Error::Data("backtest: no forecast to score".into()));
        }
        let scales: BTreeMap<&str, Option<f64>> = self
            .series
            .iter()
            .map(|s| (s.label.as_str(), s.mase_scale))
            .collect();
        let all: Vec<&ForecastRow> = self.rows.iter().collect();
        let overall = Self::block(&all, &scales)?;
        let mut steps: Vec<usize> = self.rows.iter().map(|r| r.step).collect();
        steps.sort_unstable();
        steps.dedup();
        let mut per_step = Vec::new();
        for s in steps {
            let rows: Vec<&ForecastRow> = all.iter().copied().filter(|r| r.step == s).collect();
            let mut b = Self::block(&rows, &scales)?;
            if let Some(o) = b.as_object_mut() {
                o.insert("step".into(), s.into());
            }
            per_step.push(b);
        }
        let mut per_series = Map::new();
        for s in &self.series {
            let rows: Vec<&ForecastRow> = all
                .iter()
                .copied()
                .filter(|r| r.series == s.label)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let one: BTreeMap<&str, Option<f64>> = [(s.label.as_str(), s.mase_scale)].into();
            per_series.insert(s.label.clone(), Self::block(&rows, &one)?);
        }
        let notes: Vec<String> = self
            .series
            .iter()
            .flat_map(|s| s.notes.iter().map(move |n| format!("{}: {n}", s.label)))
            .collect();
        Ok(json!({
            "overall": overall,
            "per_step": per_step,
            "per_series": per_series,
            "origins": self.origins,
            "retrains": self.retrains,
            "seconds": self.seconds,
            "train_seconds": self.train_seconds,
            "horizon": self.horizon,
            "last_points_only": self.last_points_only,
            "season": self.series.first().map(|s| s.season),
            "notes": notes,
        }))
    }

    /// The MASE scale of a series: the seasonal-naive MAE (period `m`) of `values[..first_origin]`.
    pub fn mase_scale(values: &[f64], first_origin: usize, m: usize) -> Option<f64> {
        naive_scale(&values[..first_origin.min(values.len())], m.max(1))
    }

    /// A plain-text table of the overall metrics, best MASE first.
    pub fn table(metrics: &Value) -> String {
        let mut rows: Vec<(String, Value)> = metrics["overall"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let key = |v: &Value| v["mase"].as_f64().unwrap_or(f64::INFINITY);
        rows.sort_by(|a, b| key(&a.1).total_cmp(&key(&b.1)));
        let f = |v: &Value| v.as_f64().map(|x| format!("{x:.4}")).unwrap_or("-".into());
        let mut out = format!(
            "{:<16} {:>10} {:>10} {:>9} {:>9} {:>8}\n",
            "", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE"
        );
        for (name, v) in rows {
            out.push_str(&format!(
                "{:<16} {:>10} {:>10} {:>9} {:>9} {:>8}\n",
                name,
                f(&v["mae"]),
                f(&v["rmse"]),
                f(&v["mape"]),
                f(&v["smape"]),
                f(&v["mase"])
            ));
        }
        out
    }
}
