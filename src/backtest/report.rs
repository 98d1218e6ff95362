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
use crate::intervals::level_name;
use crate::intervals::score::{interval_scores, winkler};

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
    /// With `[intervals]`: `(lower, upper)` of forecaster `c` ([`columns`])
    /// at level `l` at `[c * levels + l]` (`None`: not yet calibrated).
    pub intervals: Vec<Option<(f64, f64)>>,
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
    /// Interval levels (empty without `[intervals]`).
    pub levels: Vec<f64>,
    /// Notes on the whole run (series of a panel skipped).
    pub notes: Vec<String>,
}

/// The forecasters' names as columns: `model`, then [`NAMES`].
pub fn columns() -> Vec<&'static str> {
    std::iter::once("model").chain(NAMES).collect()
}

pub(crate) fn value(r: &ForecastRow, c: usize) -> Option<f64> {
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
    /// (an empty cell where a baseline is not available); with intervals,
    /// each forecaster's column is followed by `<name>_lower_80,
    /// <name>_upper_80, ...` (empty before the origin has calibration errors).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("series,origin,time,step,actual");
        let names: Vec<String> = self.levels.iter().map(|l| level_name(*l)).collect();
        for c in columns() {
            out.push(',');
            out.push_str(c);
            for l in &names {
                out.push_str(&format!(",{c}_lower_{l},{c}_upper_{l}"));
            }
        }
        out.push('\n');
        let nl = self.levels.len();
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
                for l in 0..nl {
                    match r.intervals.get(c * nl + l).copied().flatten() {
                        Some((lo, hi)) => out.push_str(&format!(",{lo},{hi}")),
                        None => out.push_str(",,"),
                    }
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

    /// Interval scores of forecaster `c` over the rows where it has an
    /// interval: `{"80": {coverage, width, winkler, msis, n}, ...}`; MSIS
    /// divides each row's Winkler score by its series' MASE scale.
    fn interval_block(
        rows: &[&ForecastRow],
        c: usize,
        levels: &[f64],
        scales: &BTreeMap<&str, Option<f64>>,
    ) -> Value {
        let nl = levels.len();
        let mut obj = Map::new();
        for (l, &level) in levels.iter().enumerate() {
            let mut truth = Vec::new();
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            let mut scaled = Some(0.0);
            for r in rows {
                if let Some((a, b)) = r.intervals.get(c * nl + l).copied().flatten() {
                    truth.push(r.actual);
                    lo.push(a);
                    hi.push(b);
                    let w = winkler(r.actual, a, b, 1.0 - level);
                    scaled = match (scaled, scales.get(r.series.as_str()).copied().flatten()) {
                        (Some(acc), Some(s)) if s > 0.0 => Some(acc + w / s),
                        _ => None,
                    };
                }
            }
            if truth.is_empty() {
                continue;
            }
            let s = interval_scores(&truth, &lo, &hi, level, None);
            obj.insert(
                level_name(level),
                json!({"coverage": s.coverage, "width": s.width, "winkler": s.winkler,
                       "msis": scaled.map(|v| v / truth.len() as f64), "n": s.n}),
            );
        }
        Value::Object(obj)
    }

    fn block(
        rows: &[&ForecastRow],
        scales: &BTreeMap<&str, Option<f64>>,
        levels: &[f64],
    ) -> Result<Value> {
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
            let mut entry = json!({"mae": m.mae, "rmse": m.rmse, "mape": m.mape, "smape": m.smape, "mase": mase, "n": m.n});
            if !levels.is_empty() {
                entry["intervals"] = Self::interval_block(rows, c, levels, scales);
            }
            obj.insert(name.to_string(), entry);
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
        let overall = Self::block(&all, &scales, &self.levels)?;
        let mut steps: Vec<usize> = self.rows.iter().map(|r| r.step).collect();
        steps.sort_unstable();
        steps.dedup();
        let mut per_step = Vec::new();
        for s in steps {
            let rows: Vec<&ForecastRow> = all.iter().copied().filter(|r| r.step == s).collect();
            let mut b = Self::block(&rows, &scales, &self.levels)?;
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
            per_series.insert(s.label.clone(), Self::block(&rows, &one, &self.levels)?);
        }
        let notes: Vec<String> = self
            .notes
            .iter()
            .cloned()
            .chain(
                self.series
                    .iter()
                    .flat_map(|s| s.notes.iter().map(move |n| format!("{}: {n}", s.label))),
            )
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
            "levels": self.levels,
            "notes": notes,
        }))
    }

    /// The MASE scale of a series: the seasonal-naive MAE (period `m`) of `values[..first_origin]`.
    pub fn mase_scale(values: &[f64], first_origin: usize, m: usize) -> Option<f64> {
        naive_scale(&values[..first_origin.min(values.len())], m.max(1))
    }

    /// A plain-text table of the overall interval scores (empty without
    /// intervals): coverage (percent), mean width and Winkler per level.
    pub fn interval_table(metrics: &Value) -> String {
        let levels: Vec<f64> = metrics["levels"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        if levels.is_empty() {
            return String::new();
        }
        let mut out = format!("{:<16}", "intervals");
        for l in &levels {
            let n = level_name(*l);
            out.push_str(&format!(
                " {:>9} {:>10} {:>10}",
                format!("cov{n}%"),
                format!("width{n}"),
                format!("winkler{n}")
            ));
        }
        out.push('\n');
        let f = |v: &Value, scale: f64| {
            v.as_f64()
                .map(|x| format!("{:.4}", x * scale))
                .unwrap_or("-".into())
        };
        if let Some(o) = metrics["overall"].as_object() {
            for (name, v) in o {
                out.push_str(&format!("{name:<16}"));
                for l in &levels {
                    let b = &v["intervals"][level_name(*l)];
                    out.push_str(&format!(
                        " {:>9} {:>10} {:>10}",
                        f(&b["coverage"], 100.0),
                        f(&b["width"], 1.0),
                        f(&b["winkler"], 1.0)
                    ));
                }
                out.push('\n');
            }
        }
        out
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
