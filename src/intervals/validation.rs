//! Calibration on the validation windows (`calibration = "validation"`,
//! `lstmkit train`): the model's absolute errors on the windows it did not
//! train on, per horizon step and target — pooled, and per series of a
//! panel. Stored with the model (`data.json` → `calibration`), they give
//! `lstmkit forecast` its intervals; `metrics.json` scores the intervals
//! they give on the test windows, for the model and the naive baselines
//! (each calibrated on its own validation-window errors).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::score::interval_scores;
use super::{level_name, min_scores, Calibration, Interval, IntervalSpec, Scores};
use crate::data::Prepared;
use crate::error::{Error, Result};
use crate::eval::baselines;
use crate::eval::metrics::naive_scale;
use crate::model::Model;

/// The calibration a model is stored with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredCalibration {
    /// The levels asked for (`intervals.levels`).
    pub levels: Vec<f64>,
    /// Where the errors came from (`validation`).
    pub calibration: Calibration,
    /// Errors of every validation window.
    pub pooled: Scores,
    /// A panel's series, each with its own windows' errors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_series: BTreeMap<String, Scores>,
}

impl StoredCalibration {
    /// The errors a forecast of series `id` is calibrated on: its own when it
    /// has enough for every level, else the pooled ones.
    pub fn for_series(&self, id: Option<&str>) -> &Scores {
        let need = self
            .levels
            .iter()
            .map(|l| min_scores(*l))
            .max()
            .unwrap_or(1);
        id.and_then(|id| self.per_series.get(id))
            .filter(|s| s.min_len() >= need)
            .unwrap_or(&self.pooled)
    }

    /// Intervals around `point` of series `id` at the stored levels.
    pub fn intervals(&self, point: &[f64], id: Option<&str>) -> Result<Vec<Interval>> {
        self.for_series(id).intervals(point, &self.levels)
    }

    /// The calibration stored in a model file's `data.json`, if any.
    pub fn from_extras(extras: &crate::io::native::Extras) -> Result<Option<StoredCalibration>> {
        match extras.data.as_ref().and_then(|d| d.get("calibration")) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| Error::Config(format!("data.json 'calibration': {e}"))),
        }
    }
}

/// The model's validation-window errors (see the module docs).
pub fn calibrate(
    model: &mut Model,
    p: &Prepared,
    spec: &IntervalSpec,
) -> Result<StoredCalibration> {
    if p.val.is_empty() {
        return Err(Error::Config(
            "[intervals] with calibration = \"validation\" needs validation windows the model \
             does not train on: set data.validation_split > 0"
                .into(),
        ));
    }
    let h = p.pipeline.window.horizon;
    let nt = p.pipeline.n_targets();
    let steps = spec.steps.unwrap_or(h);
    if steps < h {
        return Err(Error::Config(format!(
            "intervals.steps = {steps} is less than data.horizon = {h}: the model forecasts \
             {h} steps at once, calibrate them all"
        )));
    }
    if steps > h {
        return calibrate_recursive(model, p, spec, steps);
    }
    let w = h * nt;
    let pred = model.predict(&p.val.x)?;
    let levels = p.to_original_units_for(&p.val, &pred)?;
    let truth = p.truth_for(&p.val)?;
    let pooled = Scores::from_windows(&truth, &levels, h, nt)?;
    let mut per_series = BTreeMap::new();
    if p.is_panel() {
        for s in p.series.iter().filter(|s| !s.val.is_empty()) {
            let span = s.val.start * w..s.val.end * w;
            per_series.insert(
                s.id.clone(),
                Scores::from_windows(&truth[span.clone()], &levels[span], h, nt)?,
            );
        }
    }
    Ok(StoredCalibration {
        levels: spec.levels.clone(),
        calibration: Calibration::Validation,
        pooled,
        per_series,
    })
}

/// [`calibrate`] for `steps` beyond the horizon: from the history ending at
/// each validation window's last input row, the forecast `lstmkit forecast`
/// makes ([`crate::forecast::forecast_series`]), against the rows after it,
/// which must lie in the series' training part (not its test rows).
fn calibrate_recursive(
    model: &mut Model,
    p: &Prepared,
    spec: &IntervalSpec,
    steps: usize,
) -> Result<StoredCalibration> {
    use crate::data::Panel;
    use crate::forecast::{forecast_series, Exog, ForecastOptions};
    if !p.pipeline.future_covariates.is_empty() || !p.pipeline.calendar.is_empty() {
        return Err(Error::Config(format!(
            "intervals.steps = {steps} (beyond data.horizon = {}) calibrates recursive              forecasts, which needs a model without future covariates or calendar features",
            p.pipeline.window.horizon
        )));
    }
    let nt = p.pipeline.n_targets();
    let exog = p
        .pipeline
        .features
        .iter()
        .any(|f| !p.pipeline.targets.contains(f));
    let mut opts = ForecastOptions::new(steps);
    if exog {
        // the past inputs' actual values over the forecast rows
        opts = opts.exog(Exog::Known);
    }
    let mut pooled_t = Vec::new();
    let mut pooled_p = Vec::new();
    let mut per: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for s in p.series.iter().filter(|s| !s.val.is_empty()) {
        let frame = crate::backtest::cut_rows(&p.frame, s.rows.clone());
        let targets: Vec<&[f64]> = p
            .pipeline
            .targets
            .iter()
            .map(|t| frame.require(t))
            .collect::<Result<_>>()?;
        for &a in &p.val.anchors[s.val.clone()] {
            let a = a - s.rows.start;
            if a + steps >= s.n_train {
                continue;
            }
            let end = if exog { a + 1 + steps } else { a + 1 };
            let sub = crate::backtest::cut_rows(&frame, 0..end);
            let Some(series) = Panel::new(&sub).series().next() else {
                continue;
            };
            let f = forecast_series(model, &p.pipeline, &series, &opts)?;
            let (tv, pv) = per.entry(s.id.clone()).or_default();
            for k in 0..steps {
                for (t, col) in targets.iter().enumerate() {
                    tv.push(col[a + 1 + k]);
                    pv.push(f.values[k * nt + t]);
                }
            }
        }
    }
    for (tv, pv) in per.values() {
        pooled_t.extend_from_slice(tv);
        pooled_p.extend_from_slice(pv);
    }
    if pooled_t.is_empty() {
        return Err(Error::Config(format!(
            "intervals.steps = {steps}: no validation window has {steps} rows after it inside              the training part (fewer steps, or a larger data.validation_split)"
        )));
    }
    let pooled = Scores::from_windows(&pooled_t, &pooled_p, steps, nt)?;
    let mut per_series = BTreeMap::new();
    if p.is_panel() {
        for (id, (tv, pv)) in per {
            per_series.insert(id, Scores::from_windows(&tv, &pv, steps, nt)?);
        }
    }
    Ok(StoredCalibration {
        levels: spec.levels.clone(),
        calibration: Calibration::Validation,
        pooled,
        per_series,
    })
}

/// Scores of intervals over test windows (layout of `Prepared::test_truth`):
/// per level `{coverage, width, winkler, msis, n, per_step: [...]}`.
/// `scale[j]` is value `j`'s MASE scale (for MSIS).
fn level_blocks(
    truth: &[f64],
    intervals: &[Interval],
    scale: &[Option<f64>],
    h: usize,
    nt: usize,
) -> Value {
    let w = h * nt;
    let mut obj = Map::new();
    for iv in intervals {
        let block = |keep: &dyn Fn(usize) -> bool| -> Value {
            let idx: Vec<usize> = (0..truth.len()).filter(|&j| keep(j % w / nt)).collect();
            let pick = |v: &[f64]| idx.iter().map(|&j| v[j]).collect::<Vec<f64>>();
            let (t, lo, hi) = (pick(truth), pick(&iv.lower), pick(&iv.upper));
            let s = interval_scores(&t, &lo, &hi, iv.level, None);
            let msis = idx
                .iter()
                .map(|&j| {
                    scale[j].map(|sc| {
                        super::score::winkler(truth[j], iv.lower[j], iv.upper[j], 1.0 - iv.level)
                            / sc
                    })
                })
                .sum::<Option<f64>>()
                .map(|v| v / idx.len().max(1) as f64);
            json!({"coverage": s.coverage, "width": s.width, "winkler": s.winkler, "msis": msis, "n": s.n})
        };
        let mut all = block(&|_| true);
        all["per_step"] = Value::Array((0..h).map(|k| block(&move |kk| kk == k)).collect());
        obj.insert(level_name(iv.level), all);
    }
    Value::Object(obj)
}

/// Intervals of window forecasts `pred` (test layout), calibrated per series
/// window by `cal`.
fn window_intervals(p: &Prepared, cal: &StoredCalibration, pred: &[f64]) -> Result<Vec<Interval>> {
    let w = p.pipeline.output_width();
    let mut out: Vec<Interval> = cal
        .levels
        .iter()
        .map(|&level| Interval {
            level,
            lower: Vec::with_capacity(pred.len()),
            upper: Vec::with_capacity(pred.len()),
        })
        .collect();
    for (i, win) in pred.chunks(w).enumerate() {
        let id = series_of(p, i);
        for (o, iv) in out.iter_mut().zip(cal.intervals(win, id)?) {
            o.lower.extend(iv.lower);
            o.upper.extend(iv.upper);
        }
    }
    Ok(out)
}

/// The id of test window `i`'s series (`None` for one series).
fn series_of(p: &Prepared, i: usize) -> Option<&str> {
    if !p.is_panel() {
        return None;
    }
    p.series
        .iter()
        .find(|s| s.test.contains(&i))
        .map(|s| s.id.as_str())
}

/// The `intervals` object of `metrics.json`: the model's intervals
/// (calibrated by `cal`) on the test windows, and those of the naive
/// (and, on one series with a season, seasonal naive) baseline calibrated on
/// its own validation-window errors.
pub fn test_metrics(
    p: &Prepared,
    cal: &StoredCalibration,
    test_pred: &[f64],
    season: Option<usize>,
    mase_m: usize,
) -> Result<Value> {
    let h = p.pipeline.window.horizon;
    let nt = p.pipeline.n_targets();
    let w = h * nt;
    let truth = &p.test_truth;
    // each test value's MASE scale: its series' training part, its target
    let scales: Vec<Vec<Option<f64>>> = p
        .series
        .iter()
        .map(|s| {
            (0..nt)
                .map(|t| {
                    let l = &p.target_levels(t)[s.rows.clone()];
                    naive_scale(&l[..s.n_train.min(l.len())], mase_m)
                })
                .collect()
        })
        .collect();
    let scale: Vec<Option<f64>> = (0..truth.len())
        .map(|j| {
            let i = j / w;
            let si = if p.is_panel() {
                p.series
                    .iter()
                    .position(|s| s.test.contains(&i))
                    .unwrap_or(0)
            } else {
                0
            };
            scales.get(si).and_then(|v| v[j % nt])
        })
        .collect();
    let model = window_intervals(p, cal, test_pred)?;
    let mut out = json!({
        "levels": cal.levels,
        "calibration": "validation",
        "n_calibration": cal.pooled.min_len(),
        "model": level_blocks(truth, &model, &scale, h, nt),
    });
    let levels: Vec<&[f64]> = (0..nt).map(|t| p.target_levels(t)).collect();
    let mut base = Map::new();
    let mut kinds: Vec<(&str, Option<usize>)> = vec![("naive", None)];
    if let (Some(m), false) = (season, p.is_panel()) {
        kinds.push(("seasonal_naive", Some(m)));
    }
    for (name, m) in kinds {
        let (val, test) = match m {
            None => (
                baselines::naive(&levels, &p.val.anchors, h)?,
                baselines::naive_for(p)?,
            ),
            Some(m) => match baselines::seasonal_naive(&levels, &p.val.anchors, h, m) {
                Ok(v) => (v, baselines::seasonal_naive_for(p, m)?),
                Err(_) => continue,
            },
        };
        let vt = p.truth_for(&p.val)?;
        let own = StoredCalibration {
            levels: cal.levels.clone(),
            calibration: Calibration::Validation,
            pooled: Scores::from_windows(&vt, &val, h, nt)?,
            per_series: BTreeMap::new(),
        };
        let ivs = own
            .pooled
            .intervals(&test[..w.min(test.len())], &cal.levels);
        if ivs.is_err() {
            continue;
        }
        let mut all: Vec<Interval> = cal
            .levels
            .iter()
            .map(|&level| Interval {
                level,
                lower: Vec::new(),
                upper: Vec::new(),
            })
            .collect();
        for win in test.chunks(w) {
            for (o, iv) in all.iter_mut().zip(own.pooled.intervals(win, &cal.levels)?) {
                o.lower.extend(iv.lower);
                o.upper.extend(iv.upper);
            }
        }
        base.insert(name.into(), level_blocks(truth, &all, &scale, h, nt));
    }
    out["baselines"] = Value::Object(base);
    Ok(out)
}

/// What `lstmkit train` does with `[intervals]`: with validation
/// calibration, the model's validation errors (returned, to be stored with
/// the model) and the test-window interval scores (into `ev.intervals`); with
/// backtest calibration nothing (`lstmkit backtest` calibrates).
pub fn for_run(
    spec: Option<&IntervalSpec>,
    model: &mut Model,
    p: &Prepared,
    test_pred: &crate::tensor::Tensor,
    ev: &mut crate::eval::Evaluation,
) -> Result<Option<StoredCalibration>> {
    let Some(spec) = spec else { return Ok(None) };
    if spec.calibration_or(Calibration::Validation) != Calibration::Validation {
        return Ok(None);
    }
    let cal = calibrate(model, p, spec)?;
    let levels = p.to_original_units(test_pred)?;
    ev.intervals = Some(test_metrics(p, &cal, &levels, ev.season, ev.mase_m)?);
    Ok(Some(cal))
}

/// The `intervals` object of `metrics.json` as text: per forecaster and
/// level, coverage (percent), mean width and Winkler score.
pub fn table(v: &Value) -> String {
    let levels: Vec<f64> = v["levels"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let mut out = format!(
        "intervals on the test windows (conformal, calibrated on {} validation windows):\n",
        v["n_calibration"]
    );
    let f = |x: &Value, s: f64| {
        x.as_f64()
            .map_or("-".to_string(), |x| format!("{:.4}", x * s))
    };
    let mut rows: Vec<(String, &Value)> = vec![("model".into(), &v["model"])];
    if let Some(b) = v["baselines"].as_object() {
        rows.extend(b.iter().map(|(k, x)| (k.clone(), x)));
    }
    for (name, b) in rows {
        out.push_str(&format!("{name:<16}"));
        for l in &levels {
            let x = &b[level_name(*l)];
            out.push_str(&format!(
                " {}%: coverage {}% width {} winkler {}",
                level_name(*l),
                f(&x["coverage"], 100.0),
                f(&x["width"], 1.0),
                f(&x["winkler"], 1.0)
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{prepare_frame, DataSpec, Frame};
    use crate::model::Sequential;
    use crate::nn::{Dense, LSTM};

    #[test]
    fn recursive_calibration_extends_the_direct_one_inside_the_training_part() {
        let y: Vec<f64> = (0..200)
            .map(|i| 10.0 + (i as f64 * 0.37).sin() * 2.0 + (i % 7) as f64 * 0.1)
            .collect();
        let frame = Frame::from_columns("inline", vec![("y".to_string(), y.clone())]).unwrap();
        let mut spec = DataSpec::new("inline", &["y"]);
        spec.timesteps = 5;
        spec.validation_split = 0.3;
        let p = prepare_frame(&spec, frame).unwrap();
        let mut model = Sequential::new(&[5, 1])
            .add(LSTM::new(3))
            .add(Dense::new(1))
            .build(2)
            .unwrap();
        let direct = calibrate(&mut model, &p, &IntervalSpec::default()).unwrap();
        let three = IntervalSpec {
            steps: Some(3),
            ..IntervalSpec::default()
        };
        let rec = calibrate(&mut model, &p, &three).unwrap();
        assert_eq!((direct.pooled.steps, rec.pooled.steps), (1, 3));
        let n_train = p.series[0].n_train;
        let usable = p.val.anchors.iter().filter(|&&a| a + 3 < n_train).count();
        assert!(usable > 0 && usable < p.val.len());
        assert_eq!(rec.pooled.min_len(), usable);
        // step 1 of the recursive forecast is the direct forecast: its errors are among the direct ones
        for e in &rec.pooled.scores[0] {
            assert!(
                direct.pooled.scores[0].iter().any(|d| (d - e).abs() < 1e-9),
                "{e} not among the direct errors"
            );
        }
        // fewer steps than the horizon, or no validation windows: errors
        let mut spec2 = spec.clone();
        spec2.horizon = 2;
        let p2 = prepare_frame(
            &spec2,
            Frame::from_columns("inline", vec![("y".to_string(), y)]).unwrap(),
        )
        .unwrap();
        let mut m2 = Sequential::new(&[5, 1])
            .add(LSTM::new(3))
            .add(Dense::new(2))
            .build(2)
            .unwrap();
        let one = IntervalSpec {
            steps: Some(1),
            ..IntervalSpec::default()
        };
        assert!(calibrate(&mut m2, &p2, &one).is_err());
        let mut q = p.clone();
        q.val.anchors.clear();
        q.val.x = crate::tensor::Tensor::zeros(&[0, 5, 1]);
        q.val.y = crate::tensor::Tensor::zeros(&[0, 1]);
        let e = calibrate(&mut model, &q, &IntervalSpec::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("validation_split"), "{e}");
    }
}
