//! Prediction intervals of a backtest (`[intervals]`): for the model and
//! every baseline alike, split conformal per series and horizon step,
//! calibrated at each origin on the absolute errors of that forecaster's
//! earlier forecasts whose actual value is known at the origin
//! ([`crate::intervals::backtest_step`]; `cal_length`, `aci_gamma`). The
//! first origins, before enough errors exist (19 for 95%), get none.

use std::collections::BTreeMap;

use super::report::{columns, value, Backtest};
use crate::error::{Error, Result};
use crate::intervals::{backtest_step, Calibration, IntervalSpec};

/// Checks that `spec` can calibrate a backtest (before any training).
pub fn check(spec: &IntervalSpec) -> Result<()> {
    spec.validate()?;
    if spec.calibration_or(Calibration::Backtest) != Calibration::Backtest {
        return Err(Error::Config(
            "intervals.calibration = \"validation\" applies to `lstmkit train` and `forecast`; \
             a backtest calibrates each origin on its own earlier origins' errors (\"backtest\")"
                .into(),
        ));
    }
    Ok(())
}

/// Fills `intervals` of every row of `bt` and sets its levels.
pub fn add_intervals(bt: &mut Backtest, spec: &IntervalSpec) -> Result<()> {
    check(spec)?;
    let levels = spec.levels.clone();
    let (nc, nl) = (columns().len(), levels.len());
    let mut groups: BTreeMap<(&str, usize), Vec<usize>> = BTreeMap::new();
    for (i, r) in bt.rows.iter().enumerate() {
        groups
            .entry((r.series.as_str(), r.step))
            .or_default()
            .push(i);
    }
    let mut filled: Vec<Vec<Option<(f64, f64)>>> = vec![vec![None; nc * nl]; bt.rows.len()];
    for ((_, step), mut idx) in groups {
        idx.sort_by_key(|&i| bt.rows[i].row);
        let k = step - 1;
        let origins: Vec<usize> = idx.iter().map(|&i| bt.rows[i].row - k).collect();
        let actual: Vec<f64> = idx.iter().map(|&i| bt.rows[i].actual).collect();
        for c in 0..nc {
            let pred: Vec<Option<f64>> = idx
                .iter()
                .map(|&i| value(&bt.rows[i], c).filter(|v| v.is_finite()))
                .collect();
            let out = backtest_step(
                &origins,
                k,
                &pred,
                &actual,
                &levels,
                spec.cal_length,
                spec.aci_gamma,
            );
            for (l, per) in out.iter().enumerate() {
                for (j, &i) in idx.iter().enumerate() {
                    filled[i][c * nl + l] = per[j];
                }
            }
        }
    }
    for (r, f) in bt.rows.iter_mut().zip(filled) {
        r.intervals = f;
    }
    bt.levels = levels;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::backtest::{run_backtest, BacktestSpec, SeriesData, Start};
    use crate::data::Frame;
    use crate::experiment::Experiment;
    use crate::intervals::score::interval_scores;
    use crate::rng::Rng;

    const EXP: &str = r#"
[data]
path = "inline"
target = "y"
timesteps = 4
horizon = 2
validation_split = 0.2
[[layers]]
type = "lstm"
units = 4
[[layers]]
type = "dense"
units = 2
[fit]
epochs = 3
batch_size = 32
seed = 3
verbose = 0
[intervals]
levels = [0.8, 0.95]
"#;

    /// An AR(1) around 10 with noise of a known kind.
    fn series(kind: &str, n: usize) -> Frame {
        let mut r = Rng::new(11);
        let mut y = vec![10.0];
        for i in 1..n {
            let e = match kind {
                "gaussian" => r.normal(),
                "heavy" => {
                    let z = r.normal();
                    let chi: f64 = (0..3).map(|_| r.normal().powi(2)).sum();
                    z / (chi / 3.0).sqrt()
                }
                _ => r.normal() * (1.0 + 0.6 * (i as f64 / 30.0).sin()),
            };
            y.push(10.0 + 0.7 * (y[i - 1] - 10.0) + e);
        }
        Frame::from_columns("inline", vec![("y".into(), y)]).unwrap()
    }

    #[test]
    fn a_long_backtest_covers_at_the_nominal_levels_for_every_forecaster() {
        let exp = Experiment::from_toml_str(EXP, "exp.toml").unwrap();
        let spec = BacktestSpec {
            start: Some(Start::Position(300)),
            ..Default::default()
        };
        let dir = crate::test_tmp_root().join(format!("lstmkit-bands-{}", std::process::id()));
        for kind in ["gaussian", "heavy", "hetero"] {
            let data = vec![SeriesData {
                id: String::new(),
                frame: series(kind, 8300),
            }];
            let bt = run_backtest(&exp, &spec, &data, &dir, true).unwrap();
            let m = bt.metrics().unwrap();
            // forecasters whose errors are close to independent (the mean's
            // follow the series' own autocorrelation: too few effective points)
            for name in ["model", "naive", "ets"] {
                for (level, key) in [(0.8, "80"), (0.95, "95")] {
                    for (k, block) in m["per_step"].as_array().unwrap().iter().enumerate() {
                        let b = &block[name]["intervals"][key];
                        let cov = b["coverage"].as_f64().unwrap();
                        eprintln!("{kind} {name} step {} {key}%: coverage {cov:.4}", k + 1);
                        assert!(b["n"].as_u64().unwrap() > 7900, "{kind} {name}: {b}");
                        assert!(
                            (cov - level).abs() <= 0.02,
                            "{kind} {name} step {} {key}%: coverage {cov}",
                            k + 1
                        );
                    }
                }
            }
            // a deliberately wrong width scores worse on Winkler (the metric can fail)
            let rows: Vec<_> = bt
                .rows
                .iter()
                .filter(|r| r.intervals[1].is_some())
                .collect();
            let truth: Vec<f64> = rows.iter().map(|r| r.actual).collect();
            let wink = |f: f64| {
                let (lo, hi): (Vec<f64>, Vec<f64>) = rows
                    .iter()
                    .map(|r| {
                        let (a, b) = r.intervals[1].unwrap();
                        let mid = r.model;
                        (mid - f * (mid - a), mid + f * (b - mid))
                    })
                    .unzip();
                interval_scores(&truth, &lo, &hi, 0.95, None).winkler
            };
            let right = wink(1.0);
            assert!(
                right < wink(0.5) && right < wink(2.0),
                "{kind}: {right} {} {}",
                wink(0.5),
                wink(2.0)
            );
            // the CSV has both bounds of each level after each forecaster
            let csv = bt.to_csv();
            let header = csv.lines().next().unwrap();
            assert!(
                header.starts_with(
                    "series,origin,time,step,actual,model,model_lower_80,model_upper_80,model_lower_95,model_upper_95,naive,naive_lower_80"
                ),
                "{header}"
            );
            // the first origins have no interval yet: empty cells
            let first = csv.lines().nth(1).unwrap();
            assert!(first.contains(",,"), "{first}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn validation_calibration_is_refused_in_a_backtest() {
        let text = EXP.replace("levels = [0.8, 0.95]", "calibration = \"validation\"");
        let exp = Experiment::from_toml_str(&text, "exp.toml").unwrap();
        let data = vec![SeriesData {
            id: String::new(),
            frame: series("gaussian", 200),
        }];
        let dir = crate::test_tmp_root().join(format!("lstmkit-bands-v-{}", std::process::id()));
        let e = run_backtest(&exp, &BacktestSpec::default(), &data, &dir, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("calibration") && e.contains("backtest"), "{e}");
        let bad = EXP.replace("levels = [0.8, 0.95]", "levels = [0.8, 1.2]");
        assert!(Experiment::from_toml_str(&bad, "exp.toml").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
